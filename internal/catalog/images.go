package catalog

import (
	"sort"
	"strings"
)

// Image is a marketplace image SKU with the versions azemu publishes of it.
type Image struct {
	Publisher, Offer, SKU string
	OSType                string // Linux or Windows
	HyperVGeneration      string // V1 or V2
	Architecture          string // x64 or Arm64
	// Versions, oldest first; "latest" is the last.
	Versions []string
}

// Images hold every image the Azure CLI's aliases name (those of the
// Debian package, 2.45, and of current releases), and a few images guides
// use. Versions follow each publisher's numbering (D: the numbers).
var Images = []Image{
	{"Canonical", "UbuntuServer", "18.04-LTS", "Linux", "V1", "x64", []string{"18.04.202306070", "18.04.202401161"}},
	{"Canonical", "0001-com-ubuntu-server-focal", "20_04-lts-gen2", "Linux", "V2", "x64", []string{"20.04.202412160", "20.04.202501150"}},
	{"Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "Linux", "V1", "x64", []string{"22.04.202412110", "22.04.202501150"}},
	{"Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "Linux", "V2", "x64", []string{"22.04.202412110", "22.04.202501150"}},
	{"Canonical", "ubuntu-24_04-lts", "server", "Linux", "V2", "x64", []string{"24.04.202412100", "24.04.202501140"}},
	{"Canonical", "ubuntu-24_04-lts", "server-gen1", "Linux", "V1", "x64", []string{"24.04.202412100", "24.04.202501140"}},
	{"Debian", "debian-10", "10", "Linux", "V1", "x64", []string{"0.20240104.1616", "0.20240430.1733"}},
	{"Debian", "debian-11", "11-backports-gen2", "Linux", "V2", "x64", []string{"0.20241210.1971", "0.20250113.1990"}},
	{"Debian", "debian-12", "12", "Linux", "V1", "x64", []string{"0.20241210.1971", "0.20250113.1990"}},
	{"Debian", "debian-12", "12-gen2", "Linux", "V2", "x64", []string{"0.20241210.1971", "0.20250113.1990"}},
	{"kinvolk", "flatcar-container-linux-free", "stable", "Linux", "V1", "x64", []string{"4081.2.1", "4152.2.0"}},
	{"kinvolk", "flatcar-container-linux-free", "stable-gen2", "Linux", "V2", "x64", []string{"4081.2.1", "4152.2.0"}},
	{"microsoftazurelinux", "azurelinux-4", "4", "Linux", "V2", "x64", []string{"4.0.20250101", "4.0.20250201"}},
	{"microsoftazurelinux", "azurelinux-4", "4-arm64", "Linux", "V2", "Arm64", []string{"4.0.20250101", "4.0.20250201"}},
	{"microsoftazurelinux", "azurelinux-4", "4-gen1", "Linux", "V1", "x64", []string{"4.0.20250101", "4.0.20250201"}},
	{"OpenLogic", "CentOS", "7.5", "Linux", "V1", "x64", []string{"7.5.20180626", "7.5.201808150"}},
	{"OpenLogic", "CentOS", "8_5-gen2", "Linux", "V2", "x64", []string{"8.5.2022012100", "8.5.2022101800"}},
	{"RedHat", "RHEL", "7-LVM", "Linux", "V1", "x64", []string{"7.9.2023032012", "7.9.2024101613"}},
	{"RedHat", "RHEL", "8-lvm-gen2", "Linux", "V2", "x64", []string{"8.10.2024072410", "8.10.2024112611"}},
	{"RedHat", "RHEL", "9-lvm-gen2", "Linux", "V2", "x64", []string{"9.4.2024072110", "9.5.2024111214"}},
	{"SUSE", "opensuse-leap-15-3", "gen2", "Linux", "V2", "x64", []string{"2022.03.09", "2022.11.04"}},
	{"SUSE", "openSUSE-leap-15-4", "gen2", "Linux", "V2", "x64", []string{"2023.05.15", "2023.11.22"}},
	{"SUSE", "sles-15-sp3", "gen2", "Linux", "V2", "x64", []string{"2023.10.04", "2024.03.13"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2008-R2-SP1", "Windows", "V1", "x64", []string{"7601.27366.241204", "7601.27520.250109"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2012-Datacenter", "Windows", "V1", "x64", []string{"9200.25165.241204", "9200.25273.250109"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter", "Windows", "V1", "x64", []string{"9600.21620.241204", "9600.21731.250109"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter", "Windows", "V1", "x64", []string{"14393.7606.241204", "14393.7699.250109"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2016-datacenter-gensecond", "Windows", "V2", "x64", []string{"14393.7606.241204", "14393.7699.250109"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter", "Windows", "V1", "x64", []string{"17763.6659.241205", "17763.6775.250109"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2019-datacenter-gensecond", "Windows", "V2", "x64", []string{"17763.6659.241205", "17763.6775.250109"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2022-Datacenter", "Windows", "V1", "x64", []string{"20348.2966.241205", "20348.3091.250112"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition-core", "Windows", "V2", "x64", []string{"20348.2966.241205", "20348.3091.250112"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2", "Windows", "V2", "x64", []string{"20348.2966.241205", "20348.3091.250112"}},
	{"MicrosoftWindowsServer", "WindowsServer", "2025-datacenter-g2", "Windows", "V2", "x64", []string{"26100.2605.241207", "26100.2894.250113"}},
}

// Publishers lists the publishers' names, sorted ignoring case.
func Publishers() []string {
	return distinct(func(i Image) (string, bool) { return i.Publisher, true })
}

// Offers lists a publisher's offers; nil when the publisher is unknown.
func Offers(publisher string) []string {
	return distinct(func(i Image) (string, bool) { return i.Offer, strings.EqualFold(i.Publisher, publisher) })
}

// SKUs lists an offer's SKUs; nil when the offer is unknown.
func SKUs(publisher, offer string) []string {
	return distinct(func(i Image) (string, bool) {
		return i.SKU, strings.EqualFold(i.Publisher, publisher) && strings.EqualFold(i.Offer, offer)
	})
}

// FindImage finds an image SKU, ignoring case.
func FindImage(publisher, offer, sku string) (Image, bool) {
	for _, i := range Images {
		if strings.EqualFold(i.Publisher, publisher) && strings.EqualFold(i.Offer, offer) && strings.EqualFold(i.SKU, sku) {
			return i, true
		}
	}
	return Image{}, false
}

// Version resolves a version of the image ("latest" is the newest).
func (i Image) Version(v string) (string, bool) {
	if strings.EqualFold(v, "latest") {
		return i.Versions[len(i.Versions)-1], true
	}
	for _, have := range i.Versions {
		if have == v {
			return have, true
		}
	}
	return "", false
}

func distinct(pick func(Image) (string, bool)) []string {
	seen := map[string]bool{}
	var out []string
	for _, i := range Images {
		name, ok := pick(i)
		if ok && !seen[strings.ToLower(name)] {
			seen[strings.ToLower(name)] = true
			out = append(out, name)
		}
	}
	sort.Slice(out, func(a, b int) bool { return strings.ToLower(out[a]) < strings.ToLower(out[b]) })
	return out
}

package catalog

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestFindSize(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ok            bool
		family        string
		cores, active int
		memoryMB      int
	}{
		{"Standard_D2s_v3", true, "DSv3", 2, 2, 8192},
		{"standard_d2s_V3", true, "DSv3", 2, 2, 8192},
		{"Standard_B1s", true, "BS", 1, 1, 1024},
		{"Standard_E16-4ds_v5", true, "EDSv5", 16, 4, 131072},
		{"Standard_F72s_v2", true, "FSv2", 72, 72, 147456},
		{"Standard_D3s_v3", false, "", 0, 0, 0},
		{"B1s", false, "", 0, 0, 0},
		{"", false, "", 0, 0, 0},
	} {
		s, ok := FindSize(tc.name)
		if ok != tc.ok || s.Family != tc.family || s.Cores != tc.cores || s.ActiveCores != tc.active || s.MemoryMB != tc.memoryMB {
			t.Errorf("FindSize(%q) = %+v, %v", tc.name, s, ok)
		}
	}
}

// A size's quota family is what its name says (Standard_D2s_v3 is DSv3),
// as Azure's families and --capacity name them; burstable sizes share BS.
func TestSizeFamiliesFollowNames(t *testing.T) {
	pattern := regexp.MustCompile(`^Standard_([A-Z]+)(\d+)(?:-\d+)?([a-z]*)_(v\d)$`)
	for _, s := range Sizes {
		if s.Cores == 0 || s.ActiveCores == 0 || s.MemoryMB == 0 || s.MaxDataDisks == 0 {
			t.Errorf("%s: no memory or cores", s.Name)
		}
		if strings.HasPrefix(s.Name, "Standard_B") {
			if s.Family != "BS" {
				t.Errorf("%s: family %s", s.Name, s.Family)
			}
			continue
		}
		m := pattern.FindStringSubmatch(s.Name)
		if m == nil {
			t.Errorf("%s: not a size name", s.Name)
			continue
		}
		if want := strings.ToUpper(m[1]+m[3]) + m[4]; s.Family != want {
			t.Errorf("%s: family %s, want %s", s.Name, s.Family, want)
		}
		if s.QuotaFamily() != "standard"+s.Family+"Family" {
			t.Errorf("%s: quota family %s", s.Name, s.QuotaFamily())
		}
	}
	if !sort.SliceIsSorted(Sizes, func(i, j int) bool { return Sizes[i].Name < Sizes[j].Name }) {
		t.Error("sizes are not sorted")
	}
}

// Every image an alias of the Azure CLI names (2.45 and current) is there,
// with a latest version.
func TestCLIAliasImages(t *testing.T) {
	for _, urn := range []string{
		"OpenLogic:CentOS:7.5", "Debian:debian-10:10", "kinvolk:flatcar-container-linux-free:stable",
		"SUSE:opensuse-leap-15-3:gen2", "RedHat:RHEL:7-LVM", "SUSE:sles-15-sp3:gen2", "Canonical:UbuntuServer:18.04-LTS",
		"MicrosoftWindowsServer:WindowsServer:2022-Datacenter", "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition-core",
		"MicrosoftWindowsServer:WindowsServer:2019-Datacenter", "MicrosoftWindowsServer:WindowsServer:2016-Datacenter",
		"MicrosoftWindowsServer:WindowsServer:2012-R2-Datacenter", "MicrosoftWindowsServer:WindowsServer:2012-Datacenter",
		"MicrosoftWindowsServer:WindowsServer:2008-R2-SP1",
		"OpenLogic:CentOS:8_5-gen2", "Debian:debian-11:11-backports-gen2", "kinvolk:flatcar-container-linux-free:stable-gen2",
		"SUSE:openSUSE-leap-15-4:gen2", "RedHat:RHEL:8-lvm-gen2", "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2",
		"microsoftazurelinux:azurelinux-4:4", "microsoftazurelinux:azurelinux-4:4-arm64", "microsoftazurelinux:azurelinux-4:4-gen1",
		"MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2", "MicrosoftWindowsServer:WindowsServer:2019-datacenter-gensecond",
		"MicrosoftWindowsServer:WindowsServer:2016-datacenter-gensecond",
	} {
		p := strings.Split(urn, ":")
		img, ok := FindImage(p[0], p[1], p[2])
		if !ok {
			t.Errorf("%s is missing", urn)
			continue
		}
		if v, ok := img.Version("latest"); !ok || v != img.Versions[len(img.Versions)-1] {
			t.Errorf("%s: latest is %q", urn, v)
		}
	}
	if got := Offers("canonical"); len(got) == 0 || SKUs("CANONICAL", "ubuntu-24_04-lts")[0] != "server" {
		t.Errorf("offers %v", got)
	}
	if Offers("nobody") != nil || SKUs("Canonical", "nothing") != nil {
		t.Error("an unknown publisher or offer lists something")
	}
}

func TestAPIVersionsNewestFirst(t *testing.T) {
	wellFormed := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)
	for _, p := range Providers {
		for _, rt := range p.Types {
			vs := rt.APIVersions
			if len(vs) == 0 {
				t.Errorf("%s/%s has no api-version", p.Namespace, rt.Type)
			}
			for i, v := range vs {
				if !wellFormed.MatchString(v) {
					t.Errorf("%s/%s: %q", p.Namespace, rt.Type, v)
				}
				if i > 0 && v[:10] >= vs[i-1][:10] {
					t.Errorf("%s/%s: %s after %s", p.Namespace, rt.Type, v, vs[i-1])
				}
			}
		}
	}
	if got := APIVersions("microsoft.compute", "VirtualMachines"); len(got) == 0 || got[0] != "2025-04-01" {
		t.Errorf("virtualMachines: %v", got)
	}
	if APIVersions("Microsoft.Compute", "nothing") != nil || APIVersions("Nobody", "virtualMachines") != nil {
		t.Error("an unknown type has versions")
	}
}

func TestFindLocation(t *testing.T) {
	for _, name := range []string{"westeurope", "West Europe", "WESTEUROPE"} {
		if l, ok := FindLocation(name); !ok || l.DisplayName != "West Europe" || l.RegionalDisplayName() != "(Europe) West Europe" {
			t.Errorf("FindLocation(%q) = %+v, %v", name, l, ok)
		}
	}
	if _, ok := FindLocation("moon"); ok {
		t.Error("found the moon")
	}
}

package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Size is a VM size as the vmSizes and resource SKUs APIs describe it.
type Size struct {
	Name string // "Standard_D2s_v3"
	// Family is the quota family's key, as --capacity names it ("DSv3");
	// the quota itself is standard<Family>Family.
	Family         string
	Cores          int // vCPUs, what quota counts
	ActiveCores    int // vCPUs the guest sees (fewer on constrained sizes)
	MemoryMB       int
	MaxDataDisks   int
	ResourceDiskMB int // the temporary disk; 0 when the size has none
	PremiumIO      bool
}

// QuotaFamily is the family's name in the usages API: "standardDSv3Family".
func (s Size) QuotaFamily() string { return QuotaFamilyName(s.Family) }

// QuotaFamilyName names a family as the usages API does.
func QuotaFamilyName(family string) string { return "standard" + family + "Family" }

// QuotaFamilyDisplay is the family's localized name: "Standard DSv3 Family vCPUs".
func QuotaFamilyDisplay(family string) string { return "Standard " + family + " Family vCPUs" }

// OSDiskMB is the largest OS disk every size takes (1 TiB less 1 MiB).
const OSDiskMB = 1047552

// series describes one family of sizes whose resources grow with the vCPUs.
type series struct {
	family      string
	name        string // fmt pattern of the size name, %d the vCPUs
	cores       []int
	memPerCore  int // MiB
	tempPerCore int // MiB of temporary disk per vCPU
	premium     bool
}

var families = []series{
	{"Dv3", "Standard_D%d_v3", []int{2, 4, 8, 16, 32, 48, 64}, 4096, 25600, false},
	{"DSv3", "Standard_D%ds_v3", []int{2, 4, 8, 16, 32, 48, 64}, 4096, 8192, true},
	{"Dv5", "Standard_D%d_v5", []int{2, 4, 8, 16, 32, 48, 64, 96}, 4096, 0, false},
	{"DSv5", "Standard_D%ds_v5", []int{2, 4, 8, 16, 32, 48, 64, 96}, 4096, 0, true},
	{"DDSv5", "Standard_D%dds_v5", []int{2, 4, 8, 16, 32, 48, 64, 96}, 4096, 38400, true},
	{"DASv5", "Standard_D%das_v5", []int{2, 4, 8, 16, 32, 48, 64, 96}, 4096, 0, true},
	{"ESv3", "Standard_E%ds_v3", []int{2, 4, 8, 16, 20, 32, 48, 64}, 8192, 16384, true},
	{"ESv5", "Standard_E%ds_v5", []int{2, 4, 8, 16, 20, 32, 48, 64, 96}, 8192, 0, true},
	{"EDSv5", "Standard_E%dds_v5", []int{2, 4, 8, 16, 20, 32, 48, 64, 96}, 8192, 38400, true},
	{"FSv2", "Standard_F%ds_v2", []int{2, 4, 8, 16, 32, 48, 64, 72}, 2048, 8192, true},
}

// Sizes are the VM sizes azemu offers in every region, sorted by name.
var Sizes = buildSizes()

func buildSizes() []Size {
	out := []Size{
		// B-series: burstable, listed one by one as Azure sizes them.
		{"Standard_B1ls", "BS", 1, 1, 512, 2, 4096, true},
		{"Standard_B1s", "BS", 1, 1, 1024, 2, 4096, true},
		{"Standard_B1ms", "BS", 1, 1, 2048, 2, 4096, true},
		{"Standard_B2s", "BS", 2, 2, 4096, 4, 8192, true},
		{"Standard_B2ms", "BS", 2, 2, 8192, 4, 16384, true},
		{"Standard_B4ms", "BS", 4, 4, 16384, 8, 32768, true},
		{"Standard_B8ms", "BS", 8, 8, 32768, 16, 65536, true},
		{"Standard_DS1_v2", "DSv2", 1, 1, 3584, 4, 7168, true},
		{"Standard_DS2_v2", "DSv2", 2, 2, 7168, 8, 14336, true},
		{"Standard_DS3_v2", "DSv2", 4, 4, 14336, 16, 28672, true},
		{"Standard_DS4_v2", "DSv2", 8, 8, 28672, 32, 57344, true},
		{"Standard_DS5_v2", "DSv2", 16, 16, 57344, 64, 114688, true},
		// Constrained vCPU sizes: the memory and quota of the full size,
		// fewer active cores.
		{"Standard_E16-4ds_v5", "EDSv5", 16, 4, 131072, 32, 614400, true},
		{"Standard_E16-8ds_v5", "EDSv5", 16, 8, 131072, 32, 614400, true},
	}
	for _, f := range families {
		for _, c := range f.cores {
			out = append(out, Size{Name: fmt.Sprintf(f.name, c), Family: f.family, Cores: c, ActiveCores: c,
				MemoryMB: c * f.memPerCore, MaxDataDisks: min(2*c, 32), ResourceDiskMB: c * f.tempPerCore, PremiumIO: f.premium})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var sizeIndex = func() map[string]Size {
	m := make(map[string]Size, len(Sizes))
	for _, s := range Sizes {
		m[strings.ToLower(s.Name)] = s
	}
	return m
}()

// FindSize finds a size by name, ignoring case as Azure does.
func FindSize(name string) (Size, bool) {
	s, ok := sizeIndex[strings.ToLower(strings.TrimSpace(name))]
	return s, ok
}

// SizeNames lists every size's name, for Azure's "the valid sizes are" message.
func SizeNames() []string {
	out := make([]string, len(Sizes))
	for i, s := range Sizes {
		out[i] = s.Name
	}
	return out
}

// Families lists the quota families, sorted.
func Families() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range Sizes {
		if !seen[s.Family] {
			seen[s.Family] = true
			out = append(out, s.Family)
		}
	}
	sort.Strings(out)
	return out
}

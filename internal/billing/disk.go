package billing

import "strings"

// diskTier is one provisioned size of the tiered managed disk types.
type diskTier struct {
	suffix string // the number after the type letter: "4" in P4
	sizeGB int
}

// diskTiers are the provisioned sizes of Premium SSD, Standard SSD and
// Standard HDD managed disks (A). Premium and Standard SSD also have the
// small tiers 1, 2 and 3 (4, 8 and 16 GiB); Standard HDD starts at S4.
var diskTiers = []diskTier{
	{"1", 4}, {"2", 8}, {"3", 16},
	{"4", 32}, {"6", 64}, {"10", 128}, {"15", 256}, {"20", 512}, {"30", 1024},
	{"40", 2048}, {"50", 4096}, {"60", 8192}, {"70", 16384}, {"80", 32767},
}

// diskTypeLetter maps a tiered managed disk SKU to its tier letter and the
// smallest tier it offers. Other SKUs (ZRS, Premium SSD v2, Ultra) are priced
// by other meters and have no tier here: they stay unpriced.
func diskTypeLetter(sku string) (letter string, smallestGB int, ok bool) {
	switch {
	case strings.EqualFold(sku, "Premium_LRS"):
		return "P", 4, true
	case strings.EqualFold(sku, "StandardSSD_LRS"):
		return "E", 4, true
	case strings.EqualFold(sku, "Standard_LRS"):
		return "S", 32, true
	}
	return "", 0, false
}

// DiskTier gives the billing tier of a managed disk: its size rounded up to
// the next provisioned size of its SKU, e.g. (Premium_LRS, 100) is P10
// (128 GiB), (Premium_LRS, 30) is P4 (32 GiB), (Standard_LRS, 1024) is S30.
// Premium_LRS and StandardSSD_LRS disks of 16 GiB or less fall in the small
// tiers P1-P3 / E1-E3 (4, 8, 16 GiB) as Azure bills them. It is not ok for
// another SKU, a size of zero or less, or a size above 32,767 GiB.
func DiskTier(sku string, sizeGB int) (tier string, ok bool) {
	letter, smallest, ok := diskTypeLetter(sku)
	if !ok || sizeGB <= 0 {
		return "", false
	}
	for _, t := range diskTiers {
		if t.sizeGB >= smallest && sizeGB <= t.sizeGB {
			return letter + t.suffix, true
		}
	}
	return "", false
}

// DiskTierSizeGB gives the provisioned size of a tier name such as "P10", or
// false when the name is not a tier.
func DiskTierSizeGB(tier string) (int, bool) {
	if len(tier) < 2 {
		return 0, false
	}
	letter := strings.ToUpper(tier[:1])
	smallest := 4
	switch letter {
	case "P", "E":
	case "S":
		smallest = 32
	default:
		return 0, false
	}
	for _, t := range diskTiers {
		if t.suffix == tier[1:] && t.sizeGB >= smallest {
			return t.sizeGB, true
		}
	}
	return 0, false
}

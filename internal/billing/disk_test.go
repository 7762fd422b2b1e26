package billing

import "testing"

func TestDiskTier(t *testing.T) {
	tests := []struct {
		sku    string
		size   int
		want   string
		wantOK bool
	}{
		{"Premium_LRS", 30, "P4", true}, // P4 is 32 GiB
		{"Premium_LRS", 32, "P4", true},
		{"Premium_LRS", 33, "P6", true},
		{"Premium_LRS", 100, "P10", true},
		{"Premium_LRS", 128, "P10", true},
		{"Premium_LRS", 129, "P15", true},
		{"Premium_LRS", 1024, "P30", true},
		{"Premium_LRS", 1025, "P40", true},
		{"Premium_LRS", 32767, "P80", true},
		{"Premium_LRS", 32768, "", false},
		{"Premium_LRS", 4, "P1", true},
		{"Premium_LRS", 5, "P2", true},
		{"Premium_LRS", 16, "P3", true},
		{"premium_lrs", 512, "P20", true},
		{"StandardSSD_LRS", 30, "E4", true},
		{"StandardSSD_LRS", 256, "E15", true},
		{"StandardSSD_LRS", 1, "E1", true},
		{"Standard_LRS", 1, "S4", true}, // Standard HDD starts at S4
		{"Standard_LRS", 30, "S4", true},
		{"Standard_LRS", 64, "S6", true},
		{"Standard_LRS", 1000, "S30", true},
		{"Standard_LRS", 40000, "", false},
		{"Premium_LRS", 0, "", false},
		{"Premium_LRS", -1, "", false},
		{"Premium_ZRS", 128, "", false},
		{"PremiumV2_LRS", 128, "", false},
		{"UltraSSD_LRS", 128, "", false},
		{"", 128, "", false},
	}
	for _, tc := range tests {
		got, ok := DiskTier(tc.sku, tc.size)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("DiskTier(%q, %d) = %q, %v; want %q, %v", tc.sku, tc.size, got, ok, tc.want, tc.wantOK)
		}
		if ok {
			gb, ok2 := DiskTierSizeGB(got)
			if !ok2 || gb < tc.size {
				t.Errorf("DiskTierSizeGB(%q) = %d, %v", got, gb, ok2)
			}
		}
	}
	for _, bad := range []string{"", "P", "P5", "S1", "S3", "X10", "E99"} {
		if _, ok := DiskTierSizeGB(bad); ok {
			t.Errorf("DiskTierSizeGB(%q) ok", bad)
		}
	}
}

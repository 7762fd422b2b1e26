package engine

import (
	"testing"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/extension"
)

// checkVMKey checks GetVM's quick key against the general path's: the
// fold of the parsed ID, and the extension index's prefix.
func checkVMKey(t *testing.T, sub, rg, name string) {
	t.Helper()
	id := armid.VirtualMachineID(sub, rg, name)
	if key, ok := vmKey(nil, sub, rg, name); ok {
		parsed, err := armid.Parse(id)
		if err != nil {
			t.Fatalf("vmKey(%q, %q, %q) = %q, but the ID does not parse: %v", sub, rg, name, key, err)
		}
		if want := armid.Fold(parsed.String()); string(key) != want {
			t.Fatalf("vmKey(%q, %q, %q) = %q, want %q", sub, rg, name, key, want)
		}
	}
	if got, want := string(armid.AppendFold(nil, id))+"/extensions/", extension.Prefix(id); got != want {
		t.Fatalf("the extension index key of %q is %q, want %q", id, got, want)
	}
}

func TestVMKeyMatchesTheGeneralPath(t *testing.T) {
	for _, c := range [][3]string{
		{"00000000-0000-0000-0000-0000000000B1", "Bench", "VM000001"},
		{"s", "rg", "vm"},
		{"s", "RG.x_(1)", "a-B.c"},
		{"s", "", "vm"},
		{"s", "rg", ""},
		{"s", "rg", "a/b"},
		{"s", "rg", "É"},
		{"s", "rg", "K"}, // the Kelvin sign folds to k, outside ASCII
		{"s", "rg", "vm?x=1&y"},
		{"s", "VirtualMachines", "disks"}, // names that fold as well-known words
	} {
		checkVMKey(t, c[0], c[1], c[2])
	}
}

func FuzzVMKey(f *testing.F) {
	f.Add("00000000-0000-0000-0000-0000000000B1", "Bench", "VM000001")
	f.Add("s", "rg/x", "É")
	f.Fuzz(func(t *testing.T, sub, rg, name string) { checkVMKey(t, sub, rg, name) })
}

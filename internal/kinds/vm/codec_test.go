package vm

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDetailEncoding holds the hand-written writer of an event's detail to
// json.Marshal: the same bytes for any strings, the escapes json makes
// (HTML, control characters, invalid UTF-8) included.
func FuzzDetailEncoding(f *testing.F) {
	f.Add("", "", "", "", "", "")
	f.Add("Standard_D2s_v3", "westus", "Linux", "", "", "")
	f.Add("Standard_B1s", "eastus", "Windows", "Windows_Server", "Spot", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss")
	f.Add("<&>", "\x00\x1f\"\\", "\xff\xfe", "\u2028\u2029", "é", "\U0001F600")
	f.Fuzz(func(t *testing.T, size, location, os, license, priority, set string) {
		d := Detail{VMSize: size, Location: location, OSType: os, LicenseType: license, Priority: priority, ScaleSetID: set}
		want, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.appendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("%+v written as\n%s\nwant\n%s", d, got, want)
		}
		if got := detail(Spec{VMSize: size, Location: location, OSType: os, LicenseType: license, Priority: priority, ScaleSetID: set}); !bytes.Equal(got, want) {
			t.Fatalf("detail of %+v is\n%s\nwant\n%s", d, got, want)
		}
	})
}

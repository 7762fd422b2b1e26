package disk

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// diskDocs are disk documents as json.Marshal writes them (RowOf), and a
// few in other shapes that the hand reader leaves to encoding/json.
func diskDocs() [][]byte {
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC)
	var out [][]byte
	for _, d := range []Disk{
		{},
		{Spec: Spec{Location: "westus", SKU: "Premium_LRS", SizeGB: 30, CreateOption: "FromImage", OSType: "Linux"},
			ManagedBy: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", DeleteOption: "Delete",
			UniqueID: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", TimeCreated: at},
		{Spec: Spec{Location: "eastus", SKU: "Standard_LRS", SizeGB: -1, CreateOption: "Empty",
			Model: json.RawMessage(`{"tags":{"a":"<b>"},"zones":["1"]}`)}, UniqueID: "u", TimeCreated: at.In(time.FixedZone("", 3600))},
		{Spec: Spec{Location: "é\u2028<>&\x01", Model: json.RawMessage(`null`)}, ManagedBy: "\xff"},
	} {
		data, err := json.Marshal(&d)
		if err != nil {
			panic(err)
		}
		out = append(out, data)
	}
	for _, s := range []string{
		`{"spec":{"sku":"Standard_LRS","location":"westus"},"uniqueId":"u"}`,
		`{"spec":{"location":"westus","sizeGB":1.0},"uniqueId":"u"}`,
		`{"spec":{"location":"westus"},"uniqueId":"u","color":"blue"}`,
		`{"spec":null,"managedBy":null}`,
		`{"Spec":{"Location":"westus"}}`,
		` {"uniqueId":"u"}`,
		`{"timeCreated":"2026-13-01T00:00:00Z"}`,
		`{"spec":{"model":{"a":1} }}`,
		`[]`,
		``,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzDiskDecoding holds DecodeInterned to Decode (encoding/json) over any
// bytes: an error for an error, else the same disk.
func FuzzDiskDecoding(f *testing.F) {
	for _, data := range diskDocs() {
		f.Add(data)
	}
	words := jsonwire.NewInterner()
	byHand := func(id string, row resource.Row, version int64) (resource.State, error) {
		return DecodeInterned(id, row, version, words)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		scenariotest.SameDecoding(t, data, Decode, byHand)
	})
}

// TestDiskDecodingByHand checks that the documents json.Marshal writes
// are read by hand, not left to encoding/json.
func TestDiskDecodingByHand(t *testing.T) {
	for _, data := range diskDocs()[:4] {
		var d Disk
		if !d.read(data, nil) {
			t.Errorf("%s is left to encoding/json", data)
		}
	}
}

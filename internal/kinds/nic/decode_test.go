package nic

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/network"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// storedDocs are interfaces' documents as the engine stored them: one of a
// seeded fleet's, and those made through the API with public IPs, a
// security group, load balancer pools, static addresses, accelerated
// networking, IP forwarding and several configurations (testdata/stored).
func storedDocs(t testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "stored", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stored documents: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.Lines(data) {
			if line = bytes.TrimSuffix(line, []byte("\n")); len(line) > 0 {
				out = append(out, line)
			}
		}
	}
	return out
}

// writtenDocs are documents json.Marshal writes of interfaces the stored
// ones do not show: old ones without the members added since, and odd
// values.
func writtenDocs() [][]byte {
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC)
	sub := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default"
	var out [][]byte
	for _, n := range []NIC{
		{},
		{Base: network.Base{ResourceGUID: "g", TimeCreated: at}, Spec: Spec{Location: "westus", IPConfigs: []IPConfigSpec{}}, IPConfigs: []IPConfig{}},
		{Spec: Spec{Location: "westus", IPConfigs: []IPConfigSpec{{Name: "a", Subnet: sub, Allocation: Dynamic, Version: "IPv4", Primary: true, Pools: []string{}}}},
			IPConfigs: []IPConfig{{IPConfigSpec: IPConfigSpec{Name: "a", Subnet: sub, Allocation: Dynamic, Version: "IPv4", Primary: true}, Address: "10.0.0.4"}}},
		{Base: network.Base{TimeCreated: at.In(time.FixedZone("", 3600))}, Spec: Spec{Location: "é\u2028<>&\x01", Model: json.RawMessage(`null`)}, MACAddress: "\xff"},
	} {
		data, err := json.Marshal(&n)
		if err != nil {
			panic(err)
		}
		out = append(out, data)
	}
	return out
}

// oddDocs are documents in other shapes than json.Marshal's, some of
// which encoding/json reads and some it refuses.
func oddDocs() [][]byte {
	var out [][]byte
	for _, s := range []string{
		`{"spec":{"location":"westus"}}`,
		`{"ipConfigurations":[{"name":"a","address":"10.0.0.4"}],"primary":true}`,
		`{"spec":{"ipConfigurations":null},"ipConfigurations":null}`,
		`{"spec":{"ipConfigurations":[{"loadBalancerBackendAddressPools":null}]}}`,
		`{"spec":{"location":"westus","nsg":"n"},"spec":{"location":"eastus"}}`,
		`{"ipConfigurations":[{"address":"10.0.0.4","name":"a"}]}`,
		`{"ipConfigurations":[{"name":"a"},]}`,
		`{"ipConfigurations":[{"name":"a","primary":1}]}`,
		`{"Spec":{"Location":"westus"}}`,
		`{"macAddress":"00-0D-3A-0B-70-EB","color":"blue"}`,
		`{"timeCreated":"2026-13-01T00:00:00Z"}`,
		`{"spec":{"model":{"a":1} }}`,
		` {"primary":true}`,
		`{"spec":[]}`,
		`[]`,
		`null`,
		``,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzNICDecoding holds DecodeInterned to Decode (encoding/json) over any
// bytes: an error for an error, else the same interface.
func FuzzNICDecoding(f *testing.F) {
	for _, data := range slices.Concat(storedDocs(f), writtenDocs(), oddDocs()) {
		f.Add(data)
	}
	words := jsonwire.NewInterner()
	f.Fuzz(func(t *testing.T, data []byte) {
		scenariotest.SameDecoding(t, data, Decode, interned(words))
	})
}

// interned is DecodeInterned with words.
func interned(words *jsonwire.Interner) scenariotest.Decoder {
	return func(id string, row resource.Row, version int64) (resource.State, error) {
		return DecodeInterned(id, row, version, words)
	}
}

// TestNICDecoding reads the stored documents, and those json.Marshal
// writes, by hand, to what encoding/json reads; and the others to
// encoding/json's result or error.
func TestNICDecoding(t *testing.T) {
	byHand := slices.Concat(storedDocs(t), writtenDocs())
	for i, data := range append(byHand, oddDocs()...) {
		var n NIC
		if read := n.read(data, nil); i < len(byHand) && !read {
			t.Errorf("%s is left to encoding/json", data)
		}
		scenariotest.SameDecoding(t, data, Decode, interned(jsonwire.NewInterner()))
	}
}

// TestNICDecodingShares checks that interfaces read with one interner hold
// one copy of their subnet, that a configuration holds its spec's public
// IP and pools, and that no slice has room to spare, read by hand or not.
func TestNICDecodingShares(t *testing.T) {
	var full []byte
	for _, data := range storedDocs(t) {
		if bytes.Contains(data, []byte(`"loadBalancerBackendAddressPools"`)) && bytes.Count(data, []byte(`"name"`)) > 2 {
			full = data
		}
	}
	if full == nil {
		t.Fatal("no stored interface with pools and several configurations")
	}
	// The same document with a member json reads and the hand reader
	// does not, to go through encoding/json.
	odd := append(bytes.TrimSuffix(bytes.Clone(full), []byte("}")), `,"color":"blue"}`...)
	for _, data := range [][]byte{full, odd} {
		words := jsonwire.NewInterner()
		var ns [2]*NIC
		for i := range ns {
			s, err := DecodeInterned("/id", resource.Row{Body: data}, 1, words)
			if err != nil {
				t.Fatal(err)
			}
			ns[i] = s.(*NIC)
		}
		a, b := ns[0], ns[1]
		if len(a.IPConfigs) < 2 || cap(a.IPConfigs) != len(a.IPConfigs) || cap(a.Spec.IPConfigs) != len(a.Spec.IPConfigs) {
			t.Errorf("%d configurations, with room for %d and %d in its spec", len(a.IPConfigs), cap(a.IPConfigs), cap(a.Spec.IPConfigs))
		}
		same := func(what, x, y string) {
			if x == "" || unsafe.StringData(x) != unsafe.StringData(y) {
				t.Errorf("%s: %q and %q are not one copy", what, x, y)
			}
		}
		same("subnet of two interfaces", a.IPConfigs[0].Subnet, b.Spec.IPConfigs[0].Subnet)
		same("location of two interfaces", a.Spec.Location, b.Spec.Location)
		same("public IP of a configuration and its spec", a.IPConfigs[0].PublicIP, a.Spec.IPConfigs[0].PublicIP)
		same("pool of a configuration and its spec", a.IPConfigs[0].Pools[1], a.Spec.IPConfigs[0].Pools[1])
		same("static address held and asked", a.IPConfigs[0].Address, a.Spec.IPConfigs[0].PrivateIP)
	}
}

// BenchmarkNICDecoding reads a seeded fleet's interface as a start does,
// with encoding/json (Decode) and by hand (DecodeInterned).
func BenchmarkNICDecoding(b *testing.B) {
	row := resource.Row{SubscriptionID: "s", ResourceGroup: "rg", Name: "n", Body: storedDocs(b)[len(storedDocs(b))-1]}
	if !bytes.Contains(row.Body, []byte(`"seeded"`)) {
		b.Fatalf("%s is not a seeded interface", row.Body)
	}
	words := jsonwire.NewInterner()
	for _, c := range []struct {
		name   string
		decode func() (resource.State, error)
	}{
		{"json", func() (resource.State, error) { return Decode("/id", row, 1) }},
		{"byHand", func() (resource.State, error) { return DecodeInterned("/id", row, 1, words) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

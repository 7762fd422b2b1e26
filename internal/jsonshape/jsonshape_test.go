package jsonshape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
)

// seedModel is a model as a template writes it for VM n: what differs
// between two is a name, a computer name and a disk's GUID.
func seedModel(n int, guid string) []byte {
	scope := "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/seed-rg-01/providers/"
	return fmt.Appendf(nil, `{"location":"eastus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v5"},`+
		`"networkProfile":{"networkInterfaces":[{"id":"%[1]sMicrosoft.Network/networkInterfaces/seed-vm-%07[2]d-nic"}]},`+
		`"osProfile":{"adminUsername":"azureuser","allowExtensionOperations":true,"computerName":"vm%07[2]d","secrets":[],`+
		`"windowsConfiguration":{"enableAutomaticUpdates":true,"provisionVMAgent":true}},"storageProfile":{"dataDisks":[],`+
		`"imageReference":{"offer":"WindowsServer","publisher":"MicrosoftWindowsServer","sku":"2022-datacenter-g2","version":"latest"},`+
		`"osDisk":{"caching":"ReadWrite","createOption":"FromImage","deleteOption":"Detach","diskSizeGB":127,`+
		`"managedDisk":{"id":"%[1]sMicrosoft.Compute/disks/seed-vm-%07[2]d_OsDisk_1_%[3]s","storageAccountType":"Premium_LRS"},`+
		`"name":"seed-vm-%07[2]d_OsDisk_1_%[3]s","osType":"Windows"}}},"tags":{"seeded":"true"}}`, scope, n, guid)
}

func guid(n int) string { return fmt.Sprintf("%08x1da04787a4b5%012x", n*2654435761, n*40503) }

func roundTrip(t *testing.T, b []byte) Doc {
	t.Helper()
	d := Of(b)
	if got := d.Bytes(); !bytes.Equal(got, b) || (got == nil) != (b == nil) {
		t.Fatalf("Of(%q).Bytes() = %q", b, got)
	}
	if got := d.AppendTo([]byte("x")); !bytes.Equal(got, append([]byte("x"), b...)) {
		t.Fatalf("Of(%q).AppendTo(x) = %q", b, got)
	}
	if d.Len() != len(b) {
		t.Fatalf("Of(%q).Len() = %d, want %d", b, d.Len(), len(b))
	}
	if d.String() != string(b) {
		t.Fatalf("Of(%q).String() = %q", b, d.String())
	}
	if !d.Equal(Of(b)) {
		t.Fatalf("Of(%q) is not Equal to itself", b)
	}
	return d
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		doc   string
		whole bool // kept whole, unsplit
	}{
		{"empty object", `{}`, false},
		{"no strings", `{"a":1,"b":[true,null,2.5]}`, false},
		{"string values", `{"a":"x","b":["y","z"],"c":{"d":""}}`, false},
		{"escapes", `{"a\"b":"c\\","d":"e\"f\\\"","g":"\u0000\n"}`, false},
		{"space around colons", "{ \"a\" :\t\"b\" ,\n\"c\"\r\n: [ \"d\" ] }", false},
		{"a bare string", `"just a string"`, false},
		{"a NUL in a value", "{\"a\":\"x\x00y\"}", true},
		{"a NUL in a key", "{\"a\x00\":\"x\"}", true},
		{"a NUL outside strings", "{\"a\":1}\x00", true},
		{"an open string", `{"a":"b`, true},
		{"an open key", `{"a`, true},
		{"a string ending in an escaped quote", `["a\"`, true},
		{"not JSON", "\x01\x02\xff]]", false},
		{"invalid UTF-8 in a value", "[\"\xff\xfe\"]", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := roundTrip(t, []byte(tc.doc))
			if (d.shape == whole) != tc.whole {
				t.Errorf("kept whole: %v, want %v", d.shape == whole, tc.whole)
			}
		})
	}
}

func TestNilAndEmpty(t *testing.T) {
	var zero Doc
	if !zero.IsNil() || zero.Bytes() != nil || zero.Len() != 0 {
		t.Errorf("the zero Doc is not a nil document: %q", zero.Bytes())
	}
	if !Of(nil).IsNil() {
		t.Error("Of(nil) is not nil")
	}
	empty := roundTrip(t, []byte{})
	if empty.IsNil() {
		t.Error("Of([]byte{}) is nil")
	}
	if empty.Equal(zero) || zero.Equal(empty) {
		t.Error("an empty document is Equal to a nil one")
	}
	if !zero.Equal(Doc{}) {
		t.Error("two nil documents are not Equal")
	}
}

// TestOwnEntries pins the own part's encoding: each slot that differs
// from its default, as a prefix, new bytes and a suffix.
func TestOwnEntries(t *testing.T) {
	first := `{"k":"prefix-0000-suffix","same":"x","name":"disk-0000"}`
	roundTrip(t, []byte(first)) // makes the shape
	for _, tc := range []struct {
		name, doc, own string
	}{
		{"the defaults", first, ""},
		// gap 0, both bases the default, 9 bytes before and 7 after, "42".
		{"a middle", `{"k":"prefix-0042-suffix","same":"x","name":"disk-0000"}`, "\x00\x00\x09\x07\x0242"},
		// gap 2: the first two slots take their defaults.
		{"the last slot", `{"k":"prefix-0000-suffix","same":"x","name":"disk-0001"}`, "\x02\x00\x08\x00\x011"},
		// The third slot's suffix comes from the first's value (base 1).
		{"a suffix of an earlier value", `{"k":"a-b-disk-0042","same":"x","name":"disk-0042"}`,
			"\x00\x00\x00\x00\x0da-b-disk-0042" + "\x01\x10\x07\x02\x00"},
		{"a slot emptied", `{"k":"","same":"x","name":"disk-0000"}`, "\x00\x00\x00\x00\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := roundTrip(t, []byte(tc.doc))
			if d.own != tc.own {
				t.Errorf("own part %q, want %q", d.own, tc.own)
			}
		})
	}
}

// TestFleetSharesOneShape: models a template writes share one shape, and
// each keeps only what differs.
func TestFleetSharesOneShape(t *testing.T) {
	docs := make([]Doc, 200)
	own := 0
	for i := range docs {
		b := seedModel(i, guid(i))
		docs[i] = roundTrip(t, b)
		if docs[i].shape != docs[0].shape {
			t.Fatalf("model %d has a shape of its own", i)
		}
		own += docs[i].Own()
	}
	t.Logf("%d models of %d bytes keep %d bytes of their own on average", len(docs), len(seedModel(1, guid(1))), own/len(docs))
	for i := range docs {
		for _, j := range []int{0, 1, i, len(docs) - 1} {
			if want := bytes.Equal(docs[i].Bytes(), docs[j].Bytes()); docs[i].Equal(docs[j]) != want {
				t.Fatalf("models %d and %d: Equal is %v", i, j, !want)
			}
		}
	}
	// A model of another shape (a number changed) is not Equal to any.
	other := roundTrip(t, bytes.Replace(seedModel(0, guid(0)), []byte(`127`), []byte(`128`), 1))
	if other.shape == docs[0].shape || other.Equal(docs[0]) {
		t.Error("a model of another skeleton shares the fleet's shape")
	}
}

// TestMatchAgreesWithSplit: a document matched against a recent shape is
// kept as splitting it and finding its skeleton in the table keeps it.
func TestMatchAgreesWithSplit(t *testing.T) {
	base := `{"a":"x","b":["y",1],"c":"z"}`
	for _, doc := range []string{
		base,
		`{"a":"xx","b":["",1],"c":"zz"}`,
		`{"a":"x\",\"b\":[\"y","b":["y",1],"c":"z"}`, // an escaped quote where a slot ends
		`{"a":"x","b":["y",1],"c":"z\\"}`,
		`{"a":"x","b":["y",1],"c":"z"} `, // a space after
		`{"a":"x","b":["y",1],"c":"z`,    // left open
		`{"a":"x","b":["y",2],"c":"z"}`,  // another skeleton
		`{"a":"x","b":["y",1],"c":1}`,
		"{\"a\":\"x\x00\",\"b\":[\"y\",1],\"c\":\"z\"}",
	} {
		keep := Of([]byte(base)) // the base's shape is recent, and held
		matched := roundTrip(t, []byte(doc))
		for i := range recent {
			recent[i].Store(nil)
		}
		split := roundTrip(t, []byte(doc))
		if matched != split {
			t.Errorf("%s: matched %+v, split %+v", doc, matched, split)
		}
		runtime.KeepAlive(keep)
	}
}

// TestShapesAreCollected: a shape no document holds leaves the table,
// once other shapes have taken its place among the recent ones.
func TestShapesAreCollected(t *testing.T) {
	key := []byte(`{"collected":"yes","n":1234567}`)
	d := Of(key)
	skeleton := d.shape.skeleton
	d = Doc{}
	runtime.KeepAlive(d)
	for i := range len(recent) {
		Of(fmt.Appendf(nil, `{"other":%d}`, i))
	}
	for range 1000 {
		runtime.GC()
		runtime.Gosched()
		table.Lock()
		_, ok := table.shapes[skeleton]
		table.Unlock()
		if !ok {
			// The next document of that skeleton makes it again.
			roundTrip(t, key)
			return
		}
	}
	t.Fatal("the shape of a document no longer held is still in the table")
}

// TestFullTableKeepsDocumentsWhole: past the bound, a document of a new
// skeleton is kept whole, and still reads back and compares exactly.
func TestFullTableKeepsDocumentsWhole(t *testing.T) {
	shaped := Of([]byte(`{"full":"before"}`))
	defer func(n int) { maxShapes = n }(maxShapes)
	maxShapes = 0
	d := roundTrip(t, []byte(`{"full":"after","new":true}`))
	if d.shape != whole {
		t.Error("a document of a new skeleton was shaped in a full table")
	}
	same := roundTrip(t, []byte(`{"full":"before"}`))
	if same.shape == whole || !same.Equal(shaped) {
		t.Error("a document of a known skeleton was not shaped in a full table")
	}
	if !Of([]byte(`{"full":"before"}`)).Equal(Doc{shape: whole, own: `{"full":"before"}`}) {
		t.Error("a whole document is not Equal to the same shaped one")
	}
}

func TestJSON(t *testing.T) {
	type wrapper struct {
		Model Doc
		None  Doc
	}
	in := wrapper{Model: Of([]byte(`{"a":"b"}`))}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"Model":{"a":"b"},"None":null}` {
		t.Fatalf("Marshal: %s, %v", b, err)
	}
	var out wrapper
	if err := json.Unmarshal(b, &out); err != nil || !out.Model.Equal(in.Model) {
		t.Fatalf("Unmarshal: %s, %v", out.Model, err)
	}
}

// FuzzRoundTrip: any bytes read back exactly, alone and beside a document
// that made the shape first, and Equal agrees with the bytes.
func FuzzRoundTrip(f *testing.F) {
	f.Add(seedModel(0, guid(0)), seedModel(1, guid(1)))
	f.Add([]byte(`{"a":"x","b":"y"}`), []byte(`{"a":"xx","b":"x"}`))
	f.Add([]byte(`["a\\","b\""]`), []byte(`["a\\\\","\"b\""]`))
	f.Add([]byte("{\"a\":\"\x00\"}"), []byte(`{"a":"`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		da, db := Of(a), Of(b)
		for _, c := range []struct {
			d    Doc
			want []byte
		}{{da, a}, {db, b}} {
			if got := c.d.Bytes(); !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
				t.Fatalf("Of(%q).Bytes() = %q", c.want, got)
			}
			if c.d.Len() != len(c.want) {
				t.Fatalf("Of(%q).Len() = %d", c.want, c.d.Len())
			}
		}
		if da.Equal(db) != (bytes.Equal(a, b) && (a == nil) == (b == nil)) {
			t.Fatalf("Of(%q).Equal(Of(%q)) = %v", a, b, da.Equal(db))
		}
	})
}

func BenchmarkOf(b *testing.B) {
	models := make([][]byte, 64)
	for i := range models {
		models[i] = seedModel(i, guid(i))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Of(models[i%len(models)])
	}
}

// BenchmarkOfFleet makes the documents of a fleet of two shapes, in no
// order, as a load does.
func BenchmarkOfFleet(b *testing.B) {
	models := make([][]byte, 64)
	for i := range models {
		models[i] = seedModel(i, guid(i))
		if i*7%3 == 0 {
			models[i] = bytes.Replace(models[i], []byte(`"diskSizeGB":127`), []byte(`"diskSizeGB":30`), 1)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Of(models[i%len(models)])
	}
}

func BenchmarkAppendTo(b *testing.B) {
	Of(seedModel(0, guid(0)))
	d := Of(seedModel(1, guid(1)))
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = d.AppendTo(buf[:0])
	}
}

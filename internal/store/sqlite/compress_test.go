package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
	"github.com/klauspost/compress/s2"
)

// stateAtRest is a VM's state as the engine writes it once its create has
// run, in the group of scope.
func stateAtRest(scope, name string) string {
	return `{"machine":{"name":"` + name + `","state":{"provisioning":"Succeeded","power":"running","provisionedAt":"2026-11-28T00:21:58Z"}},` +
		`"spec":{"location":"northeurope","vmSize":"Standard_D4s_v3","generalizedImage":true,"osType":"Linux",` +
		`"disks":[{"name":"` + name + `_OsDisk_1_fc6cf636615548f48af12c176d181934","id":"` + scope + `Microsoft.Compute/disks/` + name + `_OsDisk_1_fc6cf636615548f48af12c176d181934",` +
		`"createOption":"FromImage","sizeGB":30,"sku":"Premium_LRS","deleteOption":"Detach","os":true}],` +
		`"nics":[{"id":"` + scope + `Microsoft.Network/networkInterfaces/` + name + `-nic","primary":true}],"computerName":"` + name + `","osName":"ubuntu","osVersion":"24.04"},` +
		`"vmId":"44b4af49-1058-49b8-be4e-37e088ecb12b","timeCreated":"2026-11-28T00:20:38Z"}`
}

// seededInterface is the body of a seeded VM's network interface, as the
// engine writes it, in the group of scope.
func seededInterface(scope, vm string) string {
	return `{"resourceGuid":"ddb5d6cd-4d8e-41c1-bd60-cf566689eaf9","timeCreated":"2026-11-28T08:20:34Z","spec":{"location":"eastus","ipConfigurations":[{"name":"ipconfig1","subnet":"` + scope + `Microsoft.Network/virtualNetworks/seed-vnet/subnets/default","allocation":"Dynamic","version":"IPv4","primary":true}],"model":{"tags":{"seeded":"true"}}},` +
		`"ipConfigurations":[{"name":"ipconfig1","subnet":"` + scope + `Microsoft.Network/virtualNetworks/seed-vnet/subnets/default","allocation":"Dynamic","version":"IPv4","primary":true,"address":"10.0.19.141"}],` +
		`"virtualMachine":"` + scope + `Microsoft.Compute/virtualMachines/` + vm + `","primary":true,"deleteOption":"Detach","macAddress":"00-0D-3A-88-18-53"}`
}

// diskBody is the body of a VM's OS disk, as the engine writes it, in the
// group of scope.
func diskBody(scope, vm string) string {
	return `{"spec":{"location":"centralus","sku":"Premium_LRS","sizeGB":30,"createOption":"FromImage","osType":"Linux"},"managedBy":"` + scope + `Microsoft.Compute/virtualMachines/` + vm + `",` +
		`"deleteOption":"Detach","uniqueId":"d2511dc5-812c-4353-ae9d-793dcf642257","timeCreated":"2026-11-28T08:32:34Z"}`
}

// compressionCases are documents of every form a column may keep.
func compressionCases(scope string) []string {
	return []string{
		``, `{}`, `null`, stateAtRest(scope, "vm1"), string(benchState),
		`{"id":"` + scope + `Microsoft.Compute/disks/d"}`,
		seededInterface(scope, "vm1"), diskBody(scope, "vm1"),
		"\x04", "\x04" + strings.Repeat("x", 100), "\x04" + scope + strings.Repeat("y", 100),
		"\x05", "\x05" + strings.Repeat("x", 100), "\x05" + scope + strings.Repeat("y", 100),
		"\x01" + stateAtRest(scope, "vm2"), "\x02" + scope, "\x03{}", "\x03", "\x02",
		`"` + incompressible(1, 200) + `"`, strings.Repeat(`{"a":"b"}`, 2000),
	}
}

// TestReusedDocument scans every form of document, and NULL, into one
// reusedDocument row after row, as a load does: each reads back byte for
// byte, and still does once the rows after it reused the room.
func TestReusedDocument(t *testing.T) {
	scope := scopeOf(sub, "rg")
	docs := compressionCases(scope)
	docs = append(docs, docs...) // a big document, then small ones in its room
	var d reusedDocument
	var got []json.RawMessage
	for _, doc := range docs {
		if err := d.Scan(documentArg(json.RawMessage(doc), scope)); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		got = append(got, d.unpack(scope))
		if err := d.Scan(nil); err != nil || d.unpack(scope) != nil {
			t.Errorf("NULL after %q reads back as %q (%v)", doc, d.unpack(scope), err)
		}
	}
	for _, doc := range got {
		// Appending to a document must not write into the next one's bytes.
		if cap(doc) != len(doc) {
			t.Errorf("%q has room for %d bytes more, another document's", doc, cap(doc)-len(doc))
		}
	}
	for i, doc := range docs {
		if string(got[i]) != doc || got[i] == nil {
			t.Errorf("%q reads back %q once the rows after it were read", doc, got[i])
		}
	}
	if err := d.Scan([]byte{compressedPrefix2, 0xff, 0xff}); err == nil {
		t.Error("a corrupt compressed document read without an error")
	}
}

// TestDocumentCompression: a document comes back byte for byte whatever it
// holds, and a VM's state is kept in a quarter of its size.
func TestDocumentCompression(t *testing.T) {
	scope := scopeOf(sub, "rg")
	for _, doc := range compressionCases(scope) {
		col := documentArg(json.RawMessage(doc), scope)
		var d storedDocument
		if err := d.Scan(col); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if got := d.unpack(scope); string(got) != doc || got == nil {
			t.Errorf("%q kept as %q reads back %q", doc, col, got)
		}
	}
	var d storedDocument
	if col := documentArg(nil, scope); col != nil {
		t.Errorf("a nil document is kept as %q, not NULL", col)
	}
	if err := d.Scan(nil); err != nil || d.unpack(scope) != nil {
		t.Errorf("NULL reads back as %q (%v)", d.unpack(scope), err)
	}
	for _, doc := range []string{stateAtRest(scope, "seed-vm-0005000"), seededInterface(scope, "seed-vm-0005000")} {
		col, _ := documentArg(json.RawMessage(doc), scope).([]byte)
		if len(col) == 0 || col[0] != compressedPrefix2 || len(col) > len(doc)/4 {
			t.Errorf("a document of %d bytes is kept in %d (%q)", len(doc), len(col), doc)
		}
	}
	if err := d.Scan([]byte{compressedPrefix2, 0xff, 0xff}); err == nil {
		t.Error("a corrupt compressed document reads without an error")
	}
}

// A compressed column that declares more than any document is written
// with is refused before anything is allocated for it, by both readers;
// and a document longer than that is written as it is, so that it reads
// back.
func TestCompressedDocumentsDeclareABoundedLength(t *testing.T) {
	// The S2 block's length is a varint first: 4 GiB - 1 here, then a few
	// bytes of nothing.
	huge := binary.AppendUvarint(nil, 1<<32-1)
	for _, prefix := range []byte{compressedPrefix1, compressedPrefix2} {
		col := append(append([]byte{prefix}, huge...), 0, 0, 0)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var d storedDocument
		errStored := d.Scan(col)
		var r reusedDocument
		errReused := r.Scan(col)
		runtime.ReadMemStats(&after)
		for _, err := range []error{errStored, errReused} {
			if err == nil || !strings.Contains(err.Error(), "declares 4294967295 bytes") {
				t.Errorf("a column of prefix %d declaring 4 GiB: %v, want its length refused", prefix, err)
			}
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("refusing a column of prefix %d declaring 4 GiB allocated %d bytes", prefix, grew)
		}
	}

	defer func(was int) { maxCompressed = was }(maxCompressed)
	maxCompressed = 64
	scope := scopeOf(sub, "rg")
	doc := stateAtRest(scope, "seed-vm-0005000")
	col, _ := documentArg(json.RawMessage(doc), scope).([]byte)
	if compressionDict(col) != nil {
		t.Fatalf("a document longer than the bound was compressed: %q", col)
	}
	var d storedDocument
	if err := d.Scan(col); err != nil || string(d.unpack(scope)) != doc {
		t.Errorf("a document longer than the bound reads back %q (%v)", d.unpack(scope), err)
	}
}

// TestSecondDictionaryKeepsStatesAndDisksAsSmall: dictionary 2 adds the
// network bodies before dictionary 1's documents, which stay last: a VM's
// state at rest or a disk's body is kept in no more bytes than against
// dictionary 1. A state while a plan runs may take a byte or two more:
// S2's matcher, which keeps one candidate a hash, finds some of its
// matches elsewhere (0.1% more over 300 such states).
func TestSecondDictionaryKeepsStatesAndDisksAsSmall(t *testing.T) {
	scope := scopeOf(sub, "rg")
	for _, c := range []struct {
		doc   string
		slack int
	}{
		{stateAtRest(scope, "seed-vm-0005000"), 0},
		{stateAtRest(scope, "web"), 0},
		{diskBody(scope, "seed-vm-0005000"), 0},
		{diskBody(scope, "api"), 0},
		{string(benchState), 2},
	} {
		packed := packedDocument([]byte(c.doc), scope)
		was := len(compressionDict1.Encode(nil, packed))
		if now := len(compressionDict2.Encode(nil, packed)); now > was+c.slack {
			t.Errorf("kept in %d bytes against dictionary 2, %d against dictionary 1: %s", now, was, c.doc)
		}
	}
}

// TestCompressedDocumentsRoundTrip: every form of document is written and
// read back through SQLite, as a VM's state and as a resource's body.
func TestCompressedDocumentsRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	scope := scopeOf(sub, "rg")
	var c store.Change
	for i, doc := range append(compressionCases(scope), "nil") {
		body := json.RawMessage(doc)
		if doc == "nil" {
			body = nil
		}
		name := "d" + strconv.Itoa(i)
		c.VMs = append(c.VMs, store.VM{ID: vmID(name), SubscriptionID: sub, ResourceGroup: "rg", Name: name, Location: "westus",
			Model: jsonshape.Of([]byte(`{}`)), State: body, Version: 1, CreatedAt: t0, UpdatedAt: t0})
		c.Resources = append(c.Resources, store.Resource{ID: scope + "Microsoft.Compute/disks/" + name, Type: "Microsoft.Compute/disks",
			SubscriptionID: sub, ResourceGroup: "rg", Name: name, Location: "westus", Body: body, Version: 1, CreatedAt: t0, UpdatedAt: t0})
	}
	if err := s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.VMs, c.VMs) || !reflect.DeepEqual(snap.Resources, c.Resources) {
		t.Fatalf("read back:\n got %+v\n%+v\nwant %+v\n%+v", snap.VMs, snap.Resources, c.VMs, c.Resources)
	}
}

func FuzzDocumentCompression(f *testing.F) {
	f.Add(stateAtRest(scopeOf("s", "rg"), "vm"), "s", "rg")
	f.Add("\x04\x01", "s", "rg")
	f.Add("\x05\x01", "s", "rg")
	f.Add(seededInterface(scopeOf("s", "rg"), "vm"), "s", "rg")
	f.Add(string(benchState), "s", "rg")
	f.Fuzz(func(t *testing.T, doc, sub, group string) {
		scope := scopeOf(sub, group)
		// doc as a stored column, as it is and behind each dictionary's
		// byte: anything reads back or is an error, never a panic.
		for _, col := range [][]byte{[]byte(doc), append([]byte{compressedPrefix1}, doc...), append([]byte{compressedPrefix2}, doc...)} {
			var d storedDocument
			if d.Scan(col) == nil {
				d.unpack(scope)
			}
			var r reusedDocument
			if r.Scan(col) == nil {
				r.unpack(scope)
			}
		}
		col := documentArg(json.RawMessage(doc), scope)
		var d storedDocument
		if err := d.Scan(col); err != nil {
			t.Fatalf("%q kept as %q: %v", doc, col, err)
		}
		if got := d.unpack(scope); string(got) != doc {
			t.Errorf("%q kept as %q reads back %q", doc, col, got)
		}
		// A load's reader, in the room of a state read before.
		var r reusedDocument
		before := stateAtRest(scope, "vm")
		if err := r.Scan(documentArg(json.RawMessage(before), scope)); err != nil {
			t.Fatal(err)
		}
		first := r.unpack(scope)
		if err := r.Scan(col); err != nil {
			t.Fatalf("%q kept as %q, read in reused room: %v", doc, col, err)
		}
		if got := r.unpack(scope); string(got) != doc {
			t.Errorf("%q kept as %q reads back %q in reused room", doc, col, got)
		}
		if string(first) != before {
			t.Errorf("the document before reads %q once %q was read", first, doc)
		}
	})
}

// TestDocumentDictionaryIsFixed: the documents compressed against a
// dictionary read back only with the same dictionary, so neither ever
// changes (a new one takes a prefix of its own), and what each build
// wrote reads back, by a load's reader too.
func TestDocumentDictionaryIsFixed(t *testing.T) {
	scope := scopeOf(sub, "rg")
	for _, c := range []struct {
		name, sha256 string
		dict         *s2.Dict
		written      string // hex, by the first build that wrote with it
		doc          string
	}{{
		name: "dictionary 1", sha256: "c48c1963b128ca3e100daa0d0586be3ba10127f38611730cb5b974a9a92fab3f", dict: compressionDict1,
		written: "04e50500024ea90238736565642d766d2d3030303530303051b415003e3431312d32385430303a32313a353862b4023692144ab9021e8113e6b9023ae70059757c666336636636333636313535343866343861663132633137366431383139333482c402ee5a0051cf15003cee820a1500023ace009ada023a3600c2e5028c34346234616634392d313035382d343962382d626534652d33376530383865636231326215000e596218303a33385a227d",
		doc:     stateAtRest(scope, "seed-vm-0005000"),
	}, {
		name: "dictionary 2", sha256: "6f7dfdbf2e460e94606e329b9e4d6af887d151dfff865c1131c731dd711999eb", dict: compressionDict2,
		written: "059505000242ae178c64646235643663642d346438652d343163312d626436302d63663536363638396561663915000e3431312d32385430383a32303a3334ad32628c02eee116150061eeae1715009a1431392e313431eeb117110000351a0f092eee024a5f0372b1172438382d31382d3533227d",
		doc:     seededInterface(scope, "seed-vm-0005000"),
	}} {
		sum := sha256.Sum256(c.dict.Bytes())
		if got := hex.EncodeToString(sum[:]); got != c.sha256 {
			t.Errorf("%s's SHA-256 is %s, want %s: documents written with it would not read back", c.name, got, c.sha256)
		}
		col, err := hex.DecodeString(c.written)
		if err != nil {
			t.Fatal(err)
		}
		var d storedDocument
		if err := d.Scan(col); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := string(d.unpack(scope)); got != c.doc {
			t.Errorf("a document compressed against %s reads back\n%s\nwant\n%s", c.name, got, c.doc)
		}
		var r reusedDocument
		if err := r.Scan(col); err != nil {
			t.Fatalf("%s, a load's reader: %v", c.name, err)
		}
		if got := string(r.unpack(scope)); got != c.doc {
			t.Errorf("a document compressed against %s reads back by a load's reader\n%s\nwant\n%s", c.name, got, c.doc)
		}
	}
}

// TestCompressedDocumentsMigration opens a database written before the
// documents were compressed (0009_compressed_documents.sql): every VM and
// resource loads as it did, and the states are compressed.
func TestCompressedDocumentsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 8)
	ctx := context.Background()
	scope := scopeOf(sub, "rg")
	var want store.Snapshot
	for i, doc := range append(compressionCases(scope), "nil") {
		body := json.RawMessage(doc)
		if doc == "nil" {
			body = nil
		}
		name := "vm" + strconv.Itoa(i)
		vm := store.VM{ID: vmID(name), SubscriptionID: sub, ResourceGroup: "rg", Name: name, Location: "westus",
			Model: jsonshape.Of([]byte(`{"m":` + strconv.Itoa(i) + `}`)), State: body, Version: 2,
			CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC()}
		res, err := db.Exec(`INSERT INTO vms (subscription_id, resource_group, name, location, state, version, created_at, updated_at)
			VALUES (?, 'rg', ?, 'westus', ?, 2, ?, ?)`, sub, name, packDocument(body, scope), int64(1e9), int64(2e9))
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := res.LastInsertId()
		if _, err := db.Exec(`INSERT INTO vm_keys (vm_key, ref) VALUES (?, ?)`, packKey(store.Key(vm.ID)), ref); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO vm_models (ref, model) VALUES (?, ?)`, ref, vm.Model.String()); err != nil {
			t.Fatal(err)
		}
		want.VMs = append(want.VMs, vm)
		r := store.Resource{ID: scope + "Microsoft.Compute/disks/" + name, Type: "Microsoft.Compute/disks", SubscriptionID: sub,
			ResourceGroup: "rg", Name: name, Location: "westus", Body: body, Version: 1, CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC()}
		if res, err = db.Exec(`INSERT INTO resources (type, subscription_id, resource_group, name, location, body, version, created_at, updated_at)
			VALUES (?, ?, 'rg', ?, 'westus', ?, 1, ?, ?)`, r.Type, sub, name, packDocument(body, scope), int64(1e9), int64(2e9)); err != nil {
			t.Fatal(err)
		}
		ref, _ = res.LastInsertId()
		if _, err := db.Exec(`INSERT INTO res_keys (res_key, ref) VALUES (?, ?)`, packKey(store.Key(r.ID)), ref); err != nil {
			t.Fatal(err)
		}
		want.Resources = append(want.Resources, r)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.VMs, want.VMs) || !reflect.DeepEqual(snap.Resources, want.Resources) {
		t.Fatalf("after the migration:\n got %+v\n%+v\nwant %+v\n%+v", snap.VMs, snap.Resources, want.VMs, want.Resources)
	}
	var compressed, text int
	if err := s.r.QueryRow(`SELECT (SELECT count(*) FROM vms WHERE substr(state, 1, 1) = x'05') + (SELECT count(*) FROM resources WHERE substr(body, 1, 1) = x'05'),
		(SELECT count(*) FROM vms WHERE typeof(state) = 'text') + (SELECT count(*) FROM resources WHERE typeof(body) = 'text')`).Scan(&compressed, &text); err != nil {
		t.Fatal(err)
	}
	if compressed < 8 || text != 0 {
		t.Errorf("%d documents compressed and %d left as TEXT, want at least 8 and none", compressed, text)
	}
	// The next versions are written over the migrated rows.
	next := store.Change{VMs: snap.VMs, Resources: snap.Resources}
	for i := range next.VMs {
		next.VMs[i].Version++
		next.Resources[i].Version++
	}
	if err := s.Apply(ctx, next); err != nil {
		t.Fatal(err)
	}
}

// TestFailedCompressedDocumentsMigrationKeepsTheOldSchema: a migration
// that fails after 0009's script has run leaves the 0008 schema and rows,
// which the next Open migrates.
func TestFailedCompressedDocumentsMigrationKeepsTheOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 8)
	scope := scopeOf(sub, "rg")
	state := stateAtRest(scope, "vm")
	vm := store.VM{ID: vmID("vm"), SubscriptionID: sub, ResourceGroup: "rg", Name: "vm", Location: "westus",
		Model: jsonshape.Of([]byte(`{}`)), State: json.RawMessage(state), Version: 2, CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(1, 0).UTC()}
	if _, err := db.Exec(`INSERT INTO vms (ref, subscription_id, resource_group, name, location, state, version, created_at, updated_at)
		VALUES (1, ?, 'rg', 'vm', 'westus', ?, 2, ?, ?)`, sub, packDocument(vm.State, scope), int64(1e9), int64(1e9)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO vm_keys (vm_key, ref) VALUES (?, 1)`, packKey(store.Key(vm.ID))); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO vm_models (ref, model) VALUES (1, '{}')`); err != nil {
		t.Fatal(err)
	}
	failMigrationAt(t, db, 9)
	var kept string
	if err := db.QueryRow(`SELECT state FROM vms WHERE typeof(state) = 'text'`).Scan(&kept); err != nil || kept != packDocument(vm.State, scope) {
		t.Fatalf("the VM's state is %q (%v), want it as it was", kept, err)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.VMs, []store.VM{vm}) {
		t.Errorf("after the migration: %+v, want %+v", snap.VMs, vm)
	}
}

// BenchmarkDocumentCompression writes (packs and compresses) and reads
// (decompresses and unpacks) a VM's state at rest, a disk's body and a
// seeded interface's, as a change and a load do.
func BenchmarkDocumentCompression(b *testing.B) {
	scope := scopeOf(sub, "rg")
	for _, c := range []struct{ name, doc string }{
		{"state", stateAtRest(scope, "seed-vm-0005000")},
		{"disk", diskBody(scope, "seed-vm-0005000")},
		{"interface", seededInterface(scope, "seed-vm-0005000")},
	} {
		doc := json.RawMessage(c.doc)
		b.Run("write/"+c.name, func(b *testing.B) {
			for b.Loop() {
				documentArg(doc, scope)
			}
		})
		col := documentArg(doc, scope)
		b.Run("read/"+c.name, func(b *testing.B) {
			var d reusedDocument
			for b.Loop() {
				if err := d.Scan(col); err != nil {
					b.Fatal(err)
				}
				d.unpack(scope)
			}
		})
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/store"
)

// eventTextCases are names and details of every form.
func eventTextCases() []string {
	scope := "/subscriptions/" + sub + "/resourceGroups/rg/providers/"
	other := "/subscriptions/" + sub + "/resourceGroups/other/providers/"
	return []string{
		scope + "Microsoft.Compute/virtualMachines/vm",
		scope + "Microsoft.Compute/disks/vm_OsDisk_1_0123456789abcdef0123456789abcdef",
		scope + "Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/0",
		scope + "Microsoft.Network/publicIPAddresses/ip",
		scope + "Microsoft.Foo/bars/b", scope, other + "Microsoft.Compute/virtualMachines/vm",
		strings.ToUpper(scope + "Microsoft.Compute/virtualMachines/vm"),
		"/subscriptions/" + sub + "/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
		"/subscriptions//resourceGroups/rg/providers/x", "/subscriptions/s/resourceGroups//providers/x",
		"/subscriptions/s/resourceGroups/g/provider", "/subscriptions/", "/subscriptions/s/resourceGroups/g/providers",
		`{"vmSize":"Standard_D2s_v5","location":"eastus","osType":"Linux"}`,
		`{"location":"eastus","diskSku":"Premium_LRS","diskSizeGB":30,"managedBy":"` + scope + `Microsoft.Compute/virtualMachines/vm"}`,
		`{"managedBy":"` + other + `Microsoft.Compute/virtualMachines/vm","also":"` + scope + `Microsoft.Compute/disks/d` + scope + `"}`,
		"", "{}", "vm", "\x01", "\x02", "\x03" + scope, scope + "\x0a", "\x0b" + scope, "é" + scope + "é", "\x00" + scope,
		"\x1c", "\x1d" + scope, `"}"}"}{"location":"Standard_Standard_LRS`,
	}
}

// testScopes numbers scopes from 1, as a new store does, so that the
// first numbers are bytes that are marks elsewhere.
type testScopes struct {
	refs  map[string]int64
	texts []string
}

func (sc *testScopes) ref(scope string) (int64, error) {
	if sc.refs == nil {
		sc.refs = map[string]int64{}
	}
	if ref, ok := sc.refs[scope]; ok {
		return ref, nil
	}
	sc.texts = append(sc.texts, scope)
	sc.refs[scope] = int64(len(sc.texts))
	return int64(len(sc.texts)), nil
}

func (sc *testScopes) text(ref int64) (string, error) {
	if ref < 1 || ref > int64(len(sc.texts)) {
		return "", fmt.Errorf("no scope %d", ref)
	}
	return sc.texts[ref-1], nil
}

func checkEventTextRoundTrip(t *testing.T, sc *testScopes, text string) []byte {
	t.Helper()
	packed, err := packEventText(text, sc.ref)
	if err != nil {
		t.Fatalf("pack %q: %v", text, err)
	}
	if got, err := unpackEventText(packed, sc.text); err != nil || got != text {
		t.Errorf("%q packed as %q reads back %q (%v)", text, packed, got, err)
	}
	return packed
}

func TestEventTextPacking(t *testing.T) {
	var sc testScopes
	for _, text := range eventTextCases() {
		checkEventTextRoundTrip(t, &sc, text)
	}
	// Past 127 scopes a number takes two bytes.
	for i := range 300 {
		checkEventTextRoundTrip(t, &sc, fmt.Sprintf("/subscriptions/%s/resourceGroups/g%d/providers/Microsoft.Compute/virtualMachines/vm", sub, i))
	}
	sc = testScopes{}
	for _, c := range []struct{ text, want string }{
		{vmID("vm"), "\x01\x01\x03vm"},
		{`{"vmSize":"Standard_D2s_v5","location":"eastus","osType":"Linux"}`, "\x0dD2s_v5\x0ceastus\x0e\x0f\x18"},
		{`{"location":"eastus","diskSku":"Premium_LRS","diskSizeGB":30,"managedBy":"` + vmID("seed-vm-0000065") + `"}`,
			"\x0beastus\x11\x14\x1230\x13\x01\x01\x03seed-vm-0000065\x18"},
		{`{"location":"westus","diskSku":"StandardSSD_LRS","diskSizeGB":64}`, "\x0bwestus\x11\x15\x1264}"},
		{eventTextCases()[1], "\x01\x01\x04vm\x1d0123456789abcdef0123456789abcdef"},
	} {
		if got := checkEventTextRoundTrip(t, &sc, c.text); string(got) != c.want {
			t.Errorf("%s packs as %q, want %q", c.text, got, c.want)
		}
	}
	for _, bad := range []string{"\x01", "\x01\x80", "a\x02b", "\x01\x09\x03vm"} {
		if got, err := unpackEventText([]byte(bad), sc.text); err == nil && bad != "\x01\x09\x03vm" {
			t.Errorf("%q unpacks as %q, want an error", bad, got)
		}
	}
}

func FuzzEventTextPacking(f *testing.F) {
	for _, text := range eventTextCases() {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var sc testScopes
		checkEventTextRoundTrip(t, &sc, text)
		// Any bytes unpack, or fail, without a panic.
		_, _ = unpackEventText([]byte(text), sc.text)
	})
}

// oldTextEvents are events of names and details of every form, some
// sharing a name or a detail, as the rows of before 0014 held them.
func oldTextEvents() []store.Event {
	cases := eventTextCases()
	var evs []store.Event
	at := t0
	for i := range 2 * len(cases) {
		var detail json.RawMessage
		if i%5 != 4 {
			detail = json.RawMessage(cases[(i*7)%len(cases)])
		}
		evs = append(evs, store.Event{Seq: int64(i + 1), VMID: cases[i%len(cases)], At: at, ProvisioningState: "Succeeded",
			ProvisioningCode: "ProvisioningState/succeeded", PowerState: "running", OperationID: "op", OperationKind: "create", Detail: detail})
		at = at.Add(time.Second)
	}
	return evs
}

// writeOldTextEvents writes oldTextEvents into db, at the schema of 0013.
func writeOldTextEvents(t *testing.T, db *sql.DB) {
	t.Helper()
	add := func(q string, args ...any) int64 {
		t.Helper()
		var ref int64
		if err := db.QueryRow(q+` RETURNING ref`, args...).Scan(&ref); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	names, details := map[string]int64{}, map[string]int64{}
	state := add(`INSERT INTO event_states (provisioning_state, provisioning_code, power_state, operation_kind)
		VALUES ('Succeeded', 'ProvisioningState/succeeded', 'running', 'create')`)
	for _, e := range oldTextEvents() {
		if _, ok := names[e.VMID]; !ok {
			names[e.VMID] = add(`INSERT INTO event_names (hash, id) VALUES (?, ?)`, store.NameHash(e.VMID), e.VMID)
		}
		var detail any
		if e.Detail != nil {
			d := string(e.Detail)
			if _, ok := details[d]; !ok {
				details[d] = add(`INSERT INTO event_details (hash, detail) VALUES (?, ?)`, store.DetailHash(d), d)
			}
			detail = details[d]
		}
		if _, err := db.Exec(`INSERT INTO events (seq, res, at, state, operation_id, detail) VALUES (?, ?, ?, ?, ?, ?)`,
			e.Seq, names[e.VMID], e.At.UnixNano(), state, e.OperationID, detail); err != nil {
			t.Fatal(err)
		}
	}
}

// eventsOf reads s's whole history, and the history of vmID, by History,
// and from Seq 1 on by EventsFrom.
func eventsOf(t *testing.T, s *Store, vmID string) (all, ofVM, from []store.Event) {
	t.Helper()
	ctx := context.Background()
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	collect := func(to *[]store.Event) func(store.Event) error {
		return func(e store.Event) error { *to = append(*to, e); return nil }
	}
	if err := s.History(ctx, "", t0.Add(-time.Hour), far, collect(&all)); err != nil {
		t.Fatal(err)
	}
	if err := s.History(ctx, vmID, t0.Add(-time.Hour), far, collect(&ofVM)); err != nil {
		t.Fatal(err)
	}
	if err := s.EventsFrom(ctx, 1, collect(&from)); err != nil {
		t.Fatal(err)
	}
	return all, ofVM, from
}

// TestPackedEventTextMigration opens a database written before the
// history's names and details were packed (0014_packed_event_text.sql):
// every event reads back as it was, its name in its casing, whole, by
// resource and from a Seq on, and a new event of a known name and detail
// refers to their migrated rows.
func TestPackedEventTextMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 13)
	writeOldTextEvents(t, db)
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := oldTextEvents()
	vm := want[0].VMID
	var wantOfVM []store.Event
	for _, e := range want {
		if store.Key(e.VMID) == store.Key(vm) {
			wantOfVM = append(wantOfVM, e)
		}
	}
	if len(wantOfVM) != 6 { // three names of one key, in three casings
		t.Fatalf("the cases have %d events of %s, want 6", len(wantOfVM), vm)
	}
	all, ofVM, from := eventsOf(t, s, strings.ToLower(vm))
	for _, c := range []struct {
		what      string
		got, want []store.Event
	}{{"History", all, want}, {"History of a VM", ofVM, wantOfVM}, {"EventsFrom", from, want}} {
		if d := diffEvents(c.got, c.want); d != "" {
			t.Errorf("%s after the migration: %s", c.what, d)
		}
	}

	count := func(table string) (n int) {
		t.Helper()
		if err := s.r.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	names, details := count("event_names"), count("event_details")
	next := want[1]
	next.Seq, next.At, next.Detail = 0, next.At.Add(time.Hour), want[0].Detail
	c := store.Change{Events: []store.Event{next}}
	if err := s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	next = c.Events[0]
	if count("event_names") != names || count("event_details") != details {
		t.Errorf("a new event of a migrated name and detail added rows: %d names, %d details, want %d, %d",
			count("event_names"), count("event_details"), names, details)
	}
	if all, _, _ := eventsOf(t, s, ""); diffEvents(all, append(want, next)) != "" {
		t.Errorf("History after a new event: %s", diffEvents(all, append(want, next)))
	}
}

// A migration to packed names and details that fails leaves the schema
// as it was; the next Open migrates.
func TestFailedPackedEventTextMigrationKeepsTheOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 13)
	writeOldTextEvents(t, db)
	failMigrationAt(t, db, 14)
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if all, _, _ := eventsOf(t, s, ""); diffEvents(all, oldTextEvents()) != "" {
		t.Errorf("History after a failed migration and a good one: %s", diffEvents(all, oldTextEvents()))
	}
}

// diffEvents says where got and want first differ, "" when they do not.
func diffEvents(got, want []store.Event) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("event %d is\n%+v (detail %q)\nwant\n%+v (detail %q)", i, got[i], got[i].Detail, want[i], want[i].Detail)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d events, want %d", len(got), len(want))
	}
	return ""
}

package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/store"
)

// targetCases are targets of every form, of an operation of sub.
func targetCases(sub string) []string {
	scope := "/subscriptions/" + sub + "/resourceGroups/"
	return []string{
		scope + "rg/providers/Microsoft.Compute/virtualMachines/vm", scope + "rg/providers/Microsoft.Compute/disks/d",
		scope + "rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/0",
		scope + "rg/providers/Microsoft.Resources/deployments/dep", scope + "rg", scope, scope + "rg/providers/Microsoft.Foo/bars/b",
		scope + "RG/providers/microsoft.compute/virtualmachines/vm", "/subscriptions/" + sub + "/resourcegroups/rg",
		"/subscriptions/other/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
		"", "vm", "\x01vm", "\x03", "\x04" + scope, scope + "rg\x07", "\x0b", "\x0c",
	}
}

func TestTargetPacking(t *testing.T) {
	for _, sub := range []string{sub, "", "S"} {
		for _, target := range targetCases(sub) {
			packed := packTarget(target, sub)
			if got := unpackTarget(packed, sub); got != target {
				t.Errorf("%q of %q packed as %q reads back %q", target, sub, packed, got)
			}
		}
	}
	if got := packTarget(vmID("vm"), sub); got != "\x01rg\x04vm" {
		t.Errorf("a VM's target packs as %q, want %q", got, "\x01rg\x04vm")
	}
}

func FuzzTargetPacking(f *testing.F) {
	for _, target := range targetCases(sub) {
		f.Add(target, sub)
	}
	f.Fuzz(func(t *testing.T, target, sub string) {
		packed := packTarget(target, sub)
		if got := unpackTarget(packed, sub); got != target {
			t.Errorf("%q of %q packed as %q reads back %q", target, sub, packed, got)
		}
	})
}

// oldOperations are operations of every form a row of before 0011 held.
func oldOperations() []store.Operation {
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	var ops []store.Operation
	for i, c := range []struct{ id, sub, target, status string }{
		{"01a21f83-c0d0-774f-a0a7-eca42ac9b0de", sub, vmID("vm1"), "InProgress"},
		{"01a21f83-c0d0-774f-a0a7-eca42ac9b0df", sub, vmID("vm2"), "Succeeded"},
		{"0000000A-0000-4000-8000-000000000001", sub, vmID("vm3"), "Failed"},
		{"not-a-guid", "also-not-a-guid", "/subscriptions/x/resourceGroups/rg", "Canceled"},
		{"Not-A-Guid-Either", strings.ToUpper(sub), vmID("vm4"), "InProgress"},
		{"00000000-0000-4000-8000-000000000002", sub, "\x01odd", "Unknown"},
		{"00000000-0000-4000-8000-000000000003", sub, targetCases(sub)[2], ""},
	} {
		op := store.Operation{ID: c.id, SubscriptionID: c.sub, Location: "westus", Kind: "create", TargetID: c.target, Status: c.status,
			StartTime: at(int64(i + 1))}
		if c.status != "InProgress" {
			op.EndTime = at(int64(i + 10))
		}
		if i%2 == 0 {
			op.Error, op.Result = json.RawMessage(`{"code":"X"}`), json.RawMessage(`{"r":1}`)
		}
		ops = append(ops, op)
	}
	return ops
}

// TestCompactOperationsMigration opens a database written before the
// operations were made smaller (0011_compact_operations.sql): each reads
// back as it was, by its ID in any casing, and Load reads those in
// progress in key order.
func TestCompactOperationsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 10)
	ctx := context.Background()
	ops := oldOperations()
	for _, op := range ops {
		times, err := store.TimeArgs(op.StartTime, op.EndTime)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO operations (op_key, id, subscription_id, location, kind, target_id, status, start_time, end_time, error, result)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.Key(op.ID), op.ID, op.SubscriptionID, op.Location, op.Kind, op.TargetID, op.Status,
			times[0], times[1], jsonArg(op.Error), jsonArg(op.Result)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range ops {
		for _, id := range []string{want.ID, strings.ToUpper(want.ID), strings.ToLower(want.ID)} {
			got, err := s.Operation(ctx, id)
			if err != nil {
				t.Fatalf("operation %s: %v", id, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("operation %s:\n got %+v\nwant %+v", id, got, want)
			}
		}
	}
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Operation{ops[0], ops[4]}; !reflect.DeepEqual(snap.Operations, want) {
		t.Errorf("in progress:\n got %+v\nwant %+v", snap.Operations, want)
	}
	var plan string
	if err := query(ctx, s.r, `EXPLAIN QUERY PLAN `+operationSelect+` WHERE status = 0`, nil, func(rows *sql.Rows) error {
		var id, parent, unused int
		var detail string
		err := rows.Scan(&id, &parent, &unused, &detail)
		plan += detail + ";"
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "operations_in_progress") {
		t.Errorf("Load reads the operations in progress by %q, not their index", plan)
	}
	var guids, ids int
	if err := s.r.QueryRow(`SELECT count(*) FILTER (WHERE typeof(op) = 'blob'), count(id) FROM operations`).Scan(&guids, &ids); err != nil {
		t.Fatal(err)
	}
	if guids != 5 || ids != 2 {
		t.Errorf("%d keys kept as GUIDs and %d IDs kept apart, want 5 and 2", guids, ids)
	}
	// Written again, they read back as they were; ended, they are no
	// longer loaded.
	var next store.Change
	for _, op := range ops {
		op.Status, op.EndTime = "Succeeded", time.Unix(100, 0).UTC()
		next.Operations = append(next.Operations, op)
	}
	if err := s.Apply(ctx, next); err != nil {
		t.Fatal(err)
	}
	for _, want := range next.Operations {
		if got, err := s.Operation(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("operation %s: %+v (%v), want %+v", want.ID, got, err, want)
		}
	}
	if snap, err = s.Load(ctx); err != nil || len(snap.Operations) != 0 {
		t.Errorf("in progress after they ended: %+v (%v)", snap.Operations, err)
	}
}

// TestFailedCompactOperationsMigrationKeepsTheOldSchema: a migration that
// fails after 0011's script has run leaves the 0010 schema and rows.
func TestFailedCompactOperationsMigrationKeepsTheOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 10)
	op := oldOperations()[0]
	op.Error, op.Result = nil, nil
	if _, err := db.Exec(`INSERT INTO operations (op_key, id, subscription_id, location, kind, target_id, status, start_time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, store.Key(op.ID), op.ID, op.SubscriptionID, op.Location, op.Kind, op.TargetID, op.Status,
		op.StartTime.UnixNano()); err != nil {
		t.Fatal(err)
	}
	failMigrationAt(t, db, 11)
	var target string
	if err := db.QueryRow(`SELECT target_id FROM operations WHERE op_key = ?`, store.Key(op.ID)).Scan(&target); err != nil || target != op.TargetID {
		t.Fatalf("the operation's target is %q (%v), want %q", target, err, op.TargetID)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Operation(context.Background(), op.ID); err != nil || !reflect.DeepEqual(got, op) {
		t.Errorf("after the migration: %+v (%v), want %+v", got, err, op)
	}
}

// TestNewestMarkMigration opens databases written before the newest
// instant had a row of its own (0012_newest_mark.sql): Newest is what it
// was, the latest of the events' times and the operations' starts and
// ends, and the index on the events' time is gone. A failed migration
// leaves the 0011 schema.
func TestNewestMarkMigration(t *testing.T) {
	ns := func(s int64) int64 { return time.Unix(s, 0).UnixNano() }
	for _, c := range []struct {
		name           string
		events         []int64
		starts, ends   []any
		want           time.Time
		failedMigation bool
	}{
		{name: "empty"},
		{name: "an event last", events: []int64{ns(5), ns(9)}, starts: []any{ns(1)}, ends: []any{ns(8)}, want: time.Unix(9, 0).UTC()},
		{name: "a start last", events: []int64{ns(5)}, starts: []any{ns(10), ns(2)}, ends: []any{nil, ns(3)}, want: time.Unix(10, 0).UTC()},
		{name: "an end last", events: []int64{ns(5)}, starts: []any{ns(1)}, ends: []any{ns(11)}, want: time.Unix(11, 0).UTC()},
		{name: "operations alone", starts: []any{ns(4)}, ends: []any{nil}, want: time.Unix(4, 0).UTC()},
		{name: "failed", events: []int64{ns(5)}, want: time.Unix(5, 0).UTC(), failedMigation: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "azemu.db")
			db := openAtVersion(t, path, 11)
			for _, at := range c.events {
				if _, err := db.Exec(`INSERT INTO events (res, at, state, operation_id) VALUES (1, ?, 1, 'op')`, at); err != nil {
					t.Fatal(err)
				}
			}
			for i, start := range c.starts {
				if _, err := db.Exec(`INSERT INTO operations (op, subscription_id, location, kind, target, status, start_time, end_time)
					VALUES (?, 's', 'westus', 'create', 't', 1, ?, ?)`, "op"+strconv.Itoa(i), start, c.ends[i]); err != nil {
					t.Fatal(err)
				}
			}
			if c.failedMigation {
				var before string
				if err := db.QueryRow(`SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema ORDER BY name)`).Scan(&before); err != nil {
					t.Fatal(err)
				}
				failed := errors.New("killed")
				migrationSteps[12] = func(context.Context, *sql.Tx) error { return failed }
				err := migrate(context.Background(), db)
				delete(migrationSteps, 12)
				if !errors.Is(err, failed) {
					t.Fatalf("migrate = %v, want the step's failure", err)
				}
				var after string
				if err := db.QueryRow(`SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema ORDER BY name)`).Scan(&after); err != nil {
					t.Fatal(err)
				}
				if after != before || !strings.Contains(after, "events_at") {
					t.Fatalf("a failed migration left %s, want %s", after, before)
				}
			}
			db.Close()
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.Newest(context.Background())
			if err != nil || !got.Equal(c.want) {
				t.Errorf("Newest = %v (%v), want %v", got, err, c.want)
			}
			var left int
			if err := s.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'events_at'`).Scan(&left); err != nil || left != 0 {
				t.Errorf("the index on the events' time is left (%v)", err)
			}
		})
	}
}

// TestCompactionLeavesTheNewestMark: a clock never goes back to a
// compacted past, so Newest stays where it was when the history before
// it is compacted away.
func TestCompactionLeavesTheNewestMark(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	c := sample()
	c.Operations[0].Status = "Succeeded"
	if err := s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	want, err := s.Newest(ctx)
	if err != nil || !want.Equal(c.Operations[0].EndTime) {
		t.Fatalf("Newest = %v (%v), want the operation's end %v", want, err, c.Operations[0].EndTime)
	}
	horizon := want.Add(time.Hour)
	if _, err := s.Compact(ctx, store.Compaction{Horizon: horizon, OperationsBefore: horizon}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Operation(ctx, c.Operations[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the operation after the compaction: %v, want it gone", err)
	}
	if got, err := s.Newest(ctx); err != nil || !got.Equal(want) {
		t.Errorf("Newest after a compaction = %v (%v), want %v", got, err, want)
	}
}

// A GUID's text is kept as its 16 bytes only when it is a lower-case
// 8-4-4-4-12 GUID, which guidText writes back as it was.
func TestGUIDBytes(t *testing.T) {
	tests := []struct {
		text string
		want []byte // nil: not kept as bytes
	}{
		{"00112233-4455-6677-8899-aabbccddeeff", []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}},
		{"0192d3f0-7c1a-7000-8000-0123456789ab", []byte{0x01, 0x92, 0xd3, 0xf0, 0x7c, 0x1a, 0x70, 0x00, 0x80, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}},
		{"00112233-4455-6677-8899-AABBCCDDEEFF", nil}, // upper case
		{"00112233-4455-6677-8899-aabbccddeefg", nil}, // not hex
		{"0011223344556677-8899-aabb-ccddeeff", nil},  // dashes elsewhere
		{"00112233-4455-6677-8899-aabbccddeef", nil},  // short
		{"{00112233-4455-6677-8899-aabbccddeeff}", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got, ok := guidBytes(tt.text)
		if ok != (tt.want != nil) || !bytes.Equal(got, tt.want) {
			t.Errorf("guidBytes(%q) = %x, %v; want %x", tt.text, got, ok, tt.want)
			continue
		}
		if ok && guidText(got) != tt.text {
			t.Errorf("guidText(guidBytes(%q)) = %q", tt.text, guidText(got))
		}
	}
}

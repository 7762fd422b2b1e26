package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/pgtest"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.Database(t)) })
}

func TestSharedConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) store.Shared { return open(t, pgtest.Database(t)) })
}

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

const sub = "0b5e1a52-7c1d-4c6e-9d8e-1f2a3b4c5d6e"

func vmID(name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/" + name
}

// sample is a change touching every table, with nothing zero or nil, so
// that reflect.DeepEqual can compare what comes back.
func sample() store.Change {
	op := store.Operation{
		ID: "00000000-0000-4000-8000-000000000001", SubscriptionID: sub, Location: "westeurope",
		Kind: "create", TargetID: vmID("vm"), Status: "InProgress", StartTime: t0,
		EndTime: t0.Add(time.Hour), Error: json.RawMessage(`{}`), Result: json.RawMessage(`{}`),
	}
	return store.Change{
		Subscriptions: []store.Subscription{{ID: sub, CreatedAt: t0}},
		VMs: []store.VM{{
			ID: vmID("vm"), SubscriptionID: sub, ResourceGroup: "rg", Name: "vm", Location: "westeurope",
			Model: jsonshape.Of([]byte(`{"a":1}`)), State: json.RawMessage(`{"b":2}`), Version: 1,
			DueAt: t0.Add(time.Second), CreatedAt: t0, UpdatedAt: t0.Add(time.Millisecond),
		}},
		Events: []store.Event{{
			VMID: vmID("vm"), At: t0, ProvisioningState: "Creating",
			ProvisioningCode: "ProvisioningState/creating", PowerState: "starting",
			OperationID: op.ID, OperationKind: "create", Detail: json.RawMessage(`{"size":"B1s"}`),
		}},
		Operations: []store.Operation{op},
	}
}

func loadAll(t *testing.T, s *Store) (store.Snapshot, []store.Event) {
	t.Helper()
	ctx := context.Background()
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var events []store.Event
	if err := s.History(ctx, "", store.MinTime, store.MaxTime, func(e store.Event) error {
		events = append(events, e)
		return nil
	}); err != nil {
		t.Fatalf("History: %v", err)
	}
	return snap, events
}

// TestReopenKeepsData: a second Open of the same database migrates nothing,
// sees what the first wrote, and Seq goes on from where it was.
func TestReopenKeepsData(t *testing.T) {
	url := pgtest.Database(t)
	s := open(t, url)
	c := sample()
	if err := s.Apply(context.Background(), c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s = open(t, url)
	defer s.Close()
	snap, events := loadAll(t, s)
	want := store.Snapshot{Subscriptions: c.Subscriptions, VMs: c.VMs, Operations: c.Operations, Seq: 1}
	if !reflect.DeepEqual(snap, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", snap, want)
	}
	if !reflect.DeepEqual(events, c.Events) {
		t.Errorf("History:\n got %+v\nwant %+v", events, c.Events)
	}
	next := store.Change{Events: sample().Events}
	if err := s.Apply(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if next.Events[0].Seq <= c.Events[0].Seq {
		t.Errorf("Seq after reopen %d, want more than %d", next.Events[0].Seq, c.Events[0].Seq)
	}
}

// TestMigrationsOnce: servers opening one database at once apply each script
// once between them, and a database from a newer build is refused.
func TestMigrationsOnce(t *testing.T) {
	url := pgtest.Database(t)
	errs := make(chan error, 4)
	var stores []*Store
	for range cap(errs) {
		go func() {
			s, err := Open(context.Background(), url)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	s := open(t, url)
	stores = append(stores, s)
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	entries, _ := migrationFiles.ReadDir("migrations")
	if n != len(entries) {
		t.Errorf("%d migrations recorded, want %d", n, len(entries))
	}
	// No query reads vms.due_at: its index goes (0005_drop_vms_due_at.sql).
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'vms' AND indexdef LIKE '%due_at%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d indexes on vms.due_at (%v), want none", n, err)
	}
	if _, err := s.pool.Exec(context.Background(),
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		s.Close()
	}
	if s, err := Open(context.Background(), url); err == nil || !strings.Contains(err.Error(), "newer than this build") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a database from a newer build: %v, want a refusal", err)
	}
}

// TestHistoryLongerThanOneFetch: a scan crosses cursor fetches, keeps Seq
// order, and writes made from its callback (on other connections) neither
// block nor show up in it.
func TestHistoryLongerThanOneFetch(t *testing.T) {
	s := open(t, pgtest.Database(t))
	defer s.Close()
	ctx := context.Background()
	const n = historyFetch*2 + 7
	var c store.Change
	for i := range n {
		c.Events = append(c.Events, store.Event{VMID: vmID("vm"), At: t0.Add(time.Duration(i)), PowerState: "running"})
	}
	if err := s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	seen := 0
	var last int64
	err := s.History(ctx, vmID("VM"), t0, t0.Add(n), func(e store.Event) error {
		if e.Seq <= last {
			t.Fatalf("Seq %d after %d", e.Seq, last)
		}
		last = e.Seq
		seen++
		if seen%historyFetch == 1 {
			return s.Apply(ctx, store.Change{Events: []store.Event{{VMID: vmID("vm"), At: t0}}})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if seen != n {
		t.Errorf("scan saw %d events, want the %d there when it began", seen, n)
	}
}

// TestSeqIsCommitOrder: with writers racing, a reader that has seen a Seq
// never later finds a smaller one committed.
func TestSeqIsCommitOrder(t *testing.T) {
	s := open(t, pgtest.Database(t))
	defer s.Close()
	ctx := context.Background()
	const writers, each = 4, 25
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				at := t0.Add(time.Duration(w*each+i) * time.Second)
				if err := s.Apply(ctx, store.Change{Events: []store.Event{{VMID: vmID("vm"), At: at}}}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	// Each poll must see a prefix of the final Seq order: no gap that a
	// later commit fills.
	finished := 0
	for finished < writers {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished++
		default:
		}
		_, events := loadAll(t, s)
		var final []store.Event
		if finished == writers {
			_, final = loadAll(t, s)
			if len(final) != writers*each {
				t.Fatalf("%d events, want %d", len(final), writers*each)
			}
		}
		for i := 1; i < len(events); i++ {
			if events[i].Seq <= events[i-1].Seq {
				t.Fatalf("Seq %d after %d", events[i].Seq, events[i-1].Seq)
			}
		}
		if final != nil && len(events) > 0 && events[len(events)-1].Seq > final[len(events)-1].Seq {
			t.Fatalf("a poll saw Seq %d as its %dth event, but a smaller one was committed later", events[len(events)-1].Seq, len(events))
		}
	}
}

// TestApplyRejects: values the schema cannot hold fail the whole change
// before anything is sent, and the caller's events keep Seq 0.
func TestApplyRejects(t *testing.T) {
	s := open(t, pgtest.Database(t))
	defer s.Close()
	tests := []struct {
		name   string
		modify func(*store.Change)
	}{
		{"event without a time", func(c *store.Change) { c.Events[1].At = time.Time{} }},
		{"time before 1678", func(c *store.Change) { c.VMs[0].DueAt = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"time after 2262", func(c *store.Change) { c.Operations[0].EndTime = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sample()
			c.Events = append(c.Events, c.Events[0])
			tt.modify(&c)
			if err := s.Apply(context.Background(), c); err == nil {
				t.Fatal("Apply: no error")
			}
			for i, e := range c.Events {
				if e.Seq != 0 {
					t.Errorf("event %d: Seq %d after a failed Apply, want 0", i, e.Seq)
				}
			}
			if snap, events := loadAll(t, s); !reflect.DeepEqual(snap, store.Snapshot{}) || len(events) != 0 {
				t.Errorf("after a failed Apply: %+v, %d events, want nothing", snap, len(events))
			}
		})
	}
}

func TestOpenRefusesBadURL(t *testing.T) {
	_, err := Open(context.Background(), "postgres://user:s3cret@[::1/db")
	if err == nil {
		t.Fatal("Open of a malformed URL: no error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestClaim: the servers of a store claim it together; a server of a build
// from before replicas, which held it alone, keeps them out with a message
// naming it, until its session ends without a word, as a killed process's
// does.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	first, err := Claim(ctx, url, "azemu pid 1")
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := first.Record(ctx, "azemu pid 1 https://127.0.0.1:8443 "+strings.Repeat("é", 40)); err != nil {
		t.Fatalf("Record: %v", err)
	}
	second, err := Claim(ctx, url, "azemu pid 2")
	if err != nil {
		t.Fatalf("a second server's Claim: %v", err)
	}
	first.Release()
	second.Release()

	// An older build took the lock alone.
	old, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := schemaOf(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(ctx, `SELECT set_config('application_name', 'azemu pid 9 https://127.0.0.1:9443', false), pg_advisory_lock($1)`,
		lockKey(schema, lockOwner)); err != nil {
		t.Fatal(err)
	}
	_, err = Claim(ctx, url, "azemu pid 3")
	if !errors.Is(err, ErrOwned) {
		t.Fatalf("Claim beside an older build: %v, want ErrOwned", err)
	}
	if !strings.Contains(err.Error(), "azemu pid 9 https://127.0.0.1:9443") {
		t.Errorf("refusal %q does not name the holder", err)
	}
	// Another store on the same server is free.
	other, err := Claim(ctx, pgtest.Database(t), "azemu pid 4")
	if err != nil {
		t.Fatalf("Claim of another store: %v", err)
	}
	other.Release()
	// The session ending by itself frees the database.
	if err := old.PgConn().Conn().Close(); err != nil {
		t.Fatal(err)
	}
	var third *Owner
	deadline := time.Now().Add(30 * time.Second)
	for third == nil {
		// The server notices the closed socket on its own schedule.
		if third, err = Claim(ctx, url, "azemu pid 5"); err != nil && (!errors.Is(err, ErrOwned) || time.Now().After(deadline)) {
			t.Fatalf("Claim after the older build's session ended: %v", err)
		}
	}
	third.Release()
}

func TestRedacted(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://azemu:s3cret@db.example:5432/fleet", "postgres://azemu:xxxxx@db.example:5432/fleet"},
		{"postgresql://azemu@db.example/fleet?password=s3cret&sslmode=require", "postgresql://azemu@db.example/fleet?password=xxxxx&sslmode=require"},
		{"postgres:///fleet?host=/run/postgresql", "postgres:///fleet?host=/run/postgresql"},
	}
	for _, tt := range tests {
		if got := Redacted(tt.in); got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Redacted("postgres://a:s3cret@[::1/db"); strings.Contains(got, "s3cret") {
		t.Errorf("Redacted of a malformed URL shows the password: %q", got)
	}
}

// TestCompactEventsMigration opens a database whose history was written
// before the compact event rows (0004_compact_events.sql): every event
// reads back as it was, and the next Seq follows the old counter.
func TestCompactEventsMigration(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := schemaOf(ctx, pool)
	if err == nil {
		err = migrateTo(ctx, pool, schema, 3)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range storetest.OldHistory() {
		if _, err := pool.Exec(ctx, `INSERT INTO events (seq, vm_key, vm_id, at, provisioning_state, provisioning_code,
			power_state, operation_id, operation_kind, detail) OVERRIDING SYSTEM VALUE
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			e.Seq, store.Key(e.VMID), e.VMID, e.At.UnixNano(), e.ProvisioningState, e.ProvisioningCode,
			e.PowerState, e.OperationID, e.OperationKind, text(e.Detail)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `SELECT setval(pg_get_serial_sequence('events', 'seq'), $1)`, storetest.OldCounter); err != nil {
		t.Fatal(err)
	}
	pool.Close()

	s := open(t, url)
	defer s.Close()
	storetest.CheckMigratedHistory(t, s)
}

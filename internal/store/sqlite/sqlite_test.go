package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/storetest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "azemu.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
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
		Groups: []store.ResourceGroup{{
			SubscriptionID: sub, Name: "rg", Location: "westeurope",
			Body: json.RawMessage(`{"tags":{}}`), Version: 1, CreatedAt: t0,
		}},
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

// checkSample asserts that s holds exactly what sample wrote.
func checkSample(t *testing.T, s *Store, c store.Change) {
	t.Helper()
	ctx := context.Background()
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := store.Snapshot{Subscriptions: c.Subscriptions, Groups: c.Groups, VMs: c.VMs, Operations: c.Operations}
	if !reflect.DeepEqual(snap, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", snap, want)
	}
	var events []store.Event
	if err := s.History(ctx, "", t0, t0.Add(1), func(e store.Event) error {
		events = append(events, e)
		return nil
	}); err != nil {
		t.Fatalf("History: %v", err)
	}
	if !reflect.DeepEqual(events, c.Events) {
		t.Errorf("History:\n got %+v\nwant %+v", events, c.Events)
	}
}

func TestReopenKeepsData(t *testing.T) {
	s, path := openTemp(t)
	c := sample()
	if err := s.Apply(context.Background(), c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	checkSample(t, s, c)

	// Sequence numbers go on from where they were.
	next := store.Change{Events: sample().Events}
	if err := s.Apply(context.Background(), next); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if next.Events[0].Seq <= c.Events[0].Seq {
		t.Errorf("Seq after reopen %d, want more than %d", next.Events[0].Seq, c.Events[0].Seq)
	}
}

// TestKilledProcessKeepsData checks what the synchronous=NORMAL comment in
// dsn claims, and OpenBulk's with synchronous=OFF: a change Apply returned
// from survives the process being killed without Close. The test binary
// re-runs itself as the process to kill.
func TestKilledProcessKeepsData(t *testing.T) {
	if path := os.Getenv("AZEMU_SQLITE_KILL_PATH"); path != "" {
		var s store.Store
		var err error
		bulk := os.Getenv("AZEMU_SQLITE_KILL_BULK") != ""
		if bulk {
			s, err = OpenBulk(path)
		} else {
			s, err = Open(path)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := s.Apply(context.Background(), sample()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// A bulk store has written what it acknowledged once flushed.
		if b, ok := s.(*Bulk); ok {
			if err := b.Flush(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
		p, _ := os.FindProcess(os.Getpid())
		p.Kill()
		time.Sleep(time.Minute) // the kill lands before this ends
		os.Exit(3)
	}

	for _, bulk := range []string{"", "bulk"} {
		t.Run("open"+bulk, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "azemu.db")
			cmd := exec.Command(os.Args[0], "-test.run=^TestKilledProcessKeepsData$")
			cmd.Env = append(os.Environ(), "AZEMU_SQLITE_KILL_PATH="+path, "AZEMU_SQLITE_KILL_BULK="+bulk)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != -1 { // -1: ended by a signal
				t.Fatalf("child: %v, want killed by a signal\n%s", err, out)
			}
			if _, err := os.Stat(path + "-wal"); err != nil {
				t.Logf("no WAL file left by the killed process: %v", err)
			}
			s, err := Open(path)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer s.Close()
			var integrity string
			if err := s.r.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
				t.Errorf("integrity_check = %q, %v", integrity, err)
			}
			want := sample()
			want.Events[0].Seq = 1
			checkSample(t, s, want)
		})
	}
}

// TestBulkLoad: OpenBulk's writer trades syncs for speed and its readers
// are as Open's; what it acknowledged is written, in order, by Flush or
// Close, and after Close the WAL is folded into the file, which Open reads
// as it would any other.
func TestBulkLoad(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "azemu.db")
	b, err := OpenBulk(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		db           *sql.DB
		pragma, want string
	}{
		{b.w, "synchronous", "0"}, {b.w, "cache_size", "-131072"}, {b.w, "wal_autocheckpoint", "16384"},
		{b.w, "journal_mode", "wal"}, {b.w, "foreign_keys", "1"},
		{b.r, "synchronous", "1"}, {b.r, "query_only", "1"},
	} {
		var got string
		if err := tt.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
	c := sample()
	if err := b.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Each update follows the one before: written out of order, one would
	// fail its version check.
	vm := c.VMs[0]
	for v := int64(2); v <= 300; v++ {
		vm.Version, vm.State = v, json.RawMessage(fmt.Sprintf(`{"b":%d}`, v))
		if err := b.Apply(ctx, store.Change{VMs: []store.VM{vm}}); err != nil {
			t.Fatal(err)
		}
	}
	if c.Events[0].Seq != 1 {
		t.Errorf("the caller's event got Seq %d, want 1, the Seq it is written with", c.Events[0].Seq)
	}
	// Rows written and deleted leave free pages, which Close gives back.
	var gone store.Change
	for i := range 100 {
		big := store.VM{ID: vmID(fmt.Sprintf("big%d", i)), SubscriptionID: sub, ResourceGroup: "rg", Name: fmt.Sprintf("big%d", i),
			Location: "westus", State: json.RawMessage(`"` + incompressible(i, 3000) + `"`), Version: 1}
		if err := b.Apply(ctx, store.Change{VMs: []store.VM{big}}); err != nil {
			t.Fatal(err)
		}
		gone.DeletedVMs = append(gone.DeletedVMs, big.ID)
	}
	if err := b.Apply(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if free := freePages(t, b.r); free < 100 {
		t.Fatalf("%d free pages after the deletes, want at least 100", free)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.VMs) != 1 || snap.VMs[0].Version != 300 {
		t.Fatalf("after Flush the store holds %+v, want the VM at version 300", snap.VMs)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, sample()); err == nil {
		t.Error("Apply after Close: no error")
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL holds %d bytes after Close, want none", fi.Size())
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if free := freePages(t, s.r); free != 0 {
		t.Errorf("%d free pages after the bulk store's Close, want none", free)
	}
	want := sample()
	want.VMs[0] = vm
	want.Events[0].Seq = 1
	checkSample(t, s, want)
}

// incompressible is n characters that compression does not shorten,
// different for each seed.
func incompressible(seed, n int) string {
	var b strings.Builder
	for sum := sha256.Sum256([]byte(strconv.Itoa(seed))); b.Len() < n; sum = sha256.Sum256(sum[:]) {
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()[:n]
}

func freePages(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`PRAGMA freelist_count`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBulkLoadFailure: a queued change that fails to commit is reported by
// the next Apply, Flush and Close, and nothing queued after it is written;
// what was flushed before it stays.
func TestBulkLoadFailure(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "azemu.db")
	b, err := OpenBulk(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil { // in a transaction of its own
		t.Fatal(err)
	}
	stale := sample().VMs[0] // version 1 again: a conflict
	if err := b.Apply(ctx, store.Change{VMs: []store.VM{stale}}); err != nil {
		t.Fatal(err) // queued: the failure is not known yet
	}
	if err := b.Flush(ctx); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Flush = %v, want the conflict", err)
	}
	later := sample().VMs[0]
	later.Version = 2
	if err := b.Apply(ctx, store.Change{VMs: []store.VM{later}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Apply after the failure = %v, want the conflict", err)
	}
	if err := b.Close(); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Close = %v, want the conflict", err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := sample()
	want.Events[0].Seq = 1
	checkSample(t, s, want)
}

// TestBulkLoadNumbersEvents: Apply tells the caller the Seqs its events
// are written with, after those the database ever held, as Store.Apply
// does; when another writer takes a Seq first, the load fails rather than
// leave the caller with numbers the history does not have.
func TestBulkLoadNumbersEvents(t *testing.T) {
	ctx := context.Background()
	// Two events: a change's events take Seqs in order.
	event := func() store.Change {
		ev := sample().Events[0]
		return store.Change{Events: []store.Event{ev, ev}}
	}
	for _, tt := range []struct {
		name string
		// before runs on the database (via Open) before OpenBulk.
		before func(t *testing.T, s *Store)
		// meanwhile runs on the bulk store after its first Apply.
		meanwhile func(t *testing.T, b *Bulk)
		wantFirst int64  // the first Seq told
		wantErr   string // of Flush, when the load fails
	}{
		{name: "fresh", wantFirst: 1},
		{name: "after events", before: func(t *testing.T, s *Store) {
			for range 3 {
				if err := s.Apply(ctx, event()); err != nil {
					t.Fatal(err)
				}
			}
		}, wantFirst: 7},
		{name: "after a reset", before: func(t *testing.T, s *Store) {
			if err := s.Apply(ctx, event()); err != nil {
				t.Fatal(err)
			}
			if err := s.Reset(ctx); err != nil { // the Seqs are not reused
				t.Fatal(err)
			}
		}, wantFirst: 3},
		{name: "another writer", meanwhile: func(t *testing.T, b *Bulk) {
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Store.Apply(ctx, event()); err != nil {
				t.Fatal(err)
			}
		}, wantFirst: 1, wantErr: "another writer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "azemu.db")
			if tt.before != nil {
				s, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				tt.before(t, s)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			b, err := OpenBulk(path)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			first, second := event(), event()
			if err := b.Apply(ctx, first); err != nil {
				t.Fatal(err)
			}
			if tt.meanwhile != nil {
				tt.meanwhile(t, b)
			}
			if err := b.Apply(ctx, second); err != nil {
				t.Fatal(err)
			}
			var told []int64
			for _, c := range []store.Change{first, second} {
				for _, ev := range c.Events {
					told = append(told, ev.Seq)
				}
			}
			if want := []int64{tt.wantFirst, tt.wantFirst + 1, tt.wantFirst + 2, tt.wantFirst + 3}; !slices.Equal(told, want) {
				t.Errorf("Apply told Seqs %v, want %v", told, want)
			}
			err = b.Flush(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Flush = %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var written []int64
			if err := b.EventsFrom(ctx, 0, func(ev store.Event) error {
				written = append(written, ev.Seq)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(written) < 4 || !slices.Equal(written[len(written)-4:], told) {
				t.Errorf("the history holds Seqs %v, want it to end with those told, %v", written, told)
			}
		})
	}
}

func appliedMigrations(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.r.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrationsIdempotent(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.Version)
	}
	if len(want) == 0 || want[0] != 1 {
		t.Fatalf("embedded migrations %v, want them to start at 1", want)
	}

	s, path := openTemp(t)
	c := sample()
	if err := s.Apply(context.Background(), c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// Once more on the open database, as a second Open racing this one would.
	if err := migrate(context.Background(), s.w); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if got := appliedMigrations(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("applied %v, want %v", got, want)
	}
	s.Close()

	for i := range 3 {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if got := appliedMigrations(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("reopen %d: applied %v, want %v", i, got, want)
		}
		checkSample(t, s, c)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openTemp(t)
	if _, err := s.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path); err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer build: no error")
	}
}

// TestPragmas checks that every pooled connection, not just the first, got
// the DSN's pragmas.
func TestPragmas(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(busyTimeoutMS)},
	}
	for name, db := range map[string]*sql.DB{"write": s.w, "read": s.r} {
		// Hold several connections at once so that the pool opens new ones.
		var conns []*sql.Conn
		n := 3
		if name == "write" {
			n = 1
		}
		for range n {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s Conn: %v", name, err)
			}
			conns = append(conns, c)
		}
		for i, c := range conns {
			for _, tt := range tests {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
					t.Fatalf("%s conn %d: PRAGMA %s: %v", name, i, tt.pragma, err)
				}
				if got != tt.want {
					t.Errorf("%s conn %d: %s = %s, want %s", name, i, tt.pragma, got, tt.want)
				}
			}
			var queryOnly string
			if err := c.QueryRowContext(ctx, "PRAGMA query_only").Scan(&queryOnly); err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{"write": "0", "read": "1"}[name]; queryOnly != want {
				t.Errorf("%s conn %d: query_only = %s, want %s", name, i, queryOnly, want)
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}
}

// TestHistoryDoesNotBlockApply: a scan holds a read snapshot, and writes go
// on meanwhile, from the callback itself too, without showing up in it.
func TestHistoryDoesNotBlockApply(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	c := sample()
	c.Events = append(c.Events, c.Events[0], c.Events[0])
	if err := s.Apply(ctx, c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	seen := 0
	err := s.History(ctx, "", t0, t0.Add(1), func(e store.Event) error {
		seen++
		ev := sample().Events
		v := sample().VMs[0]
		v.Version = int64(seen + 1)
		if err := s.Apply(ctx, store.Change{VMs: []store.VM{v}, Events: ev}); err != nil {
			return err
		}
		_, err := s.Operation(ctx, c.Operations[0].ID)
		return err
	})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if seen != 3 {
		t.Errorf("scan saw %d events, want the 3 there when it began", seen)
	}
}

func TestPathNeedingEscapes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%20chars&_pragma=x")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "db?.sqlite")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c := sample()
	if err := s.Apply(context.Background(), c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
	if s, err = Open(path); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	checkSample(t, s, c)
}

func TestOpenFails(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "dir", "db")); err == nil {
		t.Error("Open in a missing directory: no error")
	}
}

// TestApplyRejects: values the schema cannot hold fail the whole change, and
// the caller's events keep Seq 0 when Apply fails.
func TestApplyRejects(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*store.Change)
	}{
		{"event without a time", func(c *store.Change) { c.Events[0].At = time.Time{} }},
		{"time before 1678", func(c *store.Change) { c.VMs[0].DueAt = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"time after 2262", func(c *store.Change) { c.Operations[0].EndTime = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t)
			defer s.Close()
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
			snap, err := s.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(snap, store.Snapshot{}) {
				t.Errorf("Load after a failed Apply: %+v, want empty", snap)
			}
		})
	}
}

// BenchmarkApplyStateChange measures one engine state change: a VM update,
// an event and an operation upsert, committed together.
func BenchmarkApplyStateChange(b *testing.B) {
	s, _ := openTemp(b)
	defer s.Close()
	ctx := context.Background()
	c := sample()
	if err := s.Apply(ctx, c); err != nil {
		b.Fatal(err)
	}
	v, e, op := c.VMs[0], c.Events[0], c.Operations[0]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v.Version++
		v.UpdatedAt = v.UpdatedAt.Add(time.Millisecond)
		e.At = e.At.Add(time.Millisecond)
		op.Status = "InProgress"
		if i%2 == 1 {
			op.Status = "Succeeded"
		}
		if err := s.Apply(ctx, store.Change{
			VMs:        []store.VM{v},
			Events:     []store.Event{e},
			Operations: []store.Operation{op},
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyEvents measures the history's share of a commit: 100
// events of 10 VMs in one Apply, each VM's sharing its detail.
func BenchmarkApplyEvents(b *testing.B) {
	s, _ := openTemp(b)
	defer s.Close()
	ctx := context.Background()
	e := sample().Events[0]
	events := make([]store.Event, 100)
	b.ReportAllocs()
	for b.Loop() {
		for i := range events {
			events[i] = e
			events[i].VMID = e.VMID + strconv.Itoa(i%10)
			e.At = e.At.Add(time.Millisecond)
		}
		if err := s.Apply(ctx, store.Change{Events: events}); err != nil {
			b.Fatal(err)
		}
	}
}

// The database and its WAL files are the owner's alone, as the TLS keys
// are; a file an older azemu left readable to all is tightened on open.
func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "azemu.db")
	check := func() {
		t.Helper()
		for _, name := range []string{"azemu.db", "azemu.db-wal"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: mode %v, want 0600", name, perm)
			}
		}
	}
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	check()
	// The WAL index lives in memory (see dsn): no -shm file to expose.
	if _, err := os.Stat(filepath.Join(dir, "azemu.db-shm")); !os.IsNotExist(err) {
		t.Errorf("azemu.db-shm: %v, want none", err)
	}
	st.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("an old 0644 file is still %v (%v)", fi.Mode(), err)
	}
}

// TestVMModelsMoveToTheirOwnRows opens a database made before the models
// had a table of their own: its VMs keep their models, and a change that
// leaves a model as it was writes the state's row alone.
func TestVMModelsMoveToTheirOwnRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 4)
	const model = `{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_B2s"}}}`
	if _, err := db.Exec(`INSERT INTO vms (vm_key, id, subscription_id, resource_group, name, location, model, state, version, created_at, updated_at)
		VALUES ('/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/old',
		'/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/old', 's', 'rg', 'old', 'westus', ?, '{}', 3, 1, 1)`, model); err != nil {
		t.Fatal(err)
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
	if len(snap.VMs) != 1 || snap.VMs[0].Model.String() != model || snap.VMs[0].Version != 3 ||
		snap.VMs[0].ID != "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/old" {
		t.Fatalf("after the migration: %+v", snap.VMs)
	}
	// The canonical ID is not kept: Load builds it again.
	var kept sql.NullString
	if err := s.r.QueryRow(`SELECT id FROM vms`).Scan(&kept); err != nil || kept.Valid {
		t.Errorf("the id column holds %v (%v), want NULL", kept, err)
	}
	old := snap.VMs[0]

	// A step: the same model, a new state. The model's row is not written
	// (SQLite counts the rows a statement changed).
	old.Version, old.State = 4, json.RawMessage(`{"step":1}`)
	before := s.modelWrites(t)
	if err := s.Apply(context.Background(), store.Change{VMs: []store.VM{old}}); err != nil {
		t.Fatal(err)
	}
	if n := s.modelWrites(t) - before; n != 0 {
		t.Errorf("a change that kept the model wrote its row %d times", n)
	}
	old.Version, old.Model = 5, jsonshape.Of([]byte(`{"location":"westus"}`))
	if err := s.Apply(context.Background(), store.Change{VMs: []store.VM{old}}); err != nil {
		t.Fatal(err)
	}
	if n := s.modelWrites(t) - before; n != 1 {
		t.Errorf("a change of the model wrote its row %d times, want 1", n)
	}
	if err := s.Apply(context.Background(), store.Change{DeletedVMs: []string{old.ID}}); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.r.QueryRow(`SELECT count(*) FROM vm_models`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d models left after the VM's delete (%v)", left, err)
	}
}

// modelWrites counts the rows of vm_models whose model was last written, by
// a trigger the test adds: writes that change nothing are not seen.
func (s *Store) modelWrites(t *testing.T) int {
	t.Helper()
	if _, err := s.w.Exec(`CREATE TABLE IF NOT EXISTS test_model_writes (n INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`CREATE TRIGGER IF NOT EXISTS test_model_written AFTER UPDATE OF model ON vm_models
		BEGIN INSERT INTO test_model_writes (n) VALUES (1); END`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.w.QueryRow(`SELECT count(*) FROM test_model_writes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCompactEventsMigration opens a database whose history was written
// before the compact event rows (0006_compact_events.sql): every event
// reads back as it was, and the next Seq follows the old counter.
func TestCompactEventsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	writeOldHistory(t, openAtVersion(t, path, 5)).Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckMigratedHistory(t, s)
	// The GUIDs are kept as their bytes.
	var blobs int
	if err := s.r.QueryRow(`SELECT count(*) FROM events WHERE typeof(operation_id) = 'blob'`).Scan(&blobs); err != nil || blobs != 6 {
		t.Errorf("%d operation IDs kept as bytes (%v), want the 6 lower-case GUIDs'", blobs, err)
	}
}

// writeOldHistory writes storetest.OldHistory into db, a database at the
// schema of 0005 (before the compact history), and returns db.
func writeOldHistory(t *testing.T, db *sql.DB) *sql.DB {
	t.Helper()
	for _, e := range storetest.OldHistory() {
		if _, err := db.Exec(`INSERT INTO events (seq, vm_key, vm_id, at, provisioning_state, provisioning_code,
			power_state, operation_id, operation_kind, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, store.Key(e.VMID), e.VMID, e.At.UnixNano(), e.ProvisioningState, e.ProvisioningCode,
			e.PowerState, e.OperationID, e.OperationKind, jsonArg(e.Detail)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'`, storetest.OldCounter); err != nil {
		t.Fatal(err)
	}
	return db
}

// failMigrationAt makes migration version fail once its script and step
// have run, runs the migrations on db, and checks that the failure came
// back and that the schema is as it was before.
func failMigrationAt(t *testing.T, db *sql.DB, version int) {
	t.Helper()
	schema := func() string {
		t.Helper()
		var s string
		if err := db.QueryRow(`SELECT group_concat(name || ':' || sql, ';') FROM (SELECT name, sql FROM sqlite_schema ORDER BY name)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := schema()
	step := migrationSteps[version]
	failed := errors.New("killed")
	migrationSteps[version] = func(ctx context.Context, tx *sql.Tx) error {
		if step != nil {
			if err := step(ctx, tx); err != nil {
				return err
			}
		}
		return failed
	}
	err := migrate(context.Background(), db)
	if step != nil {
		migrationSteps[version] = step
	} else {
		delete(migrationSteps, version)
	}
	if !errors.Is(err, failed) {
		t.Fatalf("migrate = %v, want the step's failure", err)
	}
	if after := schema(); after != before {
		t.Fatalf("a failed migration left the schema\n%s\nwant\n%s", after, before)
	}
}

// openAtVersion makes a database at path with the schema of the
// migrations up to version last, and returns it open.
func openAtVersion(t *testing.T, path string, last int) *sql.DB {
	t.Helper()
	if err := ownerOnly(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version <= last {
			if err := applyMigration(context.Background(), db, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// TestDocumentPacking: a document comes back byte for byte whatever it
// holds, and one naming its group's resources is kept shorter.
func TestDocumentPacking(t *testing.T) {
	scope := scopeOf("s", "rg")
	for _, doc := range []string{
		``, `{}`, `{"id":"` + scope + `Microsoft.Compute/disks/d"}`,
		`{"a":"` + scope + `x","b":"` + scope + `y"}`, scope, scope + scope,
		"\x01", "\x02" + scope, "\x03{}", "{\"a\":\"\x01" + scope + "\"}", "\x02", "\x03",
		`{"other":"/subscriptions/s/resourceGroups/RG/providers/x"}`,
	} {
		packed := packDocument(json.RawMessage(doc), scope)
		s, _ := packed.(string)
		if got := string(unpackDocument(sql.NullString{String: s, Valid: true}, scope)); got != doc {
			t.Errorf("%q packed as %q reads back %q", doc, s, got)
		}
		if strings.Contains(doc, scope) && !strings.ContainsAny(doc, "\x01\x02\x03") && len(s) >= len(doc) {
			t.Errorf("%q packed as %q, no shorter", doc, s)
		}
	}
	if packDocument(nil, scope) != nil || unpackDocument(sql.NullString{}, scope) != nil {
		t.Error("a nil document is not NULL")
	}
}

func FuzzDocumentPacking(f *testing.F) {
	f.Add(`{"id":"/subscriptions/s/resourceGroups/rg/providers/x"}`, "s", "rg")
	f.Add("\x02\x01", "s", "rg")
	f.Fuzz(func(t *testing.T, doc, sub, group string) {
		scope := scopeOf(sub, group)
		s, _ := packDocument(json.RawMessage(doc), scope).(string)
		if got := string(unpackDocument(sql.NullString{String: s, Valid: true}, scope)); got != doc {
			t.Errorf("%q packed as %q reads back %q", doc, s, got)
		}
	})
}

// TestCompactDocumentsMigration opens a database written before documents
// were packed and resources' canonical IDs left out
// (0007_compact_documents.sql): every VM and resource loads as it was.
func TestCompactDocumentsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 6)
	const sub = "0b5e1a52-7c1d-4c6e-9d8e-1f2a3b4c5d6e"
	scope := scopeOf(sub, "rg")
	vmID := scope + "Microsoft.Compute/virtualMachines/vm"
	docs := []string{`{"disk":"` + scope + `Microsoft.Compute/disks/d","nic":"` + scope + `Microsoft.Network/networkInterfaces/n"}`,
		`{"plain":true}`, "\x02" + scope, "{\"a\":\"\x01" + scope + "\"}"}
	var want store.Snapshot
	for i, doc := range docs {
		name := "vm" + strconv.Itoa(i)
		vm := store.VM{ID: scope + "Microsoft.Compute/virtualMachines/" + name, SubscriptionID: sub, ResourceGroup: "rg",
			Name: name, Location: "westus", Model: jsonshape.Of([]byte(doc)), State: json.RawMessage(docs[len(docs)-1-i]), Version: 2,
			CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC()}
		if _, err := db.Exec(`INSERT INTO vms (vm_key, subscription_id, resource_group, name, location, state, version, created_at, updated_at)
			VALUES (?, ?, 'rg', ?, 'westus', ?, 2, ?, ?)`, store.Key(vm.ID), sub, name, string(vm.State), int64(1e9), int64(2e9)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO vm_models (vm_key, model) VALUES (?, ?)`, store.Key(vm.ID), doc); err != nil {
			t.Fatal(err)
		}
		want.VMs = append(want.VMs, vm)
		for _, r := range []store.Resource{
			{ID: scope + "Microsoft.Compute/disks/" + name, Type: "Microsoft.Compute/disks"},
			{ID: vmID + "/extensions/" + name, Type: "Microsoft.Compute/virtualMachines/extensions"},
		} {
			r.SubscriptionID, r.ResourceGroup, r.Name, r.Location = sub, "rg", name, "westus"
			r.Body, r.Version, r.CreatedAt, r.UpdatedAt = json.RawMessage(doc), 1, time.Unix(1, 0).UTC(), time.Unix(2, 0).UTC()
			if _, err := db.Exec(`INSERT INTO resources (res_key, id, type, subscription_id, resource_group, name, location, body, version, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'rg', ?, 'westus', ?, 1, ?, ?)`, store.Key(r.ID), r.ID, r.Type, sub, name, doc, int64(1e9), int64(2e9)); err != nil {
				t.Fatal(err)
			}
			want.Resources = append(want.Resources, r)
		}
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
	sort.Slice(want.Resources, func(i, j int) bool { return store.Key(want.Resources[i].ID) < store.Key(want.Resources[j].ID) })
	if !reflect.DeepEqual(snap.VMs, want.VMs) || !reflect.DeepEqual(snap.Resources, want.Resources) {
		t.Fatalf("after the migration:\n got %+v\n%+v\nwant %+v\n%+v", snap.VMs, snap.Resources, want.VMs, want.Resources)
	}
	// The disks' canonical IDs are left out, the extensions' kept; the
	// models, packed by 0007, are kept by shape since 0013.
	var ids, shaped int
	if err := s.r.QueryRow(`SELECT count(id), (SELECT count(shape) FROM vm_models) FROM resources`).Scan(&ids, &shaped); err != nil {
		t.Fatal(err)
	}
	if ids != len(docs) || shaped != len(docs) {
		t.Errorf("%d resource IDs kept, %d models shaped; want %d and %d", ids, shaped, len(docs), len(docs))
	}
	// What the migration wrote is what Apply writes.
	vm := snap.VMs[0]
	vm.Version = 3
	before := s.modelWrites(t)
	if err := s.Apply(context.Background(), store.Change{VMs: []store.VM{vm}}); err != nil {
		t.Fatal(err)
	}
	if n := s.modelWrites(t) - before; n != 0 {
		t.Errorf("an unchanged model was written again %d times", n)
	}
}

// BenchmarkApplyBatch measures what a group commit of the engine writes:
// batches of 32 changes, each of a different VM of 64, each changing the
// VM's state (its model as it was), appending an event, starting an
// operation and ending the one the VM's previous change started, as a
// client cycling its VM through actions does. ns/change is the store's
// cost of one change.
//
// ids=ordered draws operation IDs as the engine does (time-ordered,
// draws.operationID in internal/engine); ids=random draws them as it did
// before, as version-4 GUIDs, which land all over the operations' key.
func BenchmarkApplyBatch(b *testing.B) {
	for _, ids := range []string{"ordered", "random"} {
		b.Run("ids="+ids, func(b *testing.B) {
			s, _ := openTemp(b)
			defer s.Close()
			w := newBatchWorkload(b, s, ids == "ordered")
			b.ReportAllocs()
			for b.Loop() {
				w.apply(b)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(w.changes), "ns/change")
		})
	}
}

// BenchmarkApplyBatchPages counts the pages BenchmarkApplyBatch's commits
// write, by table and index: it keeps every commit in the WAL (no
// checkpoint), then reads the WAL's frame headers and names each page by
// dbstat. Run it with a fixed count, e.g. -benchtime 200x; pages/commit
// is the total, each other metric one table's or index's share.
func BenchmarkApplyBatchPages(b *testing.B) {
	for _, ids := range []string{"ordered", "random"} {
		b.Run("ids="+ids, func(b *testing.B) {
			s, path := openTemp(b)
			defer s.Close()
			w := newBatchWorkload(b, s, ids == "ordered")
			// Start from an empty WAL, and keep it whole from here.
			if err := s.checkpoints.close(); err != nil {
				b.Fatal(err)
			}
			s.checkpoints = nil
			if _, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				b.Fatal(err)
			}
			if _, err := s.w.Exec(`PRAGMA wal_autocheckpoint=0`); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				w.apply(b)
			}
			owner := map[uint32]string{}
			rows, err := s.w.Query(`SELECT name, pageno FROM dbstat`)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var name string
				var page uint32
				if err := rows.Scan(&name, &page); err != nil {
					b.Fatal(err)
				}
				owner[page] = name
			}
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			commits, byName := walFrames(b, path+"-wal", owner)
			if commits != w.batches {
				b.Fatalf("the WAL holds %d commits, want %d", commits, w.batches)
			}
			total := 0
			for name, n := range byName {
				total += n
				b.ReportMetric(float64(n)/float64(commits), name+"-pages/commit")
			}
			b.ReportMetric(float64(total)/float64(commits), "pages/commit")
		})
	}
}

// walFrames reads a WAL file's frames of its current generation, and
// returns how many commits they hold and how many frames each owner's
// pages took ("free" for a page dbstat does not name).
func walFrames(b *testing.B, path string, owner map[uint32]string) (commits int, byName map[string]int) {
	b.Helper()
	wal, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if len(wal) < 32 {
		b.Fatalf("the WAL is %d bytes", len(wal))
	}
	pageSize := int(binary.BigEndian.Uint32(wal[8:12]))
	salts := wal[16:24]
	byName = map[string]int{}
	for off := 32; off+24+pageSize <= len(wal); off += 24 + pageSize {
		h := wal[off : off+24]
		if !bytes.Equal(h[8:16], salts) {
			break // a frame of an earlier generation
		}
		name, ok := owner[binary.BigEndian.Uint32(h[0:4])]
		if !ok {
			name = "free"
		}
		byName[name]++
		if binary.BigEndian.Uint32(h[4:8]) != 0 {
			commits++
		}
	}
	return commits, byName
}

// batchWorkload is BenchmarkApplyBatch's store and the state of its VMs.
type batchWorkload struct {
	s       *Store
	ordered bool
	rnd     *rand.Rand
	// machines are the VMs, running their operation running[i].
	machines []store.VM
	running  []store.Operation
	at       time.Time
	// seq counts ordered IDs within a millisecond.
	seq              uint64
	changes, batches int
}

func newBatchWorkload(b testing.TB, s *Store, ordered bool) *batchWorkload {
	const vms = 64
	w := &batchWorkload{s: s, ordered: ordered, rnd: rand.New(rand.NewPCG(1, 2)), at: t0,
		machines: make([]store.VM, vms), running: make([]store.Operation, vms)}
	first := store.Change{Subscriptions: []store.Subscription{{ID: sub, CreatedAt: t0}}}
	for i := range w.machines {
		name := fmt.Sprintf("vm%04d", i)
		w.machines[i] = store.VM{ID: vmID(name), SubscriptionID: sub, ResourceGroup: "rg", Name: name, Location: "westus",
			Model: benchModel, State: benchState, Version: 1, DueAt: t0.Add(time.Minute), CreatedAt: t0, UpdatedAt: t0}
		first.VMs = append(first.VMs, w.machines[i])
	}
	if err := s.Apply(context.Background(), first); err != nil {
		b.Fatal(err)
	}
	return w
}

var (
	benchModel = jsonshape.Of([]byte(`{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},` +
		`"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},` +
		`"osProfile":{"computerName":"vm","adminUsername":"azureuser"}}}`))
	benchState = json.RawMessage(`{"machine":{"name":"vm","state":{"provisioning":"Updating","power":"starting","provisionedAt":"2026-01-01T01:00:00Z"},` +
		`"run":{"operationId":"48872c4a-9657-4f7e-99c2-5d1f96edeadc","plan":{"kind":"start","steps":[{"provisioning":"Updating","power":"starting","duration":15000000000}],` +
		`"end":{"provisioning":"Succeeded","power":"running","provisionedAt":"2026-01-01T01:00:00Z"}},"step":0,"stepStarted":"2026-01-01T01:00:00Z","speed":1}},` +
		`"spec":{"location":"westus","vmSize":"Standard_D2s_v3","osType":"Linux","computerName":"vm"},"vmId":"4aefafdc-39b0-4059-894c-36faaef20f4c","timeCreated":"2026-01-01T00:00:00Z"}`)
)

// operationID draws the next operation ID of the workload, at w.at.
func (w *batchWorkload) operationID() string {
	var id [16]byte
	binary.BigEndian.PutUint64(id[:8], w.rnd.Uint64())
	binary.BigEndian.PutUint64(id[8:], w.rnd.Uint64())
	id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
	if w.ordered {
		// Milliseconds, a counter within them, random bits: the layout
		// of the engine's operation IDs.
		w.seq++
		binary.BigEndian.PutUint64(id[:8], uint64(w.at.UnixMilli())<<16|0x7000|w.seq>>30&0x0fff)
		binary.BigEndian.PutUint32(id[8:12], 0x80000000|uint32(w.seq)&0x3fffffff)
	}
	h := hex.EncodeToString(id[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// apply commits the next batch of 32 changes.
func (w *batchWorkload) apply(b testing.TB) {
	const batch = 32
	w.at = w.at.Add(time.Millisecond)
	cs := make([]store.Change, batch)
	for j := range cs {
		i := w.changes % len(w.machines)
		w.changes++
		v := &w.machines[i]
		v.Version++
		v.UpdatedAt, v.ModelUnchanged = w.at, true
		op := store.Operation{ID: w.operationID(), SubscriptionID: sub, Location: "westus",
			Kind: "start", TargetID: v.ID, Status: "InProgress", StartTime: w.at}
		c := store.Change{VMs: []store.VM{*v}, Operations: []store.Operation{op},
			Events: []store.Event{{VMID: v.ID, At: w.at, ProvisioningState: "Updating", ProvisioningCode: "ProvisioningState/updating",
				PowerState: "starting", OperationID: op.ID, OperationKind: "start", Detail: json.RawMessage(`{"vmSize":"Standard_D2s_v3","location":"westus","osType":"Linux"}`)}}}
		if prev := w.running[i]; prev.ID != "" {
			prev.Status, prev.EndTime = "Canceled", w.at
			prev.Error = json.RawMessage(`{"code":"OperationPreempted","message":"preempted"}`)
			c.Operations = append(c.Operations, prev)
		}
		w.running[i] = op
		cs[j] = c
	}
	if err := w.s.Apply(context.Background(), cs...); err != nil {
		b.Fatal(err)
	}
	w.batches++
}

// TestCheckpointsBesideTheWriter: the WAL's pages are copied into the
// database file by a connection of the checkpointer's, once the WAL
// has gained about checkpointPages, and the writer's own checkpoint past
// writerCheckpointPages keeps the WAL bounded however the two meet.
func TestCheckpointsBesideTheWriter(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	var pages int
	if err := s.w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil || pages != writerCheckpointPages {
		t.Fatalf("the writer's wal_autocheckpoint = %d, %v; want %d", pages, err, writerCheckpointPages)
	}
	w := newBatchWorkload(t, s, true)
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size(path)
	first := int(s.checkpoints.next.Load())
	for range first {
		w.apply(t)
	}
	<-s.checkpoints.ran
	if after := size(path); after <= before {
		t.Errorf("the database file is %d bytes after a checkpoint beside the writer, %d before: nothing was copied", after, before)
	}
	// Far more pages than the bound, written in commits the checkpointer
	// cannot all keep up with under the race detector or not.
	const batches = 600
	for range batches {
		w.apply(t)
	}
	const frame = 24 + 4096
	if got, bound := size(path+"-wal"), int64(32+2*writerCheckpointPages*frame); got > bound {
		t.Errorf("the WAL grew to %d bytes over %d batches, past %d (twice the writer's bound)", got, batches, bound)
	}
	events := 0
	if err := s.r.QueryRow(`SELECT count(*) FROM events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if want := (first + batches) * 32; events != want {
		t.Errorf("%d events, want %d", events, want)
	}
}

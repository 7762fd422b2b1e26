package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// TestOrderedDecoder holds the decoding of a start, batches decoded on
// every core, to a loop over the rows in order: the same values laid in in
// the same order, and, when rows fail, the error of the first that fails,
// however the rows are split into batches.
func TestOrderedDecoder(t *testing.T) {
	for _, n := range []int{0, 1, 1023, 1024, 2048, 5000, 10001} {
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		for _, failing := range [][]int{nil, {0}, {n - 1}, {n / 2}, {n / 3, n - 2}, {n - 2, n / 3, 5}} {
			bad := map[int]bool{}
			for _, i := range failing {
				if i >= 0 && i < n {
					bad[i] = true
				}
			}
			decode := func(r int) (string, error) {
				if bad[r] {
					return "", fmt.Errorf("row %d", r)
				}
				return fmt.Sprint(r), nil
			}
			var want []string
			var wantErr error
			for _, r := range rows {
				v, err := decode(r)
				if err != nil {
					wantErr = err
					break
				}
				want = append(want, v)
			}
			for _, size := range []int{1, 7, 1024} {
				var got []string
				var recycled []int // each batch's rows, once all are laid in
				d := newOrderedDecoder()
				for lo := 0; lo < n; lo += size {
					if err := decodeBatch(d, rows[lo:min(lo+size, n)], decode, func(r int, v string) {
						if v != fmt.Sprint(r) {
							t.Errorf("row %d laid in as %q", r, v)
						}
						got = append(got, v)
					}, func(batch []int) {
						if len(recycled)+len(batch) != len(got) {
							t.Errorf("a batch of %d rows handed back with %d rows laid in before it", len(batch), len(got)-len(recycled))
						}
						recycled = append(recycled, batch...)
					}); err != nil {
						if !errors.Is(err, errDecodeFailed) {
							t.Fatalf("adding a batch: %v", err)
						}
						break // a read stops here
					}
				}
				err := d.wait()
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || (err == nil) != (wantErr == nil) {
					t.Fatalf("%d rows failing at %v, batches of %d: error %v, want %v", n, failing, size, err, wantErr)
				}
				// Without a failure every row is laid in; with one, some
				// of the rows before it (whole batches), none after it.
				laid := want
				if err != nil && len(got) <= len(want) {
					laid = want[:len(got)]
				}
				if !slices.Equal(got, laid) {
					t.Fatalf("%d rows failing at %v, batches of %d: %d values laid in, want %d as a loop's", n, failing, size, len(got), len(want))
				}
				if !slices.Equal(recycled, rows[:len(got)]) {
					t.Fatalf("%d rows failing at %v, batches of %d: %d rows handed back, want the %d laid in", n, failing, size, len(recycled), len(got))
				}
			}
		}
	}
}

// TestLoadReportsTheFirstBadRow stores a fleet large enough to be decoded
// on every core with two unreadable states in it: a start fails with the
// error a loop over the stored rows in order stops at.
func TestLoadReportsTheFirstBadRow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "azemu.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := store.Change{
		Subscriptions: []store.Subscription{{ID: testSub, CreatedAt: t0}},
		Groups:        []store.ResourceGroup{{SubscriptionID: testSub, Name: "rg", Location: "westus", Body: json.RawMessage(`{}`), Version: 1, CreatedAt: t0}},
	}
	model := jsonshape.Of([]byte(`{"location":"westus"}`))
	for i := range 2100 {
		name := fmt.Sprintf("vm%05d", i)
		state, _ := json.Marshal(vmDoc{Machine: lifecycle.Machine{Name: name}, Spec: VMSpec{Location: "westus"}, VMID: name, TimeCreated: t0})
		if i == 700 || i == 1800 {
			state = json.RawMessage(fmt.Sprintf(`{"machine":{"name":%q},"timeCreated":"not a time"}`, name))
		}
		c.VMs = append(c.VMs, store.VM{ID: vmID("rg", name), SubscriptionID: testSub, ResourceGroup: "rg", Name: name,
			Location: "westus", Model: model, State: state, Version: 1, CreatedAt: t0, UpdatedAt: t0})
	}
	if err := st.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	snap, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	probe := &Engine{words: jsonwire.NewInterner()}
	var want error
	for _, row := range snap.VMs {
		if _, want = probe.decodeVM(row); want != nil {
			break
		}
	}
	if want == nil {
		t.Fatal("no stored state fails to read")
	}
	_, err = New(ctx, Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || err.Error() != want.Error() {
		t.Fatalf("start: %v, want %v", err, want)
	}
}

// scribblingStore hands a load's batches back to its SQLite store with
// every document overwritten, as the store's next rows would overwrite
// them.
type scribblingStore struct{ *sqlite.Store }

func (s scribblingStore) RecycleResources(b []store.Resource) {
	for _, r := range b {
		scribble(r.Body)
	}
	s.Store.RecycleResources(b)
}

func (s scribblingStore) RecycleVMs(b []store.VM) {
	for _, r := range b {
		scribble(r.State)
	}
	s.Store.RecycleVMs(b)
}

func scribble(doc []byte) {
	for i := range doc {
		doc[i] = 'x'
	}
}

// TestLoadKeepsNoRecycledDocument: a start hands each batch laid in back
// to a store that reads its next rows into it (store.BatchRecycler), so
// what it keeps must not be the batch's documents: a start whose batches
// are overwritten once handed back holds what a start from Load holds.
func TestLoadKeepsNoRecycledDocument(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "azemu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := store.Change{Subscriptions: []store.Subscription{{ID: testSub, CreatedAt: t0}}}
	model := jsonshape.Of([]byte(`{"location":"westus"}`))
	const vms = 2*store.LoadBatch + 50
	for g := range 3 {
		rg := fmt.Sprintf("rg%d", g)
		c.Groups = append(c.Groups, store.ResourceGroup{SubscriptionID: testSub, Name: rg, Location: "westus", Body: json.RawMessage(`{}`), Version: 1, CreatedAt: t0})
	}
	for i := range vms {
		rg, name := fmt.Sprintf("rg%d", i%3), fmt.Sprintf("vm%05d", i)
		osDisk := disk.Disk{Meta: resource.Meta{ID: diskID(testSub, rg, name+"_os"), SubscriptionID: testSub, ResourceGroup: rg, Name: name + "_os"},
			Spec:      disk.Spec{Location: "westus", SKU: "Premium_LRS", SizeGB: 30, CreateOption: "FromImage", OSType: "Linux"},
			ManagedBy: vmID(rg, name), DeleteOption: "Delete", UniqueID: name, TimeCreated: t0}
		row := resource.RowOf(&osDisk, "westus", t0)
		c.Resources = append(c.Resources, store.Resource{ID: osDisk.ID, Type: disk.Type, SubscriptionID: testSub, ResourceGroup: rg, Name: osDisk.Name,
			Location: "westus", Body: row.Body, Version: 1, CreatedAt: t0, UpdatedAt: t0})
		state, _ := json.Marshal(vmDoc{Machine: lifecycle.Machine{Name: name}, Spec: VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux",
			Disks: []DiskRef{{Name: osDisk.Name, ID: osDisk.ID, CreateOption: "FromImage", SizeGB: 30, OS: true}}}, VMID: name, TimeCreated: t0})
		c.VMs = append(c.VMs, store.VM{ID: vmID(rg, name), SubscriptionID: testSub, ResourceGroup: rg, Name: name,
			Location: "westus", Model: model, State: state, Version: 1, CreatedAt: t0, UpdatedAt: t0})
	}
	if err := st.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	start := func(s store.Store) map[string]string {
		eng, err := New(ctx, Config{Store: s, Manual: clock.NewManual(t0), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		held := map[string]string{}
		for _, r := range c.VMs {
			v, err := eng.GetVM(testSub, r.ResourceGroup, r.Name)
			if err != nil {
				t.Fatal(err)
			}
			d, err := eng.GetDisk(testSub, r.ResourceGroup, r.Name+"_os")
			if err != nil {
				t.Fatal(err)
			}
			held[r.ID] = readable(v, d)
		}
		return held
	}
	want := start(loadingStore{st})
	got := start(scribblingStore{st})
	for _, r := range c.VMs {
		if got[r.ID] != want[r.ID] {
			t.Fatalf("%s after a start whose batches were overwritten once handed back:\n%s\nwant\n%s", r.Name, got[r.ID], want[r.ID])
		}
	}
}

// loadingStore is a store read with Load alone, in one piece.
type loadingStore struct{ store.Store }

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

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/jsonwire"
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
				d := newOrderedDecoder()
				for lo := 0; lo < n; lo += size {
					if err := decodeBatch(d, rows[lo:min(lo+size, n)], decode, func(r int, v string) {
						if v != fmt.Sprint(r) {
							t.Errorf("row %d laid in as %q", r, v)
						}
						got = append(got, v)
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

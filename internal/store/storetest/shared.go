package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

// RunShared runs the suite of store.Shared: the change sequence, the
// changes kept, the fleet-wide lock and the notices. open is as in Run.
func RunShared(t *testing.T, open func(t *testing.T) store.Shared) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Shared)
	}{
		{"Sequence", testSequence},
		{"ChangesReplay", testChangesReplay},
		{"ResetAndCompactAreChanges", testResetAndCompactAreChanges},
		{"Lock", testLock},
		{"Listen", testListen},
		{"BatchChanges", testBatchChanges},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, opened(t, open)) })
	}
}

func sequence(t *testing.T, s store.Shared) int64 {
	t.Helper()
	seq, err := s.Sequence(context.Background())
	if err != nil {
		t.Fatalf("Sequence: %v", err)
	}
	return seq
}

func changes(t *testing.T, s store.Shared, after int64) []store.Committed {
	t.Helper()
	var out []store.Committed
	if err := s.Changes(context.Background(), after, func(c store.Committed) error {
		out = append(out, c)
		return nil
	}); err != nil {
		t.Fatalf("Changes(%d): %v", after, err)
	}
	return out
}

// Each change committed takes the next number; an empty one, or one that
// fails, takes none; Load says which number its snapshot includes.
func testSequence(t *testing.T, s store.Shared) {
	if got := sequence(t, s); got != 0 {
		t.Fatalf("Sequence of an empty store: %d, want 0", got)
	}
	apply(t, s, fullChange())
	apply(t, s, store.Change{})
	if got := sequence(t, s); got != 1 {
		t.Fatalf("Sequence after one change and an empty one: %d, want 1", got)
	}
	stale := vm(subA, "rg", "vm", 1) // version 1 of a VM that exists
	if err := s.Apply(context.Background(), store.Change{VMs: []store.VM{stale}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Apply of a stale VM: %v, want ErrConflict", err)
	}
	apply(t, s, store.Change{Settings: map[string]string{"k": "v"}})
	if got := sequence(t, s); got != 2 {
		t.Fatalf("Sequence after a refused change and another: %d, want 2", got)
	}
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Seq != 2 {
		t.Errorf("Load's Seq: %d, want 2", snap.Seq)
	}
}

// Changes gives back each change as it was written (its events without
// their Seq), in order, from any point of the sequence.
func testChangesReplay(t *testing.T, s store.Shared) {
	first := fullChange()
	apply(t, s, first)
	// A step: the VM's model unchanged, not carried.
	step := vm(subA, "rg", "vm", 2)
	step.Model, step.ModelUnchanged = jsonshape.Doc{}, true
	second := store.Change{VMs: []store.VM{step}, DeletedVMs: []string{vmID(subA, "rg", "gone")},
		Events:   []store.Event{event(vmID(subA, "rg", "vm"), t0.Add(time.Hour), opID(9))},
		Settings: map[string]string{"manualClock": "x"}}
	apply(t, s, second)
	got := changes(t, s, 0)
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || got[0].Reset || got[1].Reset {
		t.Fatalf("Changes(0): %d changes %+v, want seq 1 and 2", len(got), got)
	}
	for i := range first.Events {
		first.Events[i].Seq = 0
	}
	second.Events[0].Seq = 0
	check(t, "change 1", got[0].Change, first)
	check(t, "change 2", got[1].Change, second)
	if rest := changes(t, s, 1); len(rest) != 1 || rest[0].Seq != 2 {
		t.Errorf("Changes(1): %+v, want change 2 alone", rest)
	}
	if none := changes(t, s, 2); len(none) != 0 {
		t.Errorf("Changes(2): %+v, want none", none)
	}
	stop := errors.New("stop")
	if err := s.Changes(context.Background(), 0, func(store.Committed) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Changes with a failing fn: %v, want its error", err)
	}
}

// Reset is a change that says so, and the settings a compaction writes are
// one too: a server that only replays changes forgets and learns them.
func testResetAndCompactAreChanges(t *testing.T, s store.Shared) {
	apply(t, s, fullChange())
	if err := s.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Compact(context.Background(), store.Compaction{Horizon: t0, Settings: map[string]string{"horizon": "h"}}); err != nil {
		t.Fatal(err)
	}
	got := changes(t, s, 1)
	if len(got) != 2 || !got[0].Reset || got[1].Reset || got[1].Change.Settings["horizon"] != "h" {
		t.Fatalf("changes after a Reset and a Compact: %+v", got)
	}
	if seq := sequence(t, s); seq != 3 {
		t.Errorf("Sequence: %d, want 3", seq)
	}
}

// One holder at a time: a second Lock waits for the first's unlock, and
// gives up when its context ends.
func testLock(t *testing.T, s store.Shared) {
	ctx := context.Background()
	unlock, err := s.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if u, err := s.Lock(short); err == nil {
		u()
		t.Fatal("a second Lock was granted while the first was held")
	}
	got := make(chan func(), 1)
	go func() {
		u, err := s.Lock(ctx)
		if err != nil {
			t.Errorf("Lock after unlock: %v", err)
			u = func() {}
		}
		got <- u
	}()
	unlock()
	(<-got)()
	// And the lock is free again.
	u, err := s.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u()
}

// A listener hears of the changes committed after it started.
func testListen(t *testing.T, s store.Shared) {
	ctx, cancel := context.WithCancel(context.Background())
	heard := make(chan int64, 100)
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, func(seq int64) { heard <- seq }) }()
	// The listener may start listening after a change: commit until one is
	// heard, the sequence it names visible by then.
	deadline := time.After(30 * time.Second)
	for i := 1; ; i++ {
		apply(t, s, store.Change{Settings: map[string]string{"n": time.Duration(i).String()}})
		select {
		case seq := <-heard:
			if seq < 1 || seq > sequence(t, s) {
				t.Errorf("heard of change %d, the sequence being %d", seq, sequence(t, s))
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Listen after its context ended: %v", err)
			}
			return
		case err := <-done:
			t.Fatalf("Listen: %v", err)
		case <-deadline:
			t.Fatal("no change was heard of")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// The changes of one Apply are changes of the sequence of their own, in
// order (an empty one takes no number), so a replica replays them one by
// one; a batch that fails takes no number at all.
func testBatchChanges(t *testing.T, s store.Shared) {
	apply(t, s, fullChange())
	second := store.Change{VMs: []store.VM{vm(subA, "rg", "vm", 2)},
		Events: []store.Event{event(vmID(subA, "rg", "vm"), t0.Add(time.Hour), opID(9))}}
	third := store.Change{VMs: []store.VM{vm(subA, "rg", "vm", 3)}, Settings: map[string]string{"manualClock": "x"}}
	if err := s.Apply(context.Background(), second, store.Change{}, third); err != nil {
		t.Fatal(err)
	}
	if got := sequence(t, s); got != 3 {
		t.Fatalf("Sequence after a change and a batch of two: %d, want 3", got)
	}
	got := changes(t, s, 1)
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 {
		t.Fatalf("Changes(1): %+v, want seq 2 and 3", got)
	}
	second.Events[0].Seq = 0
	check(t, "change 2", got[0].Change, second)
	check(t, "change 3", got[1].Change, third)
	stale := store.Change{VMs: []store.VM{vm(subA, "rg", "vm", 3)}}
	if err := s.Apply(context.Background(), store.Change{Settings: map[string]string{"k": "v"}}, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Apply of a batch ending in a stale VM: %v, want ErrConflict", err)
	}
	if got := sequence(t, s); got != 3 {
		t.Errorf("Sequence after a failed batch: %d, want 3", got)
	}
}

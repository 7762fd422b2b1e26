package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

// replicas starts n engines on one shared store, as n servers on one
// PostgreSQL database, each with a manual clock of its own at t0 (or, with
// manual false, one clock all of them read and time by, as servers on one
// machine read one real clock).
func replicas(t *testing.T, st store.Shared, n int, manual bool) []*Engine {
	t.Helper()
	shared := clock.NewManual(t0)
	var out []*Engine
	for range n {
		cfg := Config{Store: st, Manual: clock.NewManual(t0), Logger: slog.New(slog.DiscardHandler)}
		if !manual {
			cfg = Config{Store: st, Clock: shared, Logger: slog.New(slog.DiscardHandler)}
		}
		e, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		out = append(out, e)
	}
	return out
}

func linuxVM(*VM) (json.RawMessage, VMSpec, error) {
	return json.RawMessage(`{"properties":{}}`), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux"}, nil
}

func mustSync(t *testing.T, e *Engine) {
	t.Helper()
	if err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A write through one replica is read through another once it is
// acknowledged, and a write through the other decides on it: the refusal
// and the preemption are those of one server.
func TestReplicasReadYourWrites(t *testing.T) {
	ctx := context.Background()
	es := replicas(t, memstore.NewShared(), 2, true)
	a, b := es[0], es[1]
	if err := putGroup(ctx, a, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	created, _, op, err := putVM(ctx, a, testSub, "rg", "vm", linuxVM)
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, b)
	got, err := b.GetVM(testSub, "rg", "vm")
	if err != nil {
		t.Fatalf("the VM created through a, read through b: %v", err)
	}
	if got.ETag() != created.ETag() || got.Machine.State != created.Machine.State {
		t.Fatalf("b reads %s %+v, a wrote %s %+v", got.ETag(), got.Machine.State, created.ETag(), created.Machine.State)
	}
	if o, err := b.Operation(ctx, op.ID); err != nil || o.Status != StatusInProgress {
		t.Fatalf("the create's operation through b: %+v, %v", o, err)
	}
	// b refuses a powerOff of a VM still being created, as a would.
	_, err = act(ctx, b, testSub, "rg", "vm", lifecycle.Request{Kind: lifecycle.PowerOff})
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != "OperationNotAllowed" {
		t.Fatalf("powerOff of a creating VM through b: %v, want OperationNotAllowed", err)
	}
	// The clock advanced through a moves b's, and the create ends once.
	if _, err := a.Do(ctx, AdvanceClock{By: time.Minute}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, b)
	if !b.Now().Equal(a.Now()) {
		t.Fatalf("b's clock %s, a's %s", b.Now(), a.Now())
	}
	// a stops the VM; b, without being told, deallocates it: the
	// deallocate decides on the stopping VM and preempts the powerOff.
	off, err := act(ctx, a, testSub, "rg", "vm", lifecycle.Request{Kind: lifecycle.PowerOff})
	if err != nil {
		t.Fatal(err)
	}
	dealloc, err := act(ctx, b, testSub, "rg", "vm", lifecycle.Request{Kind: lifecycle.Deallocate})
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	if o, _ := a.Operation(ctx, off.ID); o.Status != StatusCanceled {
		t.Fatalf("the powerOff through a after b's deallocate: %s, want Canceled (preempted)", o.Status)
	}
	if _, err := b.Do(ctx, AdvanceClock{By: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	if o, _ := a.Operation(ctx, dealloc.ID); o.Status != StatusSucceeded {
		t.Fatalf("b's deallocate read through a: %s", o.Status)
	}
	if v, _ := a.GetVM(testSub, "rg", "vm"); v.Machine.State.Power != lifecycle.Deallocated {
		t.Fatalf("through a after b's deallocate: %s", v.Machine.State.Power)
	}
	sameAsOneServer(t, a, b)
}

// sameAsOneServer checks that every replica holds what a server loading
// the store afresh holds, and that each history has no step twice.
func sameAsOneServer(t *testing.T, es ...*Engine) {
	t.Helper()
	fresh, err := New(context.Background(), Config{Store: es[0].cfg.Store, Manual: clock.NewManual(t0), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	want := fleetOf(fresh)
	for i, e := range es {
		mustSync(t, e)
		if got := fleetOf(e); got != want {
			t.Errorf("replica %d holds\n%s\na fresh load holds\n%s", i, got, want)
		}
	}
	page, _ := fresh.ListVMs(nil, "", 0)
	for _, v := range page {
		seen := map[string]bool{}
		err := fresh.History(context.Background(), v.ID, time.Time{}, store.MaxTime, func(ev store.Event) error {
			step := fmt.Sprintf("%s %s %s %s", ev.OperationID, ev.ProvisioningCode, ev.PowerState, ev.At)
			if seen[step] {
				t.Errorf("%s: the step %s is in the history twice", v.Name, step)
			}
			seen[step] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func fleetOf(e *Engine) string {
	page, _ := e.ListVMs(nil, "", 0)
	var lines []string
	for _, v := range page {
		due, _ := v.Machine.Due()
		lines = append(lines, fmt.Sprintf("%s v%d %s %s due %s model %s", v.Name, v.Version, v.Machine.State.ProvisioningCode(), v.Machine.State.Power, due, v.Model))
	}
	st := e.Stats()
	lines = append(lines, fmt.Sprintf("groups %d, in progress %d, faults %d", st.Groups, st.OperationsInProgress, len(e.Faults())))
	sort.Strings(lines)
	return fmt.Sprint(lines)
}

// Concurrent conflicting writes through three replicas on the same VMs,
// with the clock advanced through each: every write is decided or refused
// as one server would (never a version conflict, never a lost update), and
// every replica ends holding what the store holds.
func TestReplicasConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	es := replicas(t, memstore.NewShared(), 3, true)
	if err := putGroup(ctx, es[0], testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	const vms = 4
	for i := range vms {
		if _, _, _, err := putVM(ctx, es[i%3], testSub, "rg", fmt.Sprintf("vm%d", i), linuxVM); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := es[1].Do(ctx, AdvanceClock{By: time.Minute}); err != nil {
		t.Fatal(err)
	}
	kinds := []lifecycle.Kind{lifecycle.PowerOff, lifecycle.Start, lifecycle.Deallocate, lifecycle.Restart}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ops []string
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := es[w%3]
			for j := range 15 {
				if j%5 == 4 {
					if _, err := e.Do(ctx, AdvanceClock{By: 7 * time.Second}); err != nil {
						t.Error(err)
					}
					continue
				}
				op, err := act(ctx, e, testSub, "rg", fmt.Sprintf("vm%d", (w+j)%vms), lifecycle.Request{Kind: kinds[(w*j+j)%len(kinds)]})
				var ee *Error
				switch {
				case err == nil:
					mu.Lock()
					ops = append(ops, op.ID)
					mu.Unlock()
				case !errors.As(err, &ee) || ee.Code != "OperationNotAllowed":
					t.Errorf("replica %d: %v", w%3, err)
				}
			}
		}()
	}
	wg.Wait()
	if _, err := es[2].Do(ctx, AdvanceClock{By: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		mustSync(t, e)
		if n := e.Stats().OperationsInProgress; n != 0 {
			t.Errorf("%d operations in progress after every plan ended", n)
		}
	}
	for _, id := range ops {
		o, err := es[0].Operation(ctx, id)
		if err != nil || !o.Done() {
			t.Errorf("acknowledged operation %s: %+v, %v", id, o, err)
		}
	}
	sameAsOneServer(t, es...)
}

// With one clock timing every replica (the real clock's case), each fires
// due steps by its own timer: every step fires once, whichever is first,
// and a replica that stops leaves its plans to the others.
func TestReplicasFireEachStepOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := memstore.NewShared()
	es := replicas(t, st, 3, false)
	clk := es[0].cfg.Clock.(*clock.Manual)
	stopped := make(chan struct{})
	// es[0] makes the plans and never runs its timer, as a replica killed
	// right after answering.
	for _, e := range es[1:] {
		go func() { e.Run(ctx); stopped <- struct{}{} }()
	}
	if err := putGroup(ctx, es[0], testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	var creates []store.Operation
	for i := range 5 {
		_, _, op, err := putVM(ctx, es[0], testSub, "rg", fmt.Sprintf("vm%d", i), linuxVM)
		if err != nil {
			t.Fatal(err)
		}
		creates = append(creates, op)
	}
	// Move the one clock step by step; the running replicas' timers fire.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mustSync(t, es[1])
		done := 0
		for _, op := range creates {
			if o, _ := es[1].Operation(ctx, op.ID); o.Done() {
				done++
			}
		}
		if done == len(creates) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d creates ended", done, len(creates))
		}
		if at, ok := es[1].NextDue(); ok && !clk.Now().Before(at) {
			time.Sleep(time.Millisecond) // the timers are firing what is due
			continue
		}
		clk.Advance(time.Second)
	}
	cancel()
	<-stopped
	<-stopped
	sameAsOneServer(t, es...)
	for _, op := range creates {
		var at []time.Duration
		err := es[2].History(context.Background(), op.TargetID, time.Time{}, store.MaxTime, func(ev store.Event) error {
			at = append(at, ev.At.Sub(t0))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(at) != "[0s 15s 35s]" {
			t.Errorf("%q: steps at %v, want [0s 15s 35s], each at its due time", op.TargetID, at)
		}
	}
}

// A running replica hears of the changes made through another and
// publishes them to its observers (the live feed, the metrics) with no
// request of its own.
func TestReplicasPublishEachOthersChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	es := replicas(t, memstore.NewShared(), 2, true)
	a, b := es[0], es[1]
	heard := make(chan *VM, 100)
	b.OnChange(func(c Change) {
		for _, v := range c.VMs {
			heard <- v
		}
	})
	stopped := make(chan struct{})
	go func() { b.Run(ctx); close(stopped) }()
	if err := putGroup(ctx, a, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := putVM(ctx, a, testSub, "rg", "vm", linuxVM); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-heard:
		if v.Name != "vm" || v.Version != 1 {
			t.Fatalf("b published %s v%d", v.Name, v.Version)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("b did not publish the VM created through a")
	}
	cancel()
	<-stopped
}

// A reset through one replica empties the others; a replica further
// behind than the store keeps changes loads the fleet again.
func TestReplicasResetAndFallBehind(t *testing.T) {
	ctx := context.Background()
	st := memstore.NewShared()
	es := replicas(t, st, 2, true)
	a, b := es[0], es[1]
	if err := putGroup(ctx, a, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := putVM(ctx, a, testSub, "rg", "vm", linuxVM); err != nil {
		t.Fatal(err)
	}
	mustSync(t, b)
	if _, err := a.Do(ctx, ResetFleet{}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, b)
	if n := b.Stats().VMs; n != 0 {
		t.Fatalf("b holds %d VMs after a reset through a", n)
	}
	st.KeepChanges(2)
	if err := putGroup(ctx, a, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, _, _, err := putVM(ctx, a, testSub, "rg", fmt.Sprintf("vm%d", i), linuxVM); err != nil {
			t.Fatal(err)
		}
	}
	sameAsOneServer(t, a, b)
	if n := b.Stats().VMs; n != 4 {
		t.Fatalf("b holds %d VMs, want 4", n)
	}
}

// gatedSequence counts the reads of the sequence and holds each until the
// test lets it go.
type gatedSequence struct {
	*memstore.Shared
	reads atomic.Int64
	gate  chan struct{}
}

func (g *gatedSequence) Sequence(ctx context.Context) (int64, error) {
	g.reads.Add(1)
	<-g.gate
	return g.Shared.Sequence(ctx)
}

// Requests that come while a read of the sequence is under way share the
// next one, which begins after they came: each sees every change committed
// before it, for one read of the store between them all.
func TestReplicasShareSequenceReads(t *testing.T) {
	ctx := context.Background()
	mem := memstore.NewShared()
	g := &gatedSequence{Shared: mem, gate: make(chan struct{})}
	a, err := New(ctx, Config{Store: g, Manual: clock.NewManual(t0), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b := replicas(t, mem, 1, true)[0]
	first := make(chan error, 1)
	go func() { first <- a.Sync(ctx) }()
	for g.reads.Load() == 0 {
		runtime.Gosched() // the first read has begun
	}
	// A change the first read may miss, then requests that must see it.
	if err := putGroup(ctx, b, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	const later = 5
	done := make(chan error, later)
	for range later {
		go func() {
			err := a.Sync(ctx)
			if _, ok := a.Group(testSub, "rg"); err == nil && !ok {
				err = errors.New("a request after the change does not see it")
			}
			done <- err
		}()
	}
	for joined := 0; joined < later; {
		runtime.Gosched()
		a.seqReads.mu.Lock()
		if a.seqReads.next != nil {
			joined = a.seqReads.next.joined
		}
		a.seqReads.mu.Unlock()
	}
	close(g.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range later {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if n := g.reads.Load(); n != 2 {
		t.Errorf("%d reads of the sequence for 1 + %d requests, want 2", n, later)
	}
}

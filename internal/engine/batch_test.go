package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// gateStore can hold the next Apply until released, so that the writers
// arriving meanwhile queue for one batch, and can fail the Applies that
// begin while failing is set.
type gateStore struct {
	store.Store
	hold     atomic.Bool   // the next Apply waits for release
	held     chan struct{} // told when one does
	release  chan struct{}
	holding  atomic.Bool // an Apply waits for release
	failing  atomic.Bool
	calls    atomic.Int64 // Applies begun
	applies  atomic.Int64 // Applies that committed
	batchLen []int        // the changes of each Apply that committed
	mu       sync.Mutex
}

var errBatchFailed = errors.New("the disk failed the batch")

func newGateStore(s store.Store) *gateStore {
	return &gateStore{Store: s, held: make(chan struct{}), release: make(chan struct{})}
}

func (g *gateStore) Apply(ctx context.Context, cs ...store.Change) error {
	g.calls.Add(1)
	fail := g.failing.Load()
	if g.hold.CompareAndSwap(true, false) {
		g.holding.Store(true)
		g.held <- struct{}{}
		<-g.release
		g.holding.Store(false)
	}
	if fail {
		return errBatchFailed
	}
	if err := g.Store.Apply(ctx, cs...); err != nil {
		return err
	}
	g.applies.Add(1)
	g.mu.Lock()
	g.batchLen = append(g.batchLen, len(cs))
	g.mu.Unlock()
	return nil
}

// gatedRig is a rig whose engine writes through a gateStore.
func gatedRig(t *testing.T) (*rig, *gateStore) {
	r := newRig(t)
	var gate *gateStore
	r.tweak = func(c *Config) {
		gate = newGateStore(c.Store)
		c.Store = gate
	}
	r.restart(r.clk.Now())
	return r, gate
}

// queued is how many decisions wait for a batch.
func (e *Engine) queued() int {
	e.batches.mu.Lock()
	defer e.batches.mu.Unlock()
	return len(e.batches.queue)
}

// outcome is what one command of a batch got back.
type outcome struct {
	res      Result
	err      error
	panicked any
}

// batchOf holds the store on a first change (a new subscription's), then sends
// the commands one after the other, each once the one before it is queued,
// so that they make one batch in this order. arm runs before the store is
// let go. It returns what each command got back.
func batchOf(t *testing.T, r *rig, gate *gateStore, cmds []Command, arm func()) []outcome {
	t.Helper()
	ctx := context.Background()
	gate.hold.Store(true)
	first := make(chan error, 1)
	sub := fmt.Sprintf("22222222-2222-4222-8222-%012d", len(r.eng.Subscriptions()))
	go func() {
		_, err := r.eng.Do(ctx, Command{ID: "/subscriptions/" + sub, Verb: VerbPut})
		first <- err
	}()
	<-gate.held
	out, wait := sendInOrder(ctx, r, cmds, r.eng.batches.received.Load())
	if arm != nil {
		arm()
	}
	gate.release <- struct{}{}
	wait()
	if err := <-first; err != nil {
		t.Fatalf("the first change: %v", err)
	}
	return out
}

// tellingIfHeld returns c, which must have a Build, telling as it is
// decided whether gate then holds a write.
func tellingIfHeld(gate *gateStore, c Command) (Command, <-chan bool) {
	held := make(chan bool, 1)
	build := c.Build
	c.Build = func(old resource.State) (any, error) {
		held <- gate.holding.Load()
		return build(old)
	}
	return c, held
}

// checkCodes checks that out[i] succeeded where codes[i] is empty, and
// failed with the error code codes[i] where it is not.
func checkCodes(t *testing.T, out []outcome, codes ...string) {
	t.Helper()
	for i, want := range codes {
		var ee *Error
		switch {
		case want == "" && out[i].err != nil:
			t.Fatalf("command %d: %v", i, out[i].err)
		case want != "" && (!errors.As(out[i].err, &ee) || ee.Code != want):
			t.Errorf("command %d: %v, want %s", i, out[i].err, want)
		}
	}
}

// sendInOrder sends each of cmds from a goroutine of its own, once the one
// before it has queued (from is the count of decisions queued before the
// first). Their outcomes are filled in once wait returns.
func sendInOrder(ctx context.Context, r *rig, cmds []Command, from int64) (out []outcome, wait func()) {
	out = make([]outcome, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { out[i].panicked = recover() }()
			out[i].res, out[i].err = r.eng.Do(ctx, c)
		}()
		for r.eng.batches.received.Load() < from+int64(i)+1 {
			time.Sleep(time.Millisecond) // waits for the command to queue
		}
	}
	return out, wg.Wait
}

func actCmd(name string, kind lifecycle.Kind) Command {
	return Command{ID: vmID("rg", name), Verb: VerbAct, Input: lifecycle.Request{Kind: kind}}
}

func putVMCmd(name string) Command {
	return Command{ID: vmID("rg", name), Verb: VerbPut, Build: Build(func(*VM) (any, error) {
		return VMPut{Model: json.RawMessage(`{"properties":{}}`), Spec: VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux"}}, nil
	})}
}

// fleetView is what readers see of the fleet: every VM as a GET answers
// it, the list, the operations in memory and the history.
type fleetView struct {
	vms     map[string]string
	list    []string
	ops     map[string]store.Operation
	history []store.Event
	stats   Stats
}

func viewFleet(t *testing.T, r *rig, names ...string) fleetView {
	t.Helper()
	v := fleetView{vms: map[string]string{}}
	for _, n := range names {
		vm, err := r.eng.GetVM(testSub, "rg", n)
		if err != nil {
			v.vms[n] = err.Error()
			continue
		}
		v.vms[n] = fmt.Sprintf("%s %s %s run=%v", vm.ETag(), vm.Machine.State.ProvisioningCode(), vm.Machine.State.Power, vm.Machine.Run != nil)
	}
	page, _ := r.eng.ListVMs(nil, "", 0)
	for _, vm := range page {
		v.list = append(v.list, vm.Name+" "+vm.ETag())
	}
	r.eng.mu.RLock()
	v.ops = map[string]store.Operation{}
	for k, op := range r.eng.ops {
		v.ops[k] = op
	}
	r.eng.mu.RUnlock()
	v.history = r.history("")
	v.stats = r.eng.Stats()
	return v
}

// A batch whose commit fails acknowledges none of its changes: each writer
// gets the store's error, refusals included (they were decided over changes
// that never were), no observer hears of any, and memory is as it was:
// GET, list, operations, history. The same commands succeed afterwards,
// and memory then agrees with the store.
func TestFailedBatchAcknowledgesNothing(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	for _, n := range []string{"a", "b", "c", "d"} {
		r.createVM("rg", n, false)
	}
	r.advance(time.Minute)
	names := []string{"a", "b", "c", "d", "fresh"}
	before := viewFleet(t, r, names...)
	var told atomic.Int64
	r.eng.OnChange(func(c Change) {
		if len(c.VMs)+len(c.Gone)+len(c.Events) > 0 {
			told.Add(1)
		}
	})
	cmds := []Command{
		actCmd("a", lifecycle.PowerOff),
		actCmd("a", lifecycle.Start), // over the power-off before it
		actCmd("b", lifecycle.Deallocate),
		putVMCmd("fresh"),
		{ID: vmID("rg", "c"), Verb: VerbDelete},
		actCmd("c", lifecycle.Start), // refused: c is being deleted
		actCmd("missing", lifecycle.Start),
		actCmd("d", lifecycle.Restart),
	}
	out := batchOf(t, r, gate, cmds, func() { gate.failing.Store(true) })
	for i, o := range out {
		if !errors.Is(o.err, errBatchFailed) {
			t.Errorf("command %d (%s %s): got %v, want the store's error", i, cmds[i].Verb, cmds[i].ID, o.err)
		}
	}
	if n := told.Load(); n != 0 {
		t.Errorf("observers were told of %d changes of the failed batch", n)
	}
	after := viewFleet(t, r, names...)
	after.stats.Subscriptions-- // the first change, committed before the batch
	check(t, "GET", after.vms, before.vms)
	check(t, "list", after.list, before.list)
	check(t, "operations", after.ops, before.ops)
	check(t, "history", after.history, before.history)
	check(t, "stats", after.stats, before.stats)

	// Memory is exactly as it was: the same commands, committed now, write
	// versions that follow the stored ones, and a restart loads what memory
	// holds.
	gate.failing.Store(false)
	out = batchOf(t, r, gate, cmds, nil)
	for i, o := range out {
		var want string
		switch i {
		case 5:
			want = "OperationNotAllowed"
		case 6:
			want = CodeResourceNotFound
		}
		var ee *Error
		switch {
		case want == "" && o.err != nil:
			t.Errorf("command %d (%s %s): %v", i, cmds[i].Verb, cmds[i].ID, o.err)
		case want != "" && (!errors.As(o.err, &ee) || ee.Code != want):
			t.Errorf("command %d (%s %s): got %v, want %s", i, cmds[i].Verb, cmds[i].ID, o.err, want)
		}
	}
	held := viewFleet(t, r, names...)
	r.restart(r.clk.Now())
	check(t, "GET after a restart", viewFleet(t, r, names...).vms, held.vms)
}

// While a batch is written, the next is decided over it: an update of a
// group whose create is still being written sees the create. When that
// write fails, the batch decided over it fails whole with the store's
// error, without a write of its own, its refusals too, no observer hears
// of it, and memory is as it was; when it commits, so does the next.
func TestBatchIsDecidedOverTheOneBeingWritten(t *testing.T) {
	for _, fails := range []bool{false, true} {
		t.Run(fmt.Sprintf("the write before fails=%v", fails), func(t *testing.T) {
			r, gate := gatedRig(t)
			r.group("rg")
			r.createVM("rg", "a", false)
			r.advance(time.Minute)
			names := []string{"a", "fresh"}
			before := viewFleet(t, r, names...)
			var told atomic.Int64
			r.eng.OnChange(func(c Change) { told.Add(1) })
			calls := gate.calls.Load()
			ctx := context.Background()

			group := Command{ID: armid.ResourceGroupID(testSub, "rg2"), Verb: VerbPut, Input: GroupPut{Location: "westus"}}
			gate.failing.Store(fails)
			gate.hold.Store(true)
			received := r.eng.batches.received.Load()
			first := make(chan outcome, 1)
			go func() {
				res, err := r.eng.Do(ctx, group)
				first <- outcome{res: res, err: err}
			}()
			<-gate.held
			gate.failing.Store(false) // only the write held fails

			fresh, decidedWhileHeld := tellingIfHeld(gate, putVMCmd("fresh"))
			cmds := []Command{
				group, // an update of the group whose create is held
				actCmd("a", lifecycle.PowerOff),
				actCmd("missing", lifecycle.Start), // refused
				fresh,
			}
			out, wait := sendInOrder(ctx, r, cmds, received+1)
			if !<-decidedWhileHeld {
				t.Fatal("the last command was decided after the write before it was let go")
			}
			gate.release <- struct{}{}
			wait()
			created := <-first

			if !fails {
				if created.err != nil || !created.res.Created {
					t.Fatalf("the group's create: created %v, %v", created.res.Created, created.err)
				}
				checkCodes(t, out, "", "", CodeResourceNotFound, "")
				if g := out[0].res.State.(*Group); out[0].res.Created || g.Version != 2 {
					t.Errorf("the update decided over the create being written: created %v, version %d; want an update to version 2", out[0].res.Created, g.Version)
				}
				if got := gate.calls.Load() - calls; got != 2 {
					t.Errorf("%d writes, want 2: the create's, then the batch decided over it", got)
				}
				held := viewFleet(t, r, names...)
				r.restart(r.clk.Now())
				check(t, "GET after a restart", viewFleet(t, r, names...).vms, held.vms)
				return
			}
			if !errors.Is(created.err, errBatchFailed) {
				t.Fatalf("the group's create: %v, want the store's error", created.err)
			}
			for i, o := range out {
				if !errors.Is(o.err, errBatchFailed) {
					t.Errorf("command %d (%s %s): %v, want the store's error", i, cmds[i].Verb, cmds[i].ID, o.err)
				}
			}
			if got := gate.calls.Load() - calls; got != 1 {
				t.Errorf("%d writes, want 1: the batch decided over a failed one is not written", got)
			}
			if n := told.Load(); n != 0 {
				t.Errorf("observers were told of %d changes", n)
			}
			after := viewFleet(t, r, names...)
			check(t, "GET", after.vms, before.vms)
			check(t, "list", after.list, before.list)
			check(t, "operations", after.ops, before.ops)
			check(t, "history", after.history, before.history)
			check(t, "stats", after.stats, before.stats)
			if _, ok := r.eng.Group(testSub, "rg2"); ok {
				t.Error("the group whose create failed is there")
			}
			res, err := r.eng.Do(ctx, group)
			if err != nil || !res.Created || res.State.(*Group).Version != 1 {
				t.Errorf("the group's create again: created %v, %v", res.Created, err)
			}
		})
	}
}

// The commands queued while a commit is under way commit together, in one
// store transaction, in the order they came: each sees the changes before
// it and answers with its own result, and a refused one is refused alone.
func TestBatchCommitsTogether(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	r.createVM("rg", "a", false)
	r.createVM("rg", "b", false)
	r.advance(time.Minute)
	va, _ := r.eng.GetVM(testSub, "rg", "a")
	applies := gate.applies.Load()
	var mu sync.Mutex
	var told []Change
	r.eng.OnChange(func(c Change) {
		mu.Lock()
		told = append(told, c)
		mu.Unlock()
	})
	group := Command{ID: armid.ResourceGroupID(testSub, "rg2"), Verb: VerbPut, Input: GroupPut{Location: "westus"}}
	cmds := []Command{
		actCmd("a", lifecycle.PowerOff),
		{ID: vmID("rg", "a"), Verb: VerbAct, Input: lifecycle.Request{Kind: lifecycle.Start}, IfMatch: va.ETag()}, // a moved on: refused
		actCmd("b", lifecycle.Deallocate),
		putVMCmd("fresh"),
		putVMCmd("fresh"), // refused: the create before it is in progress
		actCmd("missing", lifecycle.Start),
		group,
		group, // an update of the group the command before created
	}
	out := batchOf(t, r, gate, cmds, nil)
	if got := gate.applies.Load() - applies; got != 2 {
		t.Errorf("%d store transactions, want 2: the first change's, and one for the batch", got)
	}
	gate.mu.Lock()
	if last := gate.batchLen[len(gate.batchLen)-1]; last != 5 {
		t.Errorf("the batch wrote %d changes, want 5", last)
	}
	gate.mu.Unlock()
	checkCodes(t, out, "", CodePreconditionFailed, "", "", "OperationNotAllowed", CodeResourceNotFound, "", "")
	created, updated := out[6].res.State.(*Group), out[7].res.State.(*Group)
	if !out[6].res.Created || out[7].res.Created || !out[7].res.Found {
		t.Errorf("create then update: created %v, %v; found %v", out[6].res.Created, out[7].res.Created, out[7].res.Found)
	}
	if created.Version != 1 || updated.Version != 2 {
		t.Errorf("versions of the create and the update in one batch: %d, %d; want 1, 2", created.Version, updated.Version)
	}
	if g, _ := r.eng.Group(testSub, "rg2"); g.Version != 2 {
		t.Errorf("the group's version: %d, want 2", g.Version)
	}
	if off := out[0].res.State.(*VM); off.Version != va.Version+1 || off.Machine.Run == nil || off.Machine.Run.Plan.Kind != lifecycle.PowerOff {
		t.Errorf("power-off's result: version %d (was %d), run %+v", off.Version, va.Version, off.Machine.Run)
	}
	if fresh := out[3].res.State.(*VM); !out[3].res.Created || fresh.Version != 1 {
		t.Errorf("the create of fresh: created %v, version %d", out[3].res.Created, fresh.Version)
	}
	// Observers hear of each change, in order, with the Seqs the store gave.
	mu.Lock()
	defer mu.Unlock()
	var seqs []int64
	for _, c := range told {
		for _, ev := range c.Events {
			seqs = append(seqs, ev.Seq)
		}
	}
	if len(told) != 6 || len(seqs) == 0 || !slices.IsSorted(seqs) || seqs[0] == 0 {
		t.Errorf("observers were told %d changes with event Seqs %v, want 6 (the first change and the batch's 5) in Seq order", len(told), seqs)
	}
	var stored []int64
	for _, ev := range r.history("") {
		if slices.Contains(seqs, ev.Seq) {
			stored = append(stored, ev.Seq)
		}
	}
	check(t, "Seqs told and stored", seqs, stored)
}

// A decision queued while a batch is being decided joins that batch
// rather than wait for its commit to make one of its own.
func TestBatchTakesWhatQueuesMeanwhile(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	r.createVM("rg", "a", false)
	r.advance(time.Minute)
	applies := gate.applies.Load()
	ctx := context.Background()
	late := make(chan error, 1)
	put := Command{ID: vmID("rg", "fresh"), Verb: VerbPut, Build: Build(func(*VM) (any, error) {
		go func() {
			_, err := r.eng.Do(ctx, actCmd("a", lifecycle.PowerOff))
			late <- err
		}()
		for r.eng.queued() < 1 {
			time.Sleep(time.Millisecond) // waits for the power-off to queue, while this is decided
		}
		return VMPut{Model: json.RawMessage(`{"properties":{}}`), Spec: VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux"}}, nil
	})}
	if _, err := r.eng.Do(ctx, put); err != nil {
		t.Fatal(err)
	}
	if err := <-late; err != nil {
		t.Fatal(err)
	}
	if got := gate.applies.Load() - applies; got != 1 {
		t.Errorf("%d store transactions, want 1: the power-off queued while the create was decided joins its batch", got)
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	if last := gate.batchLen[len(gate.batchLen)-1]; last != 2 {
		t.Errorf("the batch wrote %d changes, want 2", last)
	}
}

// A decision that panics fails its own writer as it would alone, with the
// panic; its batch-mates commit.
func TestBatchPanicIsTheWritersAlone(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	r.createVM("rg", "a", false)
	r.advance(time.Minute)
	boom := Command{ID: vmID("rg", "a"), Verb: VerbPut, Build: Build(func(*VM) (any, error) { panic("boom") })}
	out := batchOf(t, r, gate, []Command{actCmd("a", lifecycle.PowerOff), boom, putVMCmd("b")}, nil)
	if out[0].err != nil || out[2].err != nil || out[0].panicked != nil || out[2].panicked != nil {
		t.Fatalf("the batch-mates of a panic: %+v, %+v", out[0], out[2])
	}
	if p, ok := out[1].panicked.(string); !ok || !strings.HasPrefix(p, "boom") {
		t.Errorf("the writer whose decision panicked got %v, %v; want the panic", out[1].panicked, out[1].err)
	}
	if _, err := r.eng.GetVM(testSub, "rg", "b"); err != nil {
		t.Errorf("the VM a batch-mate created: %v", err)
	}
}

// check fails the test when got and want differ.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// Sixty-four writers at once, on VMs of their own and on VMs they share,
// with the clock advancing under them: every change is committed and told
// once, in the order of the store's Seqs, each writer sees its own VM's
// versions follow one another, and memory is what the store reloads.
func TestConcurrentBatches(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	const writers, shared, rounds = 64, 8, 12
	for i := range shared {
		r.createVM("rg", fmt.Sprintf("shared%d", i), false)
	}
	r.advance(time.Minute)
	var mu sync.Mutex
	var seqs []int64
	r.eng.OnChange(func(c Change) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range c.Events {
			seqs = append(seqs, ev.Seq)
		}
	})
	applies := gate.applies.Load()
	var changes atomic.Int64
	ctx := context.Background()
	kinds := []lifecycle.Kind{lifecycle.PowerOff, lifecycle.Start, lifecycle.Deallocate, lifecycle.Restart}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := fmt.Sprintf("own%d", w)
			var last int64
			for i := range rounds {
				cmd := putVMCmd(own)
				switch {
				case i%3 == 1:
					cmd = actCmd(fmt.Sprintf("shared%d", (w+i)%shared), kinds[(w+i)%len(kinds)])
				case i%3 == 2:
					cmd = actCmd(own, kinds[i%len(kinds)])
				}
				res, err := r.eng.Do(ctx, cmd)
				var ee *Error
				if err != nil {
					if !errors.As(err, &ee) || ee.Code != "OperationNotAllowed" {
						t.Errorf("writer %d, round %d: %v", w, i, err)
					}
					continue
				}
				changes.Add(1)
				if v, ok := res.State.(*VM); ok && v.Name == own {
					if v.Version <= last {
						t.Errorf("writer %d: version %d after %d", w, v.Version, last)
					}
					last = v.Version
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			if _, err := r.eng.Do(ctx, AdvanceClock{By: 7 * time.Second}); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	t.Logf("%d changes in %d store transactions", changes.Load(), gate.applies.Load()-applies)
	r.advance(5 * time.Minute)
	if st := r.eng.Stats(); st.OperationsInProgress != 0 || st.VMs != writers+shared {
		t.Fatalf("after the writers: %+v", st)
	}
	mu.Lock()
	told := slices.Clone(seqs)
	mu.Unlock()
	if !slices.IsSorted(told) || slices.Contains(told, 0) {
		t.Errorf("observers were told events out of Seq order, or without one")
	}
	var stored []int64
	for _, ev := range r.history("") {
		if len(told) > 0 && ev.Seq >= told[0] {
			stored = append(stored, ev.Seq)
		}
	}
	check(t, "the Seqs told, against those stored", told, stored)
	var names []string
	for i := range writers {
		names = append(names, fmt.Sprintf("own%d", i))
	}
	for i := range shared {
		names = append(names, fmt.Sprintf("shared%d", i))
	}
	held := viewFleet(t, r, names...)
	r.restart(r.clk.Now())
	check(t, "GET after a restart", viewFleet(t, r, names...).vms, held.vms)
}

// An observer that panics on a batch's change ends every writer's wait:
// the writer leading the batch panics, the others get an error, and the
// next change commits as usual.
func TestBatchObserverPanicEndsEveryWait(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	r.createVM("rg", "a", false)
	r.createVM("rg", "b", false)
	r.advance(time.Minute)
	var boom atomic.Bool
	r.eng.OnChange(func(c Change) {
		if len(c.VMs) > 0 && boom.CompareAndSwap(true, false) {
			panic("observer")
		}
	})
	out := batchOf(t, r, gate, []Command{actCmd("a", lifecycle.PowerOff), actCmd("b", lifecycle.PowerOff)}, func() { boom.Store(true) })
	panicked := 0
	for i, o := range out {
		switch {
		case o.panicked != nil:
			panicked++
		case o.err == nil || !strings.Contains(o.err.Error(), "panicked"):
			t.Errorf("command %d: %v, want the batch's panic as an error", i, o.err)
		}
	}
	if panicked != 1 {
		t.Errorf("%d writers panicked, want the one leading", panicked)
	}
	if _, err := r.eng.Do(context.Background(), actCmd("b", lifecycle.Start)); err != nil {
		t.Fatalf("a change after the panic: %v", err)
	}
}

// However steadily writers keep the batches coming, the pipeline lets go
// of the writer lock every pipelineRun batches: the clock's steps still
// fire, and a create in progress ends when the clock is advanced. With one
// change a batch and eight writers, a next batch is always queued.
func TestStepsFireUnderSteadyWrites(t *testing.T) {
	r := newRig(t)
	r.tweak = func(c *Config) { c.MaxBatch = 1 }
	r.restart(r.clk.Now())
	r.group("rg")
	r.createVM("rg", "a", false)

	const writers = 8
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			put := Command{ID: armid.ResourceGroupID(testSub, fmt.Sprintf("busy%d", i)), Verb: VerbPut, Input: GroupPut{Location: "westus"}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := r.eng.Do(ctx, put); err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		}()
	}
	for written.Load() < writers*pipelineRun {
		time.Sleep(time.Millisecond) // waits for the writers to keep the pipeline busy
	}
	r.advance(time.Minute)
	close(stop)
	wg.Wait()
	if got := r.state("rg", "a").ProvisioningCode(); got != "ProvisioningState/succeeded" {
		t.Errorf("a's provisioning after a minute: %s, want succeeded", got)
	}
}

// An observer that panics on a batch while the batch after it is being
// written: the writer leading panics, the other writer gets the error, and
// the write under way is waited for and laid into memory, so that memory
// agrees with the store: a restart loads what memory holds, and the next
// change commits as usual.
func TestBatchObserverPanicWhileTheNextIsWritten(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	r.createVM("rg", "a", false)
	r.advance(time.Minute)
	var boom atomic.Bool
	r.eng.OnChange(func(c Change) {
		for _, v := range c.VMs {
			if v.Name == "a" && boom.CompareAndSwap(true, false) {
				panic("observer")
			}
		}
	})
	ctx := context.Background()
	boom.Store(true)
	gate.hold.Store(true)
	received := r.eng.batches.received.Load()
	first, waitFirst := sendInOrder(ctx, r, []Command{actCmd("a", lifecycle.PowerOff)}, received)
	<-gate.held
	fresh, decidedWhileHeld := tellingIfHeld(gate, putVMCmd("fresh"))
	second, waitSecond := sendInOrder(ctx, r, []Command{fresh}, received+1)
	if !<-decidedWhileHeld {
		t.Fatal("the create was decided after the write before it was let go")
	}
	gate.release <- struct{}{}
	waitFirst()
	waitSecond()
	if first[0].panicked == nil {
		t.Errorf("the writer leading: %v, want its observer's panic", first[0].err)
	}
	if err := second[0].err; err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("the create written meanwhile: %v, want the batch's panic as an error", err)
	}
	names := []string{"a", "fresh"}
	held := viewFleet(t, r, names...)
	if strings.Contains(held.vms["fresh"], "not found") {
		t.Errorf("the create written meanwhile is not in memory: %s", held.vms["fresh"])
	}
	r.restart(r.clk.Now())
	check(t, "GET after a restart", viewFleet(t, r, names...).vms, held.vms)
	if _, err := r.eng.Do(ctx, actCmd("fresh", lifecycle.Delete)); err != nil {
		t.Errorf("a change after the panic: %v", err)
	}
}

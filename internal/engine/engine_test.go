package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/kinds/network"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/vm"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

const testSub = "11111111-2222-4333-8444-555555555555"

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// flakyStore fails Apply while failing is set, to show that a refused
// commit changes nothing.
type flakyStore struct {
	store.Store
	failing atomic.Bool
}

func (f *flakyStore) Apply(ctx context.Context, cs ...store.Change) error {
	if f.failing.Load() {
		return errors.New("disk full")
	}
	return f.Store.Apply(ctx, cs...)
}

// rig is an engine on an in-memory store (memstore, which passes the same
// conformance suite as SQLite and PostgreSQL); a restart is a new engine
// on the same store, loading what the first one committed.
type rig struct {
	t     *testing.T
	mem   store.Store
	store *flakyStore
	clk   *clock.Manual
	eng   *Engine
	tweak func(*Config) // when set, changes the configuration at each open
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, mem: memstore.New()}
	t.Cleanup(func() { r.mem.Close() })
	r.open(t0)
	return r
}

// restart stops the engine, as a crash would, and starts another on the
// same store with the clock at start.
func (r *rig) restart(start time.Time) {
	r.t.Helper()
	r.eng.Close()
	r.open(start)
}

// open (re)opens the engine on the rig's database with a manual clock
// starting at start.
func (r *rig) open(start time.Time) { r.openWith(start, true) }

// openWith opens the engine; with manual false the clock is handed over as
// an ordinary clock, so the engine's own timer loop (Run) does the firing,
// as it does on the real clock.
func (r *rig) openWith(start time.Time, manual bool) {
	r.t.Helper()
	r.store = &flakyStore{Store: r.mem}
	r.clk = clock.NewManual(start)
	n := 0
	cfg := Config{Store: r.store, Manual: r.clk}
	if !manual {
		cfg = Config{Store: r.store, Clock: r.clk}
	}
	if r.tweak != nil {
		r.tweak(&cfg)
	}
	cfg.NewID = func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n+int(start.Unix()%1000000)*1000)
	}
	eng, err := New(context.Background(), cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.eng = eng
}

func (r *rig) group(name string) {
	r.t.Helper()
	if err := putGroup(context.Background(), r.eng, testSub, name, "westus"); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) createVM(rg, name string, generalized bool) store.Operation {
	r.t.Helper()
	_, _, op, err := putVM(context.Background(), r.eng, testSub, rg, name, func(*VM) (json.RawMessage, VMSpec, error) {
		return json.RawMessage(`{"properties":{}}`), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", GeneralizedImage: generalized, OSType: "Linux"}, nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return op
}

func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	if _, err := r.eng.Do(context.Background(), AdvanceClock{By: d}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) state(rg, name string) lifecycle.State {
	r.t.Helper()
	v, err := r.eng.GetVM(testSub, rg, name)
	if err != nil {
		r.t.Fatal(err)
	}
	return v.Machine.State
}

func (r *rig) history(id string) []store.Event {
	r.t.Helper()
	var out []store.Event
	if err := r.eng.History(context.Background(), id, time.Time{}, t0.Add(1000*time.Hour), func(e store.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func vmID(rg, name string) string {
	return "/subscriptions/" + testSub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name
}

// Steps that fell due while the engine was down fire at start from the
// timer loop, each at its own due time, so the history is what it would
// have been had the engine never stopped.
func TestRestartCatchesUpAtDueTimes(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", false) // 15 s allocating, 20 s starting
	r.advance(5 * time.Second)
	r.eng.Close() // the server goes down

	r.openWith(t0.Add(time.Hour), false) // the server was down for an hour
	settled := make(chan struct{})
	var once sync.Once
	r.eng.OnChange(func(c Change) {
		for _, v := range c.VMs {
			if v.Machine.State.Provisioning == lifecycle.Succeeded {
				once.Do(func() { close(settled) })
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go r.eng.Run(ctx)
	select {
	case <-settled:
	case <-time.After(30 * time.Second):
		t.Fatal("the timer loop did not fire the overdue steps")
	}
	cancel()
	if st := r.state("rg", "vm1"); st.Provisioning != lifecycle.Succeeded || st.Power != lifecycle.Running {
		t.Fatalf("state after catch-up: %+v", st)
	}
	var at []time.Duration
	for _, e := range r.history(vmID("rg", "vm1")) {
		at = append(at, e.At.Sub(t0))
	}
	if fmt.Sprint(at) != "[0s 15s 35s]" {
		t.Fatalf("event times: %v, want [0s 15s 35s]", at)
	}
}

// A commit the store refuses leaves memory as it was, and nothing is lost:
// once the store recovers, due steps fire as planned.
func TestRefusedCommitChangesNothing(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.store.failing.Store(true)
	_, _, _, err := putVM(context.Background(), r.eng, testSub, "rg", "vm1", func(*VM) (json.RawMessage, VMSpec, error) {
		return json.RawMessage(`{}`), VMSpec{Location: "westus", VMSize: "Standard_B1s"}, nil
	})
	if err == nil {
		t.Fatal("PutVM succeeded with a failing store")
	}
	if _, err := r.eng.GetVM(testSub, "rg", "vm1"); err == nil {
		t.Fatal("a VM whose create was not committed is visible")
	}
	r.store.failing.Store(false)
	r.createVM("rg", "vm1", false)

	r.store.failing.Store(true)
	if _, err := r.eng.Do(context.Background(), AdvanceClock{By: 20 * time.Second}); err == nil {
		t.Fatal("Advance succeeded with a failing store")
	}
	if st := r.state("rg", "vm1"); st.Power != "" {
		t.Fatalf("a step whose commit failed is visible: %+v", st)
	}
	r.store.failing.Store(false)
	r.advance(20 * time.Second)
	if st := r.state("rg", "vm1"); st.Provisioning != lifecycle.Succeeded || st.Power != lifecycle.Running {
		t.Fatalf("state after recovery: %+v", st)
	}
	if n := len(r.history(vmID("rg", "vm1"))); n != 3 {
		t.Fatalf("history has %d events, want 3", n)
	}
}

func TestDeleteGroupDeletesItsVMs(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.group("other")
	r.createVM("rg", "a", false)
	r.createVM("rg", "b", true)
	r.createVM("other", "c", false)
	r.advance(2 * time.Minute)
	op, err := deleteGroup(context.Background(), r.eng, testSub, "RG")
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != StatusInProgress {
		t.Fatalf("group delete: %s", op.Status)
	}
	if g, _ := r.eng.Group(testSub, "rg"); g.ProvisioningState() != "Deleting" {
		t.Fatalf("group state %s", g.ProvisioningState())
	}
	if err := putGroup(context.Background(), r.eng, testSub, "rg", "westus"); err == nil {
		t.Fatal("PUT of a deleting group succeeded")
	}
	r.advance(20 * time.Second)
	if _, ok := r.eng.Group(testSub, "rg"); ok {
		t.Fatal("group still there")
	}
	op, err = r.eng.Operation(context.Background(), op.ID)
	if err != nil || op.Status != StatusSucceeded {
		t.Fatalf("group delete op: %+v %v", op, err)
	}
	if _, err := r.eng.GetVM(testSub, "other", "c"); err != nil {
		t.Fatalf("VM of another group: %v", err)
	}
	page, _ := r.eng.ListVMs(nil, "", 0)
	if len(page) != 1 {
		t.Fatalf("%d VMs left, want 1", len(page))
	}
	// The deleted VMs' history ends with a Deleted event.
	h := r.history(vmID("rg", "a"))
	if last := h[len(h)-1]; last.ProvisioningState != "Deleted" {
		t.Fatalf("last event: %+v", last)
	}
}

func TestPreemptedOperationIsCanceled(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", false)
	r.advance(time.Minute)
	ctx := context.Background()
	start, err := act(ctx, r.eng, testSub, "rg", "vm1", lifecycle.Request{Kind: lifecycle.Restart})
	if err != nil {
		t.Fatal(err)
	}
	dealloc, err := act(ctx, r.eng, testSub, "rg", "vm1", lifecycle.Request{Kind: lifecycle.Deallocate})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.eng.Operation(ctx, start.ID)
	var oe OperationError
	_ = json.Unmarshal(got.Error, &oe)
	if got.Status != StatusCanceled || oe.Code != "OperationPreempted" || !got.EndTime.Equal(r.clk.Now()) {
		t.Fatalf("preempted op: %+v", got)
	}
	r.advance(30 * time.Second)
	if got, _ := r.eng.Operation(ctx, dealloc.ID); got.Status != StatusSucceeded {
		t.Fatalf("deallocate op: %+v", got)
	}
	// A model update while nothing runs is fine; while a plan runs, refused.
	if _, err := act(ctx, r.eng, testSub, "rg", "vm1", lifecycle.Request{Kind: lifecycle.Start}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = putVM(ctx, r.eng, testSub, "rg", "vm1", func(old *VM) (json.RawMessage, VMSpec, error) { return old.Model.Bytes(), old.Spec, nil })
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != "OperationNotAllowed" {
		t.Fatalf("update during start: %v", err)
	}
}

// Many writers on many VMs at once, with the clock advancing under them:
// every commit lands, versions never collide, and history and state agree.
func TestConcurrentWriters(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	const n = 8
	for i := 0; i < n; i++ {
		r.createVM("rg", fmt.Sprintf("vm%d", i), false)
	}
	r.advance(time.Minute)
	ctx := context.Background()
	kinds := []lifecycle.Kind{lifecycle.PowerOff, lifecycle.Start, lifecycle.Deallocate, lifecycle.Restart}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				_, err := act(ctx, r.eng, testSub, "rg", fmt.Sprintf("vm%d", i), lifecycle.Request{Kind: kinds[(i+j)%len(kinds)]})
				var ee *Error
				if err != nil && !(errors.As(err, &ee) && ee.Code == "OperationNotAllowed") {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for j := 0; j < 20; j++ {
			if _, err := r.eng.Do(ctx, AdvanceClock{By: 3 * time.Second}); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	r.advance(5 * time.Minute)
	if st := r.eng.Stats(); st.OperationsInProgress != 0 {
		t.Fatalf("%d operations still in progress", st.OperationsInProgress)
	}
	// Reloading from the store gives the same fleet as memory holds.
	before := map[string]string{}
	page, _ := r.eng.ListVMs(nil, "", 0)
	for _, v := range page {
		before[v.ID] = fmt.Sprintf("%d %s %s", v.Version, v.Machine.State.ProvisioningCode(), v.Machine.State.Power)
		h := r.history(v.ID)
		last := h[len(h)-1]
		if last.ProvisioningCode != v.Machine.State.ProvisioningCode() || last.PowerState != string(v.Machine.State.Power) {
			t.Errorf("%s: last event %s/%s, state %s/%s", v.Name, last.ProvisioningCode, last.PowerState, v.Machine.State.ProvisioningCode(), v.Machine.State.Power)
		}
	}
	r.restart(r.clk.Now())
	page, _ = r.eng.ListVMs(nil, "", 0)
	for _, v := range page {
		if got := fmt.Sprintf("%d %s %s", v.Version, v.Machine.State.ProvisioningCode(), v.Machine.State.Power); got != before[v.ID] {
			t.Errorf("%s after reload: %s, before %s", v.Name, got, before[v.ID])
		}
	}
}

func TestCloseRefusesWrites(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.eng.Close()
	_, err := act(context.Background(), r.eng, testSub, "rg", "vm1", lifecycle.Request{Kind: lifecycle.Start})
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != CodeShuttingDown {
		t.Fatalf("write after Close: %v", err)
	}
}

func TestResetEmptiesEverything(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", true)
	var gone []string
	r.eng.OnChange(func(c Change) { gone = append(gone, c.Gone...) })
	if _, err := r.eng.Do(context.Background(), ResetFleet{}); err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || gone[0] != armid.Fold(vmID("rg", "vm1")) {
		t.Fatalf("observers saw %v go, want the one VM", gone)
	}
	if st := r.eng.Stats(); st.VMs != 0 || st.Groups != 0 || st.Subscriptions != 0 {
		t.Fatalf("after reset: %+v", st)
	}
	r.advance(time.Hour) // nothing left to fire
	r.restart(r.clk.Now())
	if st := r.eng.Stats(); st.VMs != 0 || st.Groups != 0 {
		t.Fatalf("after reset and reload: %+v", st)
	}
}

func TestOnChangeSeesCommittedEvents(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	var mu sync.Mutex
	var codes []string
	r.eng.OnChange(func(c Change) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range c.Events {
			codes = append(codes, e.ProvisioningCode+"/"+e.PowerState)
		}
	})
	r.createVM("rg", "vm1", false)
	r.advance(35 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	want := "[ProvisioningState/creating/ ProvisioningState/creating/starting ProvisioningState/succeeded/running]"
	if fmt.Sprint(codes) != want {
		t.Fatalf("changes seen: %v\nwant %s", codes, want)
	}
}

func TestNewGUID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		g := newGUID()
		if len(g) != 36 || g[8] != '-' || g[13] != '-' || g[18] != '-' || g[23] != '-' || g[14] != '4' || !strings.ContainsRune("89ab", rune(g[19])) {
			t.Fatalf("not a version-4 GUID: %q", g)
		}
		if seen[g] {
			t.Fatalf("repeated: %q", g)
		}
		seen[g] = true
	}
}

// Shorthands for the commands the tests send through Do.

func actOn(ctx context.Context, eng *Engine, id string, req lifecycle.Request) (store.Operation, error) {
	res, err := eng.Do(ctx, Command{ID: id, Verb: VerbAct, Input: req})
	return res.Operation, err
}

func act(ctx context.Context, eng *Engine, sub, rg, name string, req lifecycle.Request) (store.Operation, error) {
	return actOn(ctx, eng, armid.VirtualMachineID(sub, rg, name), req)
}

func putVM(ctx context.Context, eng *Engine, sub, rg, name string, build func(*VM) (json.RawMessage, VMSpec, error)) (*VM, bool, store.Operation, error) {
	res, err := eng.Do(ctx, Command{ID: armid.VirtualMachineID(sub, rg, name), Verb: VerbPut, Build: Build(func(old *VM) (any, error) {
		model, spec, err := build(old)
		return VMPut{Model: model, Spec: spec}, err
	})})
	v, _ := res.State.(*VM)
	return v, res.Created, res.Operation, err
}

func putGroup(ctx context.Context, eng *Engine, sub, name, location string) error {
	_, err := eng.Do(ctx, Command{ID: armid.ResourceGroupID(sub, name), Verb: VerbPut, Input: GroupPut{Location: location}})
	return err
}

func deleteGroup(ctx context.Context, eng *Engine, sub, name string) (store.Operation, error) {
	res, err := eng.Do(ctx, Command{ID: armid.ResourceGroupID(sub, name), Verb: VerbDelete})
	if err == nil && !res.Found {
		err = notFoundGroup(name)
	}
	return res.Operation, err
}

// A subscription is recorded by the first put of its ID through Do, once:
// a later put changes nothing, and a restart finds it.
func TestSubscriptionIsRecordedOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	id := "/subscriptions/" + strings.ToUpper(testSub)
	res, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut})
	if err != nil || !res.Created || res.Found {
		t.Fatalf("first put: %+v, %v", res, err)
	}
	r.clk.Advance(time.Hour)
	res, err = r.eng.Do(ctx, Command{ID: id, Verb: VerbPut})
	if err != nil || res.Created || !res.Found {
		t.Fatalf("second put: %+v, %v", res, err)
	}
	r.restart(t0.Add(time.Hour))
	subs := r.eng.Subscriptions()
	if len(subs) != 1 || subs[0].ID != testSub || !subs[0].CreatedAt.Equal(t0) {
		t.Fatalf("subscriptions after a restart: %+v", subs)
	}
}

// A speed JSON cannot hold would leave every plan's stored state unwritable.
func TestSpeedThatJSONCannotHoldMeansOne(t *testing.T) {
	for _, speed := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -3} {
		eng, err := New(context.Background(), Config{Store: memstore.New(), Manual: clock.NewManual(time.Unix(0, 0)), Speed: speed})
		if err != nil {
			t.Fatal(err)
		}
		if got := eng.Speed(); got != 1 {
			t.Errorf("speed %v: engine runs at %v, want 1", speed, got)
		}
		eng.Close()
	}
}

// A snapshot whose state cannot be encoded fails its change whole, in a
// batch and alone: nothing of it reaches memory or the store, where an
// empty state would have lost the VM at the next start.
func TestUnwritableStateFailsTheChange(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", false)
	r.advance(time.Hour)
	before, err := r.eng.GetVM(testSub, "rg", "vm1")
	if err != nil {
		t.Fatal(err)
	}
	unwritable := func() *VM {
		v := *before
		v.Spec.NICs = []vm.NICRef{{ID: "/subscriptions/x/nic", Create: &vm.NICTemplate{Spec: nic.Spec{Model: json.RawMessage(`{"tags":`)}}}}
		return &v
	}
	ctx := context.Background()
	err = r.eng.decide(ctx, func(t *tx) error {
		t.writeVM(unwritable())
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "cannot be written") {
		t.Fatalf("a batch's change with an unwritable state: err = %v", err)
	}
	unlock, err := r.eng.lockWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alone := r.eng.begin(r.eng.Now())
	alone.writeVM(unwritable())
	err = alone.commit(ctx)
	unlock()
	if err == nil || !strings.Contains(err.Error(), "cannot be written") {
		t.Fatalf("a change alone with an unwritable state: err = %v", err)
	}
	err = r.eng.decide(ctx, func(t *tx) error {
		t.putResource(&nic.NIC{Base: network.Base{Meta: resource.Meta{ID: "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-nic", SubscriptionID: testSub, ResourceGroup: "rg", Name: "vm1-nic"}},
			Spec: nic.Spec{Location: "westus", Model: json.RawMessage(`{"tags":`)}})
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "cannot be written") {
		t.Fatalf("a resource that cannot be encoded: err = %v", err)
	}
	if now, _ := r.eng.GetVM(testSub, "rg", "vm1"); now != before {
		t.Fatal("memory holds a snapshot of a change that failed")
	}
	r.restart(r.clk.Now())
	after, err := r.eng.GetVM(testSub, "rg", "vm1")
	if err != nil || after.Version != before.Version || len(after.Spec.NICs) != len(before.Spec.NICs) || after.Machine.State != before.Machine.State {
		t.Fatalf("after a restart: %+v, %v; want version %d as before", after, err, before.Version)
	}
}

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

func one() *int { n := 1; return &n }

func (r *rig) act(name string, k lifecycle.Kind) string {
	r.t.Helper()
	op, err := act(context.Background(), r.eng, testSub, "rg", name, lifecycle.Request{Kind: k})
	if err != nil {
		r.t.Fatal(err)
	}
	return op.ID
}

func (r *rig) op(id string) (status, code string) {
	r.t.Helper()
	op, err := r.eng.Operation(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	var oe OperationError
	_ = json.Unmarshal(op.Error, &oe)
	return op.Status, oe.Code
}

func TestInjectedFaultFailsWhereAzureDoes(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", false)
	r.advance(time.Minute)
	r.act("vm1", lifecycle.Deallocate)
	r.advance(time.Minute)
	ctx := context.Background()
	res, err := r.eng.Do(ctx, AddFault{Fault: Fault{Operation: "start", Resource: "vm*", Error: "AllocationFailed", Count: one()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fault.ID == "" || len(r.eng.Faults()) != 1 {
		t.Fatalf("fault not registered: %+v", r.eng.Faults())
	}
	// Faults survive a restart.
	r.restart(r.clk.Now())
	op := r.act("vm1", lifecycle.Start)
	r.advance(10 * time.Second)
	st := r.state("rg", "vm1")
	if st.ProvisioningCode() != "ProvisioningState/failed/AllocationFailed" || st.Power != lifecycle.Deallocated {
		t.Fatalf("after the fault: %s %s", st.ProvisioningCode(), st.Power)
	}
	if status, code := r.op(op); status != StatusFailed || code != "AllocationFailed" {
		t.Fatalf("operation: %s %s", status, code)
	}
	if n := len(r.eng.Faults()); n != 0 {
		t.Fatalf("a count-1 fault is still registered (%d)", n)
	}
	op = r.act("vm1", lifecycle.Start)
	r.advance(30 * time.Second)
	if status, _ := r.op(op); status != StatusSucceeded {
		t.Fatalf("retry after the fault: %s", status)
	}
}

// A fault that has nothing to fail in the plan (allocation on a VM that
// keeps its host) is not spent.
func TestFaultThatDoesNotApplyIsKept(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", false)
	r.advance(time.Minute)
	r.act("vm1", lifecycle.PowerOff)
	r.advance(time.Minute)
	if _, err := r.eng.Do(context.Background(), AddFault{Fault: Fault{Operation: "start", Error: "AllocationFailed", Count: one()}}); err != nil {
		t.Fatal(err)
	}
	op := r.act("vm1", lifecycle.Start)
	r.advance(time.Minute)
	if status, _ := r.op(op); status != StatusSucceeded {
		t.Fatalf("start of a stopped VM: %s", status)
	}
	if n := len(r.eng.Faults()); n != 1 {
		t.Fatalf("%d faults, want the unspent one", n)
	}
	if res, err := r.eng.Do(context.Background(), RemoveFaults{}); res.Removed != 1 || err != nil {
		t.Fatalf("remove all: %d %v", res.Removed, err)
	}
}

func TestFaultValidation(t *testing.T) {
	r := newRig(t)
	for _, f := range []Fault{
		{Operation: "start", Error: "NoSuchError"},
		{Error: "AllocationFailed"},
		{Operation: "fly", Error: "AllocationFailed"},
		{Operation: "start", Error: "AllocationFailed", Probability: 2},
		{Operation: "start", Error: "AllocationFailed", Count: new(int)},
		{Kind: "meteor"},
		{Operation: "start", Error: "AllocationFailed", Resource: "["},
	} {
		_, err := r.eng.Do(context.Background(), AddFault{Fault: f})
		var ee *Error
		if !errors.As(err, &ee) || ee.Code != "InvalidParameter" {
			t.Errorf("%+v: %v", f, err)
		}
	}
}

func TestProbeFaultCountsDown(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	n := 2
	if _, err := r.eng.Do(ctx, AddFault{Fault: Fault{Kind: FaultThrottle, Count: &n}}); err != nil {
		t.Fatal(err)
	}
	got := []bool{probe(ctx, r.eng, FaultThrottle, "GET"), probe(ctx, r.eng, FaultThrottle, "PUT"), probe(ctx, r.eng, FaultThrottle, "GET")}
	if got[0] != true || got[1] != true || got[2] != false {
		t.Fatalf("throttle fired %v, want [true true false]", got)
	}
	if probe(ctx, r.eng, FaultPowerStateUnavailable, "") {
		t.Fatal("an unregistered fault fired")
	}
}

// A probe with no fault of its kind and operation takes the lock-free path;
// a fault added after it still fires for every later probe.
func TestProbeFaultSeesFaultsAddedLater(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if probe(ctx, r.eng, FaultThrottle, "GET") {
		t.Fatal("a throttle fired with no fault registered")
	}
	if _, err := r.eng.Do(ctx, AddFault{Fault: Fault{Kind: FaultThrottle, Operation: "PUT"}}); err != nil {
		t.Fatal(err)
	}
	if probe(ctx, r.eng, FaultThrottle, "GET") {
		t.Fatal("a throttle on PUT fired for GET")
	}
	if probe(ctx, r.eng, FaultPowerStateUnavailable, "PUT") {
		t.Fatal("a throttle fired for a powerStateUnavailable probe")
	}
	for i := range 3 {
		if !probe(ctx, r.eng, FaultThrottle, "put") {
			t.Fatalf("probe %d: the throttle on PUT did not fire", i)
		}
	}
	if _, err := r.eng.Do(ctx, RemoveFaults{}); err != nil {
		t.Fatal(err)
	}
	if probe(ctx, r.eng, FaultThrottle, "PUT") {
		t.Fatal("a removed throttle fired")
	}
}

func TestSizeFamily(t *testing.T) {
	for _, tc := range []struct {
		size   string
		family string
		cores  int
	}{
		{"Standard_D2s_v3", "DSv3", 2},
		{"Standard_D4s_v5", "DSv5", 4},
		{"Standard_B1s", "BS", 1},
		{"Standard_E16-4ds_v5", "EDSv5", 16},
		{"Standard_F2s_v2", "FSv2", 2},
		{"Standard_D2_v3", "Dv3", 2},
		{"standard_nc24ads_a100_v4", "", 0},
	} {
		fam, cores, ok := SizeFamily(tc.size)
		if fam != tc.family || cores != tc.cores || ok != (tc.family != "") {
			t.Errorf("%s: %s %d %v", tc.size, fam, cores, ok)
		}
	}
}

// With capacity for two D2s_v3 VMs: two run; one is deallocated and a third
// created in its place; the deallocated one then cannot start again, while
// a merely stopped VM, which kept its host, restarts.
func TestCapacity(t *testing.T) {
	r := newRig(t)
	r.eng.cfg.Capacity = Capacity{"westus": {"DSv3": 4}}
	r.group("rg")
	r.createVM("rg", "a", false)
	r.createVM("rg", "b", false)
	r.advance(time.Minute)
	r.act("a", lifecycle.Deallocate)
	r.advance(time.Minute)
	r.createVM("rg", "c", false)
	r.advance(time.Minute)
	if st := r.state("rg", "c"); st.Provisioning != lifecycle.Succeeded || st.Power != lifecycle.Running {
		t.Fatalf("third VM: %s %s", st.ProvisioningCode(), st.Power)
	}
	op := r.act("a", lifecycle.Start)
	r.advance(time.Minute)
	if status, code := r.op(op); status != StatusFailed || code != "AllocationFailed" {
		t.Fatalf("start beyond capacity: %s %s", status, code)
	}
	if st := r.state("rg", "a"); st.Power != lifecycle.Deallocated {
		t.Fatalf("the refused VM: %s", st.Power)
	}
	r.act("b", lifecycle.PowerOff)
	r.advance(time.Minute)
	op = r.act("b", lifecycle.Start)
	r.advance(time.Minute)
	if status, _ := r.op(op); status != StatusSucceeded {
		t.Fatalf("restart of a stopped VM: %s", status)
	}
	// A fourth create fails to allocate, and holds nothing once failed.
	r.createVM("rg", "d", false)
	r.advance(time.Minute)
	if st := r.state("rg", "d"); st.ProvisioningCode() != "ProvisioningState/failed/AllocationFailed" {
		t.Fatalf("fourth VM: %s", st.ProvisioningCode())
	}
	r.act("c", lifecycle.Deallocate)
	r.advance(time.Minute)
	op = r.act("a", lifecycle.Start)
	r.advance(time.Minute)
	if status, _ := r.op(op); status != StatusSucceeded {
		t.Fatalf("start once cores are free: %s", status)
	}
}

// A create that fails to allocate leaves a VM with no host; a PUT of it
// again retries the create rather than updating a VM that never ran.
func TestPutRetriesAFailedCreate(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	if _, err := r.eng.Do(context.Background(), AddFault{Fault: Fault{Operation: "create", Error: "AllocationFailed", Count: one()}}); err != nil {
		t.Fatal(err)
	}
	r.createVM("rg", "vm1", true)
	r.advance(15 * time.Second)
	if st := r.state("rg", "vm1"); st.ProvisioningCode() != "ProvisioningState/failed/AllocationFailed" || st.Power != "" {
		t.Fatalf("after the failed create: %s %q", st.ProvisioningCode(), st.Power)
	}
	op := r.createVM("rg", "vm1", true)
	if op.Kind != "create" {
		t.Fatalf("the retry ran %q", op.Kind)
	}
	r.advance(80 * time.Second)
	if st := r.state("rg", "vm1"); st.Provisioning != lifecycle.Succeeded || st.Power != lifecycle.Running {
		t.Fatalf("after the retry: %s %s", st.ProvisioningCode(), st.Power)
	}
}

// stuckStore holds every Apply while stuck is set, as a hung disk would,
// telling held when one is.
type stuckStore struct {
	store.Store
	stuck   atomic.Bool
	held    chan struct{}
	release chan struct{}
}

func (s *stuckStore) Apply(ctx context.Context, cs ...store.Change) error {
	if s.stuck.Load() {
		s.held <- struct{}{}
		<-s.release
	}
	return s.Store.Apply(ctx, cs...)
}

// A read that a throttle or powerStateUnavailable fault decides answers
// while a write is stuck: it takes no writer lock. A counted fault counts
// down at once, and the count is written once the disk answers.
func TestProbeFaultWhileAWriteIsStuck(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	st := &stuckStore{Store: mem, held: make(chan struct{}), release: make(chan struct{})}
	eng, err := New(ctx, Config{Store: st, Manual: clock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	two := 2
	for _, f := range []Fault{{Kind: FaultThrottle, Operation: "GET", Count: &two}, {Kind: FaultPowerStateUnavailable}} {
		if _, err := eng.Do(ctx, AddFault{Fault: f}); err != nil {
			t.Fatal(err)
		}
	}
	st.stuck.Store(true)
	wrote := make(chan error, 1)
	go func() { wrote <- putGroup(ctx, eng, testSub, "rg", "westus") }()
	<-st.held // the write holds the writer lock, waiting for the disk

	probed := make(chan []bool, 1)
	go func() {
		probed <- []bool{probe(ctx, eng, FaultPowerStateUnavailable, "listAll"),
			probe(ctx, eng, FaultThrottle, "GET"), probe(ctx, eng, FaultThrottle, "PUT")}
	}()
	select {
	case got := <-probed:
		if !slices.Equal(got, []bool{true, true, false}) {
			t.Errorf("faults fired %v, want [true true false]", got)
		}
	case <-time.After(time.Minute): // a bound on a failure, not a wait for success
		t.Fatal("a read deciding a fault waited for the stuck write")
	}
	if fs := eng.Faults(); len(fs) != 2 || fs[0].Count == nil || *fs[0].Count != 1 {
		t.Errorf("faults while the write is stuck: %+v, want the throttle at 1 use left", fs)
	}
	// The count is written down once the disk answers.
	st.stuck.Store(false)
	close(st.release)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	eng.uses.writers.Wait()
	eng.Close()
	again, err := New(ctx, Config{Store: mem, Manual: clock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if fs := again.Faults(); len(fs) != 2 || fs[0].Count == nil || *fs[0].Count != 1 {
		t.Errorf("faults after a restart: %+v, want the throttle at 1 use left", fs)
	}
	if !probe(ctx, again, FaultThrottle, "GET") || probe(ctx, again, FaultThrottle, "GET") {
		t.Error("the throttle's last use did not fire once")
	}
	again.uses.writers.Wait()
	if fs := again.Faults(); len(fs) != 1 || fs[0].Kind != FaultPowerStateUnavailable {
		t.Errorf("faults once the throttle is spent: %+v", fs)
	}
}

// probe asks e whether a fault of kind fires for the read op.
func probe(ctx context.Context, e *Engine, kind, op string) bool {
	res, err := e.Do(ctx, ProbeFault{Kind: kind, Operation: op})
	return err == nil && res.Fired
}

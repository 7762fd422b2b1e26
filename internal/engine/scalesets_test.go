package engine

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

// putSet creates or resizes a Uniform set whose instances are plain
// specialised VMs (a create of 35 s).
func (r *rig) putSet(rg, name string, capacity int64) (*ScaleSet, store.Operation) {
	r.t.Helper()
	res, err := r.eng.Do(context.Background(), Command{ID: scaleSetID(testSub, rg, name), Verb: VerbPut, Input: ScaleSetPut{
		Spec: ScaleSetSpec{Location: "westus", Mode: Uniform, Capacity: capacity, Model: json.RawMessage(`{}`)},
		Instance: func(s *ScaleSet, n int) (NewInstance, error) {
			id := strconv.Itoa(n)
			return NewInstance{ID: InstanceID(s.ID, id), Name: s.Name + "_" + id, Model: json.RawMessage(`{}`),
				Spec: VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux", ScaleSetID: s.ID}}, nil
		}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return res.State.(*ScaleSet), res.Operation
}

func (r *rig) opOf(id string) store.Operation {
	r.t.Helper()
	op, err := r.eng.Operation(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return op
}

// A batch survives a restart: its children and the set's record of them
// are durable, and it ends when the last child does.
func TestScaleSetBatchSurvivesRestart(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	set, put := r.putSet("rg", "ss", 2)
	if got := len(r.eng.Members(set)); got != 2 {
		t.Fatalf("%d instances, want 2", got)
	}
	r.advance(10 * time.Second)
	r.eng.Close()
	r.open(r.clk.Now())
	if op := r.opOf(put.ID); op.Status != StatusInProgress {
		t.Fatalf("PUT %s after restart, want InProgress", op.Status)
	}
	r.advance(30 * time.Second)
	if op := r.opOf(put.ID); op.Status != StatusSucceeded {
		t.Fatalf("PUT %s, want Succeeded", op.Status)
	}
	s, err := r.eng.GetScaleSet(testSub, "rg", "ss")
	if err != nil || s.ProvisioningState != "Succeeded" || len(s.Batches) != 0 {
		t.Fatalf("set after create: %+v %v", s, err)
	}
	// Instances are billed like VMs, with the set as their parent.
	events := r.history(InstanceID(s.ID, "0"))
	if len(events) == 0 || !json.Valid(events[0].Detail) || string(events[0].Detail) == "" {
		t.Fatalf("no history for instance 0: %v", events)
	}
	var detail eventDetail
	_ = json.Unmarshal(events[len(events)-1].Detail, &detail)
	if detail.ScaleSetID != s.ID {
		t.Fatalf("event parent %q, want %q", detail.ScaleSetID, s.ID)
	}
}

// One child preempted cancels the batch; one failed fails it.
func TestScaleSetBatchOutcome(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.putSet("rg", "ss", 2)
	r.advance(time.Minute)
	ctx := context.Background()
	batch, err := batchAct(ctx, r.eng, BatchRequest{Action: "deallocate",
		Req: lifecycle.Request{Kind: lifecycle.Deallocate}})
	if err != nil {
		t.Fatal(err)
	}
	r.advance(time.Second)
	if _, err := actOn(ctx, r.eng, InstanceID(setIDFor("rg", "ss"), "1"), lifecycle.Request{Kind: lifecycle.Start}); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Minute)
	if op := r.opOf(batch.ID); op.Status != StatusCanceled {
		t.Fatalf("batch %s, want Canceled", op.Status)
	}
	// A batch with nothing to do ends at once.
	noop, err := batchAct(ctx, r.eng, BatchRequest{Action: "start",
		Req: lifecycle.Request{Kind: lifecycle.Start}, InstanceIDs: []string{"1"}})
	if err != nil || noop.Status != StatusSucceeded {
		t.Fatalf("no-op batch %s %v, want Succeeded", noop.Status, err)
	}
	// The group's deletion takes the set with it.
	if _, err := deleteGroup(ctx, r.eng, testSub, "rg"); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Minute)
	if _, ok := r.eng.ScaleSetByID(setIDFor("rg", "ss")); ok {
		t.Fatal("the set outlived its group")
	}
	r.eng.Close()
	r.open(r.clk.Now())
	if _, ok := r.eng.ScaleSetByID(setIDFor("rg", "ss")); ok {
		t.Fatal("the set is back after a restart")
	}
}

func setIDFor(rg, name string) string { return scaleSetID(testSub, rg, name) }

// One instance failing fails the batch with its error, once the others end,
// even when the engine restarted in between.
func TestScaleSetBatchFails(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.putSet("rg", "ss", 2)
	r.advance(time.Minute)
	ctx := context.Background()
	batch := func(k lifecycle.Kind) store.Operation {
		t.Helper()
		op, err := batchAct(ctx, r.eng, BatchRequest{Action: string(k), Req: lifecycle.Request{Kind: k}})
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	batch(lifecycle.Deallocate)
	r.advance(time.Minute)
	if _, err := r.eng.Do(ctx, AddFault{Fault: Fault{Operation: "start", Resource: "ss_1", Error: "AllocationFailed", Count: one()}}); err != nil {
		t.Fatal(err)
	}
	start := batch(lifecycle.Start)
	r.advance(10 * time.Second)
	// Instance 1 failed its allocation; instance 0 still starts.
	if op := r.opOf(start.ID); op.Status != StatusInProgress {
		t.Fatalf("batch %s while an instance still runs, want InProgress", op.Status)
	}
	// Across a restart the failed instance's outcome is read back.
	r.eng.Close()
	r.open(r.clk.Now())
	r.advance(time.Minute)
	op := r.opOf(start.ID)
	var oe OperationError
	_ = json.Unmarshal(op.Error, &oe)
	if op.Status != StatusFailed || oe.Code != "AllocationFailed" {
		t.Fatalf("batch %s %s, want Failed AllocationFailed", op.Status, oe.Code)
	}
	if st := r.instanceState("ss", "0"); st.Power != lifecycle.Running {
		t.Fatalf("instance 0 %s, want running", st.Power)
	}
}

func (r *rig) instanceState(set, id string) lifecycle.State {
	r.t.Helper()
	v, err := r.eng.GetInstance(testSub, "rg", set, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return v.Machine.State
}

// A scale set stored before sets kept their batch children's outcomes gets
// the outcomes of the children that had ended from the store, once, at
// load; those still running settle the batch as they end.
func TestLegacyBatchOutcomesLoad(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	setID := scaleSetID(testSub, "rg", "pool")
	body := `{"spec":{"location":"westus","mode":"Uniform","capacity":2},"provisioningState":"Succeeded","nextInstance":2,` +
		`"batches":{"p1":["c1","c2"]},"uniqueId":"u","timeCreated":"2026-01-01T00:00:00Z"}`
	failed, _ := json.Marshal(OperationError{Code: "AllocationFailed", Message: "no room"})
	err := st.Apply(context.Background(), store.Change{
		Resources: []store.Resource{{ID: setID, Type: ScaleSetType, SubscriptionID: testSub, ResourceGroup: "rg", Name: "pool",
			Location: "westus", Body: json.RawMessage(body), Version: 1, CreatedAt: t0, UpdatedAt: t0}},
		Operations: []store.Operation{
			{ID: "p1", Kind: "start", TargetID: setID, Status: StatusInProgress, StartTime: t0},
			{ID: "c1", Kind: "start", TargetID: setID + "/virtualMachines/0", Status: StatusFailed, StartTime: t0, EndTime: t0, Error: failed},
			{ID: "c2", Kind: "start", TargetID: setID + "/virtualMachines/1", Status: StatusInProgress, StartTime: t0},
		}})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, mem: st}
	r.open(t0)
	s, ok := r.eng.ScaleSetByID(setID)
	if !ok {
		t.Fatal("the set did not load")
	}
	if o, ok := s.Outcomes["c1"]; !ok || o.Status != StatusFailed || o.Error == nil || o.Error.Code != "AllocationFailed" {
		t.Fatalf("c1's outcome: %+v %v", o, ok)
	}
	if _, ok := s.Outcomes["c2"]; ok || s.BatchKinds["p1"] != "start" {
		t.Fatalf("c2 still runs and p1 is a start: %+v %+v", s.Outcomes, s.BatchKinds)
	}
}

func batchAct(ctx context.Context, eng *Engine, in BatchRequest) (store.Operation, error) {
	res, err := eng.Do(ctx, Command{ID: setIDFor("rg", "ss"), Verb: VerbAct, Input: in})
	return res.Operation, err
}

// A set's members come from an index by set, not a scan of the fleet: after
// scale-out, VMs joining and leaving a Flexible set, scale-in, a delete and
// a restart, each set's members are what a scan finds.
func TestMembersIndexMatchesAScan(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.group("rg")
	r.putSet("rg", "u", 3)
	res, err := r.eng.Do(ctx, Command{ID: scaleSetID(testSub, "rg", "f"), Verb: VerbPut, Input: ScaleSetPut{
		Spec: ScaleSetSpec{Location: "westus", Mode: Flexible, Model: json.RawMessage(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	flex := res.State.(*ScaleSet)
	join := func(name, set string) {
		t.Helper()
		if _, _, _, err := putVM(ctx, r.eng, testSub, "rg", name, func(*VM) (json.RawMessage, VMSpec, error) {
			return json.RawMessage(`{"properties":{}}`), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux", ScaleSetID: set}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, want map[string]int) {
		t.Helper()
		for name, n := range want {
			set, err := r.eng.GetScaleSet(testSub, "rg", name)
			if err != nil {
				t.Fatal(err)
			}
			var scanned []string
			r.eng.mu.RLock()
			for _, v := range r.eng.vms {
				if isMember(set, v) {
					scanned = append(scanned, v.ID)
				}
			}
			r.eng.mu.RUnlock()
			var got []string
			for _, v := range r.eng.Members(set) {
				got = append(got, v.ID)
			}
			sort.Strings(scanned)
			indexed := append([]string(nil), got...)
			sort.Strings(indexed)
			if len(got) != n || !slices.Equal(indexed, scanned) {
				t.Fatalf("%s: set %s has members %v, a scan finds %v, want %d", when, name, got, scanned, n)
			}
		}
	}
	join("m1", flex.ID)
	join("m2", flex.ID)
	join("solo", "")
	r.advance(time.Minute)
	check("created", map[string]int{"u": 3, "f": 2})
	r.putSet("rg", "u", 5)
	r.act("m1", lifecycle.Delete)
	check("scaling out, a member deleting", map[string]int{"u": 5, "f": 2})
	r.advance(time.Minute)
	check("scaled out, a member deleted", map[string]int{"u": 5, "f": 1})
	r.putSet("rg", "u", 2)
	r.advance(time.Minute)
	check("scaled in", map[string]int{"u": 2, "f": 1})
	r.restart(r.clk.Now())
	check("restarted", map[string]int{"u": 2, "f": 1})
}

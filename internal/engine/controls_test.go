package engine

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/lifecycle"
)

func TestNewCapacity(t *testing.T) {
	c, err := NewCapacity(map[string]map[string]int{"westus": {"DSv3": 4, "standardBSFamily": 8}, "West Europe": {"dsv3": 2, "standardFSv2Family": 16}})
	if err != nil {
		t.Fatal(err)
	}
	want := Capacity{"westus": {"DSv3": 4, "BS": 8}, "westeurope": {"DSv3": 2, "FSv2": 16}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("capacity %v, want %v", c, want)
	}
	for _, bad := range []map[string]map[string]int{{" ": {"DSv3": 1}}, {"westus": {"D-2": 1}}, {"westus": {"DSv3": -1}}} {
		if _, err := NewCapacity(bad); err == nil {
			t.Errorf("NewCapacity(%v) took it", bad)
		}
	}
}

// SetCapacity at run time limits the operations submitted after it, and
// nil lifts the limit again.
func TestSetCapacity(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "a", false)
	r.advance(time.Minute)
	c, err := NewCapacity(map[string]map[string]int{"westus": {"DSv3": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Do(context.Background(), SetCapacity{Capacity: c}); err != nil {
		t.Fatal(err)
	}
	r.createVM("rg", "b", false)
	r.advance(time.Minute)
	if code := r.state("rg", "b").ProvisioningCode(); code != "ProvisioningState/failed/AllocationFailed" {
		t.Fatalf("create past capacity: %s", code)
	}
	if _, err := r.eng.Do(context.Background(), SetCapacity{}); err != nil {
		t.Fatal(err)
	}
	r.createVM("rg", "b", false)
	r.advance(time.Minute)
	if st := r.state("rg", "b"); st.Provisioning != lifecycle.Succeeded || st.Power != lifecycle.Running {
		t.Fatalf("create once unlimited: %s %s", st.ProvisioningCode(), st.Power)
	}
}

// NextDue names the instant of the next step: advancing to it fires exactly
// that step, and nothing is due once every plan has ended.
func TestNextDue(t *testing.T) {
	r := newRig(t)
	if at, ok := r.eng.NextDue(); ok {
		t.Fatalf("due at %s with no plan", at)
	}
	r.group("rg")
	r.createVM("rg", "a", false)
	at, ok := r.eng.NextDue()
	if !ok || !at.After(t0) {
		t.Fatalf("next due %s %v after a create at %s", at, ok, t0)
	}
	before := len(r.history(vmID("rg", "a")))
	r.advance(at.Sub(r.eng.Now()))
	if after := len(r.history(vmID("rg", "a"))); after <= before {
		t.Fatalf("advancing to the due time changed nothing: %d events, then %d", before, after)
	}
	for i := 0; ; i++ {
		at, ok := r.eng.NextDue()
		if !ok {
			break
		}
		if i > 100 {
			t.Fatal("the create never ends")
		}
		r.advance(at.Sub(r.eng.Now()))
	}
	if st := r.state("rg", "a"); st.Power != lifecycle.Running || !strings.HasSuffix(st.ProvisioningCode(), "succeeded") {
		t.Fatalf("after every due step: %s %s", st.ProvisioningCode(), st.Power)
	}
}

// Every request, control or command, goes through Do, so a closing engine
// refuses them all alike and changes nothing.
func TestClosingEngineRefusesEveryRequest(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	before := r.eng.Now()
	r.eng.Close()
	for _, req := range []Request{
		AdvanceClock{By: time.Hour}, ResetFleet{}, AddFault{Fault: Fault{Operation: "start", Error: "AllocationFailed"}},
		RemoveFaults{}, SetCapacity{}, CompactHistory{Horizon: before}, ProbeFault{Kind: FaultThrottle},
		Command{ID: "/subscriptions/" + testSub + "/resourceGroups/rg", Verb: VerbDelete},
	} {
		var refusal *Error
		if _, err := r.eng.Do(context.Background(), req); !errors.As(err, &refusal) || refusal.Code != CodeShuttingDown {
			t.Errorf("%T after Close: %v, want %s", req, err, CodeShuttingDown)
		}
	}
	if !r.eng.Now().Equal(before) || len(r.eng.Faults()) != 0 || len(r.eng.Groups(testSub)) != 1 {
		t.Fatalf("a refused request changed the engine: clock %s, faults %v, groups %d", r.eng.Now(), r.eng.Faults(), len(r.eng.Groups(testSub)))
	}
}

// Stats keeps its counts as the fleet changes rather than counting it per
// call: after every kind of change (create, power actions mid-flight and
// done, a refused commit, delete, a restart, a reset) they equal a count
// of the fleet.
func TestStatsCountsAsTheFleetChanges(t *testing.T) {
	r := newRig(t)
	check := func(when string) {
		t.Helper()
		r.eng.mu.RLock()
		want := map[string]int{}
		for _, v := range r.eng.vms {
			want[powerKey(v)]++
		}
		running := 0
		for _, op := range r.eng.ops {
			if !op.Done() {
				running++
			}
		}
		r.eng.mu.RUnlock()
		st := r.eng.Stats()
		if !reflect.DeepEqual(st.ByPower, want) || st.OperationsInProgress != running {
			t.Fatalf("%s: stats %v with %d in progress, counted %v with %d", when, st.ByPower, st.OperationsInProgress, want, running)
		}
	}
	r.group("rg")
	for _, name := range []string{"a", "b", "c"} {
		r.createVM("rg", name, false)
	}
	check("creating")
	r.advance(time.Minute)
	check("created")
	r.act("a", lifecycle.PowerOff)
	r.act("b", lifecycle.Deallocate)
	check("stopping")
	r.store.failing.Store(true)
	if _, err := act(context.Background(), r.eng, testSub, "rg", "c", lifecycle.Request{Kind: lifecycle.PowerOff}); err == nil {
		t.Fatal("a power action committed on a failing store")
	}
	r.store.failing.Store(false)
	check("after a refused commit")
	r.advance(time.Minute)
	check("stopped")
	r.act("c", lifecycle.Delete)
	check("deleting")
	r.advance(time.Minute)
	check("deleted")
	if st := r.eng.Stats(); st.ByPower["stopped"] != 1 || st.ByPower["deallocated"] != 1 || st.VMs != 2 {
		t.Fatalf("stats %+v, want a stopped and a deallocated VM", st)
	}
	r.act("a", lifecycle.Start)
	r.restart(r.clk.Now())
	check("restarted mid-operation")
	if _, err := r.eng.Do(context.Background(), ResetFleet{}); err != nil {
		t.Fatal(err)
	}
	check("reset")
}

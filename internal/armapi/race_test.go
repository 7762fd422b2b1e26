package armapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// facets is what a history event records of a VM's state.
type facets struct {
	code, power string
	generalized bool
	hibernated  bool
}

func facetsOf(s lifecycle.State) facets {
	return facets{s.ProvisioningCode(), string(s.Power), s.Generalized, s.Hibernated}
}

func TestConcurrentPowerOperations(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	id := vmID("rg", "vm1")

	// Every state the VM is published in, in commit order.
	var mu sync.Mutex
	var seen []facets
	last := facets{}
	if v, ok := e.eng.VMByID(id); ok {
		last = facetsOf(v.Machine.State)
	}
	e.eng.OnChange(func(c engine.Change) {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range c.VMs {
			if store.Key(v.ID) == store.Key(id) {
				seen = append(seen, facetsOf(v.Machine.State))
			}
		}
	})
	var before int
	if err := e.eng.History(context.Background(), id, time.Time{}, e.eng.Now().Add(time.Hour), func(store.Event) error { before++; return nil }); err != nil {
		t.Fatal(err)
	}

	actions := []string{"start", "powerOff", "deallocate", "restart"}
	var ops []string
	for round := range 3 {
		var wg sync.WaitGroup
		results := make([]resp, 20)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.do(http.MethodPost, vmPath("rg", "vm1")+"/"+actions[(i+round)%len(actions)], nil)
			}()
		}
		wg.Wait()
		accepted := 0
		for i, r := range results {
			switch r.Status {
			case http.StatusAccepted:
				accepted++
				if r.Header.Get("Azure-AsyncOperation") == "" || r.Header.Get("Location") == "" {
					t.Fatalf("202 without LRO headers: %v", r.Header)
				}
				ops = append(ops, r.Header.Get("Azure-AsyncOperation"))
			case http.StatusConflict:
				armError(t, r, http.StatusConflict, "OperationNotAllowed", "")
			default:
				t.Fatalf("%s answered %s", actions[(i+round)%len(actions)], r)
			}
		}
		if accepted == 0 {
			t.Fatalf("round %d: nothing accepted", round)
		}
		// Half-way through some of them, so the next round preempts.
		e.advance(7 * time.Second)
	}
	e.advance(5 * time.Minute)

	if p := e.provisioningState("rg", "vm1"); p != "Succeeded" {
		t.Fatalf("provisioningState %s", p)
	}
	for _, op := range ops {
		st := e.opStatus(op)
		switch st["status"] {
		case "Succeeded":
		case "Canceled":
			if dig(st, "error", "code") != "OperationPreempted" {
				t.Fatalf("canceled without OperationPreempted: %v", st)
			}
		default:
			t.Fatalf("operation %v", st)
		}
	}
	if n := dig(e.must(http.StatusOK, http.MethodGet, "/_azemu/health", nil).JSON(t), "fleet", "operationsInProgress"); n != 0.0 {
		t.Fatalf("operations in progress: %v", n)
	}

	// The history holds one event per state change, in order.
	mu.Lock()
	changes := 0
	for _, f := range seen {
		if f != last {
			changes++
		}
		last = f
	}
	mu.Unlock()
	var events []store.Event
	err := e.eng.History(context.Background(), id, time.Time{}, e.eng.Now().Add(time.Hour), func(ev store.Event) error {
		events = append(events, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkHistory(t, events)
	if len(events)-before != changes {
		t.Fatalf("%d history events for %d state changes", len(events)-before, changes)
	}
	v, _ := e.eng.VMByID(id)
	lastEv := events[len(events)-1]
	if lastEv.ProvisioningCode != v.Machine.State.ProvisioningCode() || lastEv.PowerState != string(v.Machine.State.Power) {
		t.Fatalf("last event %+v, VM %+v", lastEv, v.Machine.State)
	}

	// A new engine on the same store loads the same VM.
	eng2 := e.rig.Reopen(t)
	v2, ok := eng2.VMByID(id)
	if !ok || v2.Version != v.Version || facetsOf(v2.Machine.State) != facetsOf(v.Machine.State) || v2.Machine.Run != nil {
		a, _ := json.Marshal(v2)
		b, _ := json.Marshal(v)
		t.Fatalf("reloaded VM differs:\n%s\n%s", a, b)
	}
	var again []store.Event
	if err := eng2.History(context.Background(), id, time.Time{}, e.eng.Now().Add(time.Hour), func(ev store.Event) error {
		again = append(again, ev)
		return nil
	}); err != nil || len(again) != len(events) {
		t.Fatalf("reopened history: %d events, err %v", len(again), err)
	}
}

// checkHistory requires events strictly ordered by Seq with non-decreasing
// times, each a change from the one before (per VM).
func checkHistory(t *testing.T, events []store.Event) {
	t.Helper()
	prev := map[string]store.Event{}
	for i, ev := range events {
		if i > 0 {
			if ev.Seq <= events[i-1].Seq {
				t.Fatalf("event %d: seq %d after %d", i, ev.Seq, events[i-1].Seq)
			}
			if ev.At.Before(events[i-1].At) {
				t.Fatalf("event %d: time %v before %v", i, ev.At, events[i-1].At)
			}
		}
		key := store.Key(ev.VMID)
		if p, ok := prev[key]; ok && p.ProvisioningCode == ev.ProvisioningCode && p.PowerState == ev.PowerState && p.ProvisioningState != "Deleted" {
			// Generalized/hibernated flips are changes too; the race
			// test has none, so equal codes mean a repeated event.
			t.Fatalf("event %d repeats the state before it: %+v", i, ev)
		}
		prev[key] = ev
	}
}

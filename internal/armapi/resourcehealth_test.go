package armapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
)

func healthPath(rg, name string) string {
	return vmPath(rg, name) + "/providers/Microsoft.ResourceHealth/availabilityStatuses"
}

func TestResourceHealthFollowsTheVM(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	cur := e.must(http.StatusOK, http.MethodGet, healthPath("rg", "vm1")+"/current", nil).JSON(t)
	for path, want := range map[string]any{
		"name": "current", "type": "Microsoft.ResourceHealth/AvailabilityStatuses", "location": "westeurope",
		"properties.availabilityState": "Available",
	} {
		if got := dig(cur, strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if _, ok := props(cur)["occuredTime"]; !ok {
		t.Errorf("no occuredTime (Azure's spelling): %v", props(cur))
	}

	e.act("rg", "vm1", "deallocate")
	e.advance(30 * time.Second)
	cur = e.must(http.StatusOK, http.MethodGet, healthPath("rg", "vm1")+"/current", nil).JSON(t)
	if props(cur)["availabilityState"] != "Unavailable" || props(cur)["reasonType"] != "Customer Initiated" {
		t.Fatalf("deallocated: %v", props(cur))
	}

	// A start that fails to allocate leaves the VM Unavailable, Unplanned.
	if _, err := e.eng.Do(context.Background(), engine.AddFault{Fault: engine.Fault{Operation: "start", Error: "AllocationFailed"}}); err != nil {
		t.Fatal(err)
	}
	e.act("rg", "vm1", "start")
	e.advance(10 * time.Second)
	cur = e.must(http.StatusOK, http.MethodGet, healthPath("rg", "vm1")+"/current", nil).JSON(t)
	if props(cur)["availabilityState"] != "Unavailable" || props(cur)["reasonType"] != "Unplanned" {
		t.Fatalf("after AllocationFailed: %v", props(cur))
	}

	// The history lists each change, newest first: the failed start, the
	// deallocation's steps, running (while the create finished, then
	// settled), starting, and the allocation before any power state.
	list := e.must(http.StatusOK, http.MethodGet, healthPath("rg", "vm1"), nil).JSON(t)["value"].([]any)
	var states []string
	for _, v := range list {
		p := props(v.(map[string]any))
		states = append(states, p["availabilityState"].(string)+"/"+p["title"].(string))
	}
	want := "[Unavailable/Unavailable Unavailable/Stopped and deallocated Unavailable/Stopped and deallocating Unavailable/Stopping " +
		"Available/Available Available/Available Unavailable/Starting Unknown/Unknown]"
	if got := fmt.Sprint(states); got != want {
		t.Fatalf("history %s, want %s", got, want)
	}
	armError(t, e.do(http.MethodGet, healthPath("rg", "nope")+"/current", nil), http.StatusNotFound, "ResourceNotFound", "")
}

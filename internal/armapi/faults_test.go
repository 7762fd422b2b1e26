package armapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armapi"
)

func TestFaultEndpoints(t *testing.T) {
	e := newEnv(t)
	list := func() []any {
		t.Helper()
		v, _ := e.must(http.StatusOK, http.MethodGet, "/_azemu/faults", nil).JSON(t)["value"].([]any)
		return v
	}
	if v := list(); v == nil || len(v) != 0 {
		t.Fatalf("empty registry: want value [], got %v", v)
	}

	r := e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults",
		map[string]any{"operation": "start", "resource": "web-*", "error": "AllocationFailed", "count": 1, "id": "mine"})
	f := r.JSON(t)
	id, _ := f["id"].(string)
	if id == "" || id == "mine" || f["kind"] != "error" || f["count"] != 1.0 || f["resource"] != "web-*" {
		t.Fatalf("created fault: %v", f)
	}
	if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/_azemu/faults/"+id) {
		t.Fatalf("Location %q", loc)
	}
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults", map[string]any{"kind": "powerStateUnavailable", "probability": 0.2})
	if v := list(); len(v) != 2 || v[0].(map[string]any)["id"] != id {
		t.Fatalf("list: %v", v)
	}
	if got := e.must(http.StatusOK, http.MethodGet, "/_azemu/faults/"+strings.ToUpper(id), nil).JSON(t); got["id"] != id {
		t.Fatalf("get one: %v", got)
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		target string
	}{
		{"unknown error", map[string]any{"operation": "start", "error": "DiskFull"}, 400, "InvalidParameter", "error"},
		{"no operation", map[string]any{"error": "AllocationFailed"}, 400, "InvalidParameter", "operation"},
		{"bad probability", map[string]any{"kind": "throttle", "probability": 1.5}, 400, "InvalidParameter", "probability"},
		{"zero count", map[string]any{"kind": "throttle", "count": 0}, 400, "InvalidParameter", "count"},
		{"unknown kind", map[string]any{"kind": "meteor"}, 400, "InvalidParameter", "kind"},
		{"misspelt field", map[string]any{"kind": "throttle", "probabilty": 0.5}, 400, "InvalidRequestContent", ""},
		{"not JSON", "{", 400, "InvalidRequestContent", ""},
		{"empty", "", 400, "InvalidRequestContent", ""},
		{"two objects", `{"kind":"throttle"} {}`, 400, "InvalidRequestContent", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := armError(t, e.do(http.MethodPost, "/_azemu/faults", tc.body), tc.status, tc.code, "")
			if tc.target != "" && got["target"] != tc.target {
				t.Fatalf("target %v, want %s", got["target"], tc.target)
			}
		})
	}
	if v := list(); len(v) != 2 {
		t.Fatalf("a refused fault was registered: %v", v)
	}

	armError(t, e.do(http.MethodDelete, "/_azemu/faults/no-such-id", nil), http.StatusNotFound, "NotFound", "")
	armError(t, e.do(http.MethodGet, "/_azemu/faults/no-such-id", nil), http.StatusNotFound, "NotFound", "")
	armError(t, e.do(http.MethodPut, "/_azemu/faults", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "")
	if got := e.must(http.StatusOK, http.MethodDelete, "/_azemu/faults/"+id, nil).JSON(t); got["removed"] != 1.0 {
		t.Fatalf("delete one: %v", got)
	}
	if v := list(); len(v) != 1 {
		t.Fatalf("after deleting one: %v", v)
	}
	if got := e.must(http.StatusOK, http.MethodDelete, "/_azemu/faults", nil).JSON(t); got["removed"] != 1.0 {
		t.Fatalf("delete all: %v", got)
	}
	if v := list(); len(v) != 0 {
		t.Fatalf("after deleting all: %v", v)
	}
}

// An injected error fault fails the operation over HTTP as the engine
// decides, and a count-1 fault is spent.
func TestErrorFaultOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.act("rg", "vm1", "deallocate")
	e.advance(time.Minute)
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults",
		map[string]any{"operation": "start", "resource": vmID("rg", "vm1"), "error": "ZonalAllocationFailed", "count": 1})
	async := e.act("rg", "vm1", "start")
	e.advance(10 * time.Second)
	op := e.opStatus(async)
	if op["status"] != "Failed" || dig(op, "error", "code") != "ZonalAllocationFailed" {
		t.Fatalf("operation: %v", op)
	}
	if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/failed/ZonalAllocationFailed" || pw != "PowerState/deallocated" {
		t.Fatalf("after the fault: %s %s", prov, pw)
	}
	if v := e.must(http.StatusOK, http.MethodGet, "/_azemu/faults", nil).JSON(t)["value"].([]any); len(v) != 0 {
		t.Fatalf("count-1 fault still registered: %v", v)
	}
}

func TestThrottleFault(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults", map[string]any{"kind": "throttle", "operation": "GET", "count": 2})
	// A PUT is not a GET: not throttled.
	e.must(http.StatusOK, http.MethodPut, groupPath("rg"), map[string]any{"location": "westeurope"})
	for i := range 2 {
		r := e.do(http.MethodGet, vmPath("rg", "vm1"), nil)
		armError(t, r, http.StatusTooManyRequests, "TooManyRequests", "")
		if r.Header.Get("Retry-After") != "1" || r.Header.Get("x-ms-request-id") == "" {
			t.Fatalf("throttled GET %d: headers %v", i, r.Header)
		}
	}
	e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil)

	// A VM action by name; other actions pass.
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults", map[string]any{"kind": "throttle", "operation": "powerOff"})
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/powerOff", nil), http.StatusTooManyRequests, "TooManyRequests", "")
	e.act("rg", "vm1", "restart")
	if _, pw := e.state("rg", "vm1"); pw != "PowerState/stopping" {
		t.Fatalf("restart did not run: %s", pw)
	}
	e.must(http.StatusOK, http.MethodDelete, "/_azemu/faults", nil)
	e.advance(time.Minute)
	e.act("rg", "vm1", "powerOff")
	// The emulator's own endpoints are never throttled.
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults", map[string]any{"kind": "throttle"})
	e.must(http.StatusOK, http.MethodGet, "/_azemu/health", nil)
	armError(t, e.do(http.MethodGet, groupPath("rg"), nil), http.StatusTooManyRequests, "TooManyRequests", "")
}

func TestPowerStateUnavailableFault(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.createVM("rg", "vm2", linuxVM("rg", "vm2", "westeurope"))
	listAll := "/subscriptions/" + sub + "/providers/Microsoft.Compute/virtualMachines?statusOnly=true"
	codes := func() map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for _, v := range e.must(http.StatusOK, http.MethodGet, listAll, nil).JSON(t)["value"].([]any) {
			vm := v.(map[string]any)
			for _, s := range dig(vm, "properties", "instanceView", "statuses").([]any) {
				out[vm["name"].(string)] = append(out[vm["name"].(string)], s.(map[string]any)["code"].(string))
			}
		}
		return out
	}
	want := "ProvisioningState/succeeded PowerState/running"
	if c := codes(); strings.Join(c["vm1"], " ") != want || strings.Join(c["vm2"], " ") != want {
		t.Fatalf("without the fault: %v", c)
	}
	// Probability defaults to 1; count 1 drops the entry of one VM only.
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults", map[string]any{"kind": "powerStateUnavailable", "count": 1})
	c := codes()
	if strings.Join(c["vm1"], " ") != "ProvisioningState/succeeded" || strings.Join(c["vm2"], " ") != want {
		t.Fatalf("with a count-1 fault: %v", c)
	}
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults", map[string]any{"kind": "powerStateUnavailable"})
	c = codes()
	if strings.Join(c["vm1"], " ") != "ProvisioningState/succeeded" || strings.Join(c["vm2"], " ") != "ProvisioningState/succeeded" {
		t.Fatalf("with probability 1: %v", c)
	}
	// Only statusOnly listAll has the gap: the instance view and a plain
	// list with $expand do not.
	if _, pw := e.state("rg", "vm1"); pw != "PowerState/running" {
		t.Fatalf("instance view lost the power state: %q", pw)
	}
	for _, v := range e.must(http.StatusOK, http.MethodGet, groupPath("rg")+"/providers/Microsoft.Compute/virtualMachines?$expand=instanceView", nil).JSON(t)["value"].([]any) {
		if n := len(dig(v.(map[string]any), "properties", "instanceView", "statuses").([]any)); n != 2 {
			t.Fatalf("list with $expand: %d statuses", n)
		}
	}
	e.must(http.StatusOK, http.MethodDelete, "/_azemu/faults", nil)
	if c := codes(); strings.Join(c["vm1"], " ") != want {
		t.Fatalf("after removing the fault: %v", c)
	}
}

func withRateLimits(l armapi.RateLimits) envOption {
	return func(c *armapi.Config) { c.RateLimits = l }
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t, withRateLimits(armapi.RateLimits{Writes: 3, Deletes: 1}))
	const hdr = "x-ms-ratelimit-remaining-subscription-writes"
	for i, want := range []string{"2", "1", "0"} {
		status := http.StatusOK
		if i == 0 {
			status = http.StatusCreated
		}
		r := e.must(status, http.MethodPut, groupPath("rg"), map[string]any{"location": "westeurope"})
		if r.Header.Get(hdr) != want {
			t.Fatalf("write %d: %s = %q, want %s", i, hdr, r.Header.Get(hdr), want)
		}
	}
	// Reads have no budget: no header, never refused.
	r := e.must(http.StatusOK, http.MethodGet, groupPath("rg"), nil)
	if r.Header.Get("x-ms-ratelimit-remaining-subscription-reads") != "" || r.Header.Get(hdr) != "" {
		t.Fatalf("a read carries a write header: %v", r.Header)
	}
	r = e.do(http.MethodPut, groupPath("rg"), map[string]any{"location": "westeurope"})
	armError(t, r, http.StatusTooManyRequests, "SubscriptionRequestsThrottled", "")
	// One token of 3 per hour comes back in 20 minutes.
	if r.Header.Get("Retry-After") != "1200" || r.Header.Get(hdr) != "0" {
		t.Fatalf("throttled write: Retry-After %q, %s %q", r.Header.Get("Retry-After"), hdr, r.Header.Get(hdr))
	}
	// Another subscription has its own budget.
	other := "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg"
	if r := e.must(http.StatusCreated, http.MethodPut, other, map[string]any{"location": "westeurope"}); r.Header.Get(hdr) != "2" {
		t.Fatalf("other subscription: %v", r.Header)
	}
	e.advance(20*time.Minute - time.Second)
	r = e.do(http.MethodPut, groupPath("rg"), map[string]any{"location": "westeurope"})
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("a second early: %s Retry-After %q", r, r.Header.Get("Retry-After"))
	}
	e.advance(time.Second)
	if r := e.must(http.StatusOK, http.MethodPut, groupPath("rg"), map[string]any{"location": "westeurope"}); r.Header.Get(hdr) != "0" {
		t.Fatalf("after the refill: %v", r.Header)
	}
	// Deletes count apart: the one delete passes, the next is refused.
	const del = "x-ms-ratelimit-remaining-subscription-deletes"
	if r := e.do(http.MethodDelete, vmPath("rg", "nope"), nil); r.Status != http.StatusNoContent || r.Header.Get(del) != "0" {
		t.Fatalf("delete: %s %v", r, r.Header)
	}
	armError(t, e.do(http.MethodDelete, vmPath("rg", "nope"), nil), http.StatusTooManyRequests, "SubscriptionRequestsThrottled", "")
	// The emulator's endpoints are not ARM's: no budget, though writes are spent.
	if r := e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults", map[string]any{"kind": "throttle", "count": 1}); r.Header.Get(hdr) != "" {
		t.Fatalf("an emulator endpoint counted as a write: %v", r.Header)
	}
}

func TestParseRateLimits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want armapi.RateLimits
		err  bool
	}{
		{"", armapi.RateLimits{}, false},
		{"writes=3", armapi.RateLimits{Writes: 3}, false},
		{"reads=12000, writes=1200,deletes=15000", armapi.RateLimits{Reads: 12000, Writes: 1200, Deletes: 15000}, false},
		{"azure", armapi.AzureRateLimits, false},
		{"Reads=0", armapi.RateLimits{}, false},
		{"writes", armapi.RateLimits{}, true},
		{"writes=-1", armapi.RateLimits{}, true},
		{"writes=1.5", armapi.RateLimits{}, true},
		{"writes=2000000", armapi.RateLimits{}, true},
		{"lists=5", armapi.RateLimits{}, true},
	} {
		got, err := armapi.ParseRateLimits(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseRateLimits(%q) = %+v, %v", tc.in, got, err)
		}
		if !tc.err && got.Enabled() {
			if back, _ := armapi.ParseRateLimits(got.String()); back != got {
				t.Errorf("%q: String() %q does not parse back", tc.in, got.String())
			}
		}
	}
}

func TestEvictEndpoint(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "regular", linuxVM("rg", "regular", "westeurope"))
	armError(t, e.do(http.MethodPost, "/_azemu/vms"+vmID("rg", "regular")+"/evict", nil), http.StatusConflict, "OperationNotAllowed", "")

	spot := with(with(linuxVM("rg", "spot", "westeurope"), "properties.priority", "Spot"), "properties.billingProfile", map[string]any{"maxPrice": -1})
	e.createVM("rg", "spot", spot)
	r := e.must(http.StatusAccepted, http.MethodPost, "/_azemu/vms"+vmID("rg", "spot")+"/evict", nil)
	async := r.Header.Get("Azure-AsyncOperation")
	if async == "" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("evict: LRO headers missing: %v", r.Header)
	}
	e.advance(30 * time.Second)
	if prov, pw := e.state("rg", "spot"); prov != "ProvisioningState/succeeded" || pw != "PowerState/deallocated" {
		t.Fatalf("evicted: %s %s", prov, pw)
	}
	if op := e.opStatus(async); op["status"] != "Succeeded" {
		t.Fatalf("eviction operation: %v", op)
	}

	del := with(with(linuxVM("rg", "spot2", "westeurope"), "properties.priority", "Spot"), "properties.evictionPolicy", "Delete")
	e.createVM("rg", "spot2", del)
	e.must(http.StatusAccepted, http.MethodPost, "/_azemu/vms"+vmID("rg", "spot2")+"/evict", nil)
	e.advance(20 * time.Second)
	armError(t, e.do(http.MethodGet, vmPath("rg", "spot2"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestVMBillingProfile(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	spot := with(linuxVM("rg", "spot", "westeurope"), "properties.priority", "Spot")
	for _, bad := range []float64{0, -0.5, -2} {
		armError(t, e.do(http.MethodPut, vmPath("rg", "spot"), with(spot, "properties.billingProfile", map[string]any{"maxPrice": bad})),
			http.StatusBadRequest, "InvalidParameter", "")
	}
	armError(t, e.do(http.MethodPut, vmPath("rg", "spot"), with(spot, "properties.billingProfile", map[string]any{"maxPrice": "cheap"})),
		http.StatusBadRequest, "InvalidRequestContent", "")
	// Any casing is canonicalised; the price is kept.
	r := e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "spot"), with(spot, "properties.BillingProfile", map[string]any{"MaxPrice": 0.05}))
	if got := dig(r.JSON(t), "properties", "billingProfile", "maxPrice"); got != 0.05 {
		t.Fatalf("created: billingProfile.maxPrice %v", got)
	}
	e.advance(80 * time.Second)
	if got := dig(e.must(http.StatusOK, http.MethodGet, vmPath("rg", "spot"), nil).JSON(t), "properties", "billingProfile", "maxPrice"); got != 0.05 {
		t.Fatalf("GET: billingProfile.maxPrice %v", got)
	}
	e.must(http.StatusOK, http.MethodPut, vmPath("rg", "spot"), with(spot, "properties.billingProfile", map[string]any{"maxPrice": -1}))
}

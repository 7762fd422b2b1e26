package armapi_test

import (
	"net/http"
	"testing"
	"time"
)

// GET /_azemu/vms lists every VM with its power state and whether it is
// billed: a Stopped VM still is, a deallocated one is not.
func TestFleetShowsPowerAndBilling(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createGroup("other")
	for _, name := range []string{"run", "stop", "dealloc"} {
		e.createVM("rg", name, linuxVM("rg", name, "westus"))
	}
	e.createVM("other", "elsewhere", linuxVM("other", "elsewhere", "westus"))
	e.advance(2 * time.Minute)
	e.act("rg", "stop", "powerOff")
	e.act("rg", "dealloc", "deallocate")
	e.advance(time.Minute)

	list := func(query string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, v := range e.must(http.StatusOK, http.MethodGet, "/_azemu/vms"+query, nil).JSON(t)["value"].([]any) {
			vm := v.(map[string]any)
			out[vm["name"].(string)] = vm
		}
		return out
	}
	all := list("")
	want := map[string][2]any{"run": {"running", true}, "stop": {"stopped", true}, "dealloc": {"deallocated", false}, "elsewhere": {"running", true}}
	if len(all) != len(want) {
		t.Fatalf("listed %v", all)
	}
	for name, w := range want {
		vm := all[name]
		if vm["powerState"] != w[0] || vm["billed"] != w[1] || vm["provisioningState"] != "Succeeded" || vm["vmSize"] != "Standard_D2s_v3" {
			t.Errorf("%s: %v, want %v", name, vm, w)
		}
	}
	if id := all["run"]["id"]; id != vmID("rg", "run") {
		t.Errorf("id %v, want %s", id, vmID("rg", "run"))
	}
	if rg := list("?subscription=" + sub + "&resourceGroup=OTHER"); len(rg) != 1 || rg["elsewhere"] == nil {
		t.Fatalf("one group: %v", rg)
	}
	armError(t, e.do(http.MethodGet, "/_azemu/vms?resourceGroup=rg", nil), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodPost, "/_azemu/vms", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "")
}

package armapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
)

func TestEmulatorClock(t *testing.T) {
	e := newEnv(t)
	c := e.must(http.StatusOK, http.MethodGet, "/_azemu/clock", nil).JSON(t)
	if c["mode"] != "manual" || c["now"] != clock.DefaultManualStart.Format(time.RFC3339Nano) {
		t.Fatalf("clock: %v", c)
	}
	c = e.must(http.StatusOK, http.MethodPost, "/_azemu/clock/advance", map[string]string{"duration": "1h30m"}).JSON(t)
	want := clock.DefaultManualStart.Add(90 * time.Minute)
	if c["now"] != want.Format(time.RFC3339Nano) || !e.eng.Now().Equal(want) {
		t.Fatalf("after advance: %v", c)
	}
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"not a duration", map[string]string{"duration": "soon"}, "InvalidParameter"},
		{"no unit", map[string]string{"duration": "90"}, "InvalidParameter"},
		{"missing", map[string]string{}, "InvalidParameter"},
		{"negative", map[string]string{"duration": "-5s"}, "InvalidParameter"},
		// Past year 2262 the store cannot hold an instant: every write
		// after such an advance used to fail for good.
		{"past the storable range", map[string]string{"duration": "2562047h"}, "InvalidParameter"},
		{"malformed", "{", "InvalidRequestContent"},
		{"empty", "", "InvalidRequestContent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			armError(t, e.do(http.MethodPost, "/_azemu/clock/advance", tc.body), http.StatusBadRequest, tc.code, "")
		})
	}
	if !e.eng.Now().Equal(want) {
		t.Fatal("a refused advance moved the clock")
	}
}

func TestEmulatorHealthAndReset(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	created := e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "vm2"), linuxVM("rg", "vm2", "westeurope"))
	op := created.Header.Get("Azure-AsyncOperation")

	h := e.must(http.StatusOK, http.MethodGet, "/_azemu/health", nil).JSON(t)
	fleet := h["fleet"].(map[string]any)
	if h["status"] != "ok" || h["clock"] != "manual" || fleet["subscriptions"] != 1.0 || fleet["resourceGroups"] != 1.0 ||
		fleet["virtualMachines"] != 2.0 || fleet["operationsInProgress"] != 1.0 || dig(fleet, "byPowerState", "running") != 1.0 {
		t.Fatalf("health: %v", h)
	}

	r := e.must(http.StatusOK, http.MethodPost, "/_azemu/reset", nil)
	if r.JSON(t)["reset"] != true {
		t.Fatal(r)
	}
	h = e.must(http.StatusOK, http.MethodGet, "/_azemu/health", nil).JSON(t)
	fleet = h["fleet"].(map[string]any)
	if fleet["subscriptions"] != 0.0 || fleet["resourceGroups"] != 0.0 || fleet["virtualMachines"] != 0.0 || fleet["operationsInProgress"] != 0.0 {
		t.Fatalf("health after reset: %v", h)
	}
	if v := e.must(http.StatusOK, http.MethodGet, "/subscriptions", nil).JSON(t)["value"].([]any); len(v) != 0 {
		t.Fatalf("subscriptions after reset: %v", v)
	}
	armError(t, e.do(http.MethodGet, groupPath("rg"), nil), http.StatusNotFound, "ResourceGroupNotFound", "")
	armError(t, e.do(http.MethodGet, op, nil), http.StatusNotFound, "ResourceNotFound", "")
	// The clock stays; what was due before the reset never fires.
	e.advance(10 * time.Minute)
	// The emulator works as new.
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	if v := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines", nil).JSON(t)["value"].([]any); len(v) != 1 {
		t.Fatalf("after reset and create: %v", v)
	}
}

func TestEmulatorGuestActions(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	guest := "/_azemu/vms" + vmID("rg", "vm1") + "/guestShutdown"

	r := e.send(http.MethodPost, guest, nil, req{noAuth: true})
	if r.Status != http.StatusAccepted {
		t.Fatal(r)
	}
	async := r.Header.Get("Azure-AsyncOperation")
	if st := r.JSON(t); st["status"] != "InProgress" || !strings.HasSuffix(async, st["name"].(string)+"?api-version=2025-04-01") {
		t.Fatalf("guestShutdown: %v %s", st, async)
	}
	if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/succeeded" || pw != "PowerState/stopping" {
		t.Fatalf("shutting down: %s %s", prov, pw)
	}
	e.advance(5 * time.Second)
	if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/succeeded" || pw != "PowerState/stopped" {
		t.Fatalf("after a guest shutdown: %s %s", prov, pw)
	}
	if s := e.opStatus(async)["status"]; s != "Succeeded" {
		t.Fatal(s)
	}
	// Only a running guest shuts down.
	armError(t, e.do(http.MethodPost, guest, nil), http.StatusConflict, "OperationNotAllowed", "")
	// Casing of the ID does not matter; migration runs and ends.
	e.must(http.StatusAccepted, http.MethodPost, "/_azemu/vms"+strings.ToUpper(vmID("rg", "vm1"))+"/migrate", nil)
	if p := e.provisioningState("rg", "vm1"); p != "Migrating" {
		t.Fatal(p)
	}
	e.advance(30 * time.Second)
	if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/succeeded" || pw != "PowerState/stopped" {
		t.Fatalf("after migrate: %s %s", prov, pw)
	}
	// Bad IDs and missing VMs.
	armError(t, e.do(http.MethodPost, "/_azemu/vms/"+sub+"/rg/guestShutdown", nil), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodPost, "/_azemu/vms"+groupPath("rg")+"/guestShutdown", nil), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodPost, "/_azemu/vms"+vmID("rg", "nope")+"/guestShutdown", nil), http.StatusNotFound, "ResourceNotFound", "")
}

// A change that another site's page could make is refused, and changes
// nothing: a simple cross-origin POST (text/plain, a form, or no type at
// all) and any request naming another origin. GETs are still answered.
func TestEmulatorRefusesCrossSiteChanges(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.advance(2 * time.Minute)
	before := e.eng.Now()
	paths := []string{"/_azemu/reset", "/_azemu/clock/advance", "/_azemu/faults",
		"/_azemu/vms" + vmID("rg", "vm1") + "/guestShutdown", "/_azemu/vms" + vmID("rg", "vm1") + "/migrate", "/_azemu/vms" + vmID("rg", "vm1") + "/evict"}
	for _, path := range paths {
		for _, tc := range []struct {
			name    string
			headers map[string]string
			status  int
			code    string
		}{
			{"text/plain", map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType, "UnsupportedMediaType"},
			{"form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, "UnsupportedMediaType"},
			{"no type", map[string]string{"Content-Type": ""}, http.StatusUnsupportedMediaType, "UnsupportedMediaType"},
			{"other origin", map[string]string{"Origin": "http://127.0.0.1:1"}, http.StatusForbidden, "CrossSiteRequestRefused"},
			{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "CrossSiteRequestRefused"},
		} {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				armError(t, e.send(http.MethodPost, path, `{"duration":"1h","kind":"throttle","operation":"*"}`, req{headers: tc.headers}), tc.status, tc.code, "")
			})
		}
	}
	armError(t, e.send(http.MethodDelete, "/_azemu/faults", nil, req{headers: map[string]string{"Origin": "https://attacker.example"}}), http.StatusForbidden, "CrossSiteRequestRefused", "")
	if !e.eng.Now().Equal(before) || len(e.eng.Faults()) != 0 {
		t.Fatalf("a refused request changed the emulator: clock %v, faults %v", e.eng.Now(), e.eng.Faults())
	}
	if got := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"/instanceView", nil); !strings.Contains(string(got.Body), "PowerState/running") {
		t.Fatalf("a refused request changed the VM: %s", got)
	}
	if got := e.send(http.MethodGet, "/_azemu/health", nil, req{headers: map[string]string{"Origin": "http://127.0.0.1:1"}}); got.Status != http.StatusOK {
		t.Fatalf("a cross-origin GET of health: %s", got)
	}
}

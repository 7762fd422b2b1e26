package armapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
)

// decode reads an answer into an SDK type, as a client would.
func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%v in %s", err, r.Body)
	}
	return v
}

// computeTime is how Compute writes times (the 2024-07-01 examples):
// seven fractional digits and +00:00.
var computeTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$`)

// TestVMGetFidelity: what the Compute spec's examples show on a VM GET and
// its instance view, read through the SDK's types: the extensions as
// resources[]; the agent's extension handlers; the platform domains while
// allocated; the agent unresponsive once deallocated; the $expand values
// the spec allows, userData among them, and a 400 for any other; times in
// Compute's layout.
func TestVMGetFidelity(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := linuxVM("rg", "vm1", "westeurope")
	props(body)["userData"] = "ZWNobyBoaQ=="
	e.createVM("rg", "vm1", body)
	e.must(http.StatusCreated, http.MethodPut, extPath("rg", "vm1", "script"), customScript("20"))
	e.advance(20 * time.Second)

	vm := decode[armcompute.VirtualMachine](t, e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil))
	if len(vm.Resources) != 1 || *vm.Resources[0].Name != "script" || *vm.Resources[0].Properties.Type != "CustomScript" {
		t.Fatalf("resources: %+v", vm.Resources)
	}
	if vm.Properties.UserData != nil {
		t.Fatalf("userData without $expand=userData: %q", *vm.Properties.UserData)
	}
	raw := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t)
	if tc, _ := props(raw)["timeCreated"].(string); !computeTime.MatchString(tc) {
		t.Errorf("timeCreated %q", tc)
	}
	vm = decode[armcompute.VirtualMachine](t, e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"?$expand=userData", nil))
	if vm.Properties.UserData == nil || *vm.Properties.UserData != "ZWNobyBoaQ==" || vm.Properties.InstanceView != nil {
		t.Fatalf("$expand=userData: %+v", vm.Properties)
	}
	armError(t, e.do(http.MethodGet, vmPath("rg", "vm1")+"?$expand=statuses", nil), http.StatusBadRequest, "InvalidParameter", "The request URL is not valid.")

	ivResp := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"/instanceView", nil)
	iv := decode[armcompute.VirtualMachineInstanceView](t, ivResp)
	if iv.PlatformUpdateDomain == nil || *iv.PlatformUpdateDomain != 0 || iv.PlatformFaultDomain == nil || *iv.PlatformFaultDomain != 0 {
		t.Errorf("platform domains: %v %v", iv.PlatformUpdateDomain, iv.PlatformFaultDomain)
	}
	if iv.VMAgent == nil || len(iv.VMAgent.ExtensionHandlers) != 1 ||
		*iv.VMAgent.ExtensionHandlers[0].Type != "Microsoft.Azure.Extensions.CustomScript" ||
		*iv.VMAgent.ExtensionHandlers[0].TypeHandlerVersion != "2.1" || *iv.VMAgent.ExtensionHandlers[0].Status.DisplayStatus != "Ready" {
		t.Fatalf("agent: %+v", iv.VMAgent)
	}
	var times struct {
		Statuses []struct {
			Time string `json:"time"`
		} `json:"statuses"`
	}
	_ = json.Unmarshal(ivResp.Body, &times)
	if len(times.Statuses) == 0 || !computeTime.MatchString(times.Statuses[0].Time) {
		t.Errorf("status times: %+v", times.Statuses)
	}

	osDisk := *vm.Properties.StorageProfile.OSDisk.ManagedDisk.ID
	if d := decode[armcompute.Disk](t, e.must(http.StatusOK, http.MethodGet, osDisk, nil)); *d.Properties.DiskState != armcompute.DiskStateAttached {
		t.Errorf("OS disk of a running VM: %s", *d.Properties.DiskState)
	}
	e.act("rg", "vm1", "deallocate")
	e.advance(time.Minute)
	iv = decode[armcompute.VirtualMachineInstanceView](t, e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"/instanceView", nil))
	if iv.PlatformUpdateDomain != nil || iv.PlatformFaultDomain != nil {
		t.Errorf("a deallocated VM has no host, but domains %v %v", *iv.PlatformUpdateDomain, *iv.PlatformFaultDomain)
	}
	if iv.VMAgent == nil || len(iv.VMAgent.Statuses) != 1 || *iv.VMAgent.Statuses[0].Message != "VM Agent is unresponsive." ||
		*iv.VMAgent.Statuses[0].DisplayStatus != "Not Ready" || len(iv.VMAgent.ExtensionHandlers) != 0 {
		t.Fatalf("deallocated agent: %+v", iv.VMAgent)
	}
	if d := decode[armcompute.Disk](t, e.must(http.StatusOK, http.MethodGet, osDisk, nil)); *d.Properties.DiskState != armcompute.DiskStateReserved {
		t.Errorf("OS disk of a deallocated VM: %s", *d.Properties.DiskState)
	}

	// Hibernated: the disk is Frozen.
	hib := linuxVM("rg", "vm2", "westeurope")
	props(hib)["additionalCapabilities"] = map[string]any{"hibernationEnabled": true}
	e.createVM("rg", "vm2", hib)
	e.must(http.StatusAccepted, http.MethodPost, vmPath("rg", "vm2")+"/deallocate?hibernate=true", nil)
	e.advance(time.Minute)
	vm2 := decode[armcompute.VirtualMachine](t, e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm2"), nil))
	if d := decode[armcompute.Disk](t, e.must(http.StatusOK, http.MethodGet, *vm2.Properties.StorageProfile.OSDisk.ManagedDisk.ID, nil)); *d.Properties.DiskState != armcompute.DiskStateFrozen {
		t.Errorf("OS disk of a hibernated VM: %s", *d.Properties.DiskState)
	}
}

// TestLROHeaders: a long-running operation's first answer carries the
// headers Compute sends, and its status reads times in Compute's layout.
func TestLROHeaders(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	r := e.must(http.StatusAccepted, http.MethodPost, vmPath("rg", "vm1")+"/powerOff", nil)
	for h, want := range map[string]string{"Azure-AsyncNotification": "Enabled", "Cache-Control": "no-cache", "Pragma": "no-cache", "Retry-After": "1"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("Azure-AsyncOperation") == "" || r.Header.Get("Location") == "" {
		t.Fatalf("headers %v", r.Header)
	}
	e.advance(time.Minute)
	op := e.must(http.StatusOK, http.MethodGet, r.Header.Get("Azure-AsyncOperation"), nil).JSON(t)
	for _, k := range []string{"startTime", "endTime"} {
		if s, _ := op[k].(string); !computeTime.MatchString(s) {
			t.Errorf("operation %s %q", k, op[k])
		}
	}
}

// An additionalCapabilities that sets nothing is left out of the GET, as
// Compute leaves it out; one that sets something is kept. The azurerm
// provider sends {} when a configuration names no capabilities.
func TestEmptyAdditionalCapabilitiesOmitted(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	for _, tc := range []struct {
		name string
		sent any
		kept bool
	}{
		{"empty", map[string]any{}, false},
		{"nulls", map[string]any{"ultraSSDEnabled": nil, "hibernationEnabled": nil}, false},
		{"set", map[string]any{"hibernationEnabled": true}, true},
	} {
		body := linuxVM("rg", tc.name, "westeurope")
		props(body)["additionalCapabilities"] = tc.sent
		e.createVM("rg", tc.name, body)
		_, kept := props(e.must(http.StatusOK, http.MethodGet, vmPath("rg", tc.name), nil).JSON(t))["additionalCapabilities"]
		if kept != tc.kept {
			t.Errorf("VM %s: additionalCapabilities kept %v, want %v", tc.name, kept, tc.kept)
		}
		set := uniformSet("rg", 1)
		props(set)["additionalCapabilities"] = tc.sent
		e.must(http.StatusCreated, http.MethodPut, setPath("rg", "set-"+tc.name), set)
		_, kept = props(e.must(http.StatusOK, http.MethodGet, setPath("rg", "set-"+tc.name), nil).JSON(t))["additionalCapabilities"]
		if kept != tc.kept {
			t.Errorf("scale set %s: additionalCapabilities kept %v, want %v", tc.name, kept, tc.kept)
		}
	}
}

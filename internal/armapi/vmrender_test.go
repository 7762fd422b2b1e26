package armapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/engine"
)

// Every GET answer of a varied fleet (sizes, Linux and Windows, data
// disks, userData, tags that JSON escapes, extensions installed and
// installing, Flexible and Uniform scale set members, creating, stopped,
// deallocated, failed) is the same, byte for byte, rendered by the typed
// renderer and by the map and reflection it replaced, and over HTTPS
// (twice: rendered, then kept).
func TestVMAnswersMatchTheReferenceAcrossAFleet(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	windows := with(without(linuxVM("rg", "win", "westeurope"), "properties.storageProfile.imageReference"), "properties.storageProfile.imageReference",
		map[string]any{"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter", "version": "latest"})
	windows = with(windows, "properties.hardwareProfile", map[string]any{"vmSize": "Standard_B2ms"})
	e.createVM("rg", "win", windows)

	tagged := with(linuxVM("rg", "tagged", "westeurope"), "tags", map[string]any{"team": "a&b <c>", "note": "café\u2028 \"quoted\"", "n": "1.50"})
	tagged = with(tagged, "properties.userData", "ZWNobyBoaQ==")
	e.createVM("rg", "tagged", tagged)

	disks := with(linuxVM("rg", "disks", "westeurope"), "properties.hardwareProfile", map[string]any{"vmSize": "Standard_D8s_v5"})
	disks = with(disks, "properties.storageProfile.dataDisks", []any{
		map[string]any{"lun": 0, "createOption": "Empty", "diskSizeGB": 8},
		map[string]any{"lun": 3, "createOption": "Empty", "diskSizeGB": 1023, "caching": "ReadOnly"}})
	e.createVM("rg", "disks", disks)

	e.createVM("rg", "ext", linuxVM("rg", "ext", "westeurope"))
	e.must(http.StatusCreated, http.MethodPut, extPath("rg", "ext", "done"), customScript("5"))
	e.advance(10 * time.Second)
	e.must(http.StatusCreated, http.MethodPut, extPath("rg", "ext", "busy"), customScript("600"))

	for _, name := range []string{"stopped", "deallocated", "failed"} {
		e.createVM("rg", name, linuxVM("rg", name, "westeurope"))
	}
	e.act("rg", "stopped", "powerOff")
	e.act("rg", "deallocated", "deallocate")
	e.act("rg", "failed", "deallocate")
	e.advance(time.Minute)
	e.must(http.StatusCreated, http.MethodPost, "/_azemu/faults",
		map[string]any{"operation": "start", "resource": vmID("rg", "failed"), "error": "ZonalAllocationFailed", "count": 1})
	e.act("rg", "failed", "start")
	e.advance(10 * time.Second)

	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "flex"), map[string]any{
		"location": "westeurope", "properties": map[string]any{"orchestrationMode": "Flexible", "platformFaultDomainCount": 1}})
	e.createVM("rg", "member", with(linuxVM("rg", "member", "westeurope"), "properties.virtualMachineScaleSet", map[string]any{"id": setPath("rg", "flex")}))
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "uni"), uniformSet("rg", 2))
	e.advance(2 * time.Minute)

	// Last, one still being created.
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "creating"), linuxVM("rg", "creating", "westeurope"))
	e.advance(20 * time.Second)

	vms, _ := e.eng.ListVMs(func(*engine.VM) bool { return true }, "", 1000)
	if len(vms) != 11 {
		t.Fatalf("%d VMs, want 11", len(vms))
	}
	paths := map[string]string{"GET": "", "$expand=instanceView": "?$expand=instanceView", "$expand=userData": "?$expand=userData", "/instanceView": "/instanceView"}
	for _, vm := range vms {
		got, want, direct, err := armapi.VMAnswersBothWays(e.eng, vm)
		if err != nil {
			t.Fatal(err)
		}
		// The models are stored with json.Marshal, which escapes <, > and
		// &; any other is read without decoding.
		if escaped := bytes.Contains(vm.Model.Bytes(), []byte(`\u0026`)); direct == escaped {
			t.Errorf("%s's model read without decoding: %v, want %v: %s", vm.Name, direct, !escaped, vm.Model)
		}
		for name, w := range want {
			if !bytes.Equal(got[name], w) {
				t.Errorf("%s of %s:\n got %s\nwant %s", name, vm.Name, got[name], w)
			}
			if strings.Contains(vm.ID, "/virtualMachineScaleSets/") {
				continue // a Uniform instance has its own API
			}
			path := vmPath("rg", vm.Name) + paths[name]
			for range 2 {
				if body := e.must(http.StatusOK, http.MethodGet, path, nil).Body; !bytes.Equal(body, w) {
					t.Errorf("GET %s:\n got %s\nwant %s", path, body, w)
				}
			}
		}
	}

	// The lists of the same fleet: the group's and the subscription's VMs
	// (the Uniform instances are listed through their set), and the
	// Uniform set's instances, each with and without the instance view.
	var listed []*engine.VM
	for _, vm := range vms {
		if !strings.Contains(vm.ID, "/virtualMachineScaleSets/") {
			listed = append(listed, vm)
		}
	}
	set, err := e.eng.GetScaleSet(sub, "rg", "uni")
	if err != nil {
		t.Fatal(err)
	}
	got, want := armapi.ListPagesBothWays(e.eng, listed, set)
	for query, w := range want {
		if !bytes.Equal(got[query], w) {
			t.Errorf("list page %q:\n got %s\nwant %s", query, got[query], w)
		}
		paths := []string{"/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines?" + query,
			"/subscriptions/" + sub + "/providers/Microsoft.Compute/virtualMachines?" + query}
		switch query {
		case "statusOnly=true":
			paths = paths[1:]
		case "instances", "instances&$expand=instanceView":
			paths = []string{setPath("rg", "uni") + "/virtualMachines?" + strings.TrimPrefix(strings.TrimPrefix(query, "instances"), "&")}
		}
		for _, path := range paths {
			for range 2 { // rendered, then kept
				if body := e.must(http.StatusOK, http.MethodGet, path, nil).Body; !bytes.Equal(body, w) {
					t.Errorf("GET %s:\n got %s\nwant %s", path, body, w)
				}
			}
		}
	}
}

package armapi_test

import (
	"net/http"
	"testing"
	"time"
)

// The Azure CLI's update commands read a resource, change it, drop the
// image reference (so the caller needs no permission on the image) and PUT
// it back. These tests make the same requests.

func TestVMPutBackWithoutImageReference(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))

	// az vm update --set tags.x=y, then az vm resize: GET, modify, PUT.
	vm := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t)
	delete(dig(vm, "properties", "storageProfile").(map[string]any), "imageReference")
	vm["tags"] = map[string]any{"x": "y"}
	dig(vm, "properties", "hardwareProfile").(map[string]any)["vmSize"] = "Standard_D4s_v3"
	e.must(http.StatusOK, http.MethodPut, vmPath("rg", "vm1"), vm)
	e.advance(time.Minute)

	got := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t)
	if dig(got, "tags", "x") != "y" || dig(got, "properties", "hardwareProfile", "vmSize") != "Standard_D4s_v3" {
		t.Fatalf("the update was not kept: tags %v, size %v", got["tags"], dig(got, "properties", "hardwareProfile", "vmSize"))
	}
	if dig(got, "properties", "storageProfile", "imageReference", "offer") != "ubuntu-24_04-lts" {
		t.Fatalf("the image reference was lost: %v", dig(got, "properties", "storageProfile"))
	}
	if p, pw := e.state("rg", "vm1"); p != "ProvisioningState/succeeded" || pw != "PowerState/running" {
		t.Fatalf("after the update: %s %s", p, pw)
	}

	// A create still needs the image.
	body := linuxVM("rg", "vm2", "westeurope")
	delete(dig(body, "properties", "storageProfile").(map[string]any), "imageReference")
	armError(t, e.do(http.MethodPut, vmPath("rg", "vm2"), body), http.StatusBadRequest, "InvalidParameter", "")
}

func TestScaleSetPutBackWithoutProfile(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 2))
	e.advance(2 * time.Minute)

	// az vmss scale sends only the location and the sku.
	e.must(http.StatusOK, http.MethodPut, setPath("rg", "ss"), map[string]any{
		"location": "westeurope", "sku": map[string]any{"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 3}})
	e.advance(2 * time.Minute)
	set := e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss"), nil).JSON(t)
	if dig(set, "sku", "capacity") != float64(3) {
		t.Fatalf("capacity %v, want 3", dig(set, "sku", "capacity"))
	}
	if dig(set, "properties", "virtualMachineProfile", "storageProfile", "imageReference", "publisher") != "Canonical" {
		t.Fatalf("the profile was lost: %v", dig(set, "properties"))
	}
	if n := e.summary("rg", "ss")["PowerState/running"]; n != 3 {
		t.Fatalf("%d instances running, want 3", n)
	}

	// az vmss update --set tags.x=y: the whole set back, less its image.
	delete(dig(set, "properties", "virtualMachineProfile", "storageProfile").(map[string]any), "imageReference")
	set["tags"] = map[string]any{"x": "y"}
	e.must(http.StatusOK, http.MethodPut, setPath("rg", "ss"), set)
	e.advance(time.Minute)
	got := e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss"), nil).JSON(t)
	if dig(got, "tags", "x") != "y" || dig(got, "properties", "virtualMachineProfile", "storageProfile", "imageReference", "offer") != "ubuntu-24_04-lts" {
		t.Fatalf("after the update: tags %v, storage profile %v", got["tags"], dig(got, "properties", "virtualMachineProfile", "storageProfile"))
	}

	// A new Uniform set still needs its profile.
	armError(t, e.do(http.MethodPut, setPath("rg", "ss2"), map[string]any{
		"location": "westeurope", "sku": map[string]any{"name": "Standard_D2s_v3", "capacity": 1}}),
		http.StatusBadRequest, "InvalidParameter", "")
}

func TestScaleSetActionOnEveryInstance(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 3))
	e.advance(2 * time.Minute)

	all := map[string]any{"instanceIds": []string{"*"}}
	e.must(http.StatusAccepted, http.MethodPost, setPath("rg", "ss")+"/poweroff", all)
	e.advance(time.Minute)
	if got := e.summary("rg", "ss"); got["PowerState/stopped"] != 3 {
		t.Fatalf("after powerOff of *: %v, want 3 stopped", got)
	}
	e.must(http.StatusAccepted, http.MethodPost, setPath("rg", "ss")+"/start", all)
	e.advance(time.Minute)
	if got := e.summary("rg", "ss"); got["PowerState/running"] != 3 {
		t.Fatalf("after start of *: %v, want 3 running", got)
	}
	e.must(http.StatusAccepted, http.MethodPost, setPath("rg", "ss")+"/delete", all)
	e.advance(time.Minute)
	list := e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss")+"/virtualMachines", nil).JSON(t)["value"].([]any)
	if len(list) != 0 {
		t.Fatalf("%d instances left after deleting *", len(list))
	}
	// An unknown instance is still refused.
	armError(t, e.do(http.MethodPost, setPath("rg", "ss")+"/start", map[string]any{"instanceIds": []string{"7"}}),
		http.StatusBadRequest, "InvalidParameter", "")
}

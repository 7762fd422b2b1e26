package armapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func diskPath(rg, name string) string {
	return groupPath(rg) + "/providers/Microsoft.Compute/disks/" + name
}

func TestDiskCRUD(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createDisk("rg", "data1", 100)
	d := e.must(http.StatusOK, http.MethodGet, diskPath("rg", "DATA1"), nil).JSON(t)
	for path, want := range map[string]any{
		"name": "data1", "type": "Microsoft.Compute/disks", "location": "westeurope",
		"sku.name": "Premium_LRS", "sku.tier": "Premium",
		"properties.diskSizeGB": float64(100), "properties.diskState": "Unattached", "properties.tier": "P10",
		"properties.provisioningState": "Succeeded", "properties.creationData.createOption": "Empty",
	} {
		if got := dig(d, strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	// Disks only grow.
	p := e.must(http.StatusOK, http.MethodPatch, diskPath("rg", "data1"), map[string]any{"properties": map[string]any{"diskSizeGB": 200}}).JSON(t)
	if dig(p, "properties", "diskSizeGB") != float64(200) || dig(p, "properties", "tier") != "P15" {
		t.Fatalf("after growing: %v", p)
	}
	armError(t, e.do(http.MethodPatch, diskPath("rg", "data1"), map[string]any{"properties": map[string]any{"diskSizeGB": 50}}),
		http.StatusBadRequest, "InvalidParameter", "")
	// Lists, per group and per subscription.
	for _, path := range []string{groupPath("rg") + "/providers/Microsoft.Compute/disks", "/subscriptions/" + sub + "/providers/Microsoft.Compute/disks"} {
		if v := e.must(http.StatusOK, http.MethodGet, path, nil).JSON(t)["value"].([]any); len(v) != 1 {
			t.Fatalf("%s: %v", path, v)
		}
	}
	e.must(http.StatusOK, http.MethodDelete, diskPath("rg", "data1"), nil)
	e.must(http.StatusNoContent, http.MethodDelete, diskPath("rg", "data1"), nil)
	armError(t, e.do(http.MethodGet, diskPath("rg", "data1"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestDiskValidation(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	for _, tc := range []struct {
		name   string
		body   map[string]any
		target string
	}{
		{"no location", map[string]any{"properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}, "diskSizeGB": 10}}, "location"},
		{"no createOption", map[string]any{"location": "westeurope", "properties": map[string]any{"diskSizeGB": 10}}, "creationData.createOption"},
		{"empty without size", map[string]any{"location": "westeurope", "properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}}}, "diskSizeGB"},
		{"unsupported option", map[string]any{"location": "westeurope", "properties": map[string]any{"creationData": map[string]any{"createOption": "Upload"}, "diskSizeGB": 10}}, "creationData.createOption"},
		{"bad sku", map[string]any{"location": "westeurope", "sku": map[string]any{"name": "Gold"}, "properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}, "diskSizeGB": 10}}, "sku.name"},
		{"too large", map[string]any{"location": "westeurope", "properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}, "diskSizeGB": 40000}}, "diskSizeGB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := armError(t, e.do(http.MethodPut, diskPath("rg", "d"), tc.body), http.StatusBadRequest, "InvalidParameter", "")
			if got["target"] != tc.target {
				t.Fatalf("target %v, want %s", got["target"], tc.target)
			}
		})
	}
}

// A VM's disks appear as resources: attached while it lives, and at its
// deletion deleted or left unattached by their deleteOption.
func TestVMDisksAsResources(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := linuxVM("rg", "vm1", "westeurope")
	dig(body, "properties", "storageProfile").(map[string]any)["dataDisks"] = []any{
		map[string]any{"lun": 0, "createOption": "Empty", "diskSizeGB": 64, "deleteOption": "Delete"},
		map[string]any{"lun": 1, "createOption": "Empty", "diskSizeGB": 32, "name": "keepme"},
	}
	e.createVM("rg", "vm1", body)
	vm := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t)
	osDiskID := dig(vm, "properties", "storageProfile", "osDisk", "managedDisk", "id").(string)
	disks := e.must(http.StatusOK, http.MethodGet, groupPath("rg")+"/providers/Microsoft.Compute/disks", nil).JSON(t)["value"].([]any)
	if len(disks) != 3 {
		t.Fatalf("%d disks, want 3: %v", len(disks), disks)
	}
	for _, d := range disks {
		d := d.(map[string]any)
		if d["managedBy"] != vmID("rg", "vm1") || dig(d, "properties", "diskState") != "Attached" {
			t.Errorf("disk %v: managedBy %v, state %v", d["name"], d["managedBy"], dig(d, "properties", "diskState"))
		}
	}
	armError(t, e.do(http.MethodDelete, osDiskID, nil), http.StatusConflict, "OperationNotAllowed", "")

	// Putting the VM's own body back keeps the same disks.
	delete(vm, "etag")
	e.must(http.StatusOK, http.MethodPut, vmPath("rg", "vm1"), vm)
	e.advance(5 * time.Second)
	if n := len(e.must(http.StatusOK, http.MethodGet, groupPath("rg")+"/providers/Microsoft.Compute/disks", nil).JSON(t)["value"].([]any)); n != 3 {
		t.Fatalf("%d disks after a round trip, want 3", n)
	}

	e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "vm1"), nil)
	e.advance(20 * time.Second)
	os := e.must(http.StatusOK, http.MethodGet, osDiskID, nil).JSON(t)
	if _, attached := os["managedBy"]; attached || dig(os, "properties", "diskState") != "Unattached" {
		t.Fatalf("OS disk after its VM: %v", os)
	}
	e.must(http.StatusOK, http.MethodGet, diskPath("rg", "keepme"), nil)
	armError(t, e.do(http.MethodGet, diskPath("rg", "vm1_DataDisk_0"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestVMDataDiskValidation(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	for _, tc := range []struct {
		name   string
		disks  []any
		target string
	}{
		{"no lun", []any{map[string]any{"createOption": "Empty", "diskSizeGB": 8}}, "dataDisks[0].lun"},
		{"same lun", []any{map[string]any{"lun": 1, "createOption": "Empty", "diskSizeGB": 8}, map[string]any{"lun": 1, "createOption": "Empty", "diskSizeGB": 8}}, "dataDisks"},
		{"empty without size", []any{map[string]any{"lun": 0, "createOption": "Empty"}}, "dataDisks[0].diskSizeGB"},
		{"bad option", []any{map[string]any{"lun": 0, "createOption": "Copy", "diskSizeGB": 8}}, "dataDisks[0].createOption"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := linuxVM("rg", "vm1", "westeurope")
			dig(body, "properties", "storageProfile").(map[string]any)["dataDisks"] = tc.disks
			got := armError(t, e.do(http.MethodPut, vmPath("rg", "vm1"), body), http.StatusBadRequest, "InvalidParameter", "")
			if got["target"] != tc.target {
				t.Fatalf("target %v, want %s", got["target"], tc.target)
			}
		})
	}
	if n := len(e.must(http.StatusOK, http.MethodGet, groupPath("rg")+"/providers/Microsoft.Compute/disks", nil).JSON(t)["value"].([]any)); n != 0 {
		t.Fatalf("refused VMs left %d disks", n)
	}
}

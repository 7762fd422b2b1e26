package armapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
)

// A VM takes as many data disks as its size allows (the catalog's
// maxDataDiskCount, as Azure lists it): a create with more, and a resize by
// PUT or PATCH to a size that takes fewer than are attached, are refused
// with Azure's OperationNotAllowed, and change nothing.
func TestDataDisksPerSize(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	withDisks := func(name, size string, n int) map[string]any {
		b := linuxVM("rg", name, "westeurope")
		props := b["properties"].(map[string]any)
		props["hardwareProfile"] = map[string]any{"vmSize": size}
		disks := make([]any, n)
		for i := range disks {
			disks[i] = map[string]any{"lun": i, "createOption": "Empty", "diskSizeGB": 8}
		}
		props["storageProfile"].(map[string]any)["dataDisks"] = disks
		return b
	}
	const limitOf = "The maximum number of data disks allowed to be attached to a VM of this size is "
	for _, tc := range []struct {
		size  string
		limit int
	}{
		{"Standard_B1s", 2},
		{"Standard_D2s_v3", 4},
		{"Standard_D8s_v5", 16},
		{"Standard_E16-4ds_v5", 32},
		{"Standard_DS5_v2", 64},
	} {
		over := e.do(http.MethodPut, vmPath("rg", "over"), withDisks("over", tc.size, tc.limit+1))
		if got := armError(t, over, http.StatusConflict, "OperationNotAllowed", limitOf+strconv.Itoa(tc.limit)+"."); got["target"] != "dataDisks" {
			t.Errorf("%s: target %v, want dataDisks", tc.size, got["target"])
		}
		e.must(http.StatusNotFound, http.MethodGet, vmPath("rg", "over"), nil)
	}

	// Eight disks fit a D4s_v3 (8) and not a D2s_v3 (4).
	e.createVM("rg", "web", withDisks("web", "Standard_D4s_v3", 8))
	armError(t, e.do(http.MethodPut, vmPath("rg", "web"), withDisks("web", "Standard_D2s_v3", 8)),
		http.StatusConflict, "OperationNotAllowed", limitOf+"4.")
	armError(t, e.do(http.MethodPatch, vmPath("rg", "web"), map[string]any{"properties": map[string]any{
		"hardwareProfile": map[string]any{"vmSize": "Standard_D2s_v3"}}}),
		http.StatusConflict, "OperationNotAllowed", limitOf+"4.")
	var vm struct {
		Properties struct {
			HardwareProfile struct{ VMSize string }   `json:"hardwareProfile"`
			StorageProfile  struct{ DataDisks []any } `json:"storageProfile"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(e.must(http.StatusOK, http.MethodGet, vmPath("rg", "web"), nil).Body, &vm); err != nil {
		t.Fatal(err)
	}
	if vm.Properties.HardwareProfile.VMSize != "Standard_D4s_v3" || len(vm.Properties.StorageProfile.DataDisks) != 8 {
		t.Errorf("after refused resizes: %s with %d data disks, want Standard_D4s_v3 with 8",
			vm.Properties.HardwareProfile.VMSize, len(vm.Properties.StorageProfile.DataDisks))
	}
	// A resize to a size that takes them all goes through.
	e.must(http.StatusOK, http.MethodPatch, vmPath("rg", "web"), map[string]any{"properties": map[string]any{
		"hardwareProfile": map[string]any{"vmSize": "Standard_D8s_v3"}}})
}

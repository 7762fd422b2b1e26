package armapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Bodies Azure rejects are rejected with its codes, and create nothing:
// every case is a PUT of a new resource that a GET then does not find.
func TestBodiesAzureRejects(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	diskPath := func(name string) string { return groupPath("rg") + "/providers/Microsoft.Compute/disks/" + name }
	setPath := func(name string) string {
		return groupPath("rg") + "/providers/Microsoft.Compute/virtualMachineScaleSets/" + name
	}
	disk := func(size any) map[string]any {
		return map[string]any{"location": "westeurope", "sku": map[string]any{"name": "Premium_LRS"},
			"properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}, "diskSizeGB": size}}
	}
	vm := func(edit func(vm map[string]any)) map[string]any {
		b := linuxVM("rg", "v", "westeurope")
		edit(b)
		return b
	}
	props := func(b map[string]any) map[string]any { return b["properties"].(map[string]any) }
	storage := func(b map[string]any) map[string]any { return props(b)["storageProfile"].(map[string]any) }
	dataDisks := func(n int, lun func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"lun": lun(i), "createOption": "Empty", "diskSizeGB": 8}
		}
		return out
	}
	manyTags := map[string]any{}
	for i := range 10000 {
		manyTags[fmt.Sprintf("t%d", i)] = "v"
	}
	tagged := func(tags any) map[string]any {
		return vm(func(b map[string]any) { b["tags"] = tags })
	}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"disk size -1", diskPath("d1"), disk(-1), 400, "InvalidParameter"},
		{"disk size 0", diskPath("d2"), disk(0), 400, "InvalidParameter"},
		{"disk size 1.5", diskPath("d3"), disk(1.5), 400, "InvalidParameter"},
		{"disk size 1e18", diskPath("d4"), disk(1e18), 400, "InvalidParameter"},
		{"disk size abc", diskPath("d5"), disk("abc"), 400, "InvalidRequestContent"},
		{"disk in zone 99", diskPath("d6"), func() map[string]any { d := disk(8); d["zones"] = []any{"99"}; return d }(), 400, "InvalidParameter"},
		{"OS disk of -1 GB", vmPath("rg", "v1"), vm(func(b map[string]any) {
			storage(b)["osDisk"] = map[string]any{"createOption": "FromImage", "diskSizeGB": -1}
		}), 400, "InvalidParameter"},
		{"10,000 data disks", vmPath("rg", "v2"), vm(func(b map[string]any) {
			storage(b)["dataDisks"] = dataDisks(10000, func(i int) any { return i })
		}), 409, "OperationNotAllowed"},
		{"LUN -1", vmPath("rg", "v3"), vm(func(b map[string]any) {
			storage(b)["dataDisks"] = dataDisks(1, func(int) any { return -1 })
		}), 400, "InvalidParameter"},
		{"LUN 64", vmPath("rg", "v4"), vm(func(b map[string]any) {
			storage(b)["dataDisks"] = dataDisks(1, func(int) any { return 64 })
		}), 400, "InvalidParameter"},
		{"data disk of 40,000 GB", vmPath("rg", "v5"), vm(func(b map[string]any) {
			storage(b)["dataDisks"] = []any{map[string]any{"lun": 0, "createOption": "Empty", "diskSizeGB": 40000}}
		}), 400, "InvalidParameter"},
		{"unknown location", vmPath("rg", "v6"), linuxVM("rg", "v6", "atlantis"), 400, "LocationNotAvailableForResourceType"},
		{"group in an unknown location", groupPath("rg-nowhere"), map[string]any{"location": "moon"}, 400, "LocationNotAvailableForResourceGroup"},
		{"tags as an array", vmPath("rg", "v7"), tagged([]any{"a", "b"}), 400, "InvalidRequestContent"},
		{"10,000 tags", vmPath("rg", "v8"), tagged(manyTags), 400, "InvalidTags"},
		{"a 100 KB tag value", vmPath("rg", "v9"), tagged(map[string]any{"big": strings.Repeat("x", 100<<10)}), 400, "InvalidTagValueLength"},
		{"a 513-character tag name", vmPath("rg", "v10"), tagged(map[string]any{strings.Repeat("n", 513): "v"}), 400, "InvalidTagName"},
		{"a tag name with a slash", vmPath("rg", "v11"), tagged(map[string]any{"k8s.io/role": "v"}), 400, "InvalidTagNameCharacters"},
		{"a tag value that is a number", vmPath("rg", "v12"), tagged(map[string]any{"n": 5}), 400, "InvalidRequestContent"},
		{"group with 51 tags", groupPath("rg-tags"), map[string]any{"location": "westeurope", "tags": func() map[string]any {
			m := map[string]any{}
			for i := range 51 {
				m[fmt.Sprint(i)] = ""
			}
			return m
		}()}, 400, "InvalidTags"},
		{"zones 99", vmPath("rg", "v13"), vm(func(b map[string]any) { b["zones"] = []any{"99"} }), 400, "InvalidParameter"},
		{"two zones for a VM", vmPath("rg", "v14"), vm(func(b map[string]any) { b["zones"] = []any{"1", "2"} }), 400, "InvalidParameter"},
		{"identity Nope", vmPath("rg", "v15"), vm(func(b map[string]any) { b["identity"] = map[string]any{"type": "Nope"} }), 400, "InvalidParameter"},
		{"a 1,000-character computer name", vmPath("rg", "v16"), vm(func(b map[string]any) {
			props(b)["osProfile"].(map[string]any)["computerName"] = strings.Repeat("c", 1000)
		}), 400, "InvalidParameter"},
		{"a name starting with a hyphen", vmPath("rg", "-v17"), linuxVM("rg", "-v17", "westeurope"), 400, "InvalidResourceName"},
		{"scale set with a 0 GB OS disk", setPath("s1"), map[string]any{"location": "westeurope", "sku": map[string]any{"name": "Standard_D2s_v3", "capacity": 1},
			"properties": map[string]any{"orchestrationMode": "Uniform", "virtualMachineProfile": map[string]any{
				"storageProfile": map[string]any{"osDisk": map[string]any{"createOption": "FromImage", "diskSizeGB": 0}}}}}, 400, "InvalidParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			armError(t, e.do(http.MethodPut, tc.path, tc.body), tc.status, tc.code, "")
			if r := e.do(http.MethodGet, tc.path, nil); r.Status != http.StatusNotFound {
				t.Errorf("the refused PUT left something: %s", r)
			}
		})
	}

	// Any media type but JSON is refused on ARM writes.
	body, _ := json.Marshal(linuxVM("rg", "vt", "westeurope"))
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", ""} {
		r := e.send(http.MethodPut, vmPath("rg", "vt"), body, req{headers: map[string]string{"Content-Type": ct}})
		armError(t, r, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "")
	}
	// What Azure takes still passes: the limits themselves, "West Europe".
	ok := vm(func(b map[string]any) {
		b["location"] = "West Europe"
		b["zones"] = []any{"2"}
		b["identity"] = map[string]any{"type": "SystemAssigned, UserAssigned"}
		tags := map[string]any{strings.Repeat("n", 512): strings.Repeat("v", 256)}
		for i := range 49 {
			tags[fmt.Sprint("t", i)] = ""
		}
		b["tags"] = tags
		storage(b)["osDisk"] = map[string]any{"createOption": "FromImage", "diskSizeGB": 4095}
		props(b)["hardwareProfile"] = map[string]any{"vmSize": "Standard_DS5_v2"} // takes 64 data disks
		storage(b)["dataDisks"] = dataDisks(64, func(i int) any { return i })
	})
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "ok"), ok)
	e.must(http.StatusOK, http.MethodPut, diskPath("ok"), disk(32767))
}

package armapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// clone deep-copies a JSON-like value.
func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// without returns a copy of body without the property at the dotted path.
func without(body map[string]any, path string) map[string]any {
	b := clone(body)
	keys := strings.Split(path, ".")
	cur := b
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return b
		}
		cur = next
	}
	delete(cur, keys[len(keys)-1])
	return b
}

// with returns a copy of body with the property at the dotted path set.
func with(body map[string]any, path string, v any) map[string]any {
	b := clone(body)
	keys := strings.Split(path, ".")
	cur := b
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = v
	return b
}

func TestVMBodyValidation(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	base := linuxVM("rg", "vmv", "westeurope")
	missing := func(x string) string { return "Required parameter '" + x + "' is missing (null)." }
	attach := with(without(without(base, "properties.osProfile"), "properties.storageProfile.imageReference"), "properties.storageProfile.osDisk",
		map[string]any{"createOption": "Attach", "osType": "Linux", "managedDisk": map[string]any{"id": groupPath("rg") + "/providers/Microsoft.Compute/disks/d1"}})

	for _, tc := range []struct {
		name   string
		body   any
		code   string
		target string // and the message names it, when code is InvalidParameter for a missing value
		msg    string
	}{
		{"malformed JSON", `{"location": "westeurope",`, "InvalidRequestContent", "", ""},
		{"not an object", `[1,2]`, "InvalidRequestContent", "", ""},
		{"wrong type", with(base, "location", 7), "InvalidRequestContent", "", ""},
		{"wrong nested type", with(base, "properties.osProfile.adminUsername", []any{"x"}), "InvalidRequestContent", "", ""},
		{"empty body", "", "InvalidRequestContent", "", ""},
		{"blank body", " \n\t", "InvalidRequestContent", "", ""},
		{"empty object", `{}`, "InvalidParameter", "location", missing("location")},
		{"missing location", without(base, "location"), "InvalidParameter", "location", missing("location")},
		{"blank location", with(base, "location", "  "), "InvalidParameter", "location", missing("location")},
		{"missing properties", without(base, "properties"), "InvalidParameter", "properties", missing("properties")},
		{"missing hardwareProfile", without(base, "properties.hardwareProfile"), "InvalidParameter", "hardwareProfile.vmSize", missing("hardwareProfile.vmSize")},
		{"missing vmSize", without(base, "properties.hardwareProfile.vmSize"), "InvalidParameter", "hardwareProfile.vmSize", missing("hardwareProfile.vmSize")},
		{"missing storageProfile", without(base, "properties.storageProfile"), "InvalidParameter", "storageProfile.imageReference", missing("storageProfile.imageReference")},
		{"missing imageReference", without(base, "properties.storageProfile.imageReference"), "InvalidParameter", "storageProfile.imageReference", missing("storageProfile.imageReference")},
		{"incomplete imageReference", without(base, "properties.storageProfile.imageReference.sku"), "InvalidParameter", "imageReference", ""},
		{"missing osProfile", without(base, "properties.osProfile"), "InvalidParameter", "osProfile", missing("osProfile")},
		{"missing adminUsername", without(base, "properties.osProfile.adminUsername"), "InvalidParameter", "adminUsername", missing("adminUsername")},
		{"missing adminPassword", without(base, "properties.osProfile.adminPassword"), "InvalidParameter", "adminPassword", missing("adminPassword")},
		{"password auth explicitly", with(without(base, "properties.osProfile.adminPassword"), "properties.osProfile.linuxConfiguration",
			map[string]any{"disablePasswordAuthentication": false}), "InvalidParameter", "adminPassword", missing("adminPassword")},
		{"ssh without keys", with(without(base, "properties.osProfile.adminPassword"), "properties.osProfile.linuxConfiguration",
			map[string]any{"disablePasswordAuthentication": true}), "InvalidParameter", "linuxConfiguration.ssh.publicKeys", missing("linuxConfiguration.ssh.publicKeys")},
		{"missing networkProfile", without(base, "properties.networkProfile"), "InvalidParameter", "networkProfile", missing("networkProfile")},
		{"empty networkProfile", with(base, "properties.networkProfile", map[string]any{"networkInterfaces": []any{}}), "InvalidParameter", "networkProfile", missing("networkProfile")},
		{"osProfile with Attach", with(attach, "properties.osProfile", map[string]any{"adminUsername": "u", "adminPassword": "p"}), "InvalidParameter", "osProfile", "Parameter 'osProfile' is not allowed."},
		{"Attach without a disk", without(attach, "properties.storageProfile.osDisk.managedDisk"), "InvalidParameter", "storageProfile.osDisk.managedDisk.id", missing("storageProfile.osDisk.managedDisk.id")},
		{"Attach without osType", without(attach, "properties.storageProfile.osDisk.osType"), "InvalidParameter", "storageProfile.osDisk.osType", missing("storageProfile.osDisk.osType")},
		{"bad priority", with(base, "properties.priority", "Cheap"), "InvalidParameter", "priority", ""},
		{"bad evictionPolicy", with(base, "properties.evictionPolicy", "Keep"), "InvalidParameter", "evictionPolicy", ""},
		{"long Windows computer name", with(without(with(base, "properties.storageProfile.imageReference",
			map[string]any{"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter", "version": "latest"}),
			"properties.osProfile.computerName"), "properties.osProfile.windowsConfiguration", map[string]any{}), "InvalidParameter", "computerName", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "vmv"
			if tc.target == "computerName" {
				name = "a-very-long-windows-vm-name"
			}
			r := e.do(http.MethodPut, vmPath("rg", name), tc.body)
			er := armError(t, r, http.StatusBadRequest, tc.code, tc.msg)
			if tc.target != "" && er["target"] != tc.target {
				t.Fatalf("target %v, want %q", er["target"], tc.target)
			}
		})
	}
	// Nothing of the refused bodies was created.
	armError(t, e.do(http.MethodGet, vmPath("rg", "vmv"), nil), http.StatusNotFound, "ResourceNotFound", "")

	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"password", base},
		{"ssh keys", with(without(base, "properties.osProfile.adminPassword"), "properties.osProfile.linuxConfiguration",
			map[string]any{"disablePasswordAuthentication": true, "ssh": map[string]any{"publicKeys": []any{
				map[string]any{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-rsa AAAA"}}}})},
		{"attach", attach},
		{"gallery image", with(base, "properties.storageProfile.imageReference", map[string]any{"id": groupPath("rg") + "/providers/Microsoft.Compute/galleries/g/images/i"})},
		{"nic configurations", with(base, "properties.networkProfile", map[string]any{"networkApiVersion": "2020-11-01",
			"networkInterfaceConfigurations": []any{map[string]any{"name": "nic", "properties": map[string]any{}}}})},
		{"location with spaces", with(base, "location", "West Europe")},
	} {
		t.Run("valid "+tc.name, func(t *testing.T) {
			name := "ok-" + strings.ReplaceAll(tc.name, " ", "-")
			if tc.name == "attach" {
				e.createDisk("rg", "d1", 64) // an attached OS disk must exist
			}
			vm := e.must(http.StatusCreated, http.MethodPut, vmPath("rg", name), tc.body).JSON(t)
			if vm["location"] != "westeurope" {
				t.Fatalf("location %v", vm["location"])
			}
		})
	}

	for _, bad := range []string{"vm.", "_vm", "vm-", "a%20b", "vm%2A", strings.Repeat("v", 65), "v%C3%A9"} {
		t.Run("bad name "+bad, func(t *testing.T) {
			armError(t, e.do(http.MethodPut, vmPath("rg", bad), base), http.StatusBadRequest, "InvalidResourceName", "")
		})
	}
}

func TestVMLocationChange(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	armError(t, e.do(http.MethodPut, vmPath("rg", "vm1"), linuxVM("rg", "vm1", "eastus")), http.StatusConflict, "InvalidResourceLocation",
		"The resource 'vm1' already exists in location 'westeurope' in resource group 'rg'. A resource with the same name cannot be created in location 'eastus'. Please select a new resource name.")
	// The same location, written as a display name, is no change.
	e.must(http.StatusOK, http.MethodPut, vmPath("rg", "vm1"), linuxVM("rg", "vm1", "West Europe"))
}

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestVMCreateLongRunning(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	start := e.eng.Now()
	r := e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "vm1"), linuxVM("rg", "vm1", "westeurope"))
	vm := r.JSON(t)
	if props(vm)["provisioningState"] != "Creating" {
		t.Fatalf("provisioningState %v", props(vm)["provisioningState"])
	}
	retryAfter(t, r)
	etag := r.Header.Get("ETag")
	if etag == "" || vm["etag"] != etag {
		t.Fatalf("ETag header %q, body etag %v", etag, vm["etag"])
	}
	if vm["id"] != vmID("rg", "vm1") || vm["name"] != "vm1" || vm["type"] != "Microsoft.Compute/virtualMachines" || vm["location"] != "westeurope" {
		t.Fatalf("body: %v", vm)
	}
	if !guidPattern.MatchString(props(vm)["vmId"].(string)) {
		t.Fatalf("vmId %v", props(vm)["vmId"])
	}
	async := r.Header.Get("Azure-AsyncOperation")
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(e.srv.URL) + `/subscriptions/` + sub +
		`/providers/Microsoft\.Compute/locations/westeurope/operations/([0-9a-f-]{36})\?api-version=` + apiVer + `$`)
	m := re.FindStringSubmatch(async)
	if m == nil {
		t.Fatalf("Azure-AsyncOperation %q", async)
	}
	opID := m[1]

	st := e.opStatus(async)
	if keys := sortedKeys(st); !reflect.DeepEqual(keys, []string{"name", "startTime", "status"}) || st["name"] != opID || st["status"] != "InProgress" {
		t.Fatalf("status while running: %v", st)
	}
	if ts, err := time.Parse(time.RFC3339Nano, st["startTime"].(string)); err != nil || !ts.Equal(start) {
		t.Fatalf("startTime %v, want %v", st["startTime"], start)
	}
	monitor := async + "&monitor=true"
	mr := e.do(http.MethodGet, monitor, nil)
	if mr.Status != http.StatusAccepted {
		t.Fatalf("monitor while running: %s", mr)
	}
	retryAfter(t, mr)

	// The steps of a create from a generalized image, exactly.
	for _, step := range []struct {
		after time.Duration
		codes string
	}{
		{0, "ProvisioningState/creating"},
		{15 * time.Second, "ProvisioningState/creating PowerState/starting"},
		{20 * time.Second, "ProvisioningState/creating/osProvisioningInProgress PowerState/running"},
		{40 * time.Second, "ProvisioningState/creating/osProvisioningComplete PowerState/running"},
	} {
		e.advance(step.after)
		if got := strings.Join(e.codes("rg", "vm1"), " "); got != step.codes {
			t.Fatalf("after %v: %s, want %s", step.after, got, step.codes)
		}
		if s := e.opStatus(async)["status"]; s != "InProgress" {
			t.Fatalf("operation %v before the end", s)
		}
	}
	e.advance(5 * time.Second)
	st = e.opStatus(async)
	if st["status"] != "Succeeded" || st["endTime"] == nil {
		t.Fatalf("status at the end: %v", st)
	}
	if ts, _ := time.Parse(time.RFC3339Nano, st["endTime"].(string)); !ts.Equal(start.Add(80 * time.Second)) {
		t.Fatalf("endTime %v", st["endTime"])
	}
	if mr := e.do(http.MethodGet, monitor, nil); mr.Status != http.StatusOK {
		t.Fatalf("monitor at the end: %s", mr)
	}
	if got := strings.Join(e.codes("rg", "vm1"), " "); got != "ProvisioningState/succeeded PowerState/running" {
		t.Fatal(got)
	}
	// A later GET shows the new state and a new etag.
	got := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil)
	if props(got.JSON(t))["provisioningState"] != "Succeeded" || got.Header.Get("ETag") == etag {
		t.Fatalf("GET after create: %s etag %s", got, got.Header.Get("ETag"))
	}

	// Operations of another subscription, or unknown ones, are not found.
	otherSub := strings.Replace(async, sub, "11111111-2222-3333-4444-555555555555", 1)
	armError(t, e.do(http.MethodGet, otherSub, nil), http.StatusNotFound, "ResourceNotFound", "")
	unknown := strings.Replace(async, opID, "00000000-0000-0000-0000-000000000000", 1)
	armError(t, e.do(http.MethodGet, unknown, nil), http.StatusNotFound, "ResourceNotFound", "")
}

func sortedKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// hasKeyFold reports whether any object in v has a key equal to k ignoring case.
func hasKeyFold(v any, k string) bool {
	switch x := v.(type) {
	case map[string]any:
		for key, val := range x {
			if strings.EqualFold(key, k) || hasKeyFold(val, k) {
				return true
			}
		}
	case []any:
		for _, val := range x {
			if hasKeyFold(val, k) {
				return true
			}
		}
	}
	return false
}

func TestVMModelRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := with(linuxVM("rg", "vm1", "westeurope"), "tags", map[string]any{"a": "1"})
	body = with(body, "properties.osProfile.customData", "IyEvYmluL3NoCg==")
	created := e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "vm1"), body).JSON(t)
	if hasKeyFold(created, "adminPassword") || hasKeyFold(created, "customData") {
		t.Fatalf("PUT answer shows a secret: %v", created)
	}
	e.advance(80 * time.Second)

	got := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t)
	if hasKeyFold(got, "adminPassword") || hasKeyFold(got, "customData") {
		t.Fatalf("GET shows a secret: %v", got)
	}
	for path, want := range map[string]any{
		"properties.osProfile.computerName":                        "vm1",
		"properties.osProfile.adminUsername":                       "azureuser",
		"properties.hardwareProfile.vmSize":                        "Standard_D2s_v3",
		"properties.storageProfile.osDisk.osType":                  "Linux",
		"properties.storageProfile.osDisk.createOption":            "FromImage",
		"properties.provisioningState":                             "Succeeded",
		"properties.osProfile.linuxConfiguration.provisionVMAgent": true,
		"properties.networkProfile.networkInterfaces":              []any{map[string]any{"id": nicID("rg", "vm1")}},
		"tags": map[string]any{"a": "1"},
		"properties.storageProfile.imageReference.publisher":                    "Canonical",
		"properties.osProfile.linuxConfiguration.disablePasswordAuthentication": false,
	} {
		if v := dig(got, strings.Split(path, ".")...); !reflect.DeepEqual(v, want) {
			t.Errorf("%s = %#v, want %#v", path, v, want)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, props(got)["timeCreated"].(string)); err != nil {
		t.Errorf("timeCreated: %v", err)
	}
	if _, ok := props(got)["instanceView"]; ok {
		t.Error("instanceView without $expand")
	}
	withIV := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"?$expand=instanceView", nil).JSON(t)
	if st, _ := dig(withIV, "properties", "instanceView", "statuses").([]any); len(st) != 2 {
		t.Errorf("$expand=instanceView: %v", dig(withIV, "properties", "instanceView"))
	}

	// PUT back exactly what GET returned: an update, not a refusal.
	r := e.must(http.StatusOK, http.MethodPut, vmPath("rg", "vm1"), got)
	upd := r.JSON(t)
	if props(upd)["provisioningState"] != "Updating" || r.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("PUT back: %v", upd)
	}
	retryAfter(t, r)
	if props(upd)["vmId"] != props(got)["vmId"] || props(upd)["timeCreated"] != props(got)["timeCreated"] {
		t.Fatalf("server-owned properties changed: %v", upd)
	}
	// A model change is refused while it runs.
	armError(t, e.do(http.MethodPut, vmPath("rg", "vm1"), got), http.StatusConflict, "OperationNotAllowed", "")
	e.advance(5 * time.Second)
	again := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t)
	if props(again)["provisioningState"] != "Succeeded" {
		t.Fatalf("after update: %v", props(again)["provisioningState"])
	}
	// Apart from what the server owns, the model is what it was.
	for _, m := range []map[string]any{got, again} {
		delete(m, "etag")
		delete(props(m), "provisioningState")
	}
	if !reflect.DeepEqual(got, again) {
		t.Fatalf("model changed by a round trip:\n%v\n%v", got, again)
	}
	if _, pw := e.state("rg", "vm1"); pw != "PowerState/running" {
		t.Fatal(pw)
	}

	// PATCH replaces the tags whole, as Resource Manager does, and keeps
	// the rest of the model.
	p := e.must(http.StatusOK, http.MethodPatch, vmPath("rg", "vm1"), map[string]any{"tags": map[string]any{"b": "2"}}).JSON(t)
	if props(p)["provisioningState"] != "Updating" || !reflect.DeepEqual(p["tags"], map[string]any{"b": "2"}) {
		t.Fatalf("PATCH: %v", p)
	}
	e.advance(5 * time.Second)
	p = e.must(http.StatusOK, http.MethodPatch, vmPath("rg", "vm1"), map[string]any{"tags": map[string]any{"b": "2", "c": "3"},
		"properties": map[string]any{"osProfile": map[string]any{"adminPassword": "N3w!password"}}}).JSON(t)
	if !reflect.DeepEqual(p["tags"], map[string]any{"b": "2", "c": "3"}) || hasKeyFold(p, "adminPassword") {
		t.Fatalf("second PATCH: %v", p)
	}
	if dig(p, "properties", "hardwareProfile", "vmSize") != "Standard_D2s_v3" {
		t.Fatalf("PATCH lost the model: %v", p)
	}
	e.advance(5 * time.Second)
	armError(t, e.do(http.MethodPatch, vmPath("rg", "nope"), map[string]any{"tags": map[string]any{}}), http.StatusNotFound, "ResourceNotFound", "")
	armError(t, e.do(http.MethodPatch, vmPath("rg", "vm1"), "{"), http.StatusBadRequest, "InvalidRequestContent", "")
	// A PATCH that breaks the model is refused like a PUT.
	armError(t, e.do(http.MethodPatch, vmPath("rg", "vm1"), map[string]any{"properties": map[string]any{"networkProfile": nil}}),
		http.StatusBadRequest, "InvalidParameter", "Required parameter 'networkProfile' is missing (null).")
}

// Property names are case-insensitive in ARM bodies, as they are for
// Azure's own deserialiser: a secret sent under another casing must be
// dropped like any other, never stored nor shown.
func TestVMBodyPropertyCasing(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := `{"Location":"westeurope","Tags":{"k":"v"},"Properties":{
		"HardwareProfile":{"VmSize":"Standard_B1s"},
		"StorageProfile":{"ImageReference":{"Publisher":"Canonical","Offer":"ubuntu-24_04-lts","Sku":"server","Version":"latest"}},
		"OsProfile":{"AdminUsername":"azureuser","AdminPassword":"Passw0rd!secret","CustomData":"c2VjcmV0"},
		"NetworkProfile":{"NetworkInterfaces":[{"id":"` + nicID("rg", "vm1") + `"}]}}}`
	r := e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "vm1"), body)
	if strings.Contains(string(r.Body), "Passw0rd") || strings.Contains(string(r.Body), "c2VjcmV0") {
		t.Fatalf("PUT answer shows a secret: %s", r.Body)
	}
	e.advance(80 * time.Second)
	g := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil)
	if strings.Contains(string(g.Body), "Passw0rd") || strings.Contains(string(g.Body), "c2VjcmV0") {
		t.Fatalf("GET shows a secret: %s", g.Body)
	}
	vm := g.JSON(t)
	// One properties object, in canonical casing, with the defaults.
	if _, dup := vm["Properties"]; dup {
		t.Fatalf("properties kept twice: %s", g.Body)
	}
	for path, want := range map[string]any{
		"properties.hardwareProfile.vmSize":       "Standard_B1s",
		"properties.osProfile.adminUsername":      "azureuser",
		"properties.osProfile.computerName":       "vm1",
		"properties.storageProfile.osDisk.osType": "Linux",
		"tags.k": "v",
	} {
		if v := dig(vm, strings.Split(path, ".")...); v != want {
			t.Errorf("%s = %#v, want %#v", path, v, want)
		}
	}
	// A PATCH in other casing is merged into the same properties.
	p := e.must(http.StatusOK, http.MethodPatch, vmPath("rg", "vm1"), `{"PROPERTIES":{"HARDWAREPROFILE":{"VMSIZE":"Standard_B2s"},"OSPROFILE":{"ADMINPASSWORD":"Other!pass1"}}}`)
	if strings.Contains(string(p.Body), "Other!pass1") {
		t.Fatalf("PATCH answer shows a secret: %s", p.Body)
	}
	if v := dig(p.JSON(t), "properties", "hardwareProfile", "vmSize"); v != "Standard_B2s" {
		t.Fatalf("PATCH vmSize %v: %s", v, p.Body)
	}
}

func TestVMETags(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := linuxVM("rg", "vm1", "westeurope")
	put := func(name string, h map[string]string) resp {
		return e.send(http.MethodPut, vmPath("rg", name), body, req{headers: h})
	}
	// If-None-Match: * creates only what is new.
	r := put("vm1", map[string]string{"If-None-Match": "*"})
	if r.Status != http.StatusCreated {
		t.Fatal(r)
	}
	armError(t, put("vm1", map[string]string{"If-None-Match": "*"}), http.StatusPreconditionFailed, "PreconditionFailed", "")
	// If-Match on something missing fails.
	armError(t, put("vm2", map[string]string{"If-Match": "*"}), http.StatusPreconditionFailed, "PreconditionFailed", "")
	armError(t, put("vm2", map[string]string{"If-Match": `"1"`}), http.StatusPreconditionFailed, "PreconditionFailed", "")
	e.advance(80 * time.Second)

	stale := r.Header.Get("ETag")
	cur := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).Header.Get("ETag")
	if cur == stale {
		t.Fatalf("etag %s did not change with the state", cur)
	}
	armError(t, put("vm1", map[string]string{"If-Match": stale}), http.StatusPreconditionFailed, "PreconditionFailed", "")
	armError(t, put("vm1", map[string]string{"If-None-Match": cur}), http.StatusPreconditionFailed, "PreconditionFailed", "")
	r = put("vm1", map[string]string{"If-Match": cur})
	if r.Status != http.StatusOK {
		t.Fatal(r)
	}
	next := r.Header.Get("ETag")
	if next == cur || r.JSON(t)["etag"] != next {
		t.Fatalf("etag after update %s (was %s)", next, cur)
	}
	e.advance(5 * time.Second)
	cur = e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).Header.Get("ETag")
	// PATCH honours them too; a weak or listed etag matches.
	armError(t, e.send(http.MethodPatch, vmPath("rg", "vm1"), map[string]any{"tags": map[string]any{"x": "1"}}, req{headers: map[string]string{"If-Match": stale}}),
		http.StatusPreconditionFailed, "PreconditionFailed", "")
	r = e.send(http.MethodPatch, vmPath("rg", "vm1"), map[string]any{"tags": map[string]any{"x": "1"}}, req{headers: map[string]string{"If-Match": stale + ", W/" + cur}})
	if r.Status != http.StatusOK {
		t.Fatal(r)
	}
	e.advance(5 * time.Second)
	if r := put("vm1", map[string]string{"If-Match": "*"}); r.Status != http.StatusOK {
		t.Fatal(r)
	}
}

func TestVMActions(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	for _, tc := range []struct {
		action string
		during string // power state while it runs (first step)
		takes  time.Duration
		end    string
	}{
		{"powerOff", "PowerState/stopping", 10 * time.Second, "PowerState/stopped"},
		{"start", "PowerState/starting", 15 * time.Second, "PowerState/running"},
		{"restart", "PowerState/stopping", 20 * time.Second, "PowerState/running"},
		{"powerOff?skipShutdown=true", "PowerState/stopping", 2 * time.Second, "PowerState/stopped"},
		{"deallocate", "PowerState/deallocating", 15 * time.Second, "PowerState/deallocated"},
		{"start", "PowerState/deallocated", 27 * time.Second, "PowerState/running"},
		{"redeploy", "PowerState/stopping", 40 * time.Second, "PowerState/running"},
		{"reimage", "PowerState/stopping", 70 * time.Second, "PowerState/running"},
		{"deallocate", "PowerState/stopping", 30 * time.Second, "PowerState/deallocated"},
		{"deallocate", "PowerState/deallocated", 0, "PowerState/deallocated"},
	} {
		r := e.must(http.StatusAccepted, http.MethodPost, vmPath("rg", "vm1")+"/"+tc.action, nil)
		async, loc := r.Header.Get("Azure-AsyncOperation"), r.Header.Get("Location")
		retryAfter(t, r)
		if !strings.HasPrefix(async, e.srv.URL+"/subscriptions/"+sub+"/providers/Microsoft.Compute/locations/westeurope/operations/") || loc != async+"&monitor=true" {
			t.Fatalf("%s: Azure-AsyncOperation %q Location %q", tc.action, async, loc)
		}
		if len(r.Body) != 0 {
			t.Fatalf("%s: 202 with a body %s", tc.action, r.Body)
		}
		if tc.takes == 0 { // a no-op succeeds at once
			if s := e.opStatus(async)["status"]; s != "Succeeded" {
				t.Fatalf("%s no-op: %v", tc.action, s)
			}
			continue
		}
		prov, pw := e.state("rg", "vm1")
		if prov != "ProvisioningState/updating" || pw != tc.during || e.provisioningState("rg", "vm1") != "Updating" {
			t.Fatalf("%s running: %s %s", tc.action, prov, pw)
		}
		e.advance(tc.takes - time.Second)
		if s := e.opStatus(async)["status"]; s != "InProgress" {
			t.Fatalf("%s: %v a second before its end", tc.action, s)
		}
		if m := e.do(http.MethodGet, loc, nil); m.Status != http.StatusAccepted {
			t.Fatalf("%s monitor: %s", tc.action, m)
		}
		e.advance(time.Second)
		if s := e.opStatus(async); s["status"] != "Succeeded" || s["endTime"] == nil {
			t.Fatalf("%s: %v at its end", tc.action, s)
		}
		if m := e.do(http.MethodGet, loc, nil); m.Status != http.StatusOK {
			t.Fatalf("%s monitor at the end: %s", tc.action, m)
		}
		if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/succeeded" || pw != tc.end {
			t.Fatalf("%s end: %s %s", tc.action, prov, pw)
		}
	}

	// Unknown actions and bad bodies.
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/explode", nil), http.StatusNotFound, "NotFound", "")
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/start", "{nope"), http.StatusBadRequest, "InvalidRequestContent", "")
	armError(t, e.do(http.MethodPost, vmPath("rg", "nope")+"/start", nil), http.StatusNotFound, "ResourceNotFound", "")
	// An empty JSON body is as good as none.
	e.must(http.StatusAccepted, http.MethodPost, vmPath("rg", "vm1")+"/start", "{}")
	e.must(http.StatusAccepted, http.MethodPost, vmPath("rg", "vm1")+"/start", " ")
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	huge := `{"pad":"` + strings.Repeat("x", 5<<20) + `"}`
	for _, tc := range []struct{ method, path string }{
		{http.MethodPut, vmPath("rg", "vm2")},
		{http.MethodPatch, vmPath("rg", "vm1")},
		{http.MethodPost, vmPath("rg", "vm1") + "/powerOff"},
		{http.MethodPost, vmPath("rg", "vm1") + "/runCommand"},
		{http.MethodPut, groupPath("rg2")},
	} {
		armError(t, e.do(tc.method, tc.path, huge), http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "")
	}
	if _, pw := e.state("rg", "vm1"); pw != "PowerState/running" {
		t.Fatal(pw)
	}
}

func TestVMGeneralize(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/generalize", nil), http.StatusConflict, "OperationNotAllowed", "")
	e.act("rg", "vm1", "powerOff")
	e.advance(10 * time.Second)
	r := e.must(http.StatusOK, http.MethodPost, vmPath("rg", "vm1")+"/generalize", nil)
	if r.Header.Get("Azure-AsyncOperation") != "" || len(r.Body) != 0 {
		t.Fatalf("generalize is synchronous: %v %s", r.Header, r.Body)
	}
	if got := strings.Join(e.codes("rg", "vm1"), " "); got != "ProvisioningState/succeeded PowerState/stopped OSState/generalized" {
		t.Fatal(got)
	}
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/start", nil), http.StatusConflict, "OperationNotAllowed",
		"Operation 'start' is not allowed on VM 'vm1' since the VM is generalized.")
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/redeploy", nil), http.StatusConflict, "OperationNotAllowed",
		"Operation 'redeploy' is not allowed on VM 'vm1' since the VM is generalized.")
	// It can still be deallocated and deleted.
	e.act("rg", "vm1", "deallocate")
	e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "vm1"), nil)
}

func TestVMSimulateEviction(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "regular", linuxVM("rg", "regular", "westeurope"))
	armError(t, e.do(http.MethodPost, vmPath("rg", "regular")+"/simulateEviction", nil), http.StatusConflict, "OperationNotAllowed", "")

	spot := with(with(linuxVM("rg", "spot", "westeurope"), "properties.priority", "Spot"), "properties.evictionPolicy", "Deallocate")
	e.createVM("rg", "spot", spot)
	r := e.must(http.StatusNoContent, http.MethodPost, vmPath("rg", "spot")+"/simulateEviction", nil)
	if len(r.Body) != 0 {
		t.Fatalf("204 with a body: %s", r.Body)
	}
	e.advance(30 * time.Second)
	if prov, pw := e.state("rg", "spot"); prov != "ProvisioningState/succeeded" || pw != "PowerState/deallocated" {
		t.Fatalf("evicted: %s %s", prov, pw)
	}
	// Eviction with the Delete policy removes the VM.
	del := with(with(linuxVM("rg", "spot2", "westeurope"), "properties.priority", "spot"), "properties.evictionPolicy", "delete")
	e.createVM("rg", "spot2", del)
	e.must(http.StatusNoContent, http.MethodPost, vmPath("rg", "spot2")+"/simulateEviction", nil)
	e.advance(20 * time.Second)
	armError(t, e.do(http.MethodGet, vmPath("rg", "spot2"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestVMRunCommand(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	run := vmPath("rg", "vm1") + "/runCommand"

	armError(t, e.do(http.MethodPost, run, map[string]any{"script": []string{"ls"}}), http.StatusBadRequest, "InvalidParameter",
		"Required parameter 'commandId' is missing (null).")
	armError(t, e.do(http.MethodPost, run, nil), http.StatusBadRequest, "InvalidRequestContent", "")

	r := e.must(http.StatusAccepted, http.MethodPost, run, map[string]any{"commandId": "RunShellScript", "script": []string{"echo bye", "sudo shutdown -h now"}})
	async, loc := r.Header.Get("Azure-AsyncOperation"), r.Header.Get("Location")
	if m := e.do(http.MethodGet, loc, nil); m.Status != http.StatusAccepted {
		t.Fatalf("monitor while running: %s", m)
	}
	e.advance(5 * time.Second)
	if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/succeeded" || pw != "PowerState/stopped" {
		t.Fatalf("after a shutdown script: %s %s", prov, pw)
	}
	st := e.opStatus(async)
	if st["status"] != "Succeeded" || dig(st, "properties", "output", "value") == nil {
		t.Fatalf("status: %v", st)
	}
	m := e.must(http.StatusOK, http.MethodGet, loc, nil).JSON(t)
	v, _ := m["value"].([]any)
	if len(v) == 0 || v[0].(map[string]any)["code"] != "ProvisioningState/succeeded" || v[0].(map[string]any)["message"] == nil {
		t.Fatalf("runCommand result: %v", m)
	}
	// A stopped VM runs no command.
	armError(t, e.do(http.MethodPost, run, map[string]any{"commandId": "RunShellScript", "script": []string{"ls"}}), http.StatusConflict, "OperationNotAllowed",
		"The operation requires the VM to be running (or set to run).")
}

func TestVMRunCommandHarmless(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	r := e.must(http.StatusAccepted, http.MethodPost, vmPath("rg", "vm1")+"/runCommand",
		map[string]any{"commandId": "RunShellScript", "script": []string{"echo shutdown-is-a-word-here > /tmp/x", "cat /etc/os-release"}})
	e.advance(5 * time.Second)
	if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/succeeded" || pw != "PowerState/running" {
		t.Fatalf("after a harmless script: %s %s", prov, pw)
	}
	if s := e.opStatus(r.Header.Get("Azure-AsyncOperation"))["status"]; s != "Succeeded" {
		t.Fatal(s)
	}
}

func TestVMRefusals(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))

	// A model change during the create is refused.
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "young"), linuxVM("rg", "young", "westeurope"))
	armError(t, e.do(http.MethodPut, vmPath("rg", "young"), linuxVM("rg", "young", "westeurope")), http.StatusConflict, "OperationNotAllowed", "")
	armError(t, e.do(http.MethodPost, vmPath("rg", "young")+"/start", nil), http.StatusConflict, "OperationNotAllowed", "")

	e.act("rg", "vm1", "deallocate")
	// On its way to deallocation the VM refuses what needs it allocated.
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/powerOff", nil), http.StatusConflict, "OperationNotAllowed",
		"Operation 'powerOff' is not allowed on VM 'vm1' since the VM is either deallocated or marked to be deallocated.")
	e.advance(30 * time.Second)
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/powerOff", nil), http.StatusConflict, "OperationNotAllowed",
		"Operation 'powerOff' is not allowed on VM 'vm1' since the VM is either deallocated or marked to be deallocated.")
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/restart", nil), http.StatusConflict, "OperationNotAllowed",
		"Operation 'restart' is not allowed on VM 'vm1' since the VM is either deallocated or marked to be deallocated.")
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/reimage", nil), http.StatusConflict, "OperationNotAllowed", "")

	// Delete, and what it refuses while it runs.
	r := e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "vm1"), nil)
	async := r.Header.Get("Azure-AsyncOperation")
	if r.Header.Get("Location") != async+"&monitor=true" {
		t.Fatalf("DELETE headers: %v", r.Header)
	}
	if p := e.provisioningState("rg", "vm1"); p != "Deleting" {
		t.Fatal(p)
	}
	armError(t, e.do(http.MethodPost, vmPath("rg", "vm1")+"/start", nil), http.StatusConflict, "OperationNotAllowed",
		"Operation 'start' is not allowed on VM 'vm1' since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).")
	armError(t, e.do(http.MethodPut, vmPath("rg", "vm1"), linuxVM("rg", "vm1", "westeurope")), http.StatusConflict, "OperationNotAllowed", "")
	// A repeated delete joins the running one.
	if again := e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "vm1"), nil); again.Header.Get("Azure-AsyncOperation") != async {
		t.Fatalf("second delete: %v", again.Header)
	}
	e.advance(20 * time.Second)
	if s := e.opStatus(async)["status"]; s != "Succeeded" {
		t.Fatal(s)
	}
	armError(t, e.do(http.MethodGet, vmPath("rg", "vm1"), nil), http.StatusNotFound, "ResourceNotFound",
		"The Resource 'Microsoft.Compute/virtualMachines/vm1' under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")
	armError(t, e.do(http.MethodGet, vmPath("rg", "vm1")+"/instanceView", nil), http.StatusNotFound, "ResourceNotFound", "")
	// Deleting what is not there succeeds.
	if r := e.do(http.MethodDelete, vmPath("rg", "vm1"), nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("DELETE of a missing VM: %s", r)
	}
	if r := e.do(http.MethodDelete, vmPath("rg", "never"), nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE of a missing VM: %s", r)
	}
	// Delete during create preempts the create.
	d := e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "young"), nil)
	e.advance(20 * time.Second)
	if s := e.opStatus(d.Header.Get("Azure-AsyncOperation"))["status"]; s != "Succeeded" {
		t.Fatal(s)
	}
	armError(t, e.do(http.MethodGet, vmPath("rg", "young"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestVMPreemption(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.act("rg", "vm1", "powerOff")
	e.advance(10 * time.Second)

	startOp := e.act("rg", "vm1", "start")
	e.advance(3 * time.Second)
	deallocOp := e.act("rg", "vm1", "deallocate")
	st := e.opStatus(startOp)
	if st["status"] != "Canceled" || st["endTime"] == nil {
		t.Fatalf("preempted start: %v", st)
	}
	er, _ := st["error"].(map[string]any)
	if er["code"] != "OperationPreempted" || er["message"] != "Operation execution has been preempted by a more recent operation." {
		t.Fatalf("preempted start error: %v", st["error"])
	}
	// Its monitor URL answers with the error.
	u, _ := url.Parse(startOp)
	q := u.Query()
	q.Set("monitor", "true")
	u.RawQuery = q.Encode()
	armError(t, e.do(http.MethodGet, u.String(), nil), http.StatusConflict, "OperationPreempted", "")

	if s := e.opStatus(deallocOp)["status"]; s != "InProgress" {
		t.Fatal(s)
	}
	// The deallocate starts from where the start left the VM (starting).
	e.advance(30 * time.Second)
	if s := e.opStatus(deallocOp)["status"]; s != "Succeeded" {
		t.Fatal(s)
	}
	if prov, pw := e.state("rg", "vm1"); prov != "ProvisioningState/succeeded" || pw != "PowerState/deallocated" {
		t.Fatalf("%s %s", prov, pw)
	}
	if s := e.opStatus(startOp)["status"]; s != "Canceled" {
		t.Fatal(s)
	}
}

func TestVMSpecializedDisk(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createDisk("rg", "osdisk", 127)
	body := with(without(without(linuxVM("rg", "vm1", "westeurope"), "properties.osProfile"), "properties.storageProfile.imageReference"),
		"properties.storageProfile.osDisk", map[string]any{"createOption": "Attach", "osType": "Windows",
			"managedDisk": map[string]any{"id": groupPath("rg") + "/providers/Microsoft.Compute/disks/osdisk"}})
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "vm1"), body)
	// An attached (specialized) disk never shows the OS provisioning sub-states.
	for _, step := range []struct {
		after time.Duration
		codes string
	}{
		{15 * time.Second, "ProvisioningState/creating PowerState/starting"},
		{20 * time.Second, "ProvisioningState/succeeded PowerState/running"},
	} {
		e.advance(step.after)
		if got := strings.Join(e.codes("rg", "vm1"), " "); got != step.codes {
			t.Fatalf("after %v: %s, want %s", step.after, got, step.codes)
		}
	}
	got := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t)
	if dig(got, "properties", "osProfile") != nil || dig(got, "properties", "storageProfile", "osDisk", "managedDisk", "id") != groupPath("rg")+"/providers/Microsoft.Compute/disks/osdisk" {
		t.Fatalf("model: %v", got)
	}
	// Its GET body goes back as it came.
	e.must(http.StatusOK, http.MethodPut, vmPath("rg", "vm1"), got)
	e.advance(5 * time.Second)
	// Reimage of a specialized VM has no OS provisioning either.
	e.act("rg", "vm1", "reimage")
	e.advance(25 * time.Second)
	if got := strings.Join(e.codes("rg", "vm1"), " "); got != "ProvisioningState/succeeded PowerState/running" {
		t.Fatal(got)
	}
}

func TestVMRoundTripWithInstanceView(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	win := with(without(linuxVM("rg", "win1", "westeurope"), "properties.storageProfile.imageReference"), "properties.storageProfile.imageReference",
		map[string]any{"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter", "version": "latest"})
	e.createVM("rg", "win1", win)
	got := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "win1")+"?$expand=instanceView", nil).JSON(t)
	if dig(got, "properties", "storageProfile", "osDisk", "osType") != "Windows" || dig(got, "properties", "osProfile", "windowsConfiguration", "enableAutomaticUpdates") != true {
		t.Fatalf("Windows defaults: %v", got)
	}
	// PUT back with its instance view: the server-owned parts are dropped.
	e.must(http.StatusOK, http.MethodPut, vmPath("rg", "win1"), got)
	e.advance(5 * time.Second)
	again := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "win1"), nil).JSON(t)
	if dig(again, "properties", "instanceView") != nil {
		t.Fatalf("instance view stored in the model: %v", again)
	}
}

func TestVMHibernateAndForceDelete(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "plain", linuxVM("rg", "plain", "westeurope"))
	armError(t, e.do(http.MethodPost, vmPath("rg", "plain")+"/deallocate?hibernate=true", nil), http.StatusConflict, "OperationNotAllowed", "")

	e.createVM("rg", "hib", with(linuxVM("rg", "hib", "westeurope"), "properties.additionalCapabilities", map[string]any{"hibernationEnabled": true}))
	e.must(http.StatusAccepted, http.MethodPost, vmPath("rg", "hib")+"/deallocate?hibernate=true", nil)
	e.advance(30 * time.Second)
	if got := strings.Join(e.codes("rg", "hib"), " "); got != "ProvisioningState/succeeded PowerState/deallocated HibernationState/Hibernated" {
		t.Fatal(got)
	}
	e.act("rg", "hib", "start")
	e.advance(27 * time.Second)
	if got := strings.Join(e.codes("rg", "hib"), " "); got != "ProvisioningState/succeeded PowerState/running" {
		t.Fatal(got)
	}

	e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "plain")+"?forceDeletion=true", nil)
	e.advance(5 * time.Second)
	armError(t, e.do(http.MethodGet, vmPath("rg", "plain"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	groups := make([]resp, 10)
	for i := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			groups[i] = e.do(http.MethodPut, groupPath("rg"), map[string]any{"location": "westeurope"})
		}()
	}
	wg.Wait()
	if n := countStatus(groups, http.StatusCreated); n != 1 || countStatus(groups, http.StatusOK) != 9 {
		t.Fatalf("group PUTs: %d created, answers %v", n, statuses(groups))
	}
	vms := make([]resp, 10)
	for i := range vms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vms[i] = e.do(http.MethodPut, vmPath("rg", "vm1"), linuxVM("rg", "vm1", "westeurope"))
		}()
	}
	wg.Wait()
	if countStatus(vms, http.StatusCreated) != 1 || countStatus(vms, http.StatusConflict) != 9 {
		t.Fatalf("VM PUTs: %v", statuses(vms))
	}
	for _, r := range vms {
		if r.Status == http.StatusConflict {
			armError(t, r, http.StatusConflict, "OperationNotAllowed", "")
		}
	}
}

func countStatus(rs []resp, status int) int {
	n := 0
	for _, r := range rs {
		if r.Status == status {
			n++
		}
	}
	return n
}

func statuses(rs []resp) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Status)
	}
	return out
}

func TestUnicodeGroupNames(t *testing.T) {
	e := newEnv(t, withPageSize(1))
	rg := "Grüppe-(ä).1"
	e.must(http.StatusCreated, http.MethodPut, groupPath(url.PathEscape(rg)), map[string]any{"location": "westeurope"})
	for _, n := range []string{"a", "b", "c"} {
		e.must(http.StatusCreated, http.MethodPut, vmPath(url.PathEscape(rg), n), linuxVM(rg, n, "westeurope"))
	}
	names, items := collect(t, e, groupPath(url.PathEscape(strings.ToUpper(rg)))+"/providers/Microsoft.Compute/virtualMachines", 1)
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("listed %v", names)
	}
	if items[0]["id"] != vmID(rg, "a") {
		t.Fatalf("id %v", items[0]["id"])
	}
	g := e.must(http.StatusOK, http.MethodGet, groupPath(url.PathEscape(rg)), nil).JSON(t)
	if g["name"] != rg {
		t.Fatalf("group %v", g)
	}
}

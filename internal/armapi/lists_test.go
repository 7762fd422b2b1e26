package armapi_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// collect follows nextLinks from first and returns the names listed, in
// order, requiring each to appear once and each page to hold at most max.
func collect(t *testing.T, e *env, first string, max int) (names []string, items []map[string]any) {
	t.Helper()
	seen := map[string]bool{}
	next := first
	for pages := 0; next != ""; pages++ {
		if pages > 20 {
			t.Fatal("nextLink loop")
		}
		page := e.must(http.StatusOK, http.MethodGet, next, nil).JSON(t)
		value, ok := page["value"].([]any)
		if !ok {
			t.Fatalf("value is not an array: %v", page)
		}
		if len(value) > max {
			t.Fatalf("page of %d, max %d", len(value), max)
		}
		for _, v := range value {
			m := v.(map[string]any)
			id := m["id"].(string)
			if seen[id] {
				t.Fatalf("%s listed twice", id)
			}
			seen[id] = true
			names = append(names, m["name"].(string))
			items = append(items, m)
		}
		next, _ = page["nextLink"].(string)
		if next != "" {
			checkNextLink(t, e, next)
		}
	}
	return names, items
}

func TestVMListPaging(t *testing.T) {
	e := newEnv(t, withPageSize(2))
	e.createGroup("rg")
	e.createGroup("rg2")
	for _, n := range []string{"vm-c", "vm-a", "vm-e"} {
		e.must(http.StatusCreated, http.MethodPut, vmPath("rg", n), linuxVM("rg", n, "westeurope"))
	}
	for _, n := range []string{"vm-b", "vm-d"} {
		e.must(http.StatusCreated, http.MethodPut, vmPath("rg2", n), linuxVM("rg2", n, "westeurope"))
	}
	// Another subscription's VM is never listed.
	other := "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	e.must(http.StatusCreated, http.MethodPut, "/subscriptions/"+other+"/resourceGroups/rg", map[string]any{"location": "westeurope"})
	e.must(http.StatusCreated, http.MethodPut, "/subscriptions/"+other+"/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-x", linuxVM("rg", "vm-x", "westeurope"))

	names, _ := collect(t, e, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines", 2)
	sort.Strings(names)
	if strings.Join(names, ",") != "vm-a,vm-b,vm-c,vm-d,vm-e" {
		t.Fatalf("listAll: %v", names)
	}
	names, _ = collect(t, e, groupPath("rg")+"/providers/Microsoft.Compute/virtualMachines", 2)
	if strings.Join(names, ",") != "vm-a,vm-c,vm-e" {
		t.Fatalf("list in rg: %v", names)
	}
	// The nextLink keeps the other query options.
	first := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines?statusOnly=true&api-version=2019-07-01", nil).JSON(t)
	u, _ := url.Parse(first["nextLink"].(string))
	if u.Query().Get("statusOnly") != "true" || u.Query().Get("api-version") != "2019-07-01" {
		t.Fatalf("nextLink %v", first["nextLink"])
	}
	// A page token past the end lists nothing.
	end := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines?$skiptoken=~", nil).JSON(t)
	if v := end["value"].([]any); len(v) != 0 || end["nextLink"] != nil {
		t.Fatalf("past the end: %v", end)
	}
}

func TestVMListEmpty(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	for _, p := range []string{
		groupPath("rg") + "/providers/Microsoft.Compute/virtualMachines",
		"/subscriptions/" + sub + "/providers/Microsoft.Compute/virtualMachines",
		"/subscriptions/" + sub + "/providers/Microsoft.Compute/locations/westeurope/virtualMachines",
	} {
		r := e.must(http.StatusOK, http.MethodGet, p, nil)
		if string(r.Body) != "{\"value\":[]}\n" {
			t.Fatalf("%s: %s", p, r.Body)
		}
	}
}

func TestVMListStatusOnlyAndLocation(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "eu1"), linuxVM("rg", "eu1", "westeurope"))
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "eu2"), linuxVM("rg", "eu2", "West Europe"))
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "us1"), linuxVM("rg", "us1", "eastus"))
	e.advance(80 * time.Second)

	all := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines?statusOnly=true", nil).JSON(t)
	for _, v := range all["value"].([]any) {
		vm := v.(map[string]any)
		st, _ := dig(vm, "properties", "instanceView", "statuses").([]any)
		if len(st) != 2 || st[1].(map[string]any)["code"] != "PowerState/running" {
			t.Fatalf("statusOnly item: %v", v)
		}
		// Compute's shape: the identity and the run-time status, not the
		// model (tags, profiles) nor the agent's and disks' details.
		name, _ := vm["name"].(string)
		if vm["id"] != vmID("rg", name) || vm["type"] != "Microsoft.Compute/virtualMachines" || vm["location"] == nil {
			t.Errorf("statusOnly identity: %v", vm)
		}
		p := props(vm)
		if p["provisioningState"] != "Succeeded" || p["vmId"] == nil || dig(vm, "properties", "instanceView", "platformFaultDomain") != 0.0 {
			t.Errorf("statusOnly properties: %v", p)
		}
		for _, k := range []string{"storageProfile", "osProfile", "networkProfile", "timeCreated"} {
			if _, ok := p[k]; ok {
				t.Errorf("statusOnly item carries %s: %v", k, p)
			}
		}
		if hw, ok := p["hardwareProfile"].(map[string]any); !ok || len(hw) != 0 {
			t.Errorf("statusOnly hardwareProfile %v, want {}", p["hardwareProfile"])
		}
		if _, ok := vm["tags"]; ok {
			t.Errorf("statusOnly item carries tags: %v", vm)
		}
		iv := dig(vm, "properties", "instanceView").(map[string]any)
		for _, k := range []string{"vmAgent", "disks", "computerName", "osName"} {
			if _, ok := iv[k]; ok {
				t.Errorf("statusOnly instance view carries %s: %v", k, iv)
			}
		}
	}
	plain := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines", nil).JSON(t)
	for _, v := range plain["value"].([]any) {
		if dig(v.(map[string]any), "properties", "instanceView") != nil {
			t.Fatalf("instance view without statusOnly: %v", v)
		}
	}
	expanded := e.must(http.StatusOK, http.MethodGet, groupPath("rg")+"/providers/Microsoft.Compute/virtualMachines?$expand=instanceView", nil).JSON(t)
	for _, v := range expanded["value"].([]any) {
		if dig(v.(map[string]any), "properties", "instanceView", "statuses") == nil {
			t.Fatalf("$expand=instanceView item: %v", v)
		}
	}

	for loc, want := range map[string]string{"westeurope": "eu1,eu2", "WestEurope": "eu1,eu2", "eastus": "us1", "northeurope": ""} {
		names, _ := collect(t, e, "/subscriptions/"+sub+"/providers/Microsoft.Compute/locations/"+loc+"/virtualMachines", 100)
		sort.Strings(names)
		if strings.Join(names, ",") != want {
			t.Fatalf("location %s: %v, want %s", loc, names, want)
		}
	}
}

func TestVMListScaleSetFilter(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	ss := groupPath("rg") + "/providers/Microsoft.Compute/virtualMachineScaleSets/flex"
	other := groupPath("rg") + "/providers/Microsoft.Compute/virtualMachineScaleSets/other"
	for name, set := range map[string]string{"f1": ss, "f2": strings.ToUpper(ss), "o1": other, "plain": ""} {
		body := linuxVM("rg", name, "westeurope")
		if set != "" {
			body = with(body, "properties.virtualMachineScaleSet", map[string]any{"id": set})
		}
		vm := e.must(http.StatusCreated, http.MethodPut, vmPath("rg", name), body).JSON(t)
		if set != "" && vm["managedBy"] != set {
			t.Fatalf("%s managedBy %v", name, vm["managedBy"])
		}
	}
	for _, filter := range []string{
		"virtualMachineScaleSet/id eq '" + ss + "'",
		"'virtualMachineScaleSet/id' eq '" + ss + "'",
		"virtualmachinescaleset/id eq '" + strings.ToLower(ss) + "'",
	} {
		for _, list := range []string{
			"/subscriptions/" + sub + "/providers/Microsoft.Compute/virtualMachines",
			groupPath("rg") + "/providers/Microsoft.Compute/virtualMachines",
		} {
			names, _ := collect(t, e, list+"?$filter="+url.QueryEscape(filter), 100)
			sort.Strings(names)
			if strings.Join(names, ",") != "f1,f2" {
				t.Fatalf("%s with %s: %v", list, filter, names)
			}
		}
	}
	for _, bad := range []string{"name eq 'f1'", "virtualMachineScaleSet/id ne 'x'", "location eq 'westeurope'", "'"} {
		for _, list := range []string{
			"/subscriptions/" + sub + "/providers/Microsoft.Compute/virtualMachines",
			groupPath("rg") + "/providers/Microsoft.Compute/virtualMachines",
		} {
			r := e.do(http.MethodGet, list+"?$filter="+url.QueryEscape(bad), nil)
			armError(t, r, http.StatusBadRequest, "InvalidParameter", "")
		}
	}
}

package armapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
)

func computePath(rest string) string {
	return "/subscriptions/" + sub + "/providers/Microsoft.Compute/" + rest
}

// resourceType finds a type in a provider's metadata.
func resourceType(t *testing.T, provider map[string]any, name string) map[string]any {
	t.Helper()
	for _, rt := range provider["resourceTypes"].([]any) {
		if m := rt.(map[string]any); strings.EqualFold(m["resourceType"].(string), name) {
			return m
		}
	}
	t.Fatalf("no resource type %s in %v", name, provider["namespace"])
	return nil
}

// az resource show picks the newest stable api-version a type lists.
func TestProviderMetadata(t *testing.T) {
	e := newEnv(t)
	p := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/microsoft.compute", nil).JSON(t)
	if p["namespace"] != "Microsoft.Compute" || p["registrationState"] != "Registered" {
		t.Fatalf("provider %v", p)
	}
	vms := resourceType(t, p, "virtualMachines")
	versions := vms["apiVersions"].([]any)
	if versions[0] != "2025-04-01" || !contains(versions, "2020-06-01") || contains(versions, "2020-06-02") {
		t.Fatalf("virtualMachines api-versions %v", versions)
	}
	if !contains(vms["locations"].([]any), "West Europe") {
		t.Fatalf("virtualMachines locations %v", vms["locations"])
	}
	if got := resourceType(t, p, "disks")["apiVersions"].([]any)[0]; got != "2025-01-02" {
		t.Fatalf("disks: newest api-version %v", got)
	}
	if locs := resourceType(t, p, "locations")["locations"].([]any); len(locs) != 0 {
		t.Fatalf("a global type lists regions: %v", locs)
	}
	all := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers", nil).JSON(t)["value"].([]any)
	var names []any
	for _, p := range all {
		names = append(names, p.(map[string]any)["namespace"])
	}
	if !contains(names, "Microsoft.Resources") || !contains(names, "Microsoft.Network") {
		t.Fatalf("providers %v", names)
	}
	tags := resourceType(t, all[indexOf(names, "Microsoft.Resources")].(map[string]any), "tags")
	if !contains(tags["apiVersions"].([]any), "2019-10-01") {
		t.Fatalf("tags api-versions %v", tags["apiVersions"])
	}
}

func contains(list []any, v any) bool { return indexOf(list, v) >= 0 }

func indexOf(list []any, v any) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

func TestListLocations(t *testing.T) {
	e := newEnv(t)
	locs := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/locations", nil).JSON(t)["value"].([]any)
	found := false
	for _, l := range locs {
		m := l.(map[string]any)
		if m["name"] == "westeurope" {
			found = true
			if m["displayName"] != "West Europe" || m["id"] != "/subscriptions/"+sub+"/locations/westeurope" ||
				dig(m, "metadata", "pairedRegion").([]any)[0].(map[string]any)["name"] != "northeurope" {
				t.Fatalf("westeurope: %v", m)
			}
		}
	}
	if !found || len(locs) < 5 {
		t.Fatalf("locations %v", locs)
	}
}

func TestVMSizesAndSKUs(t *testing.T) {
	e := newEnv(t)
	sizes := e.must(http.StatusOK, http.MethodGet, computePath("locations/westeurope/vmSizes"), nil).JSON(t)["value"].([]any)
	bySize := map[string]map[string]any{}
	for _, s := range sizes {
		m := s.(map[string]any)
		bySize[m["name"].(string)] = m
	}
	d2 := bySize["Standard_D2s_v3"]
	if d2 == nil || d2["numberOfCores"] != float64(2) || d2["memoryInMB"] != float64(8192) || d2["maxDataDiskCount"] != float64(4) ||
		d2["resourceDiskSizeInMB"] != float64(16384) || d2["osDiskSizeInMB"] != float64(1047552) {
		t.Fatalf("Standard_D2s_v3: %v", d2)
	}
	if bySize["Standard_B1s"] == nil || len(bySize) < 50 {
		t.Fatalf("%d sizes", len(bySize))
	}
	armError(t, e.do(http.MethodGet, computePath("locations/moon/vmSizes"), nil), http.StatusBadRequest, "NoRegisteredProviderFound", "")

	// A VM's available sizes (what the azurerm provider asks before a
	// resize): the region's, or 404 for a VM that does not exist.
	e.createGroup("rg")
	e.createVM("rg", "web", linuxVM("rg", "web", "westeurope"))
	available := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "web")+"/vmSizes", nil).JSON(t)["value"].([]any)
	if len(available) != len(sizes) || available[0].(map[string]any)["name"] != sizes[0].(map[string]any)["name"] {
		t.Fatalf("%d sizes available to web, %d in the region", len(available), len(sizes))
	}
	armError(t, e.do(http.MethodGet, vmPath("rg", "nope")+"/vmSizes", nil), http.StatusNotFound, "ResourceNotFound", "")
	armError(t, e.do(http.MethodPost, vmPath("rg", "web")+"/vmSizes", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "")

	skus := e.must(http.StatusOK, http.MethodGet, computePath("skus?$filter="+url.QueryEscape("location eq 'westeurope'")), nil).JSON(t)["value"].([]any)
	if len(skus) != len(sizes) {
		t.Fatalf("%d SKUs in westeurope, %d sizes", len(skus), len(sizes))
	}
	for _, s := range skus {
		m := s.(map[string]any)
		if m["locations"].([]any)[0] != "westeurope" || m["resourceType"] != "virtualMachines" {
			t.Fatalf("SKU %v", m)
		}
		if m["name"] == "Standard_D2s_v3" && (m["family"] != "standardDSv3Family" || m["size"] != "D2s_v3") {
			t.Fatalf("SKU %v", m)
		}
	}
	everywhere := e.must(http.StatusOK, http.MethodGet, computePath("skus"), nil).JSON(t)["value"].([]any)
	if len(everywhere) <= len(skus) {
		t.Fatalf("%d SKUs without a filter", len(everywhere))
	}
	armError(t, e.do(http.MethodGet, computePath("skus?$filter="+url.QueryEscape("name eq 'x'")), nil), http.StatusBadRequest, "InvalidParameter", "")
}

func TestUnknownVMSizeRefused(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := linuxVM("rg", "vm1", "westeurope")
	dig(body, "properties", "hardwareProfile").(map[string]any)["vmSize"] = "Standard_D3s_v3"
	r := armError(t, e.do(http.MethodPut, vmPath("rg", "vm1"), body), http.StatusBadRequest, "InvalidParameter", "")
	msg := r["message"].(string)
	if r["target"] != "vmSize" || !strings.HasPrefix(msg, "The value Standard_D3s_v3 provided for the VM size is not valid. The valid sizes in the current region are: ") ||
		!strings.Contains(msg, "Standard_D2s_v3") {
		t.Fatalf("error %v", r)
	}
	// Sizes match ignoring case, as in Azure.
	dig(body, "properties", "hardwareProfile").(map[string]any)["vmSize"] = "standard_d2s_V3"
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "vm1"), body)
}

func TestUsages(t *testing.T) {
	e := newEnvWithEngine(t, func(c *engine.Config) { c.Capacity = engine.Capacity{"westeurope": {"DSv3": 6}} })
	e.createGroup("rg")
	e.createVM("rg", "a", linuxVM("rg", "a", "westeurope"))
	e.createVM("rg", "b", linuxVM("rg", "b", "westeurope"))
	e.act("rg", "b", "deallocate")
	e.advance(time.Minute)

	usage := func(loc string) map[string][2]float64 {
		out := map[string][2]float64{}
		for _, u := range e.must(http.StatusOK, http.MethodGet, computePath("locations/"+loc+"/usages"), nil).JSON(t)["value"].([]any) {
			m := u.(map[string]any)
			out[dig(m, "name", "value").(string)] = [2]float64{m["currentValue"].(float64), m["limit"].(float64)}
			if m["unit"] != "Count" || dig(m, "name", "localizedValue") == "" {
				t.Fatalf("usage %v", m)
			}
		}
		return out
	}
	// The deallocated VM holds no cores; it is still a VM.
	got := usage("westeurope")
	if got["standardDSv3Family"] != [2]float64{2, 6} || got["cores"][0] != 2 || got["virtualMachines"][0] != 2 {
		t.Fatalf("westeurope usage %v", got)
	}
	if got["standardFSv2Family"] != [2]float64{0, 10000} {
		t.Fatalf("an unlimited family: %v", got["standardFSv2Family"])
	}
	if got := usage("eastus"); got["standardDSv3Family"] != [2]float64{0, 10000} || got["virtualMachines"][0] != 0 {
		t.Fatalf("eastus usage %v", got)
	}
}

func TestImageCatalog(t *testing.T) {
	e := newEnv(t)
	list := func(path string) []string {
		t.Helper()
		var names []string
		r := e.must(http.StatusOK, http.MethodGet, computePath("locations/westeurope/publishers"+path), nil)
		var items []map[string]any
		if err := json.Unmarshal(r.Body, &items); err != nil {
			t.Fatalf("%s: %v: %s", path, err, r.Body)
		}
		for _, it := range items {
			if it["location"] != "westeurope" || !strings.HasSuffix(it["id"].(string), "/"+it["name"].(string)) {
				t.Fatalf("item %v", it)
			}
			names = append(names, it["name"].(string))
		}
		return names
	}
	if got := list(""); !containsString(got, "Canonical") || !containsString(got, "MicrosoftWindowsServer") {
		t.Fatalf("publishers %v", got)
	}
	if got := list("/canonical/artifacttypes/vmimage/offers"); !containsString(got, "ubuntu-24_04-lts") || !containsString(got, "UbuntuServer") {
		t.Fatalf("offers %v", got)
	}
	if got := list("/Canonical/ArtifactTypes/VMImage/Offers/UbuntuServer/Skus"); len(got) != 1 || got[0] != "18.04-LTS" {
		t.Fatalf("skus %v", got)
	}
	versions := list("/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions")
	if len(versions) < 2 {
		t.Fatalf("versions %v", versions)
	}
	newest := list("/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions?$top=1&$orderby=name%20desc")
	if len(newest) != 1 || newest[0] != versions[len(versions)-1] {
		t.Fatalf("newest %v of %v", newest, versions)
	}
	img := e.must(http.StatusOK, http.MethodGet, computePath("locations/westeurope/publishers/MicrosoftWindowsServer/artifacttypes/vmimage/offers/WindowsServer/skus/2022-datacenter-g2/versions/latest"), nil).JSON(t)
	if dig(img, "properties", "osDiskImage", "operatingSystem") != "Windows" || dig(img, "properties", "hyperVGeneration") != "V2" {
		t.Fatalf("image %v", img)
	}
	armError(t, e.do(http.MethodGet, computePath("locations/westeurope/publishers/Canonical/artifacttypes/vmimage/offers/nothing/skus"), nil),
		http.StatusNotFound, "NotFound", "Artifact: VMImage was not found.")
	armError(t, e.do(http.MethodGet, computePath("locations/westeurope/publishers/Canonical/artifacttypes/vmimage/offers/UbuntuServer/skus/18.04-LTS/versions/1.2.3"), nil),
		http.StatusNotFound, "NotFound", "")
	armError(t, e.do(http.MethodGet, computePath("locations/moon/publishers"), nil), http.StatusBadRequest, "NoRegisteredProviderFound", "")
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

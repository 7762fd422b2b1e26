package armapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// names lists the names of a Resources - List answer, following nextLink.
func (e *env) resourceNames(path string) []string {
	e.t.Helper()
	var out []string
	for path != "" {
		page := e.must(http.StatusOK, http.MethodGet, path, nil).JSON(e.t)
		for _, v := range page["value"].([]any) {
			out = append(out, v.(map[string]any)["name"].(string))
		}
		path, _ = page["nextLink"].(string)
	}
	return out
}

func TestListResources(t *testing.T) {
	e := newEnv(t, withPageSize(2))
	e.createGroup("rg")
	e.createGroup("other")
	body := linuxVM("rg", "vm1", "westeurope")
	body["tags"] = map[string]any{"env": "prod"}
	e.createVM("rg", "vm1", body)
	e.createDisk("rg", "data1", 10)
	e.createDisk("other", "data2", 10)
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 1))
	e.advance(2 * time.Minute)

	subPath := "/subscriptions/" + sub + "/resources"
	all := e.resourceNames(subPath)
	// The VM, its OS disk, the set, its instance's OS disk, two data disks;
	// never the Uniform instance itself.
	if len(all) != 6 || !containsString(all, "vm1") || !containsString(all, "ss") || containsString(all, "ss_0") {
		t.Fatalf("resources %v", all)
	}
	filtered := func(f string) []string {
		t.Helper()
		return e.resourceNames(subPath + "?$filter=" + url.QueryEscape(f))
	}
	if got := filtered("resourceType eq 'Microsoft.Compute/virtualMachines'"); len(got) != 1 || got[0] != "vm1" {
		t.Fatalf("VMs %v", got)
	}
	if got := filtered("resourceGroup eq 'OTHER'"); len(got) != 1 || got[0] != "data2" {
		t.Fatalf("group other %v", got)
	}
	if got := filtered("resourceGroup eq 'rg' and resourceType eq 'Microsoft.Compute/disks'"); len(got) != 3 {
		t.Fatalf("disks of rg %v", got)
	}
	if got := filtered("tagName eq 'env' and tagValue eq 'prod'"); len(got) != 1 || got[0] != "vm1" {
		t.Fatalf("tagged %v", got)
	}
	if got := filtered("tagName eq 'env' and tagValue eq 'dev'"); len(got) != 0 {
		t.Fatalf("tagged dev %v", got)
	}
	if got := filtered("startswith(tagName, 'en')"); len(got) != 1 {
		t.Fatalf("tag prefix %v", got)
	}
	if got := filtered("substringof('data', name)"); len(got) != 2 {
		t.Fatalf("name part %v", got)
	}
	if got := e.resourceNames(groupPath("other") + "/resources"); len(got) != 1 || got[0] != "data2" {
		t.Fatalf("resources of other %v", got)
	}
	top := e.must(http.StatusOK, http.MethodGet, subPath+"?$top=1", nil).JSON(t)
	if len(top["value"].([]any)) != 1 || top["nextLink"] != nil {
		t.Fatalf("$top=1: %v", top)
	}
	vm := e.must(http.StatusOK, http.MethodGet, subPath+"?$filter="+url.QueryEscape("name eq 'vm1'")+"&$expand=createdTime,provisioningState", nil).JSON(t)["value"].([]any)[0].(map[string]any)
	if vm["id"] != vmID("rg", "vm1") || vm["location"] != "westeurope" || dig(vm, "tags", "env") != "prod" ||
		vm["provisioningState"] != "Succeeded" || vm["createdTime"] == nil || vm["properties"] != nil {
		t.Fatalf("vm1 %v", vm)
	}
	for _, bad := range []string{"tagName eq 'env' and resourceGroup eq 'rg'", "tagValue eq 'x'", "nonsense", "resourceType ne 'x'"} {
		armError(t, e.do(http.MethodGet, subPath+"?$filter="+url.QueryEscape(bad), nil), http.StatusBadRequest, "InvalidFilterInQueryString", "")
	}
	armError(t, e.do(http.MethodGet, groupPath("missing")+"/resources", nil), http.StatusNotFound, "ResourceGroupNotFound", "")
}

func TestTagsAPI(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.createDisk("rg", "d1", 10)
	tagsOf := func(scope string) map[string]any {
		t.Helper()
		r := e.must(http.StatusOK, http.MethodGet, scope+"/providers/Microsoft.Resources/tags/default", nil).JSON(t)
		if r["name"] != "default" || r["type"] != "Microsoft.Resources/tags" || !strings.EqualFold(r["id"].(string), scope+"/providers/Microsoft.Resources/tags/default") {
			t.Fatalf("tags resource %v", r)
		}
		return dig(r, "properties", "tags").(map[string]any)
	}
	write := func(method, scope string, body map[string]any) map[string]any {
		t.Helper()
		r := e.must(http.StatusOK, method, scope+"/providers/Microsoft.Resources/tags/default", body).JSON(t)
		// A VM's tags change through a model update, which takes a
		// moment, as a PATCH of its tags does.
		e.advance(10 * time.Second)
		return dig(r, "properties", "tags").(map[string]any)
	}
	tags := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return map[string]any{"tags": m}
	}
	for _, scope := range []string{vmPath("rg", "vm1"), groupPath("rg"), groupPath("rg") + "/providers/Microsoft.Compute/disks/d1"} {
		if got := write(http.MethodPut, scope, map[string]any{"properties": tags("a", "1", "b", "2")}); len(got) != 2 {
			t.Fatalf("%s: after PUT %v", scope, got)
		}
		if got := write(http.MethodPatch, scope, map[string]any{"operation": "Merge", "properties": tags("c", "3")}); len(got) != 3 {
			t.Fatalf("%s: after Merge %v", scope, got)
		}
		if got := write(http.MethodPatch, scope, map[string]any{"operation": "Delete", "properties": tags("a", "1", "b", "9")}); len(got) != 2 || got["b"] != "2" {
			t.Fatalf("%s: after Delete %v", scope, got)
		}
		if got := tagsOf(scope); got["c"] != "3" {
			t.Fatalf("%s: read back %v", scope, got)
		}
		e.must(http.StatusOK, http.MethodDelete, scope+"/providers/Microsoft.Resources/tags/default", nil)
		e.advance(10 * time.Second)
		if got := tagsOf(scope); len(got) != 0 {
			t.Fatalf("%s: after DELETE %v", scope, got)
		}
	}
	// The resource's own GET shows what the Tags API wrote.
	write(http.MethodPut, vmPath("rg", "vm1"), map[string]any{"properties": tags("team", "x")})
	e.advance(time.Minute)
	if got := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1"), nil).JSON(t); dig(got, "tags", "team") != "x" || e.provisioningState("rg", "vm1") != "Succeeded" {
		t.Fatalf("VM after tagging: %v", got["tags"])
	}
	armError(t, e.do(http.MethodPatch, vmPath("rg", "vm1")+"/providers/Microsoft.Resources/tags/default",
		map[string]any{"operation": "Sideways", "properties": tags("a", "1")}), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodGet, vmPath("rg", "nothing")+"/providers/Microsoft.Resources/tags/default", nil), http.StatusNotFound, "ResourceNotFound", "")
	armError(t, e.do(http.MethodPut, "/subscriptions/"+sub+"/providers/Microsoft.Resources/tags/default",
		map[string]any{"properties": tags("a", "1")}), http.StatusBadRequest, "InvalidParameter", "")
}

package armapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/store"
)

func TestResourceGroupCRUD(t *testing.T) {
	e := newEnv(t)
	p := groupPath("rg-One")

	r := e.must(http.StatusCreated, http.MethodPut, p, map[string]any{"location": "westeurope", "tags": map[string]string{"env": "dev"}})
	g := r.JSON(t)
	if g["id"] != "/subscriptions/"+sub+"/resourceGroups/rg-One" || g["name"] != "rg-One" || g["type"] != "Microsoft.Resources/resourceGroups" ||
		g["location"] != "westeurope" || dig(g, "properties", "provisioningState") != "Succeeded" || dig(g, "tags", "env") != "dev" {
		t.Fatalf("PUT body: %v", g)
	}
	g = e.must(http.StatusOK, http.MethodPut, groupPath("RG-ONE"), map[string]any{"location": "westeurope", "tags": map[string]string{"env": "prod"}}).JSON(t)
	if g["name"] != "rg-One" || dig(g, "tags", "env") != "prod" {
		t.Fatalf("second PUT: %v", g)
	}
	g = e.must(http.StatusOK, http.MethodGet, p, nil).JSON(t)
	if g["name"] != "rg-One" || dig(g, "tags", "env") != "prod" {
		t.Fatalf("GET: %v", g)
	}

	if r := e.do(http.MethodHead, p, nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("HEAD existing: %s", r)
	}
	if r := e.do(http.MethodHead, groupPath("rg-missing"), nil); r.Status != http.StatusNotFound || r.Header.Get("x-ms-request-id") == "" {
		t.Fatalf("HEAD missing: %s", r)
	}
	armError(t, e.do(http.MethodGet, groupPath("rg-missing"), nil), http.StatusNotFound, "ResourceGroupNotFound",
		"Resource group 'rg-missing' could not be found.")

	// PATCH replaces the tags it is given and keeps what it is not.
	g = e.must(http.StatusOK, http.MethodPatch, p, map[string]any{"tags": map[string]string{"team": "a", "cost": "1"}}).JSON(t)
	if tags := g["tags"].(map[string]any); len(tags) != 2 || tags["team"] != "a" || g["location"] != "westeurope" {
		t.Fatalf("PATCH: %v", g)
	}
	g = e.must(http.StatusOK, http.MethodPatch, p, map[string]any{"managedBy": "someone"}).JSON(t)
	if tags := g["tags"].(map[string]any); len(tags) != 2 || g["managedBy"] != "someone" {
		t.Fatalf("PATCH without tags lost them: %v", g)
	}
	armError(t, e.do(http.MethodPatch, groupPath("rg-missing"), map[string]any{"tags": map[string]string{}}), http.StatusNotFound, "ResourceGroupNotFound", "")
	armError(t, e.do(http.MethodPatch, p, "{bad"), http.StatusBadRequest, "InvalidRequestContent", "")

	// Validation.
	armError(t, e.do(http.MethodPut, groupPath("rg2"), map[string]any{"tags": map[string]string{}}), http.StatusBadRequest, "InvalidParameter",
		"Required parameter 'location' is missing (null).")
	armError(t, e.do(http.MethodPut, groupPath("rg2"), "not json"), http.StatusBadRequest, "InvalidRequestContent", "")
	armError(t, e.do(http.MethodPut, groupPath("bad%20name%2A"), map[string]any{"location": "westeurope"}), http.StatusBadRequest, "InvalidResourceGroupName", "")
	armError(t, e.do(http.MethodPut, groupPath("ends-with-dot."), map[string]any{"location": "westeurope"}), http.StatusBadRequest, "InvalidResourceGroupName", "")

	// DELETE of a missing group is a 404, as Resource Manager answers.
	armError(t, e.do(http.MethodDelete, groupPath("rg-missing"), nil), http.StatusNotFound, "ResourceGroupNotFound", "")
}

func TestResourceGroupLocationConflict(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	armError(t, e.do(http.MethodPut, groupPath("rg"), map[string]any{"location": "eastus"}), http.StatusConflict, "InvalidResourceGroupLocation",
		"Invalid resource group location 'eastus'. The Resource group already exists in location 'westeurope'.")
}

func TestResourceGroupLocationConflictIsAConflict(t *testing.T) {
	// Whatever code the engine uses, the answer is a 409 ARM error, and the
	// same location written differently is not a change.
	e := newEnv(t)
	e.createGroup("rg")
	r := e.do(http.MethodPut, groupPath("rg"), map[string]any{"location": "eastus"})
	if r.Status != http.StatusConflict {
		t.Fatal(r)
	}
	wellFormedError(t, r)
	e.must(http.StatusOK, http.MethodPut, groupPath("rg"), map[string]any{"location": "West Europe"})
}

func TestResourceGroupListPaging(t *testing.T) {
	e := newEnv(t, withPageSize(2))
	names := []string{"rg-c", "RG-a", "rg-e", "rg-B", "rg-d"}
	for _, n := range names {
		e.createGroup(n)
	}
	got := map[string]bool{}
	var order []string
	next := "/subscriptions/" + sub + "/resourcegroups"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		page := e.must(http.StatusOK, http.MethodGet, next, nil).JSON(t)
		items := page["value"].([]any)
		if len(items) > 2 {
			t.Fatalf("page of %d", len(items))
		}
		for _, it := range items {
			n := it.(map[string]any)["name"].(string)
			if got[n] {
				t.Fatalf("%s listed twice", n)
			}
			got[n] = true
			order = append(order, n)
		}
		next, _ = page["nextLink"].(string)
		if next != "" {
			checkNextLink(t, e, next)
		}
	}
	if strings.Join(order, ",") != "RG-a,rg-B,rg-c,rg-d,rg-e" {
		t.Fatalf("listed %v", order)
	}
}

// checkNextLink requires an absolute link on this server with the
// api-version and a $skiptoken.
func checkNextLink(t *testing.T, e *env, link string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, e.srv.URL+"/") {
		t.Fatalf("nextLink %q is not absolute on %s", link, e.srv.URL)
	}
	if u.Query().Get("api-version") != apiVer || u.Query().Get("$skiptoken") == "" {
		t.Fatalf("nextLink %q lacks api-version or $skiptoken", link)
	}
}

func TestResourceGroupDelete(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createGroup("other")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.createVM("rg", "vm2", linuxVM("rg", "vm2", "westeurope"))
	e.createVM("other", "vm3", linuxVM("other", "vm3", "westeurope"))

	r := e.must(http.StatusAccepted, http.MethodDelete, groupPath("rg"), nil)
	loc := r.Header.Get("Location")
	retryAfter(t, r)
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, e.srv.URL+"/subscriptions/"+sub+"/operationresults/") || u.Query().Get("api-version") != apiVer {
		t.Fatalf("Location %q", loc)
	}

	// While it runs: 202 on the Location, the group shows Deleting, and
	// nothing new may go in it.
	m := e.do(http.MethodGet, loc, nil)
	if m.Status != http.StatusAccepted {
		t.Fatalf("Location while deleting: %s", m)
	}
	retryAfter(t, m)
	if g := e.must(http.StatusOK, http.MethodGet, groupPath("rg"), nil).JSON(t); dig(g, "properties", "provisioningState") != "Deleting" {
		t.Fatalf("group while deleting: %v", g)
	}
	if p := e.provisioningState("rg", "vm1"); p != "Deleting" {
		t.Fatalf("vm1 while its group is deleted: %s", p)
	}
	r = e.do(http.MethodPut, vmPath("rg", "vm9"), linuxVM("rg", "vm9", "westeurope"))
	if r.Status != http.StatusConflict {
		t.Fatalf("PUT VM into a deleting group: %s", r)
	}
	wellFormedError(t, r)
	if r := e.do(http.MethodPut, groupPath("rg"), map[string]any{"location": "westeurope"}); r.Status != http.StatusConflict {
		t.Fatalf("PUT of a deleting group: %s", r)
	}
	// A repeated delete joins the running one.
	if again := e.must(http.StatusAccepted, http.MethodDelete, groupPath("rg"), nil); again.Header.Get("Location") != loc {
		t.Fatalf("second delete Location %q, want %q", again.Header.Get("Location"), loc)
	}

	e.advance(10 * time.Second)
	if m := e.do(http.MethodGet, loc, nil); m.Status != http.StatusAccepted {
		t.Fatalf("Location half-way: %s", m)
	}
	e.advance(10 * time.Second)
	if m := e.do(http.MethodGet, loc, nil); m.Status != http.StatusOK {
		t.Fatalf("Location after the delete: %s", m)
	}
	armError(t, e.do(http.MethodGet, groupPath("rg"), nil), http.StatusNotFound, "ResourceGroupNotFound", "")
	armError(t, e.do(http.MethodGet, vmPath("rg", "vm1"), nil), http.StatusNotFound, "ResourceGroupNotFound", "")
	all := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines", nil).JSON(t)
	if v := all["value"].([]any); len(v) != 1 || v[0].(map[string]any)["name"] != "vm3" {
		t.Fatalf("VMs left: %v", v)
	}
	// The history records the end of each VM and of each VM's OS disk,
	// deleted with the group.
	deleted := map[string]int{}
	err = e.eng.History(context.Background(), "", time.Time{}, e.eng.Now().Add(time.Hour), func(ev store.Event) error {
		if ev.ProvisioningState == "Deleted" {
			deleted[strings.Split(strings.ToLower(ev.VMID), "/")[7]]++
		}
		return nil
	})
	if err != nil || deleted["virtualmachines"] != 2 || deleted["disks"] != 2 {
		t.Fatalf("Deleted events %v, err %v", deleted, err)
	}
	// The name is free again.
	e.createGroup("rg")
}

func TestResourceGroupDeleteEmpty(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	r := e.must(http.StatusAccepted, http.MethodDelete, groupPath("rg"), nil)
	if m := e.do(http.MethodGet, r.Header.Get("Location"), nil); m.Status != http.StatusOK {
		t.Fatalf("Location of an empty group's delete: %s", m)
	}
	if r := e.do(http.MethodHead, groupPath("rg"), nil); r.Status != http.StatusNotFound {
		t.Fatal(r)
	}
}

func TestVMInMissingGroup(t *testing.T) {
	e := newEnv(t)
	armError(t, e.do(http.MethodPut, vmPath("nope", "vm1"), linuxVM("nope", "vm1", "westeurope")), http.StatusNotFound, "ResourceGroupNotFound",
		"Resource group 'nope' could not be found.")
	armError(t, e.do(http.MethodGet, vmPath("nope", "vm1"), nil), http.StatusNotFound, "ResourceGroupNotFound", "")
	armError(t, e.do(http.MethodGet, groupPath("nope")+"/providers/Microsoft.Compute/virtualMachines", nil), http.StatusNotFound, "ResourceGroupNotFound", "")
	armError(t, e.do(http.MethodPost, vmPath("nope", "vm1")+"/start", nil), http.StatusNotFound, "ResourceGroupNotFound", "")
	armError(t, e.do(http.MethodDelete, vmPath("nope", "vm1"), nil), http.StatusNotFound, "ResourceGroupNotFound", "")
}

func TestResourceGroupLocationIsNormalised(t *testing.T) {
	e := newEnv(t)
	g := e.must(http.StatusCreated, http.MethodPut, groupPath("rg"), map[string]any{"location": "West Europe"}).JSON(t)
	if g["location"] != "westeurope" {
		t.Fatalf("PUT location %v", g["location"])
	}
	g = e.must(http.StatusOK, http.MethodGet, groupPath("rg"), nil).JSON(t)
	if g["location"] != "westeurope" {
		t.Fatalf("GET location %v", g["location"])
	}
	l := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/resourcegroups", nil).JSON(t)
	if dig(l["value"].([]any)[0].(map[string]any), "location") != "westeurope" {
		t.Fatalf("list: %v", l)
	}
}

package armapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	e := newEnv(t)
	p := "/subscriptions/" + sub + "/resourcegroups"
	for _, tc := range []struct {
		name string
		o    req
		msg  string
	}{
		{"no header", req{noAuth: true}, "Authentication failed. The 'Authorization' header is missing."},
		{"basic scheme", req{auth: "Basic dXNlcjpwYXNz"}, "Authentication failed. The 'Authorization' header is provided in an invalid format."},
		{"bearer without token", req{auth: "Bearer"}, "Authentication failed. The 'Authorization' header is provided in an invalid format."},
		{"bearer blank token", req{auth: "Bearer    "}, "Authentication failed. The 'Authorization' header is provided in an invalid format."},
		{"token only", req{auth: "eyJ0eXAiOiJKV1QifQ"}, "Authentication failed. The 'Authorization' header is provided in an invalid format."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send(http.MethodGet, p, nil, tc.o)
			armError(t, r, http.StatusUnauthorized, "AuthenticationFailed", tc.msg)
			if r.Header.Get("x-ms-request-id") == "" {
				t.Fatal("401 without x-ms-request-id")
			}
		})
	}
	t.Run("missing header asks for a bearer token", func(t *testing.T) {
		r := e.send(http.MethodGet, p, nil, req{noAuth: true})
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("bearer in any case accepted", func(t *testing.T) {
		if r := e.send(http.MethodGet, p, nil, req{auth: "bearer abc"}); r.Status != http.StatusOK {
			t.Fatal(r)
		}
	})
	t.Run("health needs no token", func(t *testing.T) {
		r := e.send(http.MethodGet, "/_azemu/health", nil, req{noAuth: true})
		if r.Status != http.StatusOK || r.JSON(t)["status"] != "ok" {
			t.Fatal(r)
		}
	})
	t.Run("auth is checked before the api-version", func(t *testing.T) {
		r := e.send(http.MethodGet, p, nil, req{noAuth: true, noAPIVer: true})
		armError(t, r, http.StatusUnauthorized, "AuthenticationFailed", "")
	})
}

func TestAPIVersion(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	p := groupPath("rg")

	r := e.send(http.MethodGet, p, nil, req{noAPIVer: true})
	armError(t, r, http.StatusBadRequest, "MissingApiVersionParameter",
		"The api-version query parameter (?api-version=) is required for all requests.")
	r = e.send(http.MethodGet, p+"?api-version=", nil, req{})
	armError(t, r, http.StatusBadRequest, "MissingApiVersionParameter", "")

	for _, bad := range []string{"2019", "latest", "2019-7-1", "19-07-01", "2019-07-01-", "2019-07-01 preview", "2019-07-01-pre/view"} {
		t.Run("malformed "+bad, func(t *testing.T) {
			r := e.do(http.MethodGet, p+"?api-version="+url.QueryEscape(bad), nil)
			e := armError(t, r, http.StatusBadRequest, "InvalidApiVersionParameter", "")
			if !strings.Contains(e["message"].(string), bad) {
				t.Fatalf("message does not name the version: %v", e["message"])
			}
		})
	}

	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	for _, v := range []string{"2019-07-01", "2024-03-01-preview", "2015-06-15", "2023-09-01-privatepreview"} {
		t.Run("accepted "+v, func(t *testing.T) {
			r := e.do(http.MethodGet, vmPath("rg", "vm1")+"?api-version="+v, nil)
			if r.Status != http.StatusOK {
				t.Fatal(r)
			}
			r = e.do(http.MethodPost, vmPath("rg", "vm1")+"/restart?api-version="+v, nil)
			if r.Status != http.StatusAccepted {
				t.Fatal(r)
			}
			for _, h := range []string{"Azure-AsyncOperation", "Location"} {
				u, err := url.Parse(r.Header.Get(h))
				if err != nil || u.Query().Get("api-version") != v {
					t.Fatalf("%s %q does not carry api-version %s", h, r.Header.Get(h), v)
				}
			}
			// The status resource answers under the same version.
			if st := e.opStatus(r.Header.Get("Azure-AsyncOperation")); st["status"] == nil {
				t.Fatal(st)
			}
			e.advance(20 * time.Second)
		})
	}
}

func TestRequestIDs(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	cases := []struct {
		name   string
		method string
		path   string
		o      req
		status int
	}{
		{"success", http.MethodGet, groupPath("rg"), req{}, http.StatusOK},
		{"error", http.MethodGet, groupPath("nope"), req{}, http.StatusNotFound},
		{"unknown route", http.MethodGet, "/nothing/here", req{}, http.StatusNotFound},
		{"unknown ARM route", http.MethodGet, "/subscriptions/" + sub + "/whatever", req{}, http.StatusNotFound},
		{"401", http.MethodGet, groupPath("rg"), req{noAuth: true}, http.StatusUnauthorized},
		{"400", http.MethodGet, groupPath("rg"), req{noAPIVer: true}, http.StatusBadRequest},
		{"HEAD 204", http.MethodHead, groupPath("rg"), req{}, http.StatusNoContent},
		{"emulator", http.MethodGet, "/_azemu/clock", req{}, http.StatusOK},
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.send(tc.method, tc.path, nil, tc.o)
			if r.Status != tc.status {
				t.Fatalf("got %s, want %d", r, tc.status)
			}
			id := r.Header.Get("x-ms-request-id")
			if !guid.MatchString(id) || seen[id] {
				t.Fatalf("x-ms-request-id %q (not a GUID or repeated)", id)
			}
			seen[id] = true
			// Without a correlation ID of its own the client still gets one.
			if r.Header.Get("x-ms-correlation-request-id") == "" {
				t.Fatal("no x-ms-correlation-request-id")
			}
			o := tc.o
			o.headers = map[string]string{"x-ms-correlation-request-id": "corr-" + tc.name, "x-ms-client-request-id": "client-" + tc.name}
			r = e.send(tc.method, tc.path, nil, o)
			if got := r.Header.Get("x-ms-correlation-request-id"); got != "corr-"+tc.name {
				t.Fatalf("correlation id %q not echoed", got)
			}
			if got := r.Header.Get("x-ms-client-request-id"); got != "client-"+tc.name {
				t.Fatalf("client request id %q not echoed", got)
			}
		})
	}
}

func TestCaseInsensitivePaths(t *testing.T) {
	e := newEnv(t)
	e.createGroup("MyGroup")
	e.createVM("MyGroup", "MyVM", linuxVM("MyGroup", "MyVM", "westeurope"))
	want := "/subscriptions/" + sub + "/resourceGroups/MyGroup/providers/Microsoft.Compute/virtualMachines/MyVM"
	for _, p := range []string{
		"/SUBSCRIPTIONS/" + strings.ToUpper(sub) + "/RESOURCEGROUPS/mygroup/PROVIDERS/microsoft.compute/VIRTUALMACHINES/myvm",
		"/subscriptions/" + sub + "/resourcegroups/MYGROUP/providers/Microsoft.Compute/virtualmachines/MYVM",
		"/Subscriptions/" + sub + "/ResourceGroups/MyGroup/Providers/MICROSOFT.COMPUTE/VirtualMachines/MyVM/",
	} {
		vm := e.must(http.StatusOK, http.MethodGet, p, nil).JSON(t)
		if vm["id"] != want || vm["name"] != "MyVM" || vm["type"] != "Microsoft.Compute/virtualMachines" {
			t.Fatalf("GET %s: id %v name %v type %v", p, vm["id"], vm["name"], vm["type"])
		}
	}
	// The instance view and actions too.
	e.must(http.StatusOK, http.MethodGet, "/SUBSCRIPTIONS/"+sub+"/RESOURCEGROUPS/MYGROUP/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/MYVM/INSTANCEVIEW", nil)
	e.must(http.StatusAccepted, http.MethodPost, "/SUBSCRIPTIONS/"+sub+"/RESOURCEGROUPS/MYGROUP/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/MYVM/POWEROFF", nil)
	e.advance(10 * time.Second)
	if _, pw := e.state("MyGroup", "MyVM"); pw != "PowerState/stopped" {
		t.Fatal(pw)
	}

	// A PUT with other casing updates the same VM, keeping the names as created.
	body := linuxVM("MyGroup", "MyVM", "westeurope")
	r := e.must(http.StatusOK, http.MethodPut, "/subscriptions/"+sub+"/resourcegroups/MYGROUP/providers/microsoft.compute/virtualmachines/myvm", body).JSON(t)
	if r["id"] != want || r["name"] != "MyVM" {
		t.Fatalf("PUT: id %v name %v", r["id"], r["name"])
	}
	// A new VM through another casing of its group gets the group's name as created.
	vm2 := e.must(http.StatusCreated, http.MethodPut, "/subscriptions/"+sub+"/RESOURCEGROUPS/MYGROUP/providers/Microsoft.Compute/virtualMachines/Vm2", linuxVM("MyGroup", "Vm2", "westeurope")).JSON(t)
	if vm2["id"] != "/subscriptions/"+sub+"/resourceGroups/MyGroup/providers/Microsoft.Compute/virtualMachines/Vm2" ||
		!strings.HasPrefix(dig(vm2, "properties", "storageProfile", "osDisk", "managedDisk", "id").(string), "/subscriptions/"+sub+"/resourceGroups/MyGroup/providers/Microsoft.Compute/disks/Vm2_OsDisk_1_") {
		t.Fatalf("new VM: %v", vm2)
	}
	list := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/resourcegroups/mygroup/providers/microsoft.compute/virtualmachines", nil).JSON(t)
	if v := list["value"].([]any); len(v) != 2 || v[0].(map[string]any)["id"] != want {
		t.Fatalf("list: %v", list)
	}
	g := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/resourcegroups/MYGROUP", nil).JSON(t)
	if g["id"] != "/subscriptions/"+sub+"/resourceGroups/MyGroup" || g["name"] != "MyGroup" {
		t.Fatalf("group: %v", g)
	}
}

func TestSubscriptions(t *testing.T) {
	e := newEnv(t)
	list := e.must(http.StatusOK, http.MethodGet, "/subscriptions", nil).JSON(t)
	if v := list["value"].([]any); len(v) != 0 {
		t.Fatalf("fresh emulator lists %v", v)
	}
	other := "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
	e.createGroup("rg")
	s := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+other, nil).JSON(t)
	if s["subscriptionId"] != strings.ToLower(other) || s["id"] != "/subscriptions/"+strings.ToLower(other) || s["state"] != "Enabled" || s["tenantId"] == "" {
		t.Fatalf("subscription: %v", s)
	}
	listed := func() map[string]bool {
		list := e.must(http.StatusOK, http.MethodGet, "/subscriptions", nil).JSON(t)
		ids := map[string]bool{}
		for _, v := range list["value"].([]any) {
			m := v.(map[string]any)
			if m["id"] != "/subscriptions/"+m["subscriptionId"].(string) {
				t.Fatalf("item %v", m)
			}
			ids[m["subscriptionId"].(string)] = true
		}
		return ids
	}
	// Reads under a subscription never seen record nothing: not in the
	// list, not in the store.
	e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+other+"/resourcegroups", nil)
	e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+other+"/providers/Microsoft.Compute/virtualMachines", nil)
	if ids := listed(); len(ids) != 1 || !ids[sub] {
		t.Fatalf("listed after reads only: %v", ids)
	}
	if subs := e.eng.Subscriptions(); len(subs) != 1 {
		t.Fatalf("recorded after reads only: %v", subs)
	}
	// The first write records it.
	e.must(http.StatusCreated, http.MethodPut, "/subscriptions/"+other+"/resourcegroups/rg2", map[string]any{"location": "westeurope"})
	if ids := listed(); len(ids) != 2 || !ids[sub] || !ids[strings.ToLower(other)] {
		t.Fatalf("listed %v", ids)
	}

	for _, bad := range []string{"not-a-guid", "6b3a6c6e3c1e4f0a9d4e2f3f9c1a7b10", "{" + sub + "}", "6b3a6c6e-3c1e-4f0a-9d4e-2f3f9c1a7bzz"} {
		r := e.do(http.MethodGet, "/subscriptions/"+url.PathEscape(bad)+"/resourcegroups", nil)
		armError(t, r, http.StatusBadRequest, "InvalidSubscriptionId",
			"The provided subscription identifier '"+bad+"' is malformed or invalid.")
	}
}

func TestProviders(t *testing.T) {
	e := newEnv(t)
	base := "/subscriptions/" + sub + "/providers"
	list := e.must(http.StatusOK, http.MethodGet, base, nil).JSON(t)
	found := false
	for _, v := range list["value"].([]any) {
		p := v.(map[string]any)
		if p["registrationState"] != "Registered" {
			t.Fatalf("provider %v", p)
		}
		if p["namespace"] == "Microsoft.Compute" {
			found = true
		}
	}
	if !found {
		t.Fatal("Microsoft.Compute not listed")
	}
	for _, ns := range []string{"Microsoft.Compute", "microsoft.network", "Microsoft.Storage"} {
		p := e.must(http.StatusOK, http.MethodGet, base+"/"+ns, nil).JSON(t)
		if p["registrationState"] != "Registered" || !strings.EqualFold(p["namespace"].(string), ns) {
			t.Fatalf("get %s: %v", ns, p)
		}
		if _, ok := p["resourceTypes"].([]any); !ok {
			t.Fatalf("get %s: resourceTypes is not an array: %v", ns, p["resourceTypes"])
		}
		r := e.must(http.StatusOK, http.MethodPost, base+"/"+ns+"/register", nil).JSON(t)
		if r["registrationState"] != "Registered" {
			t.Fatalf("register %s: %v", ns, r)
		}
	}
	p := e.must(http.StatusOK, http.MethodGet, base+"/microsoft.compute", nil).JSON(t)
	if p["namespace"] != "Microsoft.Compute" || p["id"] != "/subscriptions/"+sub+"/providers/Microsoft.Compute" {
		t.Fatalf("canonical casing: %v", p)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	s := "/subscriptions/" + sub
	vm := vmPath("rg", "vm1")
	for _, p := range []string{
		s + "/whatever",
		s + "/resourceGroups/rg/providers/Microsoft.Web/sites/app",
		s + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1",
		s + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions/e1/x",
		s + "/resourceGroups/rg/things",
		s + "/providers/Microsoft.Compute/locations/westeurope/operations/" + sub + "/extra",
		"/",
		"/_azemu/nothing",
		"/_azemu/vms/" + strings.TrimPrefix(vm, "/") + "/explode",
	} {
		t.Run("404 "+p, func(t *testing.T) {
			method := http.MethodGet
			if strings.Contains(p, "/_azemu/vms/") {
				method = http.MethodPost
			}
			r := e.do(method, p, nil)
			if r.Status != http.StatusNotFound {
				t.Fatalf("got %s", r)
			}
			wellFormedError(t, r)
		})
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/subscriptions"},
		{http.MethodDelete, s},
		{http.MethodPut, s + "/providers"},
		{http.MethodPost, s + "/resourceGroups"},
		{http.MethodPost, s + "/resourceGroups/rg"},
		{http.MethodPost, vm},
		{http.MethodHead, vm},
		{http.MethodPut, vm + "/instanceView"},
		{http.MethodGet, vm + "/start"},
		{http.MethodDelete, s + "/providers/Microsoft.Compute/virtualMachines"},
		{http.MethodGet, "/_azemu/reset"},
		{http.MethodPost, "/_azemu/health"},
		{http.MethodGet, "/_azemu/clock/advance"},
		{http.MethodGet, "/_azemu/vms/" + strings.TrimPrefix(vm, "/") + "/guestShutdown"},
	} {
		t.Run("405 "+tc.method+" "+tc.path, func(t *testing.T) {
			r := e.do(tc.method, tc.path, nil)
			if r.Status != http.StatusMethodNotAllowed {
				t.Fatalf("got %s", r)
			}
			if tc.method != http.MethodHead {
				armError(t, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "")
			}
		})
	}
}

// retryAfter checks a Retry-After header is a whole number of seconds >= 1.
func retryAfter(t *testing.T, r resp) {
	t.Helper()
	v := r.Header.Get("Retry-After")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q is not a whole number >= 1", v)
	}
}

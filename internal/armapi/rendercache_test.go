package armapi_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A VM's GET answers are kept per snapshot (rendercache.go): a repeated GET
// answers the same bytes, and every change (a power action, its steps, a
// PATCH, an extension) shows at once in every answer.
func TestVMAnswersFollowEveryChange(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	paths := map[string]string{
		"GET":     vmPath("rg", "vm1"),
		"$expand": vmPath("rg", "vm1") + "?$expand=instanceView",
		"/iv":     vmPath("rg", "vm1") + "/instanceView",
	}
	get := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for name, p := range paths {
			first := e.must(http.StatusOK, http.MethodGet, p, nil)
			again := e.must(http.StatusOK, http.MethodGet, p, nil)
			if !bytes.Equal(first.Body, again.Body) || first.Header.Get("ETag") != again.Header.Get("ETag") {
				t.Fatalf("%s: two GETs of one state differ:\n%s\n%s", name, first.Body, again.Body)
			}
			// The second is the kept answer (when the VM has no
			// extensions): its headers are the rendering's.
			for _, got := range []resp{first, again} {
				etag := ""
				if name != "/iv" {
					etag, _ = got.JSON(t)["etag"].(string)
				}
				if got.Header.Get("ETag") != etag || got.Header.Get("Content-Length") != strconv.Itoa(len(got.Body)) ||
					got.Header.Get("X-Ms-Request-Id") == "" || got.Header.Get("Cache-Control") != "no-cache" {
					t.Fatalf("%s: headers %v, want ETag %q and Content-Length %d", name, got.Header, etag, len(got.Body))
				}
			}
			out[name] = string(first.Body)
		}
		return out
	}
	running := get()
	if !strings.Contains(running["$expand"], "PowerState/running") || !strings.Contains(running["/iv"], "PowerState/running") {
		t.Fatalf("not running: %v", running)
	}

	e.act("rg", "vm1", "powerOff")
	stopping := get()
	for _, name := range []string{"$expand", "/iv"} {
		if !strings.Contains(stopping[name], "PowerState/stopping") {
			t.Errorf("%s after powerOff: %s", name, stopping[name])
		}
	}
	if stopping["GET"] == running["GET"] || !strings.Contains(stopping["GET"], `"provisioningState":"Updating"`) {
		t.Errorf("GET after powerOff still shows the running VM: %s", stopping["GET"])
	}
	e.advance(time.Minute)
	if stopped := get(); !strings.Contains(stopped["/iv"], "PowerState/stopped") || !strings.Contains(stopped["$expand"], "PowerState/stopped") {
		t.Errorf("after the stop's step: %v", stopped)
	}

	e.must(http.StatusOK, http.MethodPatch, vmPath("rg", "vm1"), map[string]any{"tags": map[string]any{"team": "perf"}})
	if tagged := get(); !strings.Contains(tagged["GET"], `"team":"perf"`) {
		t.Errorf("GET after a PATCH of the tags: %s", tagged["GET"])
	}

	// An extension is a resource of its own: the VM's snapshot does not
	// change, its answers do.
	e.act("rg", "vm1", "start")
	e.advance(time.Minute)
	e.must(http.StatusCreated, http.MethodPut, extPath("rg", "vm1", "script"), customScript("20"))
	with := get()
	if !strings.Contains(with["GET"], `"resources":[`) || !strings.Contains(with["/iv"], `"extensions":[`) {
		t.Errorf("answers after an extension was added: %v", with)
	}
	if !strings.Contains(with["/iv"], "ProvisioningState/transitioning") {
		t.Errorf("instance view while the extension installs: %s", with["/iv"])
	}
	e.advance(20 * time.Second)
	if done := get(); !strings.Contains(done["/iv"], "Enable succeeded") {
		t.Errorf("instance view once the extension is installed: %s", done["/iv"])
	}
	e.must(http.StatusAccepted, http.MethodDelete, extPath("rg", "vm1", "script"), nil)
	e.advance(time.Minute)
	if without := get(); strings.Contains(without["GET"], `"resources"`) || strings.Contains(without["/iv"], `"extensions"`) {
		t.Errorf("answers after the extension was deleted: %v", without)
	}
}

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/server"
)

// While a write is stuck on a hung disk, reads (GETs, lists, instance
// views, history, bills, health) go on answering; the write is answered
// 503 StoreWriteTimeout after the write timeout, and later ones at once;
// health and metrics say the store is stuck. When the disk thaws, the
// stuck change is saved whole, nothing acknowledged is lost, and a restart
// finds what was served.
func TestHungDiskKeepsReadsAnsweringAndBoundsWrites(t *testing.T) {
	dir, freeze, thaw := mountFreezable(t)
	srv := startServer(t, server.Config{DataDir: dir, WriteTimeout: 2 * time.Second})
	t.Cleanup(thaw) // before the server's shutdown, which needs the disk
	client := httpsClient(t, srv)
	do := func(method, path, body string) (int, http.Header, map[string]any, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer test")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		var m map[string]any
		json.Unmarshal(data, &m)
		return res.StatusCode, res.Header, m, string(data)
	}
	group := func(name string) string {
		return "/subscriptions/" + sub + "/resourcegroups/" + name + "?api-version=2021-04-01"
	}
	vm := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
	armPut(t, client, srv.URL()+group("rg"), `{"location":"eastus"}`)
	armPut(t, client, srv.URL()+vm+"?api-version=2025-04-01", `{"location":"eastus","properties":{
		"hardwareProfile":{"vmSize":"Standard_D2s_v3"},
		"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},
		"osProfile":{"computerName":"vm1","adminUsername":"azureuser","adminPassword":"Passw0rd!secret"},
		"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-nic"}]}}}`)
	if _, err := srv.Engine().Do(context.Background(), engine.AdvanceClock{By: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}

	one := 1
	for _, f := range []engine.Fault{{Kind: engine.FaultThrottle, Operation: "GET", Count: &one}, {Kind: engine.FaultPowerStateUnavailable}} {
		if _, err := srv.Engine().Do(context.Background(), engine.AddFault{Fault: f}); err != nil {
			t.Fatal(err)
		}
	}

	freeze()
	code, header, answer, body := do(http.MethodPut, group("stuck"), `{"location":"eastus"}`)
	errObj, _ := answer["error"].(map[string]any)
	if code != http.StatusServiceUnavailable || errObj["code"] != "StoreWriteTimeout" || header.Get("Retry-After") == "" {
		t.Fatalf("a write to a hung disk: HTTP %d %s", code, body)
	}
	// Reads that faults decide answer meanwhile: a counted throttle fires
	// once, and a list's power states go missing.
	if code, _, _, body := do(http.MethodGet, vm+"?api-version=2025-04-01", ""); code != http.StatusTooManyRequests {
		t.Errorf("a throttled GET with a hung disk: HTTP %d %s", code, body)
	}
	code, _, _, body = do(http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines?api-version=2025-04-01&statusOnly=true", "")
	if code != http.StatusOK || strings.Contains(body, "PowerState/") || !strings.Contains(body, "ProvisioningState/") {
		t.Errorf("listAll statusOnly with powerStateUnavailable and a hung disk: HTTP %d %s", code, body)
	}
	// Reads answer meanwhile, from memory and from the store alike.
	for _, path := range []string{
		vm + "?api-version=2025-04-01",
		vm + "/instanceView?api-version=2025-04-01",
		"/subscriptions/" + sub + "/providers/Microsoft.Compute/virtualMachines?api-version=2025-04-01",
		"/subscriptions/" + sub + "/resourcegroups?api-version=2021-04-01",
		"/_azemu/vms" + vm + "/history",
		"/_azemu/billing/usage",
	} {
		if code, _, _, body := do(http.MethodGet, path, ""); code != http.StatusOK {
			t.Errorf("GET %s with a hung disk: HTTP %d %s", path, code, body)
		}
	}
	_, _, health, body := do(http.MethodGet, "/_azemu/health", "")
	st, _ := health["store"].(map[string]any)
	if health["status"] != "degraded" || st["writable"] != false || st["problem"] != "writeStuck" {
		t.Errorf("health with a hung disk: %s", body)
	}
	if _, _, _, metrics := do(http.MethodGet, "/metrics", ""); !strings.Contains(metrics, "azemu_store_writable 0") {
		t.Errorf("metrics with a hung disk do not say so:\n%s", grep(metrics, "azemu_store"))
	}
	// A later write is refused at once, before it changes anything.
	code, _, answer, body = do(http.MethodPut, group("refused"), `{"location":"eastus"}`)
	errObj, _ = answer["error"].(map[string]any)
	if code != http.StatusServiceUnavailable || errObj["code"] != "StoreWriteTimeout" || !strings.Contains(fmt.Sprint(errObj["message"]), "Nothing was changed") {
		t.Fatalf("a write while the store is stuck: HTTP %d %s", code, body)
	}

	thaw()
	// The stuck change is saved whole once the disk answers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, _, _ := do(http.MethodGet, group("stuck"), ""); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change that waited for the disk was never saved")
		}
		runtime.Gosched()
	}
	armPut(t, client, srv.URL()+group("after"), `{"location":"eastus"}`)
	if _, _, health, body := do(http.MethodGet, "/_azemu/health", ""); health["status"] != "ok" {
		t.Errorf("health once the disk answers: %s", body)
	}
	want := groupNames(t, do)
	if strings.Join(want, ",") != "after,rg,stuck" {
		t.Errorf("groups after the thaw: %v, want after, rg and stuck", want)
	}

	// A restart finds what was served.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, server.Config{DataDir: dir})
	client = httpsClient(t, srv)
	if got := groupNames(t, do); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("groups after a restart: %v, want %v", got, want)
	}
}

func groupNames(t *testing.T, do func(method, path, body string) (int, http.Header, map[string]any, string)) []string {
	t.Helper()
	code, _, list, body := do(http.MethodGet, "/subscriptions/"+sub+"/resourcegroups?api-version=2021-04-01", "")
	if code != http.StatusOK {
		t.Fatalf("list groups: HTTP %d %s", code, body)
	}
	var names []string
	for _, g := range list["value"].([]any) {
		names = append(names, g.(map[string]any)["name"].(string))
	}
	sort.Strings(names)
	return names
}

// mountFreezable mounts a small ext4 file system from a loop device on a new
// directory, which freeze and thaw stop and restart every write to, as a
// hung disk would. It needs root, mount, mkfs.ext4 and fsfreeze: elsewhere
// the test is skipped, except in CI, which runs as root and must run it.
// The file system is thawed and unmounted when the test ends.
func mountFreezable(t *testing.T) (dir string, freeze, thaw func()) {
	t.Helper()
	dir = t.TempDir()
	img := filepath.Join(t.TempDir(), "disk.img")
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return &exec.Error{Name: name + " " + string(out), Err: err}
		}
		return nil
	}
	skip := func(err error) {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("a freezable file system (CI runs as root and must run this test): %v", err)
		}
		t.Skipf("cannot mount a freezable file system here (%v); run as root", err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	if err := run("mkfs.ext4", "-q", "-F", img); err != nil {
		skip(err)
	}
	if err := run("mount", "-o", "loop", img, dir); err != nil {
		skip(err)
	}
	frozen := false
	t.Cleanup(func() {
		if frozen {
			run("fsfreeze", "-u", dir)
		}
		if err := run("umount", dir); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	freeze = func() {
		t.Helper()
		if err := run("fsfreeze", "-f", dir); err != nil {
			skip(err)
		}
		frozen = true
	}
	thaw = func() {
		t.Helper()
		if !frozen {
			return
		}
		if err := run("fsfreeze", "-u", dir); err != nil {
			t.Fatal(err)
		}
		frozen = false
	}
	return dir, freeze, thaw
}

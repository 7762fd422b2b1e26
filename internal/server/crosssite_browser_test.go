package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/server"
	"github.com/chromedp/chromedp"
)

const sub = "00000000-0000-0000-0000-0000000000c5"

// A page on another localhost port, open in a browser that trusts azemu's
// certificate, tries every state-changing emulator control as a simple
// cross-origin request (no-cors fetch with text/plain, a form post, a fetch
// with no body) and as a CORS request with a JSON body. Each reaches the
// server and is refused: the fleet, the clock and the faults stay as they
// were.
func TestCrossSitePageCannotSteerAzemu(t *testing.T) {
	exe := chromium(t)
	logs := &requestLog{}
	srv := startServer(t, server.Config{Logger: slog.New(logs)})
	client := httpsClient(t, srv)

	vm := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
	armPut(t, client, srv.URL()+"/subscriptions/"+sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"eastus"}`)
	armPut(t, client, srv.URL()+vm+"?api-version=2025-04-01", `{"location":"eastus","properties":{
		"hardwareProfile":{"vmSize":"Standard_D2s_v3"},
		"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},
		"osProfile":{"computerName":"vm1","adminUsername":"azureuser","adminPassword":"Passw0rd!secret"},
		"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-nic"}]}}}`)
	if _, err := srv.Engine().Do(context.Background(), engine.AdvanceClock{By: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	before := srv.Engine().Now()

	targets := []string{"/_azemu/reset", "/_azemu/clock/advance", "/_azemu/faults",
		"/_azemu/vms" + vm + "/guestShutdown", "/_azemu/vms" + vm + "/migrate", "/_azemu/vms" + vm + "/evict", "/_dashboard/api/actions"}
	page := `<!doctype html><title>elsewhere</title><form id=f method=POST target=sink></form><iframe name=sink></iframe><script>
const base = %q, targets = %s;
const body = JSON.stringify({duration: "1h", kind: "throttle", operation: "*", count: 1, id: %q, action: "deallocate"});
(async () => {
  for (const t of targets) {
    await fetch(base + t, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body}).catch(() => {});
    await fetch(base + t, {method: "POST", mode: "no-cors"}).catch(() => {});
    await fetch(base + t, {method: "POST", headers: {"Content-Type": "application/json"}, body}).catch(() => {});
  }
  await fetch(base + "/_azemu/faults", {method: "DELETE"}).catch(() => {});
  const f = document.getElementById("f");
  f.action = base + "/_azemu/reset";
  document.querySelector("iframe").onload = () => { document.title = "sent"; };
  f.submit();
})();
</script>`
	tj, _ := json.Marshal(targets)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, srv.URL(), tj, vm)
	}))
	defer attacker.Close()
	if !strings.HasPrefix(attacker.URL, "http://127.0.0.1:") {
		t.Fatalf("the other page must be on another localhost port: %s", attacker.URL)
	}

	ctx, closeBrowser := browser(t, exe, srv.CAFile(), filepath.Join(filepath.Dir(srv.CAFile()), "server.pem"))
	if err := chromedp.Do(ctx, chromedp.Navigate(attacker.URL+"/")); err != nil {
		t.Fatalf("opening the other page: %v", err)
	}
	sctx, stop := context.WithTimeout(ctx, 60*time.Second)
	defer stop()
	if err := chromedp.Do(sctx, chromedp.Poll[chromedp.Void](`document.title === "sent"`)); err != nil {
		t.Fatalf("the page did not send its requests: %v", err)
	}
	// A request is logged once its handler returns: a shutdown waits for
	// them all, once the browser has gone. The engine's memory is still
	// readable after it.
	closeBrowser()
	sdctx, sdstop := context.WithTimeout(context.Background(), 10*time.Second)
	defer sdstop()
	if err := srv.Shutdown(sdctx); err != nil {
		t.Fatal(err)
	}

	for _, target := range targets {
		if n := logs.count(http.MethodPost, target, func(s int) bool { return s == http.StatusForbidden || s == http.StatusUnsupportedMediaType }); n < 2 {
			t.Errorf("POST %s: %d requests reached azemu and were refused, want at least the two simple ones", target, n)
		}
		if n := logs.count(http.MethodPost, target, func(s int) bool { return s < 400 }); n != 0 {
			t.Errorf("POST %s: %d requests were accepted", target, n)
		}
	}
	if n := logs.count(http.MethodPost, "/_azemu/reset", func(s int) bool { return s == http.StatusUnsupportedMediaType || s == http.StatusForbidden }); n < 3 {
		t.Errorf("the form post to reset was not refused (%d refusals)", n)
	}
	eng := srv.Engine()
	if !eng.Now().Equal(before) {
		t.Errorf("the clock moved from %v to %v", before, eng.Now())
	}
	if f := eng.Faults(); len(f) != 0 {
		t.Errorf("faults were registered: %v", f)
	}
	got, err := eng.GetVM(sub, "rg", "vm1")
	if err != nil {
		t.Fatalf("the VM is gone: %v", err)
	}
	if p := got.Machine.State.Power; p != lifecycle.Running {
		t.Errorf("the VM is %s, want running", p)
	}
}

// startServer starts an azemu on a free port with a manual clock.
func startServer(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.ManualStart.IsZero() {
		cfg.ManualStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func httpsClient(t *testing.T, srv *server.Server) *http.Client {
	t.Helper()
	tc, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 30 * time.Second}
}

func armPut(t *testing.T, c *http.Client, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer test")
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		t.Fatalf("PUT %s: HTTP %d %s", url, res.StatusCode, b.String())
	}
}

// requestLog keeps the server's per-request log records.
type requestLog struct {
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, path string
	status       int
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }
func (l *requestLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	var s seenRequest
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			s.method = a.Value.String()
		case "path":
			s.path = a.Value.String()
		case "status":
			s.status = int(a.Value.Int64())
		}
		return true
	})
	l.mu.Lock()
	l.seen = append(l.seen, s)
	l.mu.Unlock()
	return nil
}

func (l *requestLog) count(method, path string, status func(int) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.seen {
		if s.method == method && s.path == path && status(s.status) {
			n++
		}
	}
	return n
}

// chromium finds the browser; in CI a missing one is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal("chromium is not installed: CI must run the browser test (.ci/run installs it)")
	}
	t.Skip("chromium is not installed; set CI=true to make that a failure")
	return ""
}

// browser starts a headless Chromium that trusts exactly the given
// certificates' keys, as a user who trusted azemu's CA would.
func browser(t *testing.T, exe string, certFiles ...string) (context.Context, func()) {
	var spki []string
	for _, f := range certFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		if block == nil {
			t.Fatalf("%s: no PEM block", f)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		spki = append(spki, base64.StdEncoding.EncodeToString(sum[:]))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(spki, ",")))
	ctx, cancel := chromedp.NewContext(actx)
	closeBrowser := func() { cancel(); cancelAlloc() }
	t.Cleanup(closeBrowser)
	return ctx, closeBrowser
}

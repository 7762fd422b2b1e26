package dashboard_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/enginetest"

	"github.com/chromedp/chromedp"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "also write the dashboard's screenshot to docs/dashboard.png")

// chromium finds the browser. Without one the test is skipped, except in
// CI, where .ci/run installs Debian's chromium and a missing one is a
// failure.
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

// spkiHash is a certificate's public key as Chromium's
// --ignore-certificate-errors-spki-list takes it: base64 of SHA-256 of the
// SubjectPublicKeyInfo.
func spkiHash(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// The dashboard in a real headless Chromium against a real server: the
// fleet table lists the seeded VMs with their states; Deallocate on a
// running VM shows stopping, deallocating, deallocated as the test moves
// the manual clock, without a reload; the timeline shows billed and unbilled
// spans; a screenshot is written for the log.
func TestDashboardInChromium(t *testing.T) {
	exe := chromium(t)
	r := newRig(t, nil)
	seedDemo(r)

	ctx, exceptions := browser(t, exe, r)
	step := stepper(t, ctx)
	web1 := strings.ToLower(vmID(subA, "web", "web-1"))
	row := fmt.Sprintf(`#fleet tr[data-key=%q]`, web1)
	power := func(p string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q)?.dataset.power === %q`, row, p), chromedp.WithPollingMutation())
	}

	// The first run starts the browser: no timeout on it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 1180), chromedp.Navigate(r.srv.URL+"/")); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	step("the fleet table lists the seeded VMs with their states",
		chromedp.WaitVisible(chromedp.CSS(row)),
		power("running"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#fleet tbody tr[data-key]').length === 7`, chromedp.WithPollingMutation()),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#fleet tbody tr[data-key]')].map(tr => tr.dataset.power).sort().join() ===
			'deallocated,none,running,running,running,stopped,stopped'`, chromedp.WithPollingMutation()),
	)
	loadedAt, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.azemuLoadedAt`))
	if err != nil {
		t.Fatal(err)
	}

	step("selecting web-1 shows its panel, timeline and ARM JSON",
		chromedp.Click(chromedp.CSS(row+" td")),
		chromedp.WaitVisible(chromedp.CSS(`#detail button[data-action="deallocate"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#vm-json')?.textContent.includes('"PowerState/running"')`, chromedp.WithPollingMutation()),
		chromedp.WaitVisible(chromedp.CSS(`#timeline rect.span`)),
	)
	var ip struct {
		Properties struct {
			IPAddress string `json:"ipAddress"`
		} `json:"properties"`
	}
	r.must(http.StatusOK, http.MethodGet, "/subscriptions/"+subA+"/resourceGroups/web/providers/Microsoft.Network/publicIPAddresses/web-1-ip", nil, &ip)
	if ip.Properties.IPAddress == "" {
		t.Fatal("web-1's public IP has no address")
	}
	nic := `#vm-nics tr[data-nic="web-1-nic"]`
	step("the panel shows web-1's interface, its private and public addresses, and what the public IP costs",
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('%s .private-ip')?.textContent === '10.0.0.4' &&
			document.querySelector('%s .public-ip')?.textContent === %q &&
			/^\$0\.00[0-9]*[1-9][0-9]* so far · \$0\.0050\/h$/.test(document.querySelector('%s .ip-cost')?.textContent)`, nic, nic, ip.Properties.IPAddress, nic),
			chromedp.WithPollingMutation()),
	)
	step("Deallocate asks for confirmation, then shows stopping",
		chromedp.Click(chromedp.CSS(`#detail button[data-action="deallocate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-ok`)),
		chromedp.Click(chromedp.CSS(`#confirm-ok`)),
		power("stopping"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#ops li.InProgress') !== null`, chromedp.WithPollingMutation()),
	)
	r.advance(10 * time.Second)
	step("Deallocating appears as it happens", power("deallocating"),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).textContent.includes('not billed')`, row), chromedp.WithPollingMutation()))
	r.advance(20 * time.Second)
	step("then Deallocated, and the operation Succeeded", power("deallocated"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#ops li.Succeeded') !== null`, chromedp.WithPollingMutation()))
	step("the timeline shows billed and unbilled spans",
		chromedp.Poll[chromedp.Void](`document.querySelector('#timeline rect.span[data-power="deallocated"]') !== null &&
			document.querySelectorAll('#timeline rect.span.billed').length >= 2 &&
			document.querySelectorAll('#timeline rect.span.unbilled').length >= 3`, chromedp.WithPollingMutation()),
		chromedp.Poll[chromedp.Void](`document.querySelector('#vm-json')?.textContent.includes('"PowerState/deallocated"')`, chromedp.WithPollingMutation()),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#daily rect').length >= 4`, chromedp.WithPollingMutation()),
	)
	if now, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.azemuLoadedAt`)); err != nil || now != loadedAt {
		t.Errorf("the page was reloaded (%v, %v): the updates must arrive live", now, err)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	// Kept with `go test -artifacts [-outputdir DIR]`, else removed with
	// the test; docs/dashboard.png only on request, so runs leave the tree
	// clean.
	shot := filepath.Join(t.ArtifactDir(), "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("screenshot written to docs/dashboard.png")
	}
	for _, e := range exceptions() {
		t.Errorf("the page threw: %s", e)
	}
}

// browser starts a headless Chromium for r's server; the page's console
// goes to the test log, and exceptions lists what the page threw.
func browser(t *testing.T, exe string, r *rig) (ctx context.Context, exceptions func() []string) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium on Linux trusts its own NSS store, which a test cannot
		// add the test CA to without certutil. Instead it trusts exactly the
		// test server's keys (CA and leaf), which unlike
		// --ignore-certificate-errors leaves every other certificate checked.
		chromedp.Flag("ignore-certificate-errors-spki-list", spkiHash(t, r.tls.CACert)+","+spkiHash(t, r.tls.Cert)),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	var mu sync.Mutex
	var thrown []string
	console := chromedp.Console(ctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			if m.IsException() {
				thrown = append(thrown, m.String())
			}
			mu.Unlock()
			t.Logf("console: %s", m)
		}
	}()
	// Registered after newRig's: runs first, so the browser is gone before
	// the server closes.
	t.Cleanup(func() {
		cancel()
		<-consoleDone
		cancelAlloc()
	})
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), thrown...)
	}
}

// stepper runs browser actions with a bound, failing the test with what
// was being checked.
func stepper(t *testing.T, ctx context.Context) func(what string, actions ...chromedp.Action[chromedp.Void]) {
	return func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, stop := context.WithTimeout(ctx, 60*time.Second)
		defer stop()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// At 1,000 VMs the page shows one bounded page of the table, and a burst of
// 3,000 transitions reaches it as a few batches: it keeps up, and its main
// thread is never blocked for long (the longest task is logged).
func TestDashboardInChromiumAt1000VMs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 1,000 VMs")
	}
	exe := chromium(t)
	r := newRig(t, nil)
	// Without disks: seeding is quicker under the race detector, and the
	// page is the same.
	seedFleet(r, 1000, false)
	ctx, exceptions := browser(t, exe, r)
	step := stepper(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 1000), chromedp.Navigate(r.srv.URL+"/")); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	step("the first page holds 100 of 1,000 VMs",
		chromedp.Poll[chromedp.Void](`document.querySelector('#page').textContent === '1–100 of 1000' &&
			document.querySelectorAll('#fleet tbody tr[data-key]').length === 100`, chromedp.WithPollingMutation()),
		chromedp.Poll[chromedp.Void](`(() => { window.longest = 0;
			new PerformanceObserver(l => { for (const e of l.getEntries()) window.longest = Math.max(window.longest, e.duration); }).observe({ type: 'longtask' });
			return true; })()`),
	)
	ctxb := context.Background()
	for i := range 1000 {
		if _, err := enginetest.Act(ctxb, r.eng, subA, "fleet", fmt.Sprintf("vm%04d", i), lifecycleKind("deallocate")); err != nil {
			t.Fatal(err)
		}
	}
	r.advance(10 * time.Second)
	r.advance(20 * time.Second)
	step("every VM reaches deallocated on the page, live",
		chromedp.Poll[chromedp.Void](`document.querySelector('#powers button[data-power="deallocated"]')?.textContent === 'deallocated 1000' &&
			[...document.querySelectorAll('#fleet tbody tr[data-key]')].every(tr => tr.dataset.power === 'deallocated')`, chromedp.WithPollingMutation()),
	)
	longest, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.longest`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("longest main-thread task during the burst: %.0f ms", longest)
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		shot := filepath.Join(t.ArtifactDir(), "dashboard-1000.png")
		if err := os.WriteFile(shot, png, 0o644); err == nil {
			t.Logf("screenshot: %s", shot)
		}
	}
	for _, e := range exceptions() {
		t.Errorf("the page threw: %s", e)
	}
}

// seedDemo makes a small fleet with two and a half days of history: running,
// stopped (billed), deallocated and creating VMs in three groups, one of
// them in a region the embedded price sheet does not price.
func seedDemo(r *rig) {
	act := func(rg, name, action string) { r.act(vmID(subA, rg, name), action) }
	r.group(subA, "web", "eastus")
	r.group(subA, "batch", "eastus")
	r.group(subA, "eu", "westeurope")
	for _, n := range []string{"web-2", "web-3"} {
		r.vm(subA, "web", n, "eastus")
	}
	r.vm(subA, "batch", "batch-1", "eastus")
	r.vm(subA, "batch", "batch-2", "eastus")
	r.vm(subA, "eu", "eu-1", "westeurope")
	r.advance(80 * time.Second)
	r.advance(20 * time.Hour)
	act("batch", "batch-1", "deallocate")
	r.advance(10 * time.Hour)
	act("batch", "batch-2", "powerOff") // Stopped: idle, and billed
	r.advance(16 * time.Hour)
	act("batch", "batch-1", "start")
	r.advance(4 * time.Hour)
	act("batch", "batch-1", "deallocate")
	// web-1 gets a real interface, with a Standard public IP.
	net := "/subscriptions/" + subA + "/resourceGroups/web/providers/Microsoft.Network/"
	r.must(http.StatusCreated, http.MethodPut, net+"virtualNetworks/web-net", map[string]any{"location": "eastus", "properties": map[string]any{
		"addressSpace": map[string]any{"addressPrefixes": []string{"10.0.0.0/16"}},
		"subnets":      []any{map[string]any{"name": "default", "properties": map[string]any{"addressPrefix": "10.0.0.0/24"}}}}}, nil)
	r.must(http.StatusCreated, http.MethodPut, net+"publicIPAddresses/web-1-ip", map[string]any{"location": "eastus",
		"sku": map[string]any{"name": "Standard"}, "properties": map[string]any{"publicIPAllocationMethod": "Static"}}, nil)
	r.must(http.StatusCreated, http.MethodPut, net+"networkInterfaces/web-1-nic", map[string]any{"location": "eastus", "properties": map[string]any{
		"ipConfigurations": []any{map[string]any{"name": "ipconfig1", "properties": map[string]any{
			"subnet": map[string]any{"id": net + "virtualNetworks/web-net/subnets/default"}, "publicIPAddress": map[string]any{"id": net + "publicIPAddresses/web-1-ip"}}}}}}, nil)
	r.vm(subA, "web", "web-1", "eastus")
	r.advance(80 * time.Second)
	r.advance(10 * time.Minute)
	act("web", "web-1", "powerOff")
	r.advance(5 * time.Minute)
	act("web", "web-1", "deallocate")
	act("web", "web-3", "guestShutdown") // shut down from inside: Stopped, still billed
	r.advance(5 * time.Minute)
	act("web", "web-1", "start")
	r.advance(10 * time.Minute)
	r.vm(subA, "web", "web-4", "eastus") // still allocating when the page opens
}

// TestDashboardNewcomerInChromium: an empty fleet says how to create a VM; a
// group holding only a scale set counts the set's instances; the
// subscription ID is shown whole.
func TestDashboardNewcomerInChromium(t *testing.T) {
	exe := chromium(t)
	r := newRig(t, nil)
	ctx, _ := browser(t, exe, r)
	step := stepper(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(r.srv.URL+"/")); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	step("an empty fleet says how to create a VM",
		chromedp.Poll[chromedp.Void](`document.querySelector('#fleet tbody td.muted')?.textContent.startsWith('No virtual machines yet. Create one')`, chromedp.WithPollingMutation()))

	r.group(subA, "pool", "eastus")
	set := "/subscriptions/" + subA + "/resourceGroups/pool/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
	r.must(201, "PUT", set, map[string]any{"location": "eastus", "sku": map[string]any{"name": "Standard_D2s_v3", "capacity": 2},
		"properties": map[string]any{"orchestrationMode": "Uniform", "virtualMachineProfile": map[string]any{
			"storageProfile": map[string]any{"imageReference": map[string]any{"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
			"osProfile":      map[string]any{"computerNamePrefix": "ss", "adminUsername": "azureuser", "adminPassword": "Example-Passw0rd"},
			"networkProfile": map[string]any{"networkInterfaceConfigurations": []any{map[string]any{"name": "nic", "properties": map[string]any{"primary": true}}}}}}}, nil)
	r.advance(2 * time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(r.srv.URL+"/")); err != nil {
		t.Fatalf("reloading the dashboard: %v", err)
	}
	step("the group counts its scale set's instances",
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#tree [data-node^="rg:"]')].some(n => n.textContent === 'pool eastus · 2 VMs (1 scale set)')`, chromedp.WithPollingMutation()))
	step("the subscription ID is whole",
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#tree [data-node="sub:%s"]')?.textContent === 'Subscription %s'`, subA, subA), chromedp.WithPollingMutation()))
}

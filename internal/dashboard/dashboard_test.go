package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/dashboard"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
	"github.com/azemu/azemu/internal/lifecycle"
)

func lifecycleKind(k string) lifecycle.Request { return lifecycle.Request{Kind: lifecycle.Kind(k)} }

// Prices of the tests' sheet the figures below are checked against:
// eastus Linux D2s_v3 per hour, and a P10 disk per month.
const (
	d2sv3Eastus = "0.096"
	p10Eastus   = "19.71"
)

// testPrices is the rig's price sheet, in the Retail Prices API format: the
// tests check figures against it, not against the embedded sheet, whose
// rows follow its sources.
func testPrices(t testing.TB) *billing.PriceSheet {
	t.Helper()
	p, err := billing.ParsePriceSheet(strings.NewReader(`{"Items":[
 {"currencyCode":"USD","retailPrice":` + d2sv3Eastus + `,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":` + p10Eastus + `,"armRegionName":"eastus","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":21.68,"armRegionName":"westeurope","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":0.005,"armRegionName":"eastus","meterName":"Standard IPv4 Static Public IP","skuName":"Standard","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rat reads an exact decimal ("0.096").
func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

// cost gives an hourly price times seconds of billed time, exactly.
func cost(perHour *big.Rat, seconds int64) *big.Rat { return billing.CostOver(perHour, seconds) }

// hourly gives a monthly price per hour, over 730 hours.
func hourly(monthly string) *big.Rat {
	return new(big.Rat).Quo(rat(monthly), big.NewRat(billing.HoursPerMonth, 1))
}

// same reports whether an amount the server sent is want, to the decimal
// places money travels with.
func same(got billing.Number, want *big.Rat) bool {
	return got.String() == billing.Decimal(want, billing.DecimalPlaces)
}

func TestPageAndAssets(t *testing.T) {
	r := newRig(t, nil)
	status, body := r.do(http.MethodGet, "/", nil)
	if status != http.StatusOK || !strings.Contains(string(body), "/_dashboard/static/app.js") {
		t.Fatalf("GET /: HTTP %d %.200s", status, body)
	}
	for _, p := range []string{"/_dashboard/static/app.js", "/_dashboard/static/app.css"} {
		if status, body := r.do(http.MethodGet, p, nil); status != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: HTTP %d", p, status)
		}
	}
	res, err := r.client.Get(r.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("the page's CSP is %q: it must allow this server only", csp)
	}
	if status, _ := r.do(http.MethodGet, "/_dashboard/static/../dashboard.go", nil); status != http.StatusNotFound {
		t.Errorf("a path outside the assets: HTTP %d", status)
	}
	if status, _ := r.do(http.MethodGet, "/nothing-here", nil); status != http.StatusNotFound {
		t.Errorf("an unknown path: HTTP %d", status)
	}
}

// The JSON endpoints over a small fleet: the tree, a fleet-table page with
// its filters and costs (checked against the billing meter), actions and
// their operations, a VM's timeline, the daily cost chart.
func TestEndpoints(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.group(subA, "web", "eastus")
	r.group(subA, "eu", "westeurope")
	r.vm(subA, "web", "web-1", "eastus")
	r.vm(subA, "web", "web-2", "eastus")
	r.vm(subA, "eu", "eu-1", "westeurope")
	r.advance(80 * time.Second) // created, running
	r.advance(time.Hour)

	var tree struct {
		Subscriptions []struct {
			ID     string `json:"id"`
			Groups []struct {
				Name string `json:"name"`
				VMs  int    `json:"vms"`
			} `json:"groups"`
		} `json:"subscriptions"`
	}
	r.must(http.StatusOK, http.MethodGet, "/_dashboard/api/tree", nil, &tree)
	if len(tree.Subscriptions) != 1 || tree.Subscriptions[0].ID != subA || len(tree.Subscriptions[0].Groups) != 2 ||
		tree.Subscriptions[0].Groups[0].Name != "eu" || tree.Subscriptions[0].Groups[0].VMs != 1 || tree.Subscriptions[0].Groups[1].VMs != 2 {
		t.Fatalf("tree: %+v", tree)
	}

	var p page
	r.must(http.StatusOK, http.MethodGet, "/_dashboard/api/vms", nil, &p)
	if p.Total != 3 || len(p.Rows) != 3 || p.Counts.ByPower["running"] != 3 || p.Counts.Billed != 3 {
		t.Fatalf("vms: %+v", p)
	}
	rows := map[string]row{}
	for _, rw := range p.Rows {
		rows[rw.Name] = rw
	}
	web1 := rows["web-1"]
	if !web1.Billed || web1.PowerState != "running" || web1.ProvisioningState != "Succeeded" || web1.CostUnpriced {
		t.Fatalf("web-1: %+v", web1)
	}
	// Compute bills from starting (15 s into the create), the disk from its
	// creation: per second, as the meter does.
	wantCompute := cost(rat(d2sv3Eastus), 3600+80-15)
	wantDisk := cost(hourly(p10Eastus), 3600+80)
	wantRate := new(big.Rat).Add(rat(d2sv3Eastus), hourly(p10Eastus))
	if !same(web1.ComputeCost, wantCompute) || !same(web1.DisksCost, wantDisk) || !same(web1.PerHour, wantRate) ||
		!same(web1.Cost, new(big.Rat).Add(wantCompute, wantDisk)) {
		t.Errorf("web-1 costs: compute %v (want %v), disks %v (want %v), per hour %v", web1.ComputeCost, wantCompute, web1.DisksCost, wantDisk, web1.PerHour)
	}
	// The running ledger agrees with the billing meter over the whole history.
	ms, err := r.eng.Meters(ctx, []billing.Window{{To: r.eng.Now()}}, billing.PerSecond, "")
	if err != nil {
		t.Fatal(err)
	}
	m := ms.Meter(0)
	metered := map[string]*big.Rat{}
	for _, li := range billing.Rate(m.Usage(), testPrices(t)) {
		if li.Priced {
			metered[strings.ToLower(li.ResourceID)] = li.Cost
		}
	}
	if got := metered[strings.ToLower(web1.ID)]; got == nil || !same(web1.ComputeCost, got) {
		t.Errorf("ledger compute %v, meter %v", web1.ComputeCost, got)
	}
	// Linux D2s_v3 has no westeurope row in the tests' sheet: unpriced,
	// not free.
	if eu := rows["eu-1"]; !eu.CostUnpriced || !eu.PerHourUnpriced || eu.ComputeCost.Rat().Sign() != 0 {
		t.Errorf("eu-1 must be unpriced: %+v", eu)
	}

	// Actions and their operations.
	op := r.act(web1.ID, "deallocate")
	if op["status"] != "InProgress" || op["kind"] != "deallocate" {
		t.Fatalf("deallocate: %v", op)
	}
	r.act(vmID(subA, "web", "web-2"), "powerOff")
	r.advance(30 * time.Second)
	var got struct {
		Operation map[string]any `json:"operation"`
	}
	r.must(http.StatusOK, http.MethodGet, "/_dashboard/api/operations/"+op["id"].(string), nil, &got)
	if got.Operation["status"] != "Succeeded" {
		t.Errorf("operation after 30 s: %v", got.Operation)
	}
	status, body := r.do(http.MethodPost, "/_dashboard/api/actions", map[string]string{"id": web1.ID, "action": "powerOff"})
	if status != http.StatusConflict || !strings.Contains(string(body), "OperationNotAllowed") {
		t.Errorf("powerOff of a deallocated VM: HTTP %d %s", status, body)
	}
	if status, _ := r.do(http.MethodPost, "/_dashboard/api/actions", map[string]string{"id": web1.ID, "action": "explode"}); status != http.StatusBadRequest {
		t.Errorf("unknown action: HTTP %d", status)
	}
	// A cross-site form cannot act: only JSON bodies are taken.
	status, _ = r.do(http.MethodPost, "/_dashboard/api/actions", nil, "Content-Type", "application/x-www-form-urlencoded")
	if status != http.StatusUnsupportedMediaType {
		t.Errorf("form post: HTTP %d", status)
	}

	// Filters and paging.
	check := func(query string, want ...string) {
		t.Helper()
		var p page
		r.must(http.StatusOK, http.MethodGet, "/_dashboard/api/vms?"+query, nil, &p)
		var names []string
		for _, rw := range p.Rows {
			names = append(names, rw.Name)
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("vms?%s: %v, want %v", query, names, want)
		}
	}
	check("power=deallocated", "web-1")
	check("billedStopped=1", "web-2")
	check("resourceGroup=EU", "eu-1")
	check("power=running,stopped&subscription="+subA, "eu-1", "web-2")
	check("q=WEB", "web-1", "web-2")
	check("limit=1&offset=1", "web-1")
	// Offsets past the end, up to and past the largest int, page nothing
	// (the last one used to overflow and panic).
	check("offset=99")
	check("offset=9223372036854775807&limit=100")
	check("offset=99999999999999999999")
	check("subscription=" + subB)

	// One VM: its row, disks, history and timeline.
	var vm struct {
		VM      row `json:"vm"`
		Disks   []struct{ SKU, Tier string }
		History []struct {
			PowerState string `json:"powerState"`
		} `json:"history"`
		Timeline struct {
			Spans []struct {
				PowerState string         `json:"powerState"`
				Billed     bool           `json:"billed"`
				Cost       billing.Number `json:"cost"`
			} `json:"spans"`
			Cost            billing.Number `json:"cost"`
			BilledSeconds   int64          `json:"billedSeconds"`
			UnbilledSeconds int64          `json:"unbilledSeconds"`
		} `json:"timeline"`
	}
	r.must(http.StatusOK, http.MethodGet, "/_dashboard/api/vm?id="+url.QueryEscape(web1.ID), nil, &vm)
	if vm.VM.PowerState != "deallocated" || vm.VM.Billed || len(vm.Disks) != 1 || vm.Disks[0].Tier != "P10" || len(vm.History) < 6 {
		t.Errorf("vm: %+v", vm)
	}
	// Billed: starting at 15 s until deallocating at 3680 s + 10 s; the
	// first 15 s (allocating) and the last 20 s are not.
	tl := vm.Timeline
	if tl.BilledSeconds != 3680+10-15 || tl.UnbilledSeconds != 15+20 || !same(tl.Cost, cost(rat(d2sv3Eastus), tl.BilledSeconds)) {
		t.Errorf("timeline: billed %d s, unbilled %d s, cost %v: %+v", tl.BilledSeconds, tl.UnbilledSeconds, tl.Cost, tl.Spans)
	}
	if last := tl.Spans[len(tl.Spans)-1]; last.PowerState != "deallocated" || last.Billed {
		t.Errorf("last span: %+v", last)
	}
	if status, _ := r.do(http.MethodGet, "/_dashboard/api/vm?id=nonsense", nil); status != http.StatusBadRequest {
		t.Errorf("vm?id=nonsense: HTTP %d", status)
	}

	var daily struct {
		Currency string `json:"currency"`
		Total    billing.Number
		Days     []struct {
			Date                  string
			Compute, Disks, Total billing.Number
			Unpriced              int
		}
	}
	r.must(http.StatusOK, http.MethodGet, "/_dashboard/api/costs/daily?subscription="+subA, nil, &daily)
	if len(daily.Days) != 1 || daily.Days[0].Date != "2026-01-01" || daily.Currency != "USD" || daily.Days[0].Compute.Rat().Sign() <= 0 || daily.Days[0].Disks.Rat().Sign() <= 0 || daily.Days[0].Unpriced != 1 {
		t.Errorf("daily: %+v", daily)
	}
}

// The live feed coalesces: a burst of changes reaches a client as a few
// messages, each VM at most once per message and in its latest state, and
// two messages are never closer than the flush interval.
func TestLiveFeedBatches(t *testing.T) {
	// Long enough that the commits below, made in a few milliseconds, can
	// only reach the client in a few batches, however loaded the machine.
	const interval = 2 * time.Second
	r := newRig(t, func(c *dashboard.Config) { c.FlushInterval = interval })
	r.group(subA, "rg", "eastus")
	names := []string{"a", "b", "c", "d"}
	for _, n := range names {
		r.vm(subA, "rg", n, "eastus")
	}
	r.advance(80 * time.Second)
	s := r.stream()
	if m, err := s.next(); err != nil || m.event != "hello" {
		t.Fatalf("first message: %v %v", m, err)
	}

	var commits atomic.Int64
	r.eng.OnChange(func(engine.Change) { commits.Add(1) })
	// Four deallocates a second apart, then the clock in small steps: each
	// VM goes stopping, deallocating, deallocated at its own times.
	for _, n := range names {
		r.act(vmID(subA, "rg", n), "deallocate")
		r.advance(time.Second)
	}
	for range 15 {
		r.advance(2 * time.Second)
	}
	vmChanges := 4 * 3 // each VM: stopping, deallocating, deallocated

	final := map[string]string{}
	var batches []message
	for len(final) < len(names) || !allDeallocated(final) {
		m, err := s.next()
		if err != nil {
			t.Fatalf("after %d batches: %v", len(batches), err)
		}
		if m.event != "batch" {
			continue
		}
		batches = append(batches, m)
		var b batch
		if err := json.Unmarshal(m.data, &b); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, v := range b.VMs {
			if seen[v.Key] {
				t.Errorf("VM %s twice in one batch", v.Name)
			}
			seen[v.Key] = true
			final[v.Name] = v.PowerState
		}
	}
	if n := commits.Load(); int64(len(batches)) >= n || len(batches) >= vmChanges {
		t.Errorf("%d batches for %d commits and %d VM changes: not coalesced", len(batches), n, vmChanges)
	}
	t.Logf("%d commits reached the client as %d batches", commits.Load(), len(batches))
}

func allDeallocated(m map[string]string) bool {
	for _, p := range m {
		if p != "deallocated" {
			return false
		}
	}
	return true
}

// A client that falls further behind than MaxPending VMs is dropped: its
// stream ends (the page reconnects and reloads), and the engine never
// waits for it.
func TestLiveFeedDropsClientsThatFallBehind(t *testing.T) {
	r := newRig(t, func(c *dashboard.Config) {
		c.MaxPending = 2
		c.FlushInterval = time.Hour // after the first message, everything waits
	})
	r.group(subA, "rg", "eastus")
	for _, n := range []string{"a", "b", "c", "d"} {
		r.vm(subA, "rg", n, "eastus")
	}
	r.advance(80 * time.Second)
	s := r.stream()
	ended := make(chan []string, 1)
	go func() {
		var events []string
		for {
			m, err := s.next()
			if err != nil {
				ended <- append(events, err.Error())
				return
			}
			events = append(events, m.event)
		}
	}()
	for _, n := range []string{"a", "b", "c", "d"} {
		r.act(vmID(subA, "rg", n), "powerOff")
	}
	select {
	case events := <-ended:
		if last := events[len(events)-1]; last != io.EOF.Error() && !strings.Contains(last, "EOF") {
			t.Errorf("stream ended with %q", last)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stream of a client 4 VMs behind (MaxPending 2) was not ended")
	}
	// A new stream is served as before.
	if m, err := r.stream().next(); err != nil || m.event != "hello" {
		t.Errorf("reconnecting: %v %v", m, err)
	}
}

// The live feed serves a bounded number of clients: one more is told to
// come back later (503 with Retry-After), and is served once one leaves.
func TestLiveFeedCapsItsClients(t *testing.T) {
	r := newRig(t, func(c *dashboard.Config) { c.MaxClients = 2 })
	first, second := r.stream(), r.stream()
	for _, s := range []*sse{first, second} {
		if m, err := s.next(); err != nil || m.event != "hello" {
			t.Fatalf("stream: %v %v", m, err)
		}
	}
	status, body := r.do(http.MethodGet, "/_dashboard/api/events", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "at most 2 clients") {
		t.Fatalf("a third stream: HTTP %d %s", status, body)
	}
	first.res.Body.Close()
	// The server notices the close when its next write fails or the
	// request's context ends; a new stream is served once it has.
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/_dashboard/api/events", nil)
		res, err := r.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stream served after one of two left: HTTP %d", res.StatusCode)
		}
		runtime.Gosched()
	}
}

// With a strict Authorizer, nothing of another subscription is seen or
// touched: not in the tree, the table, a VM's panel, the costs, the
// actions, nor the live feed.
func TestScopeHidesOtherSubscriptions(t *testing.T) {
	r := newRig(t, func(c *dashboard.Config) {
		c.Authorize = func(req *http.Request) (dashboard.Scope, error) {
			if dashboard.BearerToken(req) == "tok-a" {
				return dashboard.OnlySubscriptions(subA), nil
			}
			return dashboard.Scope{}, errors.New("a token for subscription A is required")
		}
	})
	r.group(subA, "ra", "eastus")
	r.vm(subA, "ra", "vm-of-a", "eastus")
	r.group(subB, "rb", "eastus")
	r.vm(subB, "rb", "vm-of-b", "eastus")
	r.advance(80 * time.Second)
	asA := []string{"Authorization", "Bearer tok-a"}
	get := func(path string, want int) string {
		t.Helper()
		status, body := r.do(http.MethodGet, path, nil, asA...)
		if status != want {
			t.Errorf("GET %s: HTTP %d %s, want %d", path, status, body, want)
		}
		return string(body)
	}
	if body := get("/_dashboard/api/tree", http.StatusOK); !strings.Contains(body, subA) || strings.Contains(body, subB) {
		t.Errorf("tree: %s", body)
	}
	for _, q := range []string{"", "?subscription=" + subB, "?q=vm-of-b"} {
		if body := get("/_dashboard/api/vms"+q, http.StatusOK); strings.Contains(body, "vm-of-b") || strings.Contains(body, subB) {
			t.Errorf("vms%s: %s", q, body)
		}
	}
	get("/_dashboard/api/vm?id="+url.QueryEscape(vmID(subB, "rb", "vm-of-b")), http.StatusNotFound)
	get("/_dashboard/api/costs/daily?subscription="+subB, http.StatusNotFound)
	get("/_dashboard/api/vm?id="+url.QueryEscape(vmID(subA, "ra", "vm-of-a")), http.StatusOK)
	status, _ := r.do(http.MethodPost, "/_dashboard/api/actions", map[string]string{"id": vmID(subB, "rb", "vm-of-b"), "action": "delete"}, asA...)
	if status != http.StatusNotFound {
		t.Errorf("acting on subscription B: HTTP %d", status)
	}
	if status, _ := r.do(http.MethodGet, "/_dashboard/api/vms", nil); status != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d", status)
	}

	// The feed: B's change first, then A's; the batch with A's has had every
	// chance to carry B's.
	s := r.stream(asA...)
	if m, err := s.next(); err != nil || m.event != "hello" {
		t.Fatalf("hello: %v %v", m, err)
	}
	if _, err := enginetest.Act(context.Background(), r.eng, subB, "rb", "vm-of-b", lifecycleKind("powerOff")); err != nil {
		t.Fatal(err)
	}
	status, _ = r.do(http.MethodPost, "/_dashboard/api/actions", map[string]string{"id": vmID(subA, "ra", "vm-of-a"), "action": "powerOff"}, asA...)
	if status != http.StatusAccepted {
		t.Fatalf("acting on subscription A: HTTP %d", status)
	}
	for {
		m, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(m.data), subB) || strings.Contains(string(m.data), "vm-of-b") {
			t.Fatalf("the feed leaked subscription B: %s", m.data)
		}
		if strings.Contains(string(m.data), `"vm-of-a"`) {
			break
		}
	}
}

// BenchmarkFleetFirstPage is the fleet table's first request at 1,000 VMs:
// one page of bounded size, with the counts and cost rate of the whole
// fleet.
func BenchmarkFleetFirstPage(b *testing.B) {
	r := newRig(b, nil)
	seedFleet(r, 1000, true)
	ctx := context.Background()
	for i := 0; i < 1000; i += 3 {
		if _, err := enginetest.Act(ctx, r.eng, subA, "fleet", fmt.Sprintf("vm%04d", i), lifecycleKind("powerOff")); err != nil {
			b.Fatal(err)
		}
	}
	r.advance(time.Minute)
	req := httptest.NewRequest(http.MethodGet, "/_dashboard/api/vms", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		r.dash.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
		var p page
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			b.Fatal(err)
		}
		if p.Total != 1000 || len(p.Rows) != 100 || p.Counts.BilledStopped != 334 {
			b.Fatalf("total %d, rows %d, billed but stopped %d", p.Total, len(p.Rows), p.Counts.BilledStopped)
		}
	}
}

// A scale set shows in the tree before it has instances, and a Uniform
// instance is acted on from the dashboard like a VM.
func TestScaleSetsInTheDashboard(t *testing.T) {
	r := newRig(t, nil)
	r.group(subA, "rg", "eastus")
	set := "/subscriptions/" + subA + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
	body := func(capacity int) map[string]any {
		return map[string]any{"location": "eastus", "sku": map[string]any{"name": "Standard_D2s_v3", "capacity": capacity},
			"properties": map[string]any{"orchestrationMode": "Uniform", "virtualMachineProfile": map[string]any{
				"storageProfile": map[string]any{"imageReference": map[string]any{"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
				"osProfile":      map[string]any{"computerNamePrefix": "ss", "adminUsername": "azureuser", "adminPassword": "Example-Passw0rd"},
				"networkProfile": map[string]any{"networkInterfaceConfigurations": []any{map[string]any{"name": "nic", "properties": map[string]any{"primary": true}}}}}}}
	}
	r.must(http.StatusCreated, http.MethodPut, set, body(0), nil)
	var tree struct {
		Subscriptions []struct {
			Groups []struct {
				ScaleSets []struct {
					Name      string `json:"name"`
					Instances int    `json:"instances"`
				} `json:"scaleSets"`
			} `json:"groups"`
		} `json:"subscriptions"`
	}
	r.must(http.StatusOK, http.MethodGet, "/_dashboard/api/tree", nil, &tree)
	if len(tree.Subscriptions) != 1 || len(tree.Subscriptions[0].Groups) != 1 || len(tree.Subscriptions[0].Groups[0].ScaleSets) != 1 ||
		tree.Subscriptions[0].Groups[0].ScaleSets[0].Name != "ss" {
		t.Fatalf("tree %+v", tree)
	}
	r.must(http.StatusOK, http.MethodPut, set, body(1), nil)
	r.advance(2 * time.Minute)
	op := r.act(set+"/virtualMachines/0", "deallocate")
	if op["status"] != "InProgress" {
		t.Fatalf("action on an instance: %v", op)
	}
	r.advance(time.Minute)
	v, ok := r.eng.VMByID(set + "/virtualMachines/0")
	if !ok || v.Machine.State.Power != lifecycle.Deallocated {
		t.Fatalf("instance after deallocate: %v", v)
	}
}

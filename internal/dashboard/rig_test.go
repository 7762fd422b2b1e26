package dashboard_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/certs"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/dashboard"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
)

const (
	subA = "6b3a6c6e-3c1e-4f0a-9d4e-2f3f9c1a7b10"
	subB = "0c5d3f44-7b2e-4d8a-a1f6-93e2b7c4d5e6"
)

var t0 = clock.DefaultManualStart

// rig is a whole azemu surface over real HTTPS: a real engine on the
// in-memory store with a manual clock (enginetest), the ARM API, and the dashboard as its fallback,
// as cmd/azemu mounts it.
type rig struct {
	t      testing.TB
	eng    *engine.Engine
	clk    *clock.Manual
	dash   *dashboard.Handler
	srv    *httptest.Server
	client *http.Client
	tls    certs.Files
}

func newRig(t testing.TB, configure func(*dashboard.Config)) *rig {
	t.Helper()
	er := enginetest.New(t, t0, nil)
	return rigOn(t, er.Engine, er.Clock, configure)
}

// rigOn serves a new dashboard and ARM API on an engine already running,
// as a restart on the same store would.
func rigOn(t testing.TB, eng *engine.Engine, clk *clock.Manual, configure func(*dashboard.Config)) *rig {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	cfg := dashboard.Config{Engine: eng, Logger: quiet, Prices: testPrices(t)}
	if configure != nil {
		configure(&cfg)
	}
	dash, err := dashboard.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := certs.Ensure(filepath.Join(dir, "tls"), certs.DefaultHosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := certs.ServerConfig(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := certs.Pool(files.CACert)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(armapi.New(armapi.Config{Engine: eng, Logger: quiet, Fallback: dash, Prices: cfg.Prices}).Handler())
	srv.TLS = tlsCfg
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients hanging up at Close
	srv.StartTLS()
	t.Cleanup(func() {
		dash.Close() // streams end, so Close need not wait for them
		srv.Close()  // the engine and its store close after (enginetest)
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return &rig{t: t, eng: eng, clk: clk, dash: dash, srv: srv, client: client, tls: files}
}

// do sends a request; body nil (none) or any value (JSON). ARM paths get a
// token and an api-version.
func (r *rig) do(method, path string, body any, header ...string) (int, []byte) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	url := r.srv.URL + path
	if strings.HasPrefix(path, "/subscriptions/") && !strings.Contains(path, "api-version") {
		url += "?api-version=2025-04-01"
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return res.StatusCode, data
}

// must sends a request, requires the status and decodes the JSON answer.
func (r *rig) must(want int, method, path string, body any, out any) {
	r.t.Helper()
	status, data := r.do(method, path, body)
	if status != want {
		r.t.Fatalf("%s %s: HTTP %d %s, want %d", method, path, status, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			r.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

func vmID(sub, rg, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name
}

func (r *rig) group(sub, rg, location string) {
	r.t.Helper()
	r.must(http.StatusCreated, http.MethodPut, "/subscriptions/"+sub+"/resourcegroups/"+rg+"?api-version=2021-04-01", map[string]any{"location": location}, nil)
}

// vm creates a Linux D2s_v3 VM with a 128 GB Premium OS disk (a P10) through
// the ARM API; the create runs as the clock advances.
func (r *rig) vm(sub, rg, name, location string) {
	r.t.Helper()
	r.must(http.StatusCreated, http.MethodPut, vmID(sub, rg, name), map[string]any{
		"location": location,
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": "Standard_D2s_v3"},
			"storageProfile": map[string]any{
				"imageReference": map[string]any{"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
				"osDisk":         map[string]any{"createOption": "FromImage", "diskSizeGB": 128, "managedDisk": map[string]any{"storageAccountType": "Premium_LRS"}},
			},
			"osProfile":      map[string]any{"computerName": name, "adminUsername": "azureuser", "adminPassword": "Example-Passw0rd"},
			"networkProfile": map[string]any{"networkInterfaces": []any{map[string]any{"id": "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Network/networkInterfaces/" + name + "-nic"}}},
		},
	}, nil)
}

// publicNIC makes the interface the VM name (created after) uses, with a
// Standard static public IP, on a network of the group (made here once).
func (r *rig) publicNIC(sub, rg, name, location string) {
	r.t.Helper()
	net := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Network/"
	r.must(http.StatusCreated, http.MethodPut, net+"virtualNetworks/net", map[string]any{"location": location, "properties": map[string]any{
		"addressSpace": map[string]any{"addressPrefixes": []string{"10.0.0.0/16"}},
		"subnets":      []any{map[string]any{"name": "default", "properties": map[string]any{"addressPrefix": "10.0.0.0/24"}}}}}, nil)
	r.must(http.StatusCreated, http.MethodPut, net+"publicIPAddresses/"+name+"-ip", map[string]any{"location": location,
		"sku": map[string]any{"name": "Standard"}, "properties": map[string]any{"publicIPAllocationMethod": "Static"}}, nil)
	r.must(http.StatusCreated, http.MethodPut, net+"networkInterfaces/"+name+"-nic", map[string]any{"location": location, "properties": map[string]any{
		"ipConfigurations": []any{map[string]any{"name": "ipconfig1", "properties": map[string]any{
			"subnet": map[string]any{"id": net + "virtualNetworks/net/subnets/default"}, "publicIPAddress": map[string]any{"id": net + "publicIPAddresses/" + name + "-ip"}}}}}}, nil)
}

// act runs a lifecycle action through the dashboard's endpoint.
func (r *rig) act(id, action string) map[string]any {
	r.t.Helper()
	var out struct {
		Operation map[string]any `json:"operation"`
	}
	r.must(http.StatusAccepted, http.MethodPost, "/_dashboard/api/actions", map[string]string{"id": id, "action": action}, &out)
	return out.Operation
}

func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	if _, err := r.eng.Do(context.Background(), engine.AdvanceClock{By: d}); err != nil {
		r.t.Fatal(err)
	}
}

// sse is one open live stream.
type sse struct {
	res *http.Response
	rd  *bufio.Reader
}

type message struct {
	event string
	data  []byte
	at    time.Time // when it was read
}

func (r *rig) stream(header ...string) *sse {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.srv.URL+"/_dashboard/api/events", nil)
	if err != nil {
		r.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		r.t.Fatalf("events: HTTP %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	r.t.Cleanup(func() { res.Body.Close() })
	return &sse{res: res, rd: bufio.NewReader(res.Body)}
}

// next reads one event, skipping comments; io.EOF when the server ended
// the stream.
func (s *sse) next() (message, error) {
	var m message
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return m, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && m.event != "":
			m.at = time.Now()
			return m, nil
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry: "), line == "":
		case strings.HasPrefix(line, "event: "):
			m.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			m.data = append(m.data, strings.TrimPrefix(line, "data: ")...)
		default:
			return m, fmt.Errorf("unexpected line %q", line)
		}
	}
}

// batch is a live-feed message as the page reads it.
type batch struct {
	Clock struct {
		Now  time.Time `json:"now"`
		Mode string    `json:"mode"`
	} `json:"clock"`
	VMs  []row    `json:"vms"`
	Gone []string `json:"gone"`
}

// row is a fleet-table row.
type row struct {
	Key               string         `json:"key"`
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	ResourceGroup     string         `json:"resourceGroup"`
	ProvisioningState string         `json:"provisioningState"`
	PowerState        string         `json:"powerState"`
	Billed            bool           `json:"billed"`
	CostUnpriced      bool           `json:"costUnpriced"`
	PerHourUnpriced   bool           `json:"perHourUnpriced"`
	Cost              billing.Number `json:"cost"`
	ComputeCost       billing.Number `json:"computeCost"`
	DisksCost         billing.Number `json:"disksCost"`
	PerHour           billing.Number `json:"perHour"`
	Operation         *struct {
		ID    string `json:"id"`
		Kind  string `json:"kind"`
		Step  int    `json:"step"`
		Steps int    `json:"steps"`
	} `json:"operation"`
}

type page struct {
	Total  int   `json:"total"`
	Rows   []row `json:"rows"`
	Counts struct {
		All           int            `json:"all"`
		ByPower       map[string]int `json:"byPower"`
		Billed        int            `json:"billed"`
		BilledStopped int            `json:"billedStopped"`
		PerHour       billing.Number `json:"perHour"`
	} `json:"counts"`
}

// seedFleet makes n running VMs in group "fleet" through the engine (the
// ARM layer would only add HTTP round trips to the set-up), each with an OS
// disk when disks is set.
func seedFleet(r *rig, n int, disks bool) {
	r.t.Helper()
	ctx := context.Background()
	if err := enginetest.PutGroup(ctx, r.eng, subA, "fleet", "eastus"); err != nil {
		r.t.Fatal(err)
	}
	model, _ := json.Marshal(map[string]any{"location": "eastus"})
	for i := range n {
		name := fmt.Sprintf("vm%04d", i)
		spec := engine.VMSpec{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Linux"} // specialized: a shorter create
		if disks {
			spec.Disks = []engine.DiskRef{{Name: name + "_os", CreateOption: "FromImage", SizeGB: 128, SKU: "Premium_LRS", OS: true}}
		}
		if _, _, err := enginetest.PutVM(ctx, r.eng, subA, "fleet", name, model, spec); err != nil {
			r.t.Fatal(err)
		}
	}
	r.advance(80 * time.Second)
}

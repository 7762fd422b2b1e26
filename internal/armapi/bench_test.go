package armapi_test

// Benchmarks of the ARM surface over real HTTPS (docs/benchmarks.md). They
// build their fleet inside the Benchmark functions, so a plain `go test`
// (with or without -race) never pays for it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

const (
	benchVMs        = 1000
	benchClients    = 64
	benchAPIVersion = "2025-04-01"
	benchSub        = "00000000-0000-0000-0000-0000000000b1"
	benchGroup      = "bench"
)

// benchStore counts the calls that reach the durable store, so that a read
// benchmark can show it never touches the disk and a write benchmark can
// count its commits.
type benchStore struct {
	store.Store
	applies   atomic.Int64 // every Apply
	vmChanges atomic.Int64 // committed Applies that write or delete a VM
	reads     atomic.Int64 // Operation and History: the store's read paths after Load
}

func (s *benchStore) Apply(ctx context.Context, cs ...store.Change) error {
	s.applies.Add(1)
	if err := s.Store.Apply(ctx, cs...); err != nil {
		return err
	}
	for _, c := range cs {
		if len(c.VMs)+len(c.DeletedVMs) > 0 {
			s.vmChanges.Add(1)
		}
	}
	return nil
}

func (s *benchStore) Operation(ctx context.Context, id string) (store.Operation, error) {
	s.reads.Add(1)
	return s.Store.Operation(ctx, id)
}

func (s *benchStore) History(ctx context.Context, id string, from, to time.Time, fn func(store.Event) error) error {
	s.reads.Add(1)
	return s.Store.History(ctx, id, from, to, fn)
}

// benchClient is an HTTP/1.1 keep-alive client for srv that keeps a warm
// connection for every concurrent client.
func benchClient(b *testing.B, srv *httptest.Server) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	tr.MaxIdleConns = 4 * benchClients
	tr.MaxIdleConnsPerHost = 4 * benchClients
	tr.MaxConnsPerHost = 0
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// benchParallel sets b's parallelism so that RunParallel runs about
// benchClients goroutines whatever GOMAXPROCS is.
func benchParallel(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchClients + procs - 1) / procs)
}

func benchStartTLS(b *testing.B, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	// Closing idle keep-alive connections at the end logs nothing useful.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return srv
}

// benchFleet is azemu serving HTTPS from a real engine on a SQLite file
// with a manual clock, holding benchVMs VMs created through the API and
// advanced to Succeeded/running.
type benchFleet struct {
	srv    *httptest.Server
	client *http.Client
	store  *benchStore
	names  []string
}

func (f *benchFleet) vmURL(i int) string {
	return fmt.Sprintf("%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s",
		f.srv.URL, benchSub, benchGroup, f.names[i])
}

// do sends one request and returns the status and body.
func (f *benchFleet) do(method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer bench")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (f *benchFleet) must(b *testing.B, method, url string, body any, want int) []byte {
	code, data, err := f.do(method, url, body)
	if err != nil {
		b.Fatalf("%s %s: %v", method, url, err)
	}
	if code != want {
		b.Fatalf("%s %s: HTTP %d, want %d: %s", method, url, code, want, data)
	}
	return data
}

func benchVMBody(name string) map[string]any {
	return map[string]any{
		"location": "westus",
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": "Standard_D2s_v3"},
			"storageProfile": map[string]any{"imageReference": map[string]any{
				"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
			"osProfile": map[string]any{"computerName": name, "adminUsername": "azureuser", "adminPassword": "Passw0rd!bench"},
			"networkProfile": map[string]any{"networkInterfaces": []any{map[string]any{"id": "/subscriptions/" + benchSub +
				"/resourceGroups/" + benchGroup + "/providers/Microsoft.Network/networkInterfaces/" + name + "-nic"}}},
		},
	}
}

func newBenchFleet(b *testing.B) *benchFleet {
	b.Helper()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "azemu.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	cs := &benchStore{Store: st}
	logger := slog.New(slog.DiscardHandler)
	eng, err := engine.New(context.Background(), engine.Config{Store: cs, Manual: clock.NewManual(clock.DefaultManualStart), Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(eng.Close)
	api := armapi.New(armapi.Config{Engine: eng, Logger: logger})
	srv := benchStartTLS(b, api.Handler())
	f := &benchFleet{srv: srv, client: benchClient(b, srv), store: cs}

	q := "?api-version=" + benchAPIVersion
	f.must(b, http.MethodPut, srv.URL+"/subscriptions/"+benchSub+"/resourcegroups/"+benchGroup+q,
		map[string]any{"location": "westus"}, http.StatusCreated)
	for i := range benchVMs {
		name := fmt.Sprintf("vm%04d", i)
		f.names = append(f.names, name)
		f.must(b, http.MethodPut, f.vmURL(i)+q, benchVMBody(name), http.StatusCreated)
		if i%100 == 99 {
			// Creates started at one instant finish in one transaction per
			// step; keep those batches to 100 VMs so that the setup stays
			// quick (see docs/benchmarks.md on batch size).
			f.must(b, http.MethodPost, srv.URL+"/_azemu/clock/advance", map[string]string{"duration": "1s"}, http.StatusOK)
		}
	}
	f.must(b, http.MethodPost, srv.URL+"/_azemu/clock/advance", map[string]string{"duration": "1h"}, http.StatusOK)

	var health struct {
		Fleet struct {
			VirtualMachines      int            `json:"virtualMachines"`
			OperationsInProgress int            `json:"operationsInProgress"`
			ByPowerState         map[string]int `json:"byPowerState"`
		} `json:"fleet"`
	}
	if err := json.Unmarshal(f.must(b, http.MethodGet, srv.URL+"/_azemu/health", nil, http.StatusOK), &health); err != nil {
		b.Fatal(err)
	}
	if h := health.Fleet; h.VirtualMachines != benchVMs || h.ByPowerState["running"] != benchVMs || h.OperationsInProgress != 0 {
		b.Fatalf("fleet not settled: %+v", h)
	}
	iv := f.must(b, http.MethodGet, f.vmURL(0)+"/instanceView"+q, nil, http.StatusOK)
	if !strings.Contains(string(iv), "ProvisioningState/succeeded") || !strings.Contains(string(iv), "PowerState/running") {
		b.Fatalf("instance view is not Succeeded/running: %s", iv)
	}
	return f
}

// benchGets runs GETs of urls (spread over them) from about benchClients
// concurrent keep-alive clients and reports requests per second and the
// response size.
func benchGets(b *testing.B, client *http.Client, urls []string) {
	var next atomic.Uint64
	var failed atomic.Pointer[string]
	var respBytes atomic.Int64
	benchParallel(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(uint64(len(urls)/benchClients + 1))
		for pb.Next() {
			i++
			req, err := http.NewRequest(http.MethodGet, urls[i%uint64(len(urls))], nil)
			if err != nil {
				msg := err.Error()
				failed.CompareAndSwap(nil, &msg)
				return
			}
			req.Header.Set("Authorization", "Bearer bench")
			resp, err := client.Do(req)
			if err != nil {
				msg := err.Error()
				failed.CompareAndSwap(nil, &msg)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				msg := fmt.Sprintf("GET %s: HTTP %d", req.URL, resp.StatusCode)
				failed.CompareAndSwap(nil, &msg)
				return
			}
			respBytes.Store(n)
		}
	})
	b.StopTimer()
	if msg := failed.Load(); msg != nil {
		b.Fatal(*msg)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(respBytes.Load()), "B/resp")
}

// BenchmarkInstanceViewHTTPS measures GET .../virtualMachines/{vm}/instanceView
// over HTTPS, spread over 1,000 running VMs, from 64 concurrent keep-alive
// clients. It fails if any read reaches the store.
func BenchmarkInstanceViewHTTPS(b *testing.B) {
	f := newBenchFleet(b)
	urls := make([]string, benchVMs)
	for i := range urls {
		urls[i] = f.vmURL(i) + "/instanceView?api-version=" + benchAPIVersion
	}
	applies, reads := f.store.applies.Load(), f.store.reads.Load()
	benchGets(b, f.client, urls)
	if a, r := f.store.applies.Load()-applies, f.store.reads.Load()-reads; a != 0 || r != 0 {
		b.Fatalf("instance-view reads reached the store: %d commits, %d store reads", a, r)
	}
}

// benchBareBody is a fixed 600-byte JSON body.
var benchBareBody = func() []byte {
	body := []byte(`{"computerName":"vm0000","hyperVGeneration":"V2","statuses":[` +
		`{"code":"ProvisioningState/succeeded","level":"Info","displayStatus":"Provisioning succeeded","time":"2026-01-01T00:01:20Z"},` +
		`{"code":"PowerState/running","level":"Info","displayStatus":"VM running"}],"padding":"`)
	tail := []byte(`"}` + "\n")
	for len(body)+len(tail) < 600 {
		body = append(body, 'x')
	}
	return append(body, tail...)
}()

// BenchmarkBareHTTPS is the ceiling for BenchmarkInstanceViewHTTPS: the same
// clients against a Go HTTPS server whose handler writes a fixed 600-byte
// JSON body.
func BenchmarkBareHTTPS(b *testing.B) {
	srv := benchStartTLS(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(benchBareBody)
	}))
	benchGets(b, benchClient(b, srv), []string{srv.URL + "/instanceView?api-version=" + benchAPIVersion})
}

// BenchmarkDurableStateChangeHTTPS measures POST powerOff and start over
// HTTPS from 64 concurrent clients, each alternating the two on a VM of
// its own. Every 202 follows one committed SQLite transaction that changes
// the VM's power state (the new operation preempts the previous one).
func BenchmarkDurableStateChangeHTTPS(b *testing.B) {
	f := newBenchFleet(b)
	var slot atomic.Int64
	var failed atomic.Pointer[string]
	fail := func(msg string) { failed.CompareAndSwap(nil, &msg) }
	applies, changes := f.store.applies.Load(), f.store.vmChanges.Load()
	benchParallel(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		base := f.vmURL(int(slot.Add(1)-1) % benchVMs)
		urls := [2]string{base + "/powerOff?api-version=" + benchAPIVersion, base + "/start?api-version=" + benchAPIVersion}
		for i := 0; pb.Next(); i++ {
			req, err := http.NewRequest(http.MethodPost, urls[i%2], nil)
			if err != nil {
				fail(err.Error())
				return
			}
			req.Header.Set("Authorization", "Bearer bench")
			resp, err := f.client.Do(req)
			if err != nil {
				fail(err.Error())
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				fail(fmt.Sprintf("POST %s: HTTP %d", req.URL, resp.StatusCode))
				return
			}
		}
	})
	b.StopTimer()
	if msg := failed.Load(); msg != nil {
		b.Fatal(*msg)
	}
	commits, changed := f.store.applies.Load()-applies, f.store.vmChanges.Load()-changes
	if changed != int64(b.N) {
		b.Fatalf("%d VM state changes committed for %d accepted actions", changed, b.N)
	}
	b.ReportMetric(float64(changed)/b.Elapsed().Seconds(), "changes/s")
	b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
}

package armapi

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store/memstore"
)

// discardWriter is the least a ResponseWriter can be: what a handler
// costs without the connection.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// testFleetSub is the subscription of getFleet's VMs, in group "bench".
const testFleetSub = "00000000-0000-0000-0000-0000000000b1"

// getFleet is a server on an in-memory engine holding n running VMs
// created through the handler, and their paths.
func getFleet(b testing.TB, n int) (*Server, http.Handler, []string) {
	eng, err := engine.New(context.Background(), engine.Config{Store: memstore.New(), Manual: clock.NewManual(clock.DefaultManualStart),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(eng.Close)
	s := New(Config{Engine: eng, Logger: slog.New(slog.DiscardHandler)})
	h := s.Handler()
	do := func(method, path, body string, want int) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer x")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want && !(want == 201 && rec.Code == 200) {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
	}
	sub := testFleetSub
	do("PUT", "/subscriptions/"+sub+"/resourcegroups/bench?api-version=2021-04-01", `{"location":"westus"}`, 201)
	var paths []string
	for i := range n {
		name := fmt.Sprintf("vm%06d", i)
		p := "/subscriptions/" + sub + "/resourceGroups/bench/providers/Microsoft.Compute/virtualMachines/" + name
		nic := "/subscriptions/" + sub + "/resourceGroups/bench/providers/Microsoft.Network/networkInterfaces/" + name + "-nic"
		do("PUT", p+"?api-version=2025-04-01", fmt.Sprintf(`{"location":"westus","properties":{`+
			`"hardwareProfile":{"vmSize":"Standard_D2s_v3"},`+
			`"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},`+
			`"osProfile":{"computerName":%q,"adminUsername":"azureuser","adminPassword":"Passw0rd!bench"},`+
			`"networkProfile":{"networkInterfaces":[{"id":%q}]}}}`, name, nic), 201)
		if i%500 == 499 {
			do("POST", "/_azemu/clock/advance", `{"duration":"2m"}`, 200)
		}
		paths = append(paths, p)
	}
	do("POST", "/_azemu/clock/advance", `{"duration":"1h"}`, 200)
	return s, h, paths
}

// BenchmarkVMGetHandler is the server's own part of a VM's GET, $expand
// and /instanceView, spread over 1,000 VMs, without TLS or a connection:
// with the render cache (what a VM read often costs), and with none (what
// the first read after a change costs, and every read of a fleet larger
// than the cache).
func BenchmarkVMGetHandler(b *testing.B) {
	s, h, paths := getFleet(b, 1000)
	for _, cached := range []bool{true, false} {
		for _, w := range []struct{ name, suffix string }{{"get", "?api-version=2025-04-01"}, {"expand", "?api-version=2025-04-01&$expand=instanceView"}, {"iv", "/instanceView?api-version=2025-04-01"}} {
			b.Run(fmt.Sprintf("%s/cached=%v", w.name, cached), func(b *testing.B) {
				if cached {
					s.renders = newRenderCache(renderCacheLimit)
				} else {
					s.renders = newRenderCache(0)
				}
				reqs := make([]*http.Request, len(paths))
				for i, p := range paths {
					reqs[i] = httptest.NewRequest("GET", p+w.suffix, nil)
					reqs[i].Header.Set("Authorization", "Bearer x")
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					dw := &discardWriter{h: http.Header{}}
					h.ServeHTTP(dw, reqs[i%len(reqs)])
					i++
				}
			})
		}
	}
}

// BenchmarkVMGetHTTPS is a VM's GET, $expand and /instanceView over HTTPS,
// one request at a time on one keep-alive connection, next to a bare
// server writing a fixed 750-byte body looked up in a map: the client,
// TLS on both sides and the server, each answer kept. Its instructions
// per request (cachegrind, docs/benchmarks.md) are what azemu bench's
// ratios by CPU come to with no load and no scheduling in them.
func BenchmarkVMGetHTTPS(b *testing.B) {
	_, h, paths := getFleet(b, 100)
	bareBody := []byte(`{"padding":"` + strings.Repeat("x", 750-15) + `"}` + "\n")
	bodies := map[string][]byte{}
	for i := range paths {
		bodies[fmt.Sprintf("/vm/vm%06d", i)] = bareBody
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})
	for _, w := range []struct {
		name    string
		handler http.Handler
		path    func(i int) string
	}{
		{"bare", bare, func(i int) string { return fmt.Sprintf("/vm/vm%06d", i) }},
		{"get", h, func(i int) string { return paths[i] + "?api-version=2025-04-01" }},
		{"expand", h, func(i int) string { return paths[i] + "?api-version=2025-04-01&$expand=instanceView" }},
		{"iv", h, func(i int) string { return paths[i] + "/instanceView?api-version=2025-04-01" }},
	} {
		b.Run(w.name, func(b *testing.B) {
			// The timeouts of internal/server's listener.
			srv := httptest.NewUnstartedServer(w.handler)
			srv.Config.ReadHeaderTimeout, srv.Config.ReadTimeout, srv.Config.IdleTimeout = 10*time.Second, time.Minute, 2*time.Minute
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			defer srv.Close()
			tr := srv.Client().Transport.(*http.Transport).Clone()
			tr.ForceAttemptHTTP2, tr.MaxConnsPerHost = false, 1
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			get := func(i int) {
				req, err := http.NewRequest(http.MethodGet, srv.URL+w.path(i%len(paths)), http.NoBody)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer bench")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: HTTP %d", req.URL, resp.StatusCode)
				}
			}
			for i := range paths {
				get(i) // every answer rendered and kept, the connection open
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				get(i)
				i++
			}
		})
	}
}

package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/metrics"
	"github.com/azemu/azemu/internal/store/memstore"
	"github.com/azemu/azemu/internal/store/sqlite"
)

const sub = "11111111-2222-4333-8444-555555555555"

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, body)
	}
	return string(body)
}

func hasLine(t *testing.T, body, line string) {
	t.Helper()
	for _, l := range strings.Split(body, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("no line %q in the scrape", line)
}

func TestFleetRequestsAndChanges(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "azemu.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewManual(clock.DefaultManualStart)
	eng, err := engine.New(context.Background(), engine.Config{Store: st, Manual: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(eng)
	ctx := context.Background()
	if err := enginetest.PutGroup(ctx, eng, sub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		_, _, err := enginetest.PutVM(ctx, eng, sub, "rg", name, json.RawMessage(`{}`), engine.VMSpec{Location: "westus", VMSize: "Standard_D2s_v3"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := enginetest.Act(ctx, eng, sub, "rg", "b", lifecycle.Request{Kind: lifecycle.Deallocate}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Minute}); err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("GET", 200, 3*time.Millisecond)
	m.ObserveRequest("GET", 404, time.Millisecond)

	body := scrape(t, m)
	hasLine(t, body, `azemu_vms{billed="true",power_state="running"} 1`)
	hasLine(t, body, `azemu_vms{billed="false",power_state="deallocated"} 1`)
	hasLine(t, body, `azemu_operations_in_progress 0`)
	hasLine(t, body, `azemu_resource_groups 1`)
	// Two creates (none, starting, running) and one deallocation
	// (stopping, deallocating, deallocated).
	hasLine(t, body, `azemu_state_changes_total{power_state="running"} 2`)
	hasLine(t, body, `azemu_state_changes_total{power_state="deallocated"} 1`)
	hasLine(t, body, `azemu_http_requests_total{code="404",method="GET"} 1`)
	hasLine(t, body, `azemu_http_request_duration_seconds_count{method="GET"} 2`)
}

// memMetrics is the metrics of an empty in-memory engine.
func memMetrics(tb testing.TB) *metrics.Metrics {
	tb.Helper()
	eng, err := engine.New(context.Background(), engine.Config{Store: memstore.New(), Manual: clock.NewManual(clock.DefaultManualStart),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(eng.Close)
	return metrics.New(eng)
}

// TestMadeUpMethodsShareOneSeries checks that a client sending methods of
// its own cannot grow the request series without bound: every method but
// HTTP's nine is counted under "other", and the nine keep their own.
func TestMadeUpMethodsShareOneSeries(t *testing.T) {
	m := memMetrics(t)
	for i := range 500 {
		m.ObserveRequest(fmt.Sprintf("X-MADE-UP-%d", i), http.StatusMethodNotAllowed, time.Millisecond)
	}
	m.ObserveRequest("get", http.StatusOK, time.Millisecond) // methods are case-sensitive
	m.ObserveRequest(http.MethodGet, http.StatusOK, time.Millisecond)
	m.ObserveRequest(http.MethodPatch, http.StatusAccepted, time.Millisecond)
	body := scrape(t, m)
	hasLine(t, body, `azemu_http_requests_total{code="405",method="other"} 500`)
	hasLine(t, body, `azemu_http_requests_total{code="200",method="other"} 1`)
	hasLine(t, body, `azemu_http_requests_total{code="200",method="GET"} 1`)
	hasLine(t, body, `azemu_http_requests_total{code="202",method="PATCH"} 1`)
	hasLine(t, body, `azemu_http_request_duration_seconds_count{method="other"} 501`)
	if n := strings.Count(body, "azemu_http_requests_total{"); n != 4 {
		t.Errorf("%d request series after 503 requests of 502 methods, want 4:\n%s", n, body)
	}
}

// BenchmarkObserveRequest is what /metrics costs every request.
func BenchmarkObserveRequest(b *testing.B) {
	m := memMetrics(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest(http.MethodGet, http.StatusOK, time.Millisecond)
		}
	})
}

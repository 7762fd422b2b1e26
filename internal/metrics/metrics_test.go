package metrics_test

import (
	"context"
	"encoding/json"
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

package dashboard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
)

// Compacting the history keeps every bill that starts at the horizon or
// later exact, to the last fraction of a cent: the billing endpoint's line
// items (per second and per minute), the dashboard's daily costs and its
// cost so far per VM, also when a new dashboard seeds its ledger from the
// checkpoints (as after a restart). A window that starts before the
// horizon is refused, and finished operations older than it are dropped.
func TestCompactionKeepsEveryBillExact(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.group(subA, "rg", "eastus")
	web, db, gone := vmID(subA, "rg", "web"), vmID(subA, "rg", "db"), vmID(subA, "rg", "gone")
	for _, name := range []string{"web", "db", "gone"} {
		r.vm(subA, "rg", name, "eastus")
	}
	r.advance(5 * time.Minute)
	first := r.act(web, "deallocate") // ends within minutes: dropped by the compaction
	day := 24 * time.Hour
	for d := range 8 {
		r.advance(day/2 + time.Duration(d)*17*time.Minute + 13*time.Second)
		switch d % 4 {
		case 0:
			r.act(web, "start")
		case 1:
			r.act(web, "powerOff") // stopped, still billed
		case 2:
			r.act(web, "deallocate")
		case 3:
			r.act(web, "start")
		}
		if d == 2 {
			r.must(http.StatusOK, http.MethodPatch, db, map[string]any{"properties": map[string]any{
				"hardwareProfile": map[string]any{"vmSize": "Standard_D4s_v3"}}}, nil)
		}
		if d == 3 {
			r.act(gone, "delete")
		}
		r.advance(day / 2)
	}
	last := r.act(db, "restart")
	r.advance(time.Minute)
	now := r.eng.Now()
	horizon := t0.Add(4*day + 3*time.Hour)
	q := func(from, to time.Time, extra string) string {
		return "/_azemu/billing/usage?from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339)) + extra
	}
	reads := []string{
		q(horizon, now, ""),
		q(horizon, now, "&granularity=minute"),
		q(horizon.Add(5*time.Hour+7*time.Minute), horizon.Add(2*day), ""),
		q(horizon, now, "&resourceGroup=rg&subscription="+subA),
		"/_dashboard/api/costs/daily?subscription=" + subA + "&days=3",
		"/_dashboard/api/vms",
	}
	read := func(r *rig) []string {
		t.Helper()
		out := make([]string, len(reads))
		for i, path := range reads {
			status, body := r.do(http.MethodGet, path, nil)
			if status != http.StatusOK {
				t.Fatalf("GET %s: HTTP %d %s", path, status, body)
			}
			out[i] = string(body)
		}
		return out
	}
	before := read(r)
	if !strings.Contains(before[0], `"cost"`) || !strings.Contains(before[5], "web") {
		t.Fatalf("nothing to compare: %s\n%s", before[0], before[5])
	}

	res, err := r.eng.Do(ctx, engine.CompactHistory{Horizon: horizon})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Compacted
	if out.Events == 0 || out.Operations == 0 {
		t.Fatalf("compaction deleted %+v: nothing", out)
	}
	if got := r.eng.Horizon(); !got.Equal(horizon) {
		t.Fatalf("horizon %s, want %s", got, horizon)
	}
	after := read(r)
	// A dashboard started now seeds its ledger from the checkpoints.
	reseeded := read(rigOn(t, r.eng, r.clk, nil))
	for i, path := range reads {
		if after[i] != before[i] {
			t.Errorf("GET %s changed by the compaction:\nbefore %s\nafter  %s", path, before[i], after[i])
		}
		if reseeded[i] != before[i] {
			t.Errorf("GET %s from a dashboard seeded after the compaction:\nbefore %s\nafter  %s", path, before[i], reseeded[i])
		}
	}

	// A second compaction starts from the first's checkpoints, and adds
	// what each resource used in between to what it used before.
	for range 3 {
		r.advance(day/3 + 11*time.Second)
		r.act(web, "powerOff")
		r.advance(day / 3)
		r.act(web, "start")
		r.advance(day / 3)
	}
	now2 := r.eng.Now()
	horizon2 := horizon.Add(3*day + 5*time.Hour)
	reads2 := []string{q(horizon2, now2, ""), q(horizon2.Add(time.Hour), now2, "&granularity=minute"), "/_dashboard/api/vms"}
	reads = reads2
	before2 := read(r)
	if _, err := r.eng.Do(ctx, engine.CompactHistory{Horizon: horizon2}); err != nil {
		t.Fatal(err)
	}
	for i, got := range read(rigOn(t, r.eng, r.clk, nil)) {
		if got != before2[i] {
			t.Errorf("GET %s after a second compaction:\nbefore %s\nafter  %s", reads2[i], before2[i], got)
		}
	}

	// Before the horizon: refused, with the horizon named.
	horizon = horizon2
	status, body := r.do(http.MethodGet, q(horizon.Add(-time.Hour), now, ""), nil)
	var refusal struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(body, &refusal)
	if status != http.StatusBadRequest || refusal.Error.Code != "InvalidParameter" || !strings.Contains(refusal.Error.Message, horizon.Format(time.RFC3339)) {
		t.Errorf("a bill before the horizon: HTTP %d %s", status, body)
	}
	// The operation that ended days before the horizon is gone; the last
	// one is kept.
	if _, err := r.eng.Operation(ctx, first["id"].(string)); err == nil || !strings.Contains(err.Error(), "was not found") {
		t.Errorf("an operation that ended before the horizon: %v, want not found", err)
	}
	if _, err := r.eng.Operation(ctx, last["id"].(string)); err != nil {
		t.Errorf("the last operation: %v", err)
	}
}

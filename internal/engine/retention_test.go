package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// bill meters a window and rates it, as exact text per line item.
func bill(t *testing.T, e *Engine, from, to time.Time) string {
	t.Helper()
	ms, err := e.Meters(context.Background(), []billing.Window{{From: from, To: to}}, billing.PerSecond, "")
	if err != nil {
		t.Fatal(err)
	}
	m := ms.Meter(0)
	out := ""
	for _, li := range billing.Rate(m.Usage(), billing.DefaultPriceSheet()) {
		cost := "unpriced"
		if li.Priced {
			cost = li.Cost.RatString()
		}
		out += fmt.Sprintf("%s %s %d %v %s\n", li.ResourceID, li.Attrs.VMSize, li.Seconds, li.ByPowerState, cost)
	}
	return out
}

// A compaction survives a restart: the horizon, the checkpoints
// and so every bill after the horizon; a window before it stays refused.
func TestCompactionSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "a", true)
	r.createVM("rg", "b", true)
	r.advance(10 * time.Minute)
	for d := range 6 {
		r.advance(7*time.Hour + time.Duration(d)*time.Minute)
		kind := lifecycle.Deallocate
		if d%2 == 1 {
			kind = lifecycle.Start
		}
		if _, err := act(ctx, r.eng, testSub, "rg", "a", lifecycle.Request{Kind: kind}); err != nil {
			t.Fatal(err)
		}
	}
	r.advance(24 * time.Hour)
	horizon := t0.Add(20 * time.Hour)
	now := r.eng.Now()
	want := bill(t, r.eng, horizon, now)
	if _, err := r.eng.Compact(ctx, horizon); err != nil {
		t.Fatal(err)
	}
	r.open(t0)
	if got := r.eng.Horizon(); !got.Equal(horizon) {
		t.Fatalf("after a restart the horizon is %s, want %s", got, horizon)
	}
	if got := bill(t, r.eng, horizon, now); got != want {
		t.Errorf("after compaction and a restart the bill is\n%s\nwant\n%s", got, want)
	}
	var refusal *Error
	if _, err := r.eng.Meters(ctx, []billing.Window{{From: horizon.Add(-time.Second), To: now}}, billing.PerSecond, ""); !errors.As(err, &refusal) || refusal.Code != "InvalidParameter" {
		t.Errorf("a window before the horizon: %v", err)
	}
	// The history shown starts with each VM's state at the horizon.
	h := r.history(vmID("rg", "a"))
	if len(h) == 0 || h[0].Seq != 0 || !h[0].At.Equal(horizon) {
		t.Errorf("the history after compaction starts with %+v, want the checkpoint at %s", h[0], horizon)
	}
}

// With Retention set, an advance compacts by itself, at a whole hour no
// later than now less the retention, nor than a step still to fire.
func TestRetentionCompactsAsTheClockMoves(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.tweak = func(c *Config) { c.Retention = 48 * time.Hour }
	r.open(t0)
	r.group("rg")
	r.createVM("rg", "a", true)
	r.advance(30 * time.Minute)
	if h := r.eng.Horizon(); h.After(t0.Add(-48 * time.Hour)) {
		t.Fatalf("after 30 minutes the horizon is %s, within the retention", h)
	}
	if h := r.history(vmID("rg", "a")); len(h) == 0 || h[0].Seq == 0 {
		t.Fatalf("after 30 minutes the history was compacted: %+v", h)
	}
	r.advance(5*24*time.Hour + 30*time.Minute)
	want := r.eng.Now().Add(-48 * time.Hour).Truncate(time.Hour)
	if got := r.eng.Horizon(); !got.Equal(want) {
		t.Fatalf("horizon %s, want %s", got, want)
	}
	var n int
	if err := r.eng.History(ctx, "", time.Time{}, want, func(store.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d events before the horizon", n)
	}
	// A plan still running holds the horizon back to its next step.
	if _, err := act(ctx, r.eng, testSub, "rg", "a", lifecycle.Request{Kind: lifecycle.Deallocate}); err != nil {
		t.Fatal(err)
	}
	due, ok := r.eng.NextDue()
	if !ok {
		t.Fatal("no step due")
	}
	if _, err := r.eng.Compact(ctx, due.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := r.eng.Horizon(); got.After(due) {
		t.Errorf("the horizon %s passed the step due at %s", got, due)
	}
}

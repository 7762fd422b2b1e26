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
	if _, err := r.eng.Do(ctx, CompactHistory{Horizon: horizon}); err != nil {
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
	if _, err := r.eng.Do(ctx, CompactHistory{Horizon: due.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := r.eng.Horizon(); got.After(due) {
		t.Errorf("the horizon %s passed the step due at %s", got, due)
	}
}

// A compaction writes in batches of resources, each its own transaction,
// and a write goes through between two of them rather than waiting for
// the whole compaction; at every batch, and after the last, the bill from
// the horizon on is the same, to the byte.
func TestCompactionLetsWritesThrough(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.group("rg")
	names := []string{"a", "b", "c", "d"}
	for _, n := range names {
		r.createVM("rg", n, true)
	}
	for d := range 4 {
		r.advance(9*time.Hour + time.Duration(d)*time.Minute)
		kind := lifecycle.Deallocate
		if d%2 == 1 {
			kind = lifecycle.Start
		}
		for _, n := range names[:2+d%3] {
			if _, err := act(ctx, r.eng, testSub, "rg", n, lifecycle.Request{Kind: kind}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.advance(12 * time.Hour)
	horizon := t0.Add(30 * time.Hour)
	now := r.eng.Now()
	want := bill(t, r.eng, horizon, now)

	defer func(n int) { compactBatch = n }(compactBatch)
	compactBatch = 1 // one VM a batch
	paused, resume := make(chan struct{}), make(chan struct{})
	batches := 0
	r.eng.afterCompactBatch = func() {
		batches++
		if batches == 2 {
			close(paused)
			<-resume
		}
	}
	compacted := make(chan error, 1)
	go func() {
		_, err := r.eng.Do(ctx, CompactHistory{Horizon: horizon})
		compacted <- err
	}()
	select {
	case <-paused:
	case err := <-compacted:
		t.Fatalf("the compaction ended in fewer than three batches: %v", err)
	}
	// Two VMs compacted, two not yet: the history is mixed, the bill is not.
	if got := bill(t, r.eng, horizon, now); got != want {
		t.Errorf("in the middle of a compaction the bill is\n%s\nwant\n%s", got, want)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := act(ctx, r.eng, testSub, "rg", "d", lifecycle.Request{Kind: lifecycle.Start})
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("a write in the middle of a compaction: %v", err)
		}
	case <-time.After(time.Minute): // a bound on a failure, not a wait for success
		t.Fatal("a write waited for the compaction")
	}
	close(resume)
	if err := <-compacted; err != nil {
		t.Fatal(err)
	}
	if batches < 4 {
		t.Errorf("%d batches for %d VMs", batches, len(names))
	}
	if got := bill(t, r.eng, horizon, now); got != want {
		t.Errorf("after compaction the bill is\n%s\nwant\n%s", got, want)
	}
	var before int
	if err := r.eng.History(ctx, "", time.Time{}, horizon, func(store.Event) error { before++; return nil }); err != nil {
		t.Fatal(err)
	}
	if before != 0 {
		t.Errorf("%d events before the horizon after compaction", before)
	}
	if h := r.history(vmID("rg", "d")); h[len(h)-1].OperationKind != string(lifecycle.Start) {
		t.Errorf("the write made during the compaction is not in the history: %+v", h[len(h)-1])
	}
}

// A compaction cut short after some batches (a crash, a failed write)
// leaves a history that bills the same from its horizon on, across a
// restart; the next compaction finishes it, and what each resource used
// before the new horizon is exactly what its whole history metered.
func TestCompactionCutShortStaysExact(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.group("rg")
	names := []string{"a", "b", "c", "d"}
	for _, n := range names {
		r.createVM("rg", n, true)
	}
	for d := range 6 {
		r.advance(5*time.Hour + time.Duration(d)*time.Minute)
		kind := lifecycle.Deallocate
		if d%2 == 1 {
			kind = lifecycle.Start
		}
		for _, n := range names[d%2:] {
			if _, err := act(ctx, r.eng, testSub, "rg", n, lifecycle.Request{Kind: kind}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.advance(6 * time.Hour)
	horizon, later, now := t0.Add(10*time.Hour), t0.Add(20*time.Hour), r.eng.Now()
	want, wantLater := bill(t, r.eng, horizon, now), bill(t, r.eng, later, now)
	ms, err := r.eng.Meters(ctx, []billing.Window{{From: t0, To: later}}, billing.PerSecond, "")
	if err != nil {
		t.Fatal(err)
	}
	usedBefore := map[string]int64{}
	for _, u := range ms.Meter(0).Usage() {
		usedBefore[u.ResourceID] += u.Seconds
	}

	defer func(n int) { compactBatch = n }(compactBatch)
	compactBatch = 1
	cut, cancel := context.WithCancel(ctx)
	batches := 0
	r.eng.afterCompactBatch = func() {
		if batches++; batches == 2 {
			cancel() // the next batch fails, as after a crash
		}
	}
	if _, err := r.eng.Do(cut, CompactHistory{Horizon: horizon}); err == nil {
		t.Fatal("a compaction whose context ended mid-way succeeded")
	}
	r.restart(now)
	if got := r.eng.Horizon(); !got.Equal(horizon) {
		t.Fatalf("after a compaction cut short and a restart the horizon is %s, want %s", got, horizon)
	}
	if got := bill(t, r.eng, horizon, now); got != want {
		t.Errorf("after a compaction cut short the bill is\n%s\nwant\n%s", got, want)
	}

	if _, err := r.eng.Do(ctx, CompactHistory{Horizon: later}); err != nil {
		t.Fatal(err)
	}
	if got := bill(t, r.eng, later, now); got != wantLater {
		t.Errorf("after the next compaction the bill is\n%s\nwant\n%s", got, wantLater)
	}
	got := map[string]int64{}
	if err := r.eng.UsedBeforeHorizon(ctx, func(id string, used []UsedBefore) error {
		for _, u := range used {
			got[id] += u.Seconds
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id, s := range usedBefore {
		if got[id] != s {
			t.Errorf("%s used %d s before the horizon, by its checkpoint; its history metered %d s", id, got[id], s)
		}
	}
}

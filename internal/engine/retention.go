package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/store"
)

// Retention (docs/retention.md): the history older than Config.Retention
// is compacted into one checkpoint per resource, its state at the horizon
// and what it used before it, from which every later bill starts; finished
// operations that ended before the horizon are dropped, though never
// sooner than a day after they ended, the least Azure keeps an operation's
// status for.

// settingHorizon is where the retained history starts (RFC 3339).
const settingHorizon = "historyHorizon"

// OperationRetention is how long a finished operation's status is kept at
// the least: Azure's guidelines ask at least 24 hours.
const OperationRetention = 24 * time.Hour

// compactStep is how far the horizon must be able to move before an
// automatic compaction runs: daily, not on every advance.
const compactStep = 24 * time.Hour

// UsedBefore is what a resource used on one meter before the horizon:
// its billed seconds at those attributes.
type UsedBefore struct {
	Kind    billing.ResourceKind `json:"kind"`
	Attrs   billing.Attrs        `json:"attrs"`
	Seconds int64                `json:"seconds"`
}

// Horizon is where the retained history starts: zero when nothing was
// compacted. A bill window cannot start before it.
func (e *Engine) Horizon() time.Time {
	if ns := e.horizon.Load(); ns != 0 {
		return time.Unix(0, ns).UTC()
	}
	return time.Time{}
}

// CheckBillWindow refuses a bill window that starts before the horizon:
// the history it needs was compacted. Call it after metering too, since a
// compaction may have moved the horizon meanwhile (it announces the new
// horizon before it deletes anything).
func (e *Engine) CheckBillWindow(from time.Time) error {
	if h := e.Horizon(); !h.IsZero() && from.Before(h) {
		return &Error{Code: armerror.CodeInvalidParameter, Target: "from", Message: fmt.Sprintf(
			"The history before %s was compacted (retention %s): a bill window can start there at the earliest, not at %s.",
			h.Format(time.RFC3339), e.cfg.Retention, from.UTC().Format(time.RFC3339))}
	}
	return nil
}

// UsedBeforeHorizon streams what each resource alive at the horizon used
// before it, by resource ID: the opening balance of a running account
// seeded from the retained history.
func (e *Engine) UsedBeforeHorizon(ctx context.Context, fn func(id string, used []UsedBefore) error) error {
	return e.cfg.Store.Checkpoints(ctx, func(cp store.Checkpoint) error {
		used, err := usedOf(cp)
		if err != nil {
			return err
		}
		return fn(cp.Event.VMID, used)
	})
}

// usedOf decodes what a checkpoint's resource used before it.
func usedOf(cp store.Checkpoint) ([]UsedBefore, error) {
	var used []UsedBefore
	if len(cp.Usage) > 0 {
		if err := json.Unmarshal(cp.Usage, &used); err != nil {
			return nil, fmt.Errorf("engine: checkpoint of %s: %w", cp.Event.VMID, err)
		}
	}
	return used, nil
}

// compactHourly compacts at start and then every hour of real time, until
// ctx ends; a manual clock also compacts after each advance.
func (e *Engine) compactHourly(ctx context.Context) {
	for {
		e.maybeCompact(ctx)
		t := time.NewTimer(time.Hour)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// maybeCompact compacts when retention is on and the horizon can move by
// a day or more; a failure is logged, and tried again next time.
func (e *Engine) maybeCompact(ctx context.Context) {
	if e.cfg.Retention <= 0 {
		return
	}
	target := e.Now().Add(-e.cfg.Retention).Truncate(time.Hour)
	if target.Sub(e.Horizon()) < compactStep {
		return
	}
	if _, err := e.compact(ctx, target); err != nil {
		e.log.Error("compacting the history", "horizon", target, "err", err)
	}
}

// compactBatch is how many resources one transaction of a compaction
// compacts: small enough that a write waits for one batch at most, not for
// the whole compaction.
var compactBatch = 200

// compact compacts the history before horizon (moved back, if need be, to
// a whole hour no later than the earliest step still to fire, whose event
// will be stamped at its due time) into checkpoints, and drops the
// finished operations that ended before it and over a day ago. It does not
// stop writes while it reads the history (every event still to come is
// stamped at or after the horizon), and writes in batches of resources,
// each its own short transaction under the writer lock, so writes go on
// between them. It returns what it deleted.
//
// Every batch leaves each resource's history whole: a resource is either
// compacted (its checkpoint at the horizon, its events after it) or not yet
// (its earlier checkpoint, its events after that), and either bills the
// same from the horizon on. The first batch records the horizon, so a
// restart after any batch refuses bills that start before it.
func (e *Engine) compact(ctx context.Context, horizon time.Time) (store.Compacted, error) {
	e.compactMu.Lock()
	defer e.compactMu.Unlock()
	e.writeMu.Lock()
	if at, ok := e.due.peek(); ok && at.Before(horizon) {
		horizon = at
	}
	e.writeMu.Unlock()
	now := e.Now()
	horizon = store.Latest(time.Time{}, horizon.UTC().Truncate(time.Hour))
	if horizon.After(now) {
		horizon = now.Truncate(time.Hour)
	}
	prev := e.Horizon()
	if !horizon.After(prev) {
		return store.Compacted{}, nil
	}
	ids, cps, err := e.checkpoints(ctx, horizon)
	if err != nil {
		return store.Compacted{}, err
	}
	opsBefore := horizon
	if cut := now.Add(-OperationRetention); cut.Before(opsBefore) {
		opsBefore = cut
	}
	// Announce the horizon first: a bill read meanwhile, which may see the
	// compacted history, is refused rather than short.
	e.horizon.Store(horizon.UnixNano())
	settings := map[string]string{settingHorizon: horizon.Format(time.RFC3339Nano)}
	var out store.Compacted
	for first := 0; ; first += compactBatch {
		c := store.Compaction{Horizon: horizon, Settings: settings}
		if first < len(ids) {
			last := min(first+compactBatch, len(ids))
			c.Resources = ids[first:last]
			for _, id := range c.Resources {
				if cp, ok := cps[armid.Fold(id)]; ok {
					c.Checkpoints = append(c.Checkpoints, cp)
				}
			}
		} else {
			c.OperationsBefore = opsBefore // the last: what is left
		}
		// Writes wait for a batch on the writer lock rather than in the
		// store, where a long one would look like a hung disk.
		unlock, err := e.lockWrite(ctx)
		var done store.Compacted
		if err == nil {
			done, err = e.cfg.Store.Compact(ctx, c)
			if err == nil {
				e.wrote() // each batch's settings are one change of a shared store
			}
			unlock()
		}
		if err != nil {
			if first == 0 { // nothing was written: the horizon stays where it was
				if prev.IsZero() {
					e.horizon.Store(0)
				} else {
					e.horizon.Store(prev.UnixNano())
				}
			}
			return out, e.noteWrite(err)
		}
		out.Events += done.Events
		out.Operations += done.Operations
		if c.Resources == nil {
			break
		}
		if e.afterCompactBatch != nil {
			e.afterCompactBatch()
		}
	}
	// The finished operations dropped from the store go from memory too.
	e.mu.Lock()
	kept := e.finished[:0]
	for _, k := range e.finished {
		if op, ok := e.ops[k]; ok && op.Done() && !op.EndTime.IsZero() && op.EndTime.Before(opsBefore) {
			delete(e.ops, k)
			continue
		}
		kept = append(kept, k)
	}
	e.finished = kept
	e.mu.Unlock()
	e.log.Info("history compacted", "horizon", horizon.Format(time.RFC3339), "checkpoints", len(cps),
		"events", out.Events, "operations", out.Operations)
	return out, nil
}

// checkpoints meters the retained history up to horizon (the checkpoints,
// then the events) and gives each resource alive at horizon its
// checkpoint, by key: its last event restamped there, with what it used
// before. ids are every resource the history before horizon holds, in the
// order it first names them.
func (e *Engine) checkpoints(ctx context.Context, horizon time.Time) (ids []string, cps map[string]store.Checkpoint, err error) {
	used := map[string][]UsedBefore{}
	if err := e.UsedBeforeHorizon(ctx, func(id string, u []UsedBefore) error {
		used[armid.Fold(id)] = u
		return nil
	}); err != nil {
		return nil, nil, err
	}
	// The meter counts each resource from where its retained history
	// starts: its checkpoint, or its first event. A compaction cut short
	// leaves some at an earlier checkpoint than prev, or none.
	m := billing.NewMeter(time.Time{}, horizon, billing.PerSecond)
	last := map[string]store.Event{}
	err = e.meterHistory(ctx, horizon, func(ev store.Event) bool {
		key := armid.Fold(ev.VMID)
		if _, seen := last[key]; !seen {
			ids = append(ids, ev.VMID)
		}
		last[key] = ev
		return true
	}, m.Add)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range m.Usage() {
		if u.Seconds == 0 {
			continue
		}
		key := armid.Fold(u.ResourceID)
		used[key] = addUsed(used[key], UsedBefore{Kind: u.Kind, Attrs: u.Attrs, Seconds: u.Seconds})
	}
	cps = map[string]store.Checkpoint{}
	for _, id := range ids {
		key := armid.Fold(id)
		ev := last[key]
		if be, ok := BillingEvent(ev); ok && be.Deleted {
			continue // gone before the horizon: nothing of it bills after
		}
		raw, err := json.Marshal(used[key])
		if err != nil {
			return nil, nil, err
		}
		ev.At, ev.Seq = horizon, 0
		cps[key] = store.Checkpoint{Event: ev, Usage: raw}
	}
	return ids, cps, nil
}

// meterHistory streams the history before `to` into add, each event turned
// into the meter's input; keep sees every event first, and an event it
// refuses is skipped. An event the meter refuses (out of order, or
// invalid) is logged and skipped: one resource's bad entry must not hide
// the fleet's bill.
func (e *Engine) meterHistory(ctx context.Context, to time.Time, keep func(store.Event) bool, add func(billing.Event) error) error {
	return e.cfg.Store.History(ctx, "", time.Time{}, to, func(ev store.Event) error {
		if !keep(ev) {
			return nil
		}
		be, ok := BillingEvent(ev)
		if !ok {
			return nil
		}
		if err := add(be); err != nil {
			e.log.Warn("history event skipped by the meter", "resource", ev.VMID, "seq", ev.Seq, "err", err)
		}
		return nil
	})
}

// addUsed adds u to the lines, on the line of the same meter and
// attributes when there is one.
func addUsed(lines []UsedBefore, u UsedBefore) []UsedBefore {
	for i := range lines {
		if lines[i].Kind == u.Kind && lines[i].Attrs == u.Attrs {
			lines[i].Seconds += u.Seconds
			return lines
		}
	}
	return append(lines, u)
}

package engine

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/store"
)

// Replicas: on a store.Shared (PostgreSQL) several servers serve one fleet,
// each with the fleet in memory. A server keeps its memory a replay of the
// store's numbered changes (e.seen is the last one it holds), and:
//
//   - decides every write under the fleet-wide lock, after catching up, so
//     that it decides on the state every other server left, and its own
//     change is the next of the sequence (lockWrite);
//   - catches up before it serves a request (Sync), so that a write
//     acknowledged by one server is seen by a read through any other;
//   - fires due steps under the same lock, after catching up: a step that
//     another server fired is no longer due, so each fires once, whichever
//     server's timer is first; every server holds every plan, so a server
//     that dies leaves none unfired;
//   - hears of the changes others commit (Listen) and replays them at once,
//     publishing them to its observers, so its live feed, metrics and timers
//     include them.
//
// On any other store nothing of this runs: e.shared is nil.

// lockWrite takes the writer lock: writeMu, and on a shared store the
// fleet-wide lock, under which it catches up. unlock releases both.
func (e *Engine) lockWrite(ctx context.Context) (unlock func(), err error) {
	e.writeMu.Lock()
	if e.shared == nil {
		return e.writeMu.Unlock, nil
	}
	release, err := e.shared.Lock(ctx)
	if err != nil {
		e.writeMu.Unlock()
		return nil, fmt.Errorf("engine: the fleet's write lock: %w", err)
	}
	if err := e.catchUp(ctx); err != nil {
		release()
		e.writeMu.Unlock()
		return nil, err
	}
	e.fleetLocked = true
	return func() {
		e.fleetLocked = false
		release()
		e.writeMu.Unlock()
	}, nil
}

// wrote notes that this server committed one change to the store. Under
// the fleet lock, after catching up, it is the next change of the
// sequence, which memory already holds. Elsewhere it is left to be
// replayed, which changes nothing a second time.
func (e *Engine) wrote() {
	if e.shared != nil && e.fleetLocked {
		e.seen.Add(1)
	}
}

// Sync catches up on the changes other servers committed, so that what
// this one answers next includes every write acknowledged before it was
// called. On a store no other server shares it does nothing.
func (e *Engine) Sync(ctx context.Context) error {
	if e.shared == nil {
		return nil
	}
	seq, err := e.sequence(ctx)
	if err != nil {
		return fmt.Errorf("engine: catching up: %w", err)
	}
	if seq <= e.seen.Load() {
		return nil
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if seq <= e.seen.Load() {
		return nil // another caught up meanwhile
	}
	return e.catchUp(ctx)
}

// sequenceReads shares the reads of the store's sequence among concurrent
// Syncs. A caller needs a read that began after it called: it joins the
// next read to begin, which begins at once when none is under way, else as
// soon as the one under way ends. So at most one read is under way, and
// every request that came meanwhile shares the next one.
type sequenceReads struct {
	mu      sync.Mutex
	running bool
	next    *sequenceRead // the read the next callers join
}

type sequenceRead struct {
	done   chan struct{}
	seq    int64
	err    error
	joined int // callers waiting for it
}

// sequenceReadTimeout bounds one shared read of the sequence: no caller's
// context may cancel it for the others.
const sequenceReadTimeout = 10 * time.Second

// sequence reads the store's sequence, as a read begun after the call.
func (e *Engine) sequence(ctx context.Context) (int64, error) {
	r := &e.seqReads
	r.mu.Lock()
	if r.next == nil {
		r.next = &sequenceRead{done: make(chan struct{})}
	}
	mine := r.next
	mine.joined++
	if !r.running {
		r.running, r.next = true, nil
		go e.readSequences(mine)
	}
	r.mu.Unlock()
	select {
	case <-mine.done:
		return mine.seq, mine.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// readSequences runs the shared reads, one after the other, while callers
// wait for one.
func (e *Engine) readSequences(read *sequenceRead) {
	r := &e.seqReads
	for read != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sequenceReadTimeout)
		read.seq, read.err = e.shared.Sequence(ctx)
		cancel()
		close(read.done)
		r.mu.Lock()
		read, r.next = r.next, nil
		if read == nil {
			r.running = false
		}
		r.mu.Unlock()
	}
}

// Shared reports whether other servers may serve the same store.
func (e *Engine) Shared() bool { return e.shared != nil }

// catchUp replays the changes committed after e.seen. The caller holds
// writeMu.
func (e *Engine) catchUp(ctx context.Context) error {
	err := e.shared.Changes(ctx, e.seen.Load(), func(c store.Committed) error {
		if err := e.replay(c); err != nil {
			return fmt.Errorf("engine: replaying change %d: %w", c.Seq, err)
		}
		e.seen.Store(c.Seq)
		return nil
	})
	if errors.Is(err, store.ErrGap) {
		return e.reload(ctx)
	}
	return err
}

// decodeAll decodes every row with decode, all or nothing.
func decodeAll[R, T any](rows []R, decode func(R) (T, error)) ([]T, error) {
	out := make([]T, 0, len(rows))
	for _, row := range rows {
		v, err := decode(row)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// replay lays another server's change into memory, as a commit of this
// one's would, and publishes it. A row no newer than the one held is
// skipped, so a change replayed twice changes nothing.
func (e *Engine) replay(c store.Committed) error {
	if c.Reset {
		e.publish(Change{At: e.Now(), Gone: e.forget(), Reset: true})
		return nil
	}
	ch := c.Change
	groups, err := decodeAll(ch.Groups, decodeGroup)
	if err != nil {
		return err
	}
	vms, err := decodeAll(ch.VMs, e.decodeVM)
	if err != nil {
		return err
	}
	change := Change{At: e.Now(), Events: ch.Events}
	e.mu.Lock()
	for _, s := range ch.Subscriptions {
		if _, ok := e.subs[s.ID]; !ok {
			e.subs[s.ID] = s
		}
	}
	for _, g := range groups {
		key := groupKey(g.SubscriptionID, g.Name)
		if held, ok := e.groups[key]; !ok || held.Version < g.Version {
			e.groups[key] = g
		}
	}
	dues := 0
	for i, v := range vms {
		key := armid.Fold(v.ID)
		held, ok := e.vms[key]
		if ok && held.Version >= v.Version {
			continue
		}
		if ch.VMs[i].ModelUnchanged {
			// The change follows the version held, whose model it keeps.
			if !ok || held.Version != v.Version-1 {
				e.mu.Unlock()
				return fmt.Errorf("VM %s's version %d keeps the model of a version not held", v.ID, v.Version)
			}
			v.Model = held.Model
		}
		e.setVM(key, v)
		change.VMs = append(change.VMs, v)
		if at, ok := v.Machine.Due(); ok {
			heap.Push(&e.due, dueItem{at: at, key: key})
			dues++
		}
	}
	for _, id := range ch.DeletedVMs {
		key := armid.Fold(id)
		if e.dropVM(key) {
			change.Gone = append(change.Gone, key)
		}
	}
	for _, row := range ch.Resources {
		s, err := e.decodeResource(row)
		if err != nil {
			e.mu.Unlock()
			return err
		}
		key := armid.Fold(row.ID)
		if s == nil {
			continue
		}
		if held := e.res[s.ResourceType()][key]; held != nil && held.ResourceVersion() >= s.ResourceVersion() {
			continue
		}
		e.putRes(key, s)
	}
	for _, id := range ch.DeletedResources {
		e.dropRes(armid.Fold(id))
	}
	for _, g := range ch.DeletedGroups {
		delete(e.groups, groupKey(g.SubscriptionID, g.Name))
	}
	for _, op := range ch.Operations {
		e.putOp(ops(op.ID), op)
	}
	e.trimOps()
	err = e.loadSettings(ch.Settings, true)
	e.mu.Unlock()
	if dues > 0 {
		e.kick()
	}
	e.publish(change)
	return err
}

// reload loads the whole fleet again, when the changes this server has not
// seen are no longer kept, and publishes what differs.
func (e *Engine) reload(ctx context.Context) error {
	e.log.Warn("this server fell behind the changes the store keeps; loading the fleet again")
	e.mu.Lock()
	old := e.vms
	err := e.load(ctx)
	change := Change{At: e.Now()}
	for k, v := range e.vms {
		change.VMs = append(change.VMs, v)
		delete(old, k)
	}
	for k := range old {
		change.Gone = append(change.Gone, k)
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	e.kick()
	e.publish(change)
	return nil
}

// publish tells the observers of one change; the caller holds writeMu.
func (e *Engine) publish(c Change) {
	for _, fn := range e.listeners {
		fn(c)
	}
}

// followInterval is how often a server on a shared store looks for changes
// when it has heard of none: the notices may be lost with a connection.
const followInterval = time.Second

// follow replays the changes other servers commit as they are notified,
// until ctx ends, so that observers and timers need no request to see them.
func (e *Engine) follow(ctx context.Context) {
	heard := make(chan struct{}, 1)
	go func() {
		for ctx.Err() == nil {
			err := e.shared.Listen(ctx, func(seq int64) {
				if seq > e.seen.Load() {
					select {
					case heard <- struct{}{}:
					default:
					}
				}
			})
			if ctx.Err() == nil {
				e.log.Warn("listening for other servers' changes", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(followInterval):
				}
			}
		}
	}()
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heard:
		case <-tick.C:
		}
		if err := e.Sync(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("catching up on other servers' changes", "err", err)
		}
	}
}

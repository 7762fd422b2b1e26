// Package memstore is a store.Store held in memory: the same contract as
// the SQLite store (storetest proves it), without a file, for the fast
// tests of the engine, the ARM API and the dashboard. Nothing survives the
// process.
package memstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/store"
)

// Store is an in-memory store.Store, safe for concurrent use.
type Store struct {
	mu        sync.RWMutex
	subs      map[string]store.Subscription
	groups    map[string]store.ResourceGroup // by subscription and name keys
	vms       map[string]store.VM
	resources map[string]store.Resource
	ops       map[string]store.Operation
	settings  map[string]string
	events    []store.Event // in Seq order; only ever appended to, or replaced
	seq       int64
	// checkpoints of the last compaction, by resource key.
	checkpoints map[string]store.Checkpoint
	// accounts are the parts SaveAccounts saved last.
	accounts [][]byte
	closed   bool
	// eventLimit, when positive, is how many history events the store
	// holds at most (SetEventLimit).
	eventLimit int
}

// SetEventLimit bounds the history to n events (0: no bound): an Apply
// that would hold more fails with store.ErrFull and keeps nothing, as a
// full disk fails the other backends. Tests use it to fill the store, and
// compaction, or a higher limit, makes room again.
func (s *Store) SetEventLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventLimit = n
}

// New returns an empty store.
func New() *Store {
	s := &Store{}
	s.reset()
	return s
}

func (s *Store) reset() {
	s.subs = map[string]store.Subscription{}
	s.groups = map[string]store.ResourceGroup{}
	s.vms = map[string]store.VM{}
	s.resources = map[string]store.Resource{}
	s.ops = map[string]store.Operation{}
	s.settings = map[string]string{}
	s.events = nil
	s.checkpoints = map[string]store.Checkpoint{}
	s.accounts = nil
}

var errClosed = errors.New("memstore: closed")

func groupKey(sub, name string) string { return store.Key(sub) + "/" + store.Key(name) }

// Load returns everything the engine keeps in memory.
func (s *Store) Load(ctx context.Context) (store.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return store.Snapshot{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Snapshot{}, errClosed
	}
	var snap store.Snapshot
	for _, v := range s.subs {
		snap.Subscriptions = append(snap.Subscriptions, v)
	}
	for _, g := range s.groups {
		own(&g.Body)
		snap.Groups = append(snap.Groups, g)
	}
	for _, v := range s.vms {
		own(&v.State) // a model is immutable
		snap.VMs = append(snap.VMs, v)
	}
	for _, r := range s.resources {
		own(&r.Body)
		snap.Resources = append(snap.Resources, r)
	}
	for _, op := range s.ops {
		if op.Status == "InProgress" {
			own(&op.Error, &op.Result)
			snap.Operations = append(snap.Operations, op)
		}
	}
	if len(s.settings) > 0 {
		snap.Settings = make(map[string]string, len(s.settings))
		for k, v := range s.settings {
			snap.Settings[k] = v
		}
	}
	return snap, nil
}

// Apply commits changes atomically: it checks every versioned write of
// them first, in the order the SQLite store applies them, and changes
// nothing when one fails.
func (s *Store) Apply(ctx context.Context, cs ...store.Change) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: apply: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if err := s.check(cs); err != nil {
		return fmt.Errorf("memstore: apply: %w", err)
	}
	held := len(s.events)
	for _, c := range cs {
		held += len(c.Events)
	}
	if s.eventLimit > 0 && held > s.eventLimit {
		return fmt.Errorf("memstore: apply: %w: %d events would pass the limit of %d", store.ErrFull, held, s.eventLimit)
	}
	for _, c := range cs {
		s.apply(c)
	}
	return nil
}

// apply writes one change that check passed.
func (s *Store) apply(c store.Change) {
	for _, sub := range c.Subscriptions {
		if _, ok := s.subs[store.Key(sub.ID)]; !ok {
			sub.CreatedAt = normTime(sub.CreatedAt)
			s.subs[store.Key(sub.ID)] = sub
		}
	}
	for _, g := range c.Groups {
		own(&g.Body)
		g.CreatedAt = normTime(g.CreatedAt)
		s.groups[groupKey(g.SubscriptionID, g.Name)] = g
	}
	for _, v := range c.VMs {
		if v.ModelUnchanged && v.Version > 1 {
			// check found the version before stored.
			v.Model, v.ModelUnchanged = s.vms[store.Key(v.ID)].Model, false
		}
		own(&v.State) // a model is immutable
		v.DueAt, v.CreatedAt, v.UpdatedAt = normTime(v.DueAt), normTime(v.CreatedAt), normTime(v.UpdatedAt)
		s.vms[store.Key(v.ID)] = v
	}
	for _, id := range c.DeletedVMs {
		delete(s.vms, store.Key(id))
	}
	for _, r := range c.Resources {
		own(&r.Body)
		r.CreatedAt, r.UpdatedAt = normTime(r.CreatedAt), normTime(r.UpdatedAt)
		s.resources[store.Key(r.ID)] = r
	}
	for _, id := range c.DeletedResources {
		delete(s.resources, store.Key(id))
	}
	for _, g := range c.DeletedGroups {
		delete(s.groups, groupKey(g.SubscriptionID, g.Name))
	}
	for i := range c.Events {
		s.seq++
		c.Events[i].Seq = s.seq
		e := c.Events[i]
		e.At = normTime(e.At)
		own(&e.Detail)
		s.events = append(s.events, e)
	}
	for _, op := range c.Operations {
		own(&op.Error, &op.Result)
		op.StartTime, op.EndTime = normTime(op.StartTime), normTime(op.EndTime)
		s.ops[store.Key(op.ID)] = op
	}
	for k, v := range c.Settings {
		s.settings[k] = v
	}
}

// check finds what would fail the changes: a VM or resource version that
// does not follow the stored one (or the one an earlier write of the
// changes left, a delete leaving none), and an event without a time,
// which no History window could hold.
func (s *Store) check(cs []store.Change) error {
	vms := versions[store.VM]{stored: s.vms, of: func(v store.VM) (string, int64) { return v.ID, v.Version }}
	resources := versions[store.Resource]{stored: s.resources, of: func(r store.Resource) (string, int64) { return r.ID, r.Version }}
	for n, c := range cs {
		err := vms.write(c.VMs, c.DeletedVMs)
		if err != nil {
			err = fmt.Errorf("vm %w", err)
		} else if err = resources.write(c.Resources, c.DeletedResources); err != nil {
			err = fmt.Errorf("resource %w", err)
		}
		for i, e := range c.Events {
			if err == nil && e.At.IsZero() {
				err = fmt.Errorf("event %d of vm %s: zero At", i, e.VMID)
			}
		}
		if err != nil && len(cs) > 1 {
			return fmt.Errorf("change %d of %d: %w", n+1, len(cs), err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// versions follows the versioned rows of one kind through the changes of
// an Apply: what they wrote, by key (0 for a row they deleted), over what
// is stored.
type versions[T any] struct {
	stored  map[string]T
	of      func(T) (string, int64)
	written map[string]int64
}

// write checks one change's versioned writes of the kind in order, each
// against the one written before it, else the stored row, then notes its
// deletes.
func (v *versions[T]) write(rows []T, deleted []string) error {
	if v.written == nil {
		v.written = map[string]int64{}
	}
	for _, row := range rows {
		id, version := v.of(row)
		k := store.Key(id)
		prev, ok := v.written[k]
		if old, found := v.stored[k]; !ok && found {
			_, prev = v.of(old)
		}
		if err := follows(version, prev); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		v.written[k] = version
	}
	for _, id := range deleted {
		v.written[store.Key(id)] = 0
	}
	return nil
}

// follows checks a versioned write: 1 inserts (nothing stored), n updates
// n-1; stored is 0 for nothing.
func follows(version, stored int64) error {
	if version < 1 || version != stored+1 {
		return fmt.Errorf("%w: version %d over %d", store.ErrConflict, version, stored)
	}
	return nil
}

// Operation returns one operation by ID (case-insensitive).
func (s *Store) Operation(ctx context.Context, id string) (store.Operation, error) {
	if err := ctx.Err(); err != nil {
		return store.Operation{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	op, ok := s.ops[store.Key(id)]
	if !ok {
		return store.Operation{}, fmt.Errorf("memstore: operation %s: %w", id, store.ErrNotFound)
	}
	own(&op.Error, &op.Result)
	return op, nil
}

// History calls fn with the events with from <= At < to in Seq order, of
// one VM when vmID is not empty. fn runs without the store's lock, so it
// may use the store.
func (s *Store) History(ctx context.Context, vmID string, from, to time.Time, fn func(store.Event) error) error {
	s.mu.RLock()
	events := s.events // appends never touch the elements seen here
	var cps []store.Event
	for _, cp := range s.checkpoints {
		cps = append(cps, cp.Event)
	}
	s.mu.RUnlock()
	slices.SortFunc(cps, func(a, b store.Event) int { return strings.Compare(store.Key(a.VMID), store.Key(b.VMID)) })
	key := store.Key(vmID)
	for _, e := range slices.Concat(cps, events) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if (vmID != "" && store.Key(e.VMID) != key) || e.At.Before(from) || !e.At.Before(to) {
			continue
		}
		own(&e.Detail)
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Newest is the latest instant of an event or an operation's start or end.
func (s *Store) Newest(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var latest time.Time
	for _, e := range s.events {
		latest = store.Latest(latest, e.At)
	}
	for _, op := range s.ops {
		latest = store.Latest(latest, op.StartTime, op.EndTime)
	}
	return latest, nil
}

// Compact replaces the events before the horizon by the checkpoints, and
// drops the finished operations that ended before c.OperationsBefore.
func (s *Store) Compact(ctx context.Context, c store.Compaction) (store.Compacted, error) {
	var out store.Compacted
	if err := ctx.Err(); err != nil {
		return out, err
	}
	for _, t := range []time.Time{c.Horizon, c.OperationsBefore} {
		if _, _, err := store.UnixNano(t); err != nil {
			return out, fmt.Errorf("memstore: compact: %w", err)
		}
	}
	for _, cp := range c.Checkpoints {
		if _, err := store.EventUnixNano(cp.Event); err != nil {
			return out, fmt.Errorf("memstore: compact: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return out, errClosed
	}
	// The resources whose history before the horizon goes: all when nil.
	var only map[string]bool
	if c.Resources != nil {
		only = map[string]bool{}
		for _, id := range c.Resources {
			only[store.Key(id)] = true
		}
	}
	for _, cp := range c.Checkpoints {
		if only != nil {
			only[store.Key(cp.Event.VMID)] = true
		}
	}
	goes := func(key string, at time.Time) bool {
		return at.Before(c.Horizon) && (only == nil || only[key])
	}
	// A new map and slice: History and Checkpoints scans hold the old ones.
	cps := map[string]store.Checkpoint{}
	for k, cp := range s.checkpoints {
		if !goes(k, cp.Event.At) && (only == nil || !only[k]) {
			cps[k] = cp
		}
	}
	for _, cp := range c.Checkpoints {
		cp.Event.At, cp.Event.Seq = normTime(cp.Event.At), 0
		own(&cp.Event.Detail, &cp.Usage)
		cps[store.Key(cp.Event.VMID)] = cp
	}
	s.checkpoints = cps
	s.accounts = nil
	kept := make([]store.Event, 0, len(s.events))
	for _, e := range s.events {
		if goes(store.Key(e.VMID), e.At) {
			out.Events++
			continue
		}
		kept = append(kept, e)
	}
	s.events = kept
	if !c.OperationsBefore.IsZero() {
		for k, op := range s.ops {
			if op.Status != "InProgress" && !op.EndTime.IsZero() && op.EndTime.Before(c.OperationsBefore) {
				delete(s.ops, k)
				out.Operations++
			}
		}
	}
	for k, v := range c.Settings {
		s.settings[k] = v
	}
	return out, nil
}

// Checkpoints streams the checkpoints by resource key.
func (s *Store) Checkpoints(ctx context.Context, fn func(store.Checkpoint) error) error {
	s.mu.RLock()
	keys := make([]string, 0, len(s.checkpoints))
	for k := range s.checkpoints {
		keys = append(keys, k)
	}
	cps := make([]store.Checkpoint, 0, len(keys))
	slices.Sort(keys)
	for _, k := range keys {
		cp := s.checkpoints[k]
		own(&cp.Event.Detail, &cp.Usage)
		cps = append(cps, cp)
	}
	s.mu.RUnlock()
	for _, cp := range cps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(cp); err != nil {
			return err
		}
	}
	return nil
}

// Reset empties the store, settings included.
func (s *Store) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
	return nil
}

// Close ends the store; later calls fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// normTime stores a time as the SQLite store gives it back: UTC, without
// a monotonic reading.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

// own gives each JSON field a copy of its own, so that neither the caller
// nor the store sees the other's later changes.
func own(fields ...*json.RawMessage) {
	for _, f := range fields {
		*f = slices.Clone(*f) // nil stays nil
	}
}

package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/azemu/azemu/internal/store"
)

// Shared is a Store that several engines of one process may serve at once,
// as several servers serve one PostgreSQL database (store.Shared): the fast
// tests of replicas run on it. Each change is kept as JSON, as PostgreSQL
// keeps it, so a replica reads back a copy, never the writer's values.
type Shared struct {
	*Store
	lock chan struct{} // the fleet-wide write lock: held while full

	mu        sync.Mutex // orders commits and the journal alike
	seq       int64
	journal   []journalEntry // oldest first
	listeners map[int]func(int64)
	nextID    int
	// keep is how many changes the journal keeps (0: all of them).
	keep int
}

type journalEntry struct {
	seq   int64
	reset bool
	body  []byte
}

var _ store.Shared = (*Shared)(nil)

// NewShared returns an empty shared store that keeps every change.
func NewShared() *Shared {
	return &Shared{Store: New(), lock: make(chan struct{}, 1), listeners: map[int]func(int64){}}
}

// KeepChanges bounds how many changes s keeps, so that a replica far behind
// meets store.ErrGap.
func (s *Shared) KeepChanges(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keep = n
}

// Lock implements store.Shared.
func (s *Shared) Lock(ctx context.Context) (func(), error) {
	select {
	case s.lock <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-s.lock }) }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("memstore: lock: %w", ctx.Err())
	}
}

// Load implements store.Store, with the sequence it includes.
func (s *Shared) Load(ctx context.Context) (store.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := s.Store.Load(ctx)
	snap.Seq = s.seq
	return snap, err
}

// Apply implements store.Store, recording each change that writes
// something as a change of its own.
func (s *Shared) Apply(ctx context.Context, cs ...store.Change) error {
	bodies := make([][]byte, len(cs))
	for i, c := range cs {
		var err error
		if bodies[i], err = store.EncodeChange(c); err != nil {
			return fmt.Errorf("memstore: apply: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.Apply(ctx, cs...); err != nil {
		return err
	}
	for i, c := range cs {
		if !c.Empty() {
			s.record(false, bodies[i])
		}
	}
	return nil
}

// Compact implements store.Store; the settings it writes are a change.
func (s *Shared) Compact(ctx context.Context, c store.Compaction) (store.Compacted, error) {
	body, err := store.EncodeChange(store.Change{Settings: c.Settings})
	if err != nil {
		return store.Compacted{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.Store.Compact(ctx, c)
	if err == nil && len(c.Settings) > 0 {
		s.record(false, body)
	}
	return out, err
}

// Reset implements store.Store; it is a change of its own.
func (s *Shared) Reset(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.Reset(ctx); err != nil {
		return err
	}
	s.record(true, []byte(`{}`))
	return nil
}

// record appends one change to the journal and tells the listeners. The
// caller holds s.mu.
func (s *Shared) record(reset bool, body []byte) {
	s.seq++
	s.journal = append(s.journal, journalEntry{seq: s.seq, reset: reset, body: body})
	if s.keep > 0 && len(s.journal) > s.keep {
		s.journal = append([]journalEntry(nil), s.journal[len(s.journal)-s.keep:]...)
	}
	for _, fn := range s.listeners {
		go fn(s.seq)
	}
}

// Sequence implements store.Shared.
func (s *Shared) Sequence(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq, nil
}

// Changes implements store.Shared.
func (s *Shared) Changes(ctx context.Context, after int64, fn func(store.Committed) error) error {
	s.mu.Lock()
	var todo []journalEntry
	if after < s.seq {
		if len(s.journal) == 0 || s.journal[0].seq > after+1 {
			s.mu.Unlock()
			return fmt.Errorf("memstore: changes after %d: %w", after, store.ErrGap)
		}
		todo = s.journal[after+1-s.journal[0].seq:]
	}
	s.mu.Unlock()
	for _, j := range todo {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := store.Committed{Seq: j.seq, Reset: j.reset}
		var err error
		if c.Change, err = store.DecodeChange(j.body); err != nil {
			return fmt.Errorf("memstore: change %d: %w", j.seq, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// Listen implements store.Shared.
func (s *Shared) Listen(ctx context.Context, fn func(int64)) error {
	s.mu.Lock()
	id := s.nextID
	s.nextID++
	s.listeners[id] = fn
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	delete(s.listeners, id)
	s.mu.Unlock()
	return ctx.Err()
}

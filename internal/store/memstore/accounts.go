package memstore

import (
	"context"
	"slices"

	"github.com/azemu/azemu/internal/store"
)

// EventsFrom calls fn with the events with Seq >= seq, in Seq order. fn
// runs without the store's lock, so it may use the store.
func (s *Store) EventsFrom(ctx context.Context, seq int64, fn func(store.Event) error) error {
	s.mu.RLock()
	events := s.events // appends never touch the elements seen here
	s.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(events, seq, func(e store.Event, seq int64) int {
		switch {
		case e.Seq < seq:
			return -1
		case e.Seq > seq:
			return 1
		}
		return 0
	})
	for _, e := range events[i:] {
		if err := ctx.Err(); err != nil {
			return err
		}
		own(&e.Detail)
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// SaveAccounts replaces the saved accounts by copies of parts.
func (s *Store) SaveAccounts(ctx context.Context, parts [][]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	kept := make([][]byte, len(parts))
	for i, p := range parts {
		kept[i] = slices.Clone(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.accounts = kept
	return nil
}

// Accounts calls fn with copies of the saved parts, in order.
func (s *Store) Accounts(ctx context.Context, fn func(part []byte) error) error {
	s.mu.RLock()
	parts := s.accounts // SaveAccounts replaces the slice, never its parts
	s.mu.RUnlock()
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(slices.Clone(p)); err != nil {
			return err
		}
	}
	return nil
}

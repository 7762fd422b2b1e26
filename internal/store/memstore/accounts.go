package memstore

import (
	"bytes"
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

// SaveAccounts writes copies of the parts into the saved accounts.
func (s *Store) SaveAccounts(ctx context.Context, save store.AccountsSave) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	// A new slice, so that a read under way keeps the one it has.
	var kept [][]byte
	if save.Base != nil {
		if len(s.accounts) == 0 || s.accounts[0] == nil || !bytes.Equal(s.accounts[0], save.Base) {
			return store.ErrAccountsMoved
		}
		kept = slices.Clone(s.accounts[:min(len(s.accounts), save.Count)])
	}
	for _, p := range save.Parts {
		if p.N >= len(kept) {
			kept = append(kept, make([][]byte, p.N+1-len(kept))...)
		}
		kept[p.N] = slices.Clone(p.Body)
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
		if p == nil {
			continue // a number no save wrote
		}
		if err := fn(slices.Clone(p)); err != nil {
			return err
		}
	}
	return nil
}

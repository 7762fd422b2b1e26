package engine

import (
	"context"

	"github.com/azemu/azemu/internal/store"
)

// EventsFrom streams the history's events from Seq seq on, in order: what
// a reader that saved its running accounts at an event lacks.
func (e *Engine) EventsFrom(ctx context.Context, seq int64, fn func(store.Event) error) error {
	return e.cfg.Store.EventsFrom(ctx, seq, fn)
}

// SaveAccounts keeps the running accounts a reader of the history derived
// from it (the dashboard's ledger), in a form of the reader's own. A
// compaction or a reset drops them.
func (e *Engine) SaveAccounts(ctx context.Context, save store.AccountsSave) error {
	return e.cfg.Store.SaveAccounts(ctx, save)
}

// SavedAccounts streams the parts SaveAccounts saved last, if any.
func (e *Engine) SavedAccounts(ctx context.Context, fn func(part []byte) error) error {
	return e.cfg.Store.Accounts(ctx, fn)
}

package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/azemu/azemu/internal/store"
)

// EventsFrom implements store.Store: a range of the events' key, in one
// read transaction, as History reads.
func (s *Store) EventsFrom(ctx context.Context, seq int64, fn func(store.Event) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: events: %w", err)
	}
	defer tx.Rollback() // read-only: nothing to commit
	v := store.Visit(fn)
	unpack := s.scopes.reader(ctx, tx)
	err = query(ctx, tx, `SELECT `+eventColumns+` FROM `+store.EventTables+` WHERE e.seq >= ? ORDER BY e.seq`,
		[]any{seq}, func(rows *sql.Rows) error {
			e, err := scanEvent(rows, unpack)
			if err != nil {
				return err
			}
			return v.Pass(e)
		})
	return v.Result("sqlite: events", err)
}

// SaveAccounts implements store.Store.
func (s *Store) SaveAccounts(ctx context.Context, save store.AccountsSave) (err error) {
	defer func() { err = diskFull(err) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save accounts: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	drop := 0
	if save.Base != nil {
		var base []byte
		err = tx.QueryRowContext(ctx, `SELECT body FROM accounts WHERE part = 0`).Scan(&base)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !bytes.Equal(base, save.Base)) {
			err = store.ErrAccountsMoved
		}
		if err != nil {
			return fmt.Errorf("sqlite: save accounts: %w", err)
		}
		drop = save.Count
	}
	if _, err = tx.ExecContext(ctx, `DELETE FROM accounts WHERE part >= ?`, drop); err != nil {
		return fmt.Errorf("sqlite: save accounts: %w", err)
	}
	for _, p := range save.Parts {
		if _, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO accounts (part, body) VALUES (?, ?)`, p.N, p.Body); err != nil {
			return fmt.Errorf("sqlite: save accounts: part %d: %w", p.N, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: save accounts: commit: %w", err)
	}
	return nil
}

// Accounts implements store.Store, in one read transaction. Each part is
// the driver's bytes, not a copy: a start reads tens of megabytes of them.
func (s *Store) Accounts(ctx context.Context, fn func(part []byte) error) error {
	v := store.Visit(fn)
	err := query(ctx, s.r, `SELECT body FROM accounts ORDER BY part`, nil, func(rows *sql.Rows) error {
		var body sql.RawBytes
		if err := rows.Scan(&body); err != nil {
			return err
		}
		return v.Pass(body)
	})
	return v.Result("sqlite: accounts", err)
}

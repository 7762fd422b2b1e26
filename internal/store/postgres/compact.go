package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/azemu/azemu/internal/store"
)

// Compact implements store.Store, in one transaction. It takes the events'
// advisory lock, as Apply does, so that no event is committed in the
// middle of it.
func (s *Store) Compact(ctx context.Context, c store.Compaction) (store.Compacted, error) {
	var out store.Compacted
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.eventsKey); err != nil {
			return err
		}
		stmts, err := store.CompactStatements(c, &out, "InProgress", func(key string) ([]int64, error) {
			return store.KeyRefs(key, func(hash int64, each func(int64, string)) error {
				rows, _ := tx.Query(ctx, store.Statement{SQL: store.NameRefs}.Numbered(), hash)
				var ref int64
				var id string
				_, err := pgx.ForEachRow(rows, []any{&ref, &id}, func() error {
					each(ref, id)
					return nil
				})
				return err
			})
		})
		if err != nil {
			return err
		}
		for _, st := range stmts {
			tag, err := tx.Exec(ctx, st.Numbered(), st.Args...)
			if err != nil {
				return fmt.Errorf("%s: %w", st.What, err)
			}
			if st.Deleted != nil {
				*st.Deleted += tag.RowsAffected()
			}
		}
		if len(c.Settings) > 0 {
			if _, err := s.recordChange(ctx, tx, false, store.Change{Settings: c.Settings}); err != nil {
				return fmt.Errorf("changes: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return store.Compacted{}, fmt.Errorf("postgres: compact: %w", noRoom(err))
	}
	return out, nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context, fn func(store.Checkpoint) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+store.CheckpointColumns+` FROM checkpoints ORDER BY vm_key`)
	if err != nil {
		return fmt.Errorf("postgres: checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		cp, err := store.ScanCheckpoint(rows.Scan)
		if err != nil {
			return fmt.Errorf("postgres: checkpoints: %w", err)
		}
		if err := fn(cp); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: checkpoints: %w", err)
	}
	return nil
}

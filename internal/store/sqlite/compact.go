package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/azemu/azemu/internal/store"
)

// Compact implements store.Store, in one transaction.
func (s *Store) Compact(ctx context.Context, c store.Compaction) (out store.Compacted, err error) {
	defer func() { err = diskFull(err) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Compacted{}, fmt.Errorf("sqlite: compact: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// Rows it deletes may be ones that transactions learnt.
	s.known.forget()
	stmts, err := store.CompactStatements(c, &out, int64(inProgress), func(key string) ([]int64, error) {
		return store.KeyRefs(key, func(hash int64, each func(int64, string)) error {
			unpack := s.scopes.reader(ctx, tx)
			return query(ctx, tx, `SELECT ref, name FROM event_names WHERE hash = ?`, []any{textHash(hash)}, func(rows *sql.Rows) error {
				var ref int64
				var name sql.RawBytes
				if err := rows.Scan(&ref, &name); err != nil {
					return err
				}
				id, err := unpack(name)
				each(ref, id)
				return err
			})
		})
	})
	if err != nil {
		return store.Compacted{}, fmt.Errorf("sqlite: compact: %w", err)
	}
	for _, st := range stmts {
		res, err := tx.ExecContext(ctx, st.SQL, st.Args...)
		if err != nil {
			return store.Compacted{}, fmt.Errorf("sqlite: compact: %s: %w", st.What, err)
		}
		if st.Deleted != nil {
			n, _ := res.RowsAffected()
			*st.Deleted += n
		}
	}
	if err = tx.Commit(); err != nil {
		return store.Compacted{}, fmt.Errorf("sqlite: compact: commit: %w", err)
	}
	return out, nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context, fn func(store.Checkpoint) error) error {
	v := store.Visit(fn)
	err := query(ctx, s.r, `SELECT `+store.CheckpointColumns+` FROM checkpoints ORDER BY vm_key`, nil, func(rows *sql.Rows) error {
		cp, err := store.ScanCheckpoint(rows.Scan)
		if err != nil {
			return err
		}
		return v.Pass(cp)
	})
	return v.Result("sqlite: checkpoints", err)
}

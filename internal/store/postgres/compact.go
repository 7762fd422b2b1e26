package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/azemu/azemu/internal/store"
)

// Compact implements store.Store. It takes the events' advisory lock, as
// Apply does, so that no event is committed in the middle of it.
func (s *Store) Compact(ctx context.Context, c store.Compaction) (store.Compacted, error) {
	var out store.Compacted
	horizon, err := nanos(c.Horizon)
	if err != nil {
		return out, fmt.Errorf("postgres: compact: horizon: %w", err)
	}
	opsBefore, err := nanos(c.OperationsBefore)
	if err != nil {
		return out, fmt.Errorf("postgres: compact: operations: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.eventsKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM checkpoints`); err != nil {
			return err
		}
		for _, cp := range c.Checkpoints {
			e := cp.Event
			at, err := store.EventUnixNano(e)
			if err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (vm_key, vm_id, at, provisioning_state,
				provisioning_code, power_state, operation_id, operation_kind, detail, usage)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				store.Key(e.VMID), e.VMID, at, e.ProvisioningState, e.ProvisioningCode, e.PowerState,
				e.OperationID, e.OperationKind, text(e.Detail), text(cp.Usage)); err != nil {
				return fmt.Errorf("checkpoint of %s: %w", e.VMID, err)
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE at < $1`, horizon)
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		out.Events = tag.RowsAffected()
		if opsBefore != nil {
			tag, err = tx.Exec(ctx, `DELETE FROM operations WHERE status <> 'InProgress' AND end_time < $1`, opsBefore)
			if err != nil {
				return fmt.Errorf("operations: %w", err)
			}
			out.Operations = tag.RowsAffected()
		}
		for name, value := range c.Settings {
			if _, err := tx.Exec(ctx, sqlUpsertSetting, name, value); err != nil {
				return fmt.Errorf("setting %s: %w", name, err)
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
	rows, _ := s.pool.Query(ctx, `SELECT vm_id, at, provisioning_state, provisioning_code, power_state,
		operation_id, operation_kind, detail, usage FROM checkpoints ORDER BY vm_key`)
	var cp store.Checkpoint
	e := &cp.Event
	var at int64
	var detail, usage *string
	var fnErr error
	_, err := pgx.ForEachRow(rows, []any{&e.VMID, &at, &e.ProvisioningState, &e.ProvisioningCode, &e.PowerState,
		&e.OperationID, &e.OperationKind, &detail, &usage}, func() error {
		e.At, e.Detail, cp.Usage = store.FromUnixNano(at), document(detail), document(usage)
		fnErr = fn(cp)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("postgres: checkpoints: %w", err)
	}
	return nil
}

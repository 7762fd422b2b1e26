package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/azemu/azemu/internal/store"
)

// Compact implements store.Store.
func (s *Store) Compact(ctx context.Context, c store.Compaction) (out store.Compacted, err error) {
	defer func() { err = diskFull(err) }()
	horizon, _, err := store.UnixNano(c.Horizon)
	if err != nil {
		return out, fmt.Errorf("sqlite: compact: horizon: %w", err)
	}
	opsBefore, _, err := store.UnixNano(c.OperationsBefore)
	if err != nil {
		return out, fmt.Errorf("sqlite: compact: operations: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("sqlite: compact: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err = tx.ExecContext(ctx, `DELETE FROM checkpoints`); err != nil {
		return out, fmt.Errorf("sqlite: compact: %w", err)
	}
	for _, cp := range c.Checkpoints {
		e := cp.Event
		var at int64
		if at, err = store.EventUnixNano(e); err != nil {
			return out, fmt.Errorf("sqlite: compact: checkpoint: %w", err)
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO checkpoints (vm_key, vm_id, at, provisioning_state,
			provisioning_code, power_state, operation_id, operation_kind, detail, usage)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			store.Key(e.VMID), e.VMID, at, e.ProvisioningState, e.ProvisioningCode, e.PowerState,
			e.OperationID, e.OperationKind, jsonArg(e.Detail), jsonArg(cp.Usage)); err != nil {
			return out, fmt.Errorf("sqlite: compact: checkpoint of %s: %w", e.VMID, err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE at < ?`, horizon)
	if err != nil {
		return out, fmt.Errorf("sqlite: compact: events: %w", err)
	}
	out.Events, _ = res.RowsAffected()
	if !c.OperationsBefore.IsZero() {
		res, err = tx.ExecContext(ctx, `DELETE FROM operations WHERE status <> 'InProgress' AND end_time < ?`, opsBefore)
		if err != nil {
			return out, fmt.Errorf("sqlite: compact: operations: %w", err)
		}
		out.Operations, _ = res.RowsAffected()
	}
	for name, value := range c.Settings {
		if _, err = tx.ExecContext(ctx, sqlUpsertSetting, name, value); err != nil {
			return out, fmt.Errorf("sqlite: compact: setting %s: %w", name, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return out, fmt.Errorf("sqlite: compact: commit: %w", err)
	}
	return out, nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context, fn func(store.Checkpoint) error) error {
	var fnErr error
	err := query(ctx, s.r, `SELECT vm_id, at, provisioning_state, provisioning_code, power_state,
		operation_id, operation_kind, detail, usage FROM checkpoints ORDER BY vm_key`, nil, func(rows *sql.Rows) error {
		var cp store.Checkpoint
		e := &cp.Event
		var at int64
		var detail, usage sql.NullString
		if err := rows.Scan(&e.VMID, &at, &e.ProvisioningState, &e.ProvisioningCode, &e.PowerState,
			&e.OperationID, &e.OperationKind, &detail, &usage); err != nil {
			return err
		}
		e.At, e.Detail, cp.Usage = store.FromUnixNano(at), jsonOf(detail), jsonOf(usage)
		fnErr = fn(cp)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	return nil
}

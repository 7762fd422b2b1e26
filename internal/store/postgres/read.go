package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

// snapshotTx is a read-only transaction that sees one snapshot throughout.
var snapshotTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// Load implements store.Store. It reads in one snapshot, so the lists agree
// with each other; each is ordered by key.
func (s *Store) Load(ctx context.Context) (store.Snapshot, error) {
	var snap store.Snapshot
	err := pgx.BeginTxFunc(ctx, s.pool, snapshotTx, func(tx pgx.Tx) error {
		for _, table := range []struct {
			name string
			read func(context.Context, pgx.Tx, *store.Snapshot) error
		}{
			{"subscriptions", loadSubscriptions},
			{"groups", loadGroups},
			{"vms", loadVMs},
			{"resources", loadResources},
			{"operations", loadOperations},
			{"settings", loadSettings},
			{"changes", loadSeq},
		} {
			if err := table.read(ctx, tx, &snap); err != nil {
				return fmt.Errorf("%s: %w", table.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("postgres: load %w", err)
	}
	return snap, nil
}

func loadSeq(ctx context.Context, tx pgx.Tx, snap *store.Snapshot) error {
	return tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&snap.Seq)
}

func loadSubscriptions(ctx context.Context, tx pgx.Tx, snap *store.Snapshot) error {
	rows, _ := tx.Query(ctx, `SELECT id, created_at FROM subscriptions ORDER BY sub_key`)
	var err error
	snap.Subscriptions, err = collect(rows, func(row pgx.CollectableRow) (store.Subscription, error) {
		var sub store.Subscription
		var created *int64
		err := row.Scan(&sub.ID, &created)
		sub.CreatedAt = instant(created)
		return sub, err
	})
	return err
}

func loadGroups(ctx context.Context, tx pgx.Tx, snap *store.Snapshot) error {
	rows, _ := tx.Query(ctx, `SELECT subscription_id, name, location, body, version, created_at
		FROM resource_groups ORDER BY sub_key, name_key`)
	var err error
	snap.Groups, err = collect(rows, func(row pgx.CollectableRow) (store.ResourceGroup, error) {
		var g store.ResourceGroup
		var body *string
		var created *int64
		err := row.Scan(&g.SubscriptionID, &g.Name, &g.Location, &body, &g.Version, &created)
		g.Body, g.CreatedAt = document(body), instant(created)
		return g, err
	})
	return err
}

func loadVMs(ctx context.Context, tx pgx.Tx, snap *store.Snapshot) error {
	rows, _ := tx.Query(ctx, `SELECT id, subscription_id, resource_group, name, location, model, state,
		version, due_at, created_at, updated_at FROM vms ORDER BY vm_key`)
	var err error
	snap.VMs, err = collect(rows, func(row pgx.CollectableRow) (store.VM, error) {
		var v store.VM
		var model, state *string
		var due, created, updated *int64
		err := row.Scan(&v.ID, &v.SubscriptionID, &v.ResourceGroup, &v.Name, &v.Location,
			&model, &state, &v.Version, &due, &created, &updated)
		v.Model, v.State = jsonshape.Of(document(model)), document(state)
		v.DueAt, v.CreatedAt, v.UpdatedAt = instant(due), instant(created), instant(updated)
		return v, err
	})
	return err
}

func loadResources(ctx context.Context, tx pgx.Tx, snap *store.Snapshot) error {
	rows, _ := tx.Query(ctx, `SELECT id, type, subscription_id, resource_group, name, location, body,
		version, created_at, updated_at FROM resources ORDER BY res_key`)
	var err error
	snap.Resources, err = collect(rows, func(row pgx.CollectableRow) (store.Resource, error) {
		var r store.Resource
		var body *string
		var created, updated *int64
		err := row.Scan(&r.ID, &r.Type, &r.SubscriptionID, &r.ResourceGroup, &r.Name, &r.Location,
			&body, &r.Version, &created, &updated)
		r.Body, r.CreatedAt, r.UpdatedAt = document(body), instant(created), instant(updated)
		return r, err
	})
	return err
}

func loadOperations(ctx context.Context, tx pgx.Tx, snap *store.Snapshot) error {
	rows, _ := tx.Query(ctx, selectOperation+` WHERE status = 'InProgress' ORDER BY op_key`)
	var err error
	snap.Operations, err = collect(rows, func(row pgx.CollectableRow) (store.Operation, error) {
		return scanOperation(row)
	})
	return err
}

func loadSettings(ctx context.Context, tx pgx.Tx, snap *store.Snapshot) error {
	rows, _ := tx.Query(ctx, `SELECT name, value FROM settings`)
	var name, value string
	_, err := pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		if snap.Settings == nil {
			snap.Settings = map[string]string{}
		}
		snap.Settings[name] = value
		return nil
	})
	return err
}

// collect reads every row with fn, and gives nil for none, as the SQLite
// backend does.
func collect[T any](rows pgx.Rows, fn pgx.RowToFunc[T]) ([]T, error) {
	out, err := pgx.CollectRows(rows, fn)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

const selectOperation = `SELECT id, subscription_id, location, kind, target_id, status,
	start_time, end_time, error, result FROM operations`

func scanOperation(row pgx.Row) (store.Operation, error) {
	var op store.Operation
	var start, end *int64
	var opErr, result *string
	err := row.Scan(&op.ID, &op.SubscriptionID, &op.Location, &op.Kind, &op.TargetID, &op.Status,
		&start, &end, &opErr, &result)
	op.StartTime, op.EndTime = instant(start), instant(end)
	op.Error, op.Result = document(opErr), document(result)
	return op, err
}

// Operation implements store.Store.
func (s *Store) Operation(ctx context.Context, id string) (store.Operation, error) {
	op, err := scanOperation(s.pool.QueryRow(ctx, selectOperation+` WHERE op_key = $1`, store.Key(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Operation{}, fmt.Errorf("postgres: operation %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Operation{}, fmt.Errorf("postgres: operation %s: %w", id, err)
	}
	return op, nil
}

// Newest implements store.Store.
func (s *Store) Newest(ctx context.Context) (time.Time, error) {
	var events, starts, ends *int64
	err := s.pool.QueryRow(ctx, `SELECT (SELECT MAX(at) FROM events),
		(SELECT MAX(start_time) FROM operations), (SELECT MAX(end_time) FROM operations)`).Scan(&events, &starts, &ends)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: newest: %w", err)
	}
	return store.Latest(instant(events), instant(starts), instant(ends)), nil
}

// historyFetch is how many events a History scan holds at a time.
const historyFetch = 1000

// History implements store.Store. It reads one snapshot through a
// server-side cursor, historyFetch rows at a time, so a long history never
// sits in memory whole; a concurrent Apply is wholly in the scan or wholly
// out of it, and is never blocked by it.
func (s *Store) History(ctx context.Context, vmID string, from, to time.Time, fn func(store.Event) error) error {
	// Bounds past the storable range are dropped rather than wrapped; a
	// window wholly outside it is empty.
	if !from.Before(to) || from.After(store.MaxTime) || !to.After(store.MinTime) {
		return ctx.Err()
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.Before(store.MinTime) {
		lo = from.UnixNano()
	}
	if !to.After(store.MaxTime) {
		hi = to.UnixNano()
	}
	// at < hi with hi = MaxInt64 would leave out an event at MaxTime itself;
	// the flag keeps the upper bound open when to is past the range.
	openEnd := to.After(store.MaxTime)
	v := store.Visit(fn)
	err := pgx.BeginTxFunc(ctx, s.pool, snapshotTx, func(tx pgx.Tx) error {
		// The checkpoints first, in the same snapshot as the events.
		rows, _ := tx.Query(ctx, `SELECT vm_id, at, provisioning_state, provisioning_code, power_state,
			operation_id, operation_kind, detail FROM checkpoints
			WHERE at >= $1 AND (at < $2 OR $3) AND ($4 = '' OR vm_key = $4)
			ORDER BY vm_key`, lo, hi, openEnd, store.Key(vmID))
		cps, err := collect(rows, func(row pgx.CollectableRow) (store.Event, error) {
			var e store.Event
			var at int64
			var detail *string
			err := row.Scan(&e.VMID, &at, &e.ProvisioningState, &e.ProvisioningCode, &e.PowerState,
				&e.OperationID, &e.OperationKind, &detail)
			e.At, e.Detail = store.FromUnixNano(at), document(detail)
			return e, err
		})
		if err != nil {
			return err
		}
		for _, e := range cps {
			if err := v.Pass(e); err != nil {
				return err
			}
		}
		// A VM's events are those of the names with its key's hash, less
		// any other key's that shares it.
		key, name := store.Key(vmID), any(nil)
		if vmID != "" {
			name = store.NameHash(vmID)
		}
		return fetchEvents(ctx, tx, `e.at >= $1 AND (e.at < $2 OR $3)
			  AND ($4::bigint IS NULL OR e.res IN (SELECT ref FROM event_names WHERE hash = $4))`,
			[]any{lo, hi, openEnd, name}, func(e store.Event) error {
				if !store.KeepsEvent(key, e.VMID) {
					return nil
				}
				return v.Pass(e)
			})
	})
	return v.Result("postgres: history", err)
}

// fetchEvents declares a cursor over the events that match where (with
// args) in Seq order, and hands them to fn historyFetch rows at a time.
func fetchEvents(ctx context.Context, tx pgx.Tx, where string, args []any, fn func(store.Event) error) error {
	if _, err := tx.Exec(ctx, `DECLARE history NO SCROLL CURSOR FOR
		SELECT `+store.EventColumns+` FROM `+store.EventTables+` WHERE `+where+` ORDER BY e.seq`, args...); err != nil {
		return err
	}
	for {
		rows, _ := tx.Query(ctx, fmt.Sprintf(`FETCH %d FROM history`, historyFetch))
		var seq, at int64
		var id, state, code, power, opID, kind string
		var detail *string
		tag, err := pgx.ForEachRow(rows, []any{&seq, &id, &at, &state, &code, &power, &opID, &kind, &detail}, func() error {
			return fn(store.ScannedEvent(seq, id, at, state, code, power, opID, kind, detail))
		})
		if err != nil || tag.RowsAffected() < historyFetch {
			return err
		}
	}
}

// EventsFrom implements store.Store: a range of the events' key, read as
// History reads.
func (s *Store) EventsFrom(ctx context.Context, seq int64, fn func(store.Event) error) error {
	v := store.Visit(fn)
	err := pgx.BeginTxFunc(ctx, s.pool, snapshotTx, func(tx pgx.Tx) error {
		return fetchEvents(ctx, tx, `e.seq >= $1`, []any{seq}, v.Pass)
	})
	return v.Result("postgres: events", err)
}

// SaveAccounts implements store.Store.
func (s *Store) SaveAccounts(ctx context.Context, save store.AccountsSave) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		drop := 0
		if save.Base != nil {
			// Locked: a writer that changes the set must see the
			// last one's part 0.
			var base []byte
			err := tx.QueryRow(ctx, `SELECT body FROM accounts WHERE part = 0 FOR UPDATE`).Scan(&base)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && !bytes.Equal(base, save.Base)) {
				return store.ErrAccountsMoved
			}
			if err != nil {
				return err
			}
			drop = save.Count
		}
		if _, err := tx.Exec(ctx, `DELETE FROM accounts WHERE part >= $1`, drop); err != nil {
			return err
		}
		for _, p := range save.Parts {
			if _, err := tx.Exec(ctx, `INSERT INTO accounts (part, body) VALUES ($1, $2)
				ON CONFLICT (part) DO UPDATE SET body = EXCLUDED.body`, p.N, p.Body); err != nil {
				return fmt.Errorf("part %d: %w", p.N, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: save accounts: %w", noRoom(err))
	}
	return nil
}

// Accounts implements store.Store.
func (s *Store) Accounts(ctx context.Context, fn func(part []byte) error) error {
	v := store.Visit(fn)
	err := pgx.BeginTxFunc(ctx, s.pool, snapshotTx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT body FROM accounts ORDER BY part`)
		var body []byte
		_, err := pgx.ForEachRow(rows, []any{&body}, func() error {
			return v.Pass(body)
		})
		return err
	})
	return v.Result("postgres: accounts", err)
}

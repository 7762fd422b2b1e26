package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azemu/azemu/internal/store"
)

// KeepChanges is how long the changes table keeps a change: a replica that
// has seen nothing for longer loads the whole fleet again.
var KeepChanges = 10 * time.Minute

// pruneEvery is how many changes pass between two prunings of the table.
const pruneEvery = 512

var _ store.Shared = (*Store)(nil)

// queueRecord queues the recording of one change, numbered after the last
// one. The caller's transaction holds the events lock (lockEvents), which
// orders changes as it orders events: the number is max+1, gapless, and a
// reader that has seen n never later finds a smaller one committed.
func queueRecord(b *pgx.Batch, reset bool, c store.Change, seq *int64) error {
	body, err := store.EncodeChange(c)
	if err != nil {
		return err
	}
	b.Queue(`INSERT INTO changes (seq, committed_at, reset, change)
		SELECT coalesce(max(seq), 0) + 1, $1, $2, $3 FROM changes RETURNING seq`, time.Now().UnixNano(), reset, string(body)).
		QueryRow(func(row pgx.Row) error { return row.Scan(seq) })
	return nil
}

// queueNotice queues the notice to listeners of the changes recorded
// before it in the transaction; PostgreSQL delivers it at commit.
func queueNotice(b *pgx.Batch, channel string) {
	b.Queue(`SELECT pg_notify($1, (SELECT max(seq) FROM changes)::text)`, channel)
}

// recordChange records one change in tx, which holds the events lock.
func (s *Store) recordChange(ctx context.Context, tx pgx.Tx, reset bool, c store.Change) (seq int64, err error) {
	b := &pgx.Batch{}
	if err := queueRecord(b, reset, c, &seq); err != nil {
		return 0, err
	}
	queueNotice(b, s.channel)
	return seq, tx.SendBatch(ctx, b).Close()
}

// prune drops changes older than KeepChanges once every pruneEvery changes
// (when the changes first to last passed a multiple of it), always keeping
// the newest: it carries the sequence.
func (s *Store) prune(ctx context.Context, first, last int64) {
	if last/pruneEvery == (first-1)/pruneEvery {
		return
	}
	_, _ = s.pool.Exec(ctx, `DELETE FROM changes WHERE seq < $1 AND committed_at < $2`,
		last, time.Now().Add(-KeepChanges).UnixNano())
}

// Lock implements store.Shared: a session-level advisory lock on a pooled
// connection held until unlock. Should this process die, PostgreSQL ends
// the session and the lock with it.
func (s *Store) Lock(ctx context.Context) (func(), error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, s.fleetKey); err != nil {
		// The lock may have been granted as the wait was cancelled: end the
		// session rather than return it to the pool holding the lock.
		conn.Conn().Close(context.Background())
		conn.Release()
		return nil, fmt.Errorf("postgres: lock: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, s.fleetKey); err != nil {
			conn.Conn().Close(ctx)
		}
		conn.Release()
	}, nil
}

// Sequence implements store.Shared.
func (s *Store) Sequence(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("postgres: sequence: %w", err)
	}
	return seq, nil
}

// Changes implements store.Shared.
func (s *Store) Changes(ctx context.Context, after int64, fn func(store.Committed) error) error {
	rows, _ := s.pool.Query(ctx, `SELECT seq, reset, change FROM changes WHERE seq > $1 ORDER BY seq`, after)
	var c store.Committed
	var body string
	next := after + 1
	v := store.Visit(fn)
	_, err := pgx.ForEachRow(rows, []any{&c.Seq, &c.Reset, &body}, func() error {
		if c.Seq != next {
			return fmt.Errorf("changes after %d: %w", after, store.ErrGap)
		}
		next++
		var err error
		if c.Change, err = store.DecodeChange([]byte(body)); err != nil {
			return fmt.Errorf("change %d: %w", c.Seq, err)
		}
		return v.Pass(c)
	})
	return v.Result("postgres", err)
}

// Listen implements store.Shared on a connection of its own, LISTENing on
// the store's channel.
func (s *Store) Listen(ctx context.Context, fn func(int64)) error {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("postgres: listen: %w", err)
		}
		if seq, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			fn(seq)
		}
	}
}

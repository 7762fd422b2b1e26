package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/azemu/azemu/internal/store"
)

// Reset implements store.Store. The events' sequence survives, so that a Seq
// is never reused, and so do the changes: the reset is one more, which
// tells the other servers to forget what they hold. DELETE rather than
// TRUNCATE: a History scan open on the tables would make TRUNCATE wait for
// it.
func (s *Store) Reset(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.eventsKey); err != nil {
			return err
		}
		if _, err := s.recordChange(ctx, tx, true, store.Change{}); err != nil {
			return fmt.Errorf("changes: %w", err)
		}
		for _, table := range []string{"events", "event_names", "event_states", "event_details", "operations", "vms",
			"resource_groups", "subscriptions", "settings", "resources", "checkpoints", "accounts"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: reset: %w", err)
	}
	return nil
}

// Close implements store.Store: it closes every connection, waiting for
// those in use to be released. Calling it again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// ErrOwned is returned by Claim when a server that does not share the
// database (a build from before replicas) holds it.
var ErrOwned = errors.New("postgres: an azemu that does not share its database serves this one")

// Owner is one server's hold on a store (a database, or a schema of one): a
// shared session-level advisory lock on a connection of its own, kept for
// the server's life. Every server of the store holds it together (they are
// replicas, see store.Shared), and its sessions name them in
// pg_stat_activity; a build from before replicas, which took it alone, is
// kept out, and keeps them out. PostgreSQL releases it when the session
// ends, the server's process killed included, so a restart never finds a
// stale hold.
type Owner struct {
	conn *pgx.Conn
}

// Claim joins the servers of the database at url, as name (say its PID).
func Claim(ctx context.Context, url, name string) (*Owner, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errors.New("postgres: the store URL does not parse as a PostgreSQL connection URL")
	}
	cfg.RuntimeParams["application_name"] = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", describe(cfg), err)
	}
	schema, err := schemaOf(ctx, conn)
	if err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("postgres: claim %s: %w", describe(cfg), err)
	}
	key := lockKey(schema, lockOwner)
	var held bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock_shared($1)`, key).Scan(&held); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("postgres: claim %s: %w", describe(cfg), err)
	}
	if !held {
		who := holder(ctx, conn, key)
		conn.Close(ctx)
		return nil, fmt.Errorf("%w (%s): %s; stop it, or upgrade it to serve alongside this one", ErrOwned, describe(cfg), who)
	}
	return &Owner{conn: conn}, nil
}

// holder describes the session that holds the owner lock, as far as this
// role may see it.
func holder(ctx context.Context, conn *pgx.Conn, key int64) string {
	var app, client string
	var since time.Time
	err := conn.QueryRow(ctx, `SELECT coalesce(a.application_name, ''),
			coalesce(host(a.client_addr), 'a local socket'), a.backend_start
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		  AND l.classid::bigint = $1 AND l.objid::bigint = $2
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		int64(uint32(uint64(key)>>32)), int64(uint32(key))).Scan(&app, &client, &since)
	if err != nil || app == "" {
		return "held by another session"
	}
	return fmt.Sprintf("held by %s, connected from %s since %s", app, client, since.UTC().Format(time.RFC3339))
}

// Record renames the holding session, e.g. with the URL the server came to
// serve on, so that a refused server can say where the owner is.
func (o *Owner) Record(ctx context.Context, name string) error {
	// application_name keeps 63 bytes; cut on a rune boundary.
	for len(name) > 63 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	_, err := o.conn.Exec(ctx, `SELECT set_config('application_name', $1, false)`, name)
	return err
}

// Release gives the database up.
func (o *Owner) Release() {
	if o == nil || o.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o.conn.Close(ctx) // ending the session releases the lock
	o.conn = nil
}

package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

// The advisory locks azemu takes. Their keys are per schema (see lockKey):
// a store is the tables of one schema, so two stores in one database never
// contend, and tests can give each its own schema.
const (
	lockMigrate = "migrate" // held while the schema is brought up to date
	lockEvents  = "events"  // held by a transaction that writes, until it commits: orders events and changes
	lockOwner   = "owner"   // held shared by every server of a store, for its life
	lockFleet   = "fleet"   // held by the server deciding a change, until it is committed (Lock)
)

// lockKey is the bigint key of an advisory lock of the store in schema.
func lockKey(schema, lock string) int64 {
	h := fnv.New64a()
	h.Write([]byte("azemu\x00" + schema + "\x00" + lock))
	return int64(h.Sum64())
}

// schemaOf is the schema the tables of a connection's store live in: the
// first schema of its search_path that exists.
func schemaOf(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (string, error) {
	var schema *string
	if err := q.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		return "", errors.New("no schema of the search_path exists")
	}
	return *schema, nil
}

// defaultMaxConns bounds the pool when the URL does not (pool_max_conns). A
// History callback may read the store itself, so a scan and what it calls
// each need a connection of their own.
const defaultMaxConns = 16

//go:embed migrations/*.sql
var migrationFiles embed.FS

// IsURL reports whether a --store value names a PostgreSQL database rather
// than a SQLite file.
func IsURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Store is a store.Store on one PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	eventsKey int64  // lockKey of lockEvents
	fleetKey  int64  // lockKey of lockFleet
	channel   string // where changes are notified (Listen)
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user:pass@host:port/db,
// with libpq's query parameters) and brings its schema up to date.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password and all.
		return nil, errors.New("postgres: the store URL does not parse as a PostgreSQL connection URL")
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	schema, err := schemaOf(ctx, pool)
	if err == nil {
		err = migrate(ctx, pool, schema)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", describe(cfg.ConnConfig), err)
	}
	return &Store{pool: pool, eventsKey: lockKey(schema, lockEvents), fleetKey: lockKey(schema, lockFleet),
		channel: fmt.Sprintf("azemu_changes_%x", uint64(lockKey(schema, "changes")))}, nil
}

// describe names a database without its password, for messages.
func describe(c *pgx.ConnConfig) string {
	d := fmt.Sprintf("database %s on %s:%d as %s", c.Database, c.Host, c.Port, c.User)
	if p := c.RuntimeParams["search_path"]; p != "" {
		d += ", search_path " + p
	}
	return d
}

// migrate applies the embedded scripts the database has not had yet, all in
// one transaction (PostgreSQL's DDL is transactional) under an advisory lock,
// so that two servers opening one database at once do not both apply them.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	return migrateTo(ctx, pool, schema, math.MaxInt)
}

// migrateTo is migrate up to the script of version last (a test builds an
// old schema with it).
func migrateTo(ctx context.Context, pool *pgxpool.Pool, schema string, last int) error {
	dir, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	ms, err := store.ReadMigrations(dir)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(schema, lockMigrate)); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		applied := map[int]bool{}
		rows, _ := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		known := ms[len(ms)-1].Version
		for _, v := range versions {
			// A database written by a newer binary has a schema this one
			// does not know; writing to it could break what that code needs.
			if int(v) > known {
				return fmt.Errorf("database schema version %d is newer than this build's %d", v, known)
			}
			applied[int(v)] = true
		}
		for _, m := range ms {
			if applied[m.Version] || m.Version > last {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if step := migrationSteps[m.Version]; step != nil {
				if err := step(ctx, tx); err != nil {
					return fmt.Errorf("migration %s: %w", m.Name, err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().UnixNano()); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// migrationSteps are what a migration does in Go after its script, in its
// transaction: what SQL cannot compute.
var migrationSteps = map[int]func(context.Context, pgx.Tx) error{
	4: hashEventRows,
}

// hashEventRows fills in the hashes by which the compact history finds its
// names and details (0004_compact_events.sql).
func hashEventRows(ctx context.Context, tx pgx.Tx) error {
	for _, t := range store.HashedEventTables {
		rows, _ := tx.Query(ctx, `SELECT ref, `+t.Column+` FROM `+t.Table)
		type row struct {
			ref  int64
			text string
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.ref, &x.text)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", t.Table, err)
		}
		b := &pgx.Batch{}
		for _, r := range all {
			b.Queue(`UPDATE `+t.Table+` SET hash = $1 WHERE ref = $2`, t.Hash(r.text), r.ref)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("%s: %w", t.Table, err)
		}
	}
	return nil
}

// The write statements. pgx prepares each once per connection and reuses it.
const (
	sqlInsertSubscription = `INSERT INTO subscriptions (sub_key, id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (sub_key) DO NOTHING`
	sqlUpsertGroup = `INSERT INTO resource_groups
		(sub_key, name_key, subscription_id, name, location, body, version, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (sub_key, name_key) DO UPDATE SET
		(subscription_id, name, location, body, version, created_at) =
		(excluded.subscription_id, excluded.name, excluded.location, excluded.body, excluded.version, excluded.created_at)`
	sqlInsertVM = `INSERT INTO vms (vm_key, id, subscription_id, resource_group, name, location,
		model, state, version, due_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11)
		ON CONFLICT (vm_key) DO NOTHING`
	sqlUpdateVM = `UPDATE vms SET id = $2, subscription_id = $3, resource_group = $4, name = $5,
		location = $6, model = $7, state = $8, version = $12, due_at = $9,
		created_at = $10, updated_at = $11
		WHERE vm_key = $1 AND version = $12 - 1`
	// An update whose model is the version before's leaves the stored
	// one alone (store.VM.ModelUnchanged).
	sqlUpdateVMState = `UPDATE vms SET id = $2, subscription_id = $3, resource_group = $4, name = $5,
		location = $6, state = $7, version = $11, due_at = $8,
		created_at = $9, updated_at = $10
		WHERE vm_key = $1 AND version = $11 - 1`
	sqlInsertResource = `INSERT INTO resources (res_key, id, type, subscription_id, resource_group, name,
		location, body, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)
		ON CONFLICT (res_key) DO NOTHING`
	sqlUpdateResource = `UPDATE resources SET id = $2, type = $3, subscription_id = $4, resource_group = $5,
		name = $6, location = $7, body = $8, version = $11, created_at = $9, updated_at = $10
		WHERE res_key = $1 AND version = $11 - 1`
	sqlUpsertOperation = `INSERT INTO operations (op_key, id, subscription_id, location, kind, target_id,
		status, start_time, end_time, error, result)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (op_key) DO UPDATE SET
		(id, subscription_id, location, kind, target_id, status, start_time, end_time, error, result) =
		(excluded.id, excluded.subscription_id, excluded.location, excluded.kind, excluded.target_id,
		 excluded.status, excluded.start_time, excluded.end_time, excluded.error, excluded.result)`
	sqlUpsertSetting = `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`
)

// Apply implements store.Store. The changes are one transaction, their
// statements sent as one batch: on any error, including a cancelled ctx or
// a version conflict, it is rolled back and nothing is kept.
//
// As in the SQLite backend, after a successful commit Apply writes the
// assigned sequence numbers into cs[i].Events[j].Seq, which share their
// backing arrays with the caller's slices; on failure the caller's events
// keep theirs.
func (s *Store) Apply(ctx context.Context, cs ...store.Change) error {
	b := &pgx.Batch{}
	seqs := make([][]int64, len(cs))
	// Each change that writes something is recorded for the other servers
	// of the store, as a change of the sequence of its own.
	recorded := make([]int64, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		if c.Empty() {
			continue
		}
		if len(recorded) == 0 {
			// Seq order is commit order: a transaction takes its numbers
			// only once every earlier writer has committed or rolled back.
			b.Queue(`SELECT pg_advisory_xact_lock($1)`, s.eventsKey)
		}
		seqs[i] = make([]int64, len(c.Events))
		recorded = append(recorded, 0)
		err := queueChangeRows(b, c, seqs[i])
		if err == nil {
			err = queueRecord(b, false, *c, &recorded[len(recorded)-1])
		}
		if err != nil {
			if len(cs) > 1 {
				return fmt.Errorf("postgres: apply: change %d of %d: %w", i+1, len(cs), err)
			}
			return fmt.Errorf("postgres: apply: %w", err)
		}
	}
	if len(recorded) == 0 {
		return ctx.Err()
	}
	queueNotice(b, s.channel)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: apply: %w", noRoom(err))
	}
	for i, c := range cs {
		for j, seq := range seqs[i] {
			c.Events[j].Seq = seq
		}
	}
	s.prune(ctx, recorded[0], recorded[len(recorded)-1])
	return nil
}

// noRoom marks an error of a server out of room with store.ErrFull, as the
// SQLite backend marks SQLITE_FULL: SQLSTATE class 53, insufficient
// resources (53100 disk_full, 53200 out_of_memory, 53400
// configuration_limit_exceeded, such as temp_file_limit). 53300,
// too_many_connections, is not about room, and stays as it is.
func noRoom(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && strings.HasPrefix(pg.Code, "53") && pg.Code != "53300" && !errors.Is(err, store.ErrFull) {
		return fmt.Errorf("%w: %w", store.ErrFull, err)
	}
	return err
}

// queueChangeRows queues every statement of c, in the order the SQLite
// backend runs them, each with the check of its outcome; seqs receives the
// events' Seq. Values the schema cannot hold fail here, before anything is
// sent.
func queueChangeRows(b *pgx.Batch, c *store.Change, seqs []int64) error {
	for _, sub := range c.Subscriptions {
		created, err := store.TimeArg(sub.CreatedAt)
		if err != nil {
			return fmt.Errorf("subscription %s: %w", sub.ID, err)
		}
		b.Queue(sqlInsertSubscription, store.Key(sub.ID), sub.ID, created)
	}
	for _, g := range c.Groups {
		created, err := store.TimeArg(g.CreatedAt)
		if err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		b.Queue(sqlUpsertGroup, store.Key(g.SubscriptionID), store.Key(g.Name), g.SubscriptionID, g.Name,
			g.Location, text(g.Body), g.Version, created)
	}
	for _, vm := range c.VMs {
		if err := queueVM(b, vm); err != nil {
			return fmt.Errorf("vm %s: %w", vm.ID, err)
		}
	}
	for _, id := range c.DeletedVMs {
		b.Queue(`DELETE FROM vms WHERE vm_key = $1`, store.Key(id))
	}
	for _, r := range c.Resources {
		if err := queueResource(b, r); err != nil {
			return fmt.Errorf("resource %s: %w", r.ID, err)
		}
	}
	for _, id := range c.DeletedResources {
		b.Queue(`DELETE FROM resources WHERE res_key = $1`, store.Key(id))
	}
	for _, g := range c.DeletedGroups {
		b.Queue(`DELETE FROM resource_groups WHERE sub_key = $1 AND name_key = $2`,
			store.Key(g.SubscriptionID), store.Key(g.Name))
	}
	for i, e := range c.Events {
		if err := queueEvent(b, e, &seqs[i]); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	for _, op := range c.Operations {
		span, err := store.TimeArgs(op.StartTime, op.EndTime)
		if err != nil {
			return fmt.Errorf("operation %s: %w", op.ID, err)
		}
		b.Queue(sqlUpsertOperation, store.Key(op.ID), op.ID, op.SubscriptionID, op.Location, op.Kind,
			op.TargetID, op.Status, span[0], span[1], text(op.Error), text(op.Result))
	}
	for name, value := range c.Settings {
		b.Queue(sqlUpsertSetting, name, value)
	}
	return nil
}

// queueVM queues the insert (Version 1) or the update (Version n > 1 of a
// stored n-1) of one VM; a write that touches no row is a conflict.
func queueVM(b *pgx.Batch, vm store.VM) error {
	if err := store.CheckVersion(vm.Version); err != nil {
		return err
	}
	times, err := store.TimeArgs(vm.DueAt, vm.CreatedAt, vm.UpdatedAt)
	if err != nil {
		return err
	}
	args := []any{store.Key(vm.ID), vm.ID, vm.SubscriptionID, vm.ResourceGroup, vm.Name, vm.Location,
		modelText(vm.Model), text(vm.State), times[0], times[1], times[2]}
	q := sqlInsertVM
	switch {
	case vm.Version > 1 && vm.ModelUnchanged:
		q, args = sqlUpdateVMState, append(slices.Delete(args, 6, 7), vm.Version)
	case vm.Version > 1:
		q, args = sqlUpdateVM, append(args, vm.Version)
	}
	b.Queue(q, args...).Exec(versioned("VM "+vm.ID, vm.Version))
	return nil
}

// queueResource is queueVM for a resource other than a VM.
func queueResource(b *pgx.Batch, r store.Resource) error {
	if err := store.CheckVersion(r.Version); err != nil {
		return err
	}
	times, err := store.TimeArgs(r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return err
	}
	args := []any{store.Key(r.ID), r.ID, r.Type, r.SubscriptionID, r.ResourceGroup, r.Name, r.Location,
		text(r.Body), times[0], times[1]}
	q := sqlInsertResource
	if r.Version > 1 {
		q, args = sqlUpdateResource, append(args, r.Version)
	}
	b.Queue(q, args...).Exec(versioned("resource "+r.ID, r.Version))
	return nil
}

// versioned checks a versioned insert or update: touching no row means the
// row existed (version 1) or its stored version was not the one before.
func versioned(what string, version int64) func(pgconn.CommandTag) error {
	return func(tag pgconn.CommandTag) error {
		switch {
		case tag.RowsAffected() == 1:
			return nil
		case version == 1:
			return fmt.Errorf("%w: version 1 of %s, which exists", store.ErrConflict, what)
		default:
			return fmt.Errorf("%w: version %d of %s does not follow the stored one", store.ErrConflict, version, what)
		}
	}
}

// instant decodes a BIGINT time column.
func instant(ns *int64) time.Time {
	if ns == nil {
		return time.Time{}
	}
	return store.FromUnixNano(*ns)
}

// text binds a document as TEXT, and nil as NULL so that nil round-trips.
// modelText binds a VM's model as TEXT, whole; a nil one as NULL.
func modelText(d jsonshape.Doc) *string {
	if d.IsNil() {
		return nil
	}
	s := d.String()
	return &s
}

func text(b json.RawMessage) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// document decodes a TEXT document column.
func document(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// Redacted is a store URL fit for a log line: its password, in the user
// part or as a password= parameter, replaced by xxxxx.
func Redacted(s string) string {
	u, err := neturl.Parse(s)
	if err != nil {
		return "(a PostgreSQL URL that does not parse)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

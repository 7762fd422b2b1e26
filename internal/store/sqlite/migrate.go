package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

// migrationFiles holds the schema scripts (see store.Migration).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded scripts in version order.
func migrations() ([]store.Migration, error) {
	dir, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return store.ReadMigrations(dir)
}

// migrate applies, in order, every embedded script the database has not had
// yet, each in its own transaction together with its schema_migrations row,
// so a crash mid-way leaves a database that the next Open finishes.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	// A database written by a newer binary has a schema this one does not
	// know; writing to it could corrupt what the newer code relies on.
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	if known := ms[len(ms)-1].Version; newest > known {
		return fmt.Errorf("database schema version %d is newer than this build's %d", newest, known)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// migrationSteps are what a migration does in Go after its script, in its
// transaction: what SQL cannot compute.
var migrationSteps = map[int]func(context.Context, *sql.Tx) error{
	6:  hashEventRows,
	8:  packKeys,
	13: shapeModels,
	14: packEventTexts,
}

// shapeModels splits the models 0013_vm_shapes.sql set aside, as the engine
// splits them (jsonshape), into vm_models and vm_shapes, a chunk at a time
// so that a large fleet's models are never all in memory, and drops the old
// table. A model row whose VM row is gone, which no load reads, is dropped.
func shapeModels(ctx context.Context, tx *sql.Tx) error {
	insert, err := tx.PrepareContext(ctx, `INSERT INTO vm_models (ref, shape, model) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	addShape, err := tx.PrepareContext(ctx, sqlAddVMShape)
	if err != nil {
		return err
	}
	defer addShape.Close()
	// The shapes written, by text, each with a model of its own, so
	// that the shape outlives the chunk that made it: the models of the
	// next chunks then have it too, not another of other defaults.
	refs := map[string]knownShape{}
	ref := func(model jsonshape.Doc, text string) (int64, error) {
		if known, ok := refs[text]; ok {
			return known.ref, nil
		}
		res, err := addShape.ExecContext(ctx, shapeHash(text), text)
		if err != nil {
			return 0, err
		}
		r, err := res.LastInsertId()
		refs[text] = knownShape{ref: r, pin: model}
		return r, err
	}
	type row struct {
		ref        int64
		model      sql.NullString
		sub, group string
	}
	var rows []row
	for last := int64(0); ; last = rows[len(rows)-1].ref {
		rows = rows[:0]
		if err := query(ctx, tx, `SELECT m.ref, m.model, v.subscription_id, v.resource_group
			FROM migrating_vm_models m JOIN vms v ON v.ref = m.ref WHERE m.ref > ? ORDER BY m.ref LIMIT 4096`, []any{last},
			func(rs *sql.Rows) error {
				var r row
				err := rs.Scan(&r.ref, &r.model, &r.sub, &r.group)
				rows = append(rows, r)
				return err
			}); err != nil {
			return fmt.Errorf("migrating_vm_models: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			scope := scopeOf(r.sub, r.group)
			var model jsonshape.Doc
			if r.model.Valid {
				model = jsonshape.Of(unpackDocument(r.model, scope))
			}
			shape, own, err := modelArgs(model, scope, ref)
			if err == nil {
				_, err = insert.ExecContext(ctx, r.ref, shape, own)
			}
			if err != nil {
				return fmt.Errorf("vm_models: the model of VM row %d: %w", r.ref, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE migrating_vm_models`); err != nil {
		return fmt.Errorf("migrating_vm_models: %w", err)
	}
	return nil
}

// packKeys fills the tables of keys with the packed keys of the rows
// 0008_keyed_rows.sql numbered, and drops the old keys, a chunk at a time
// so that a large fleet's keys are never all in memory.
func packKeys(ctx context.Context, tx *sql.Tx) error {
	for _, t := range []struct{ from, key, to string }{
		{"migrating_vm_keys", "vm_key", "vm_keys"},
		{"migrating_res_keys", "res_key", "res_keys"},
	} {
		insert, err := tx.PrepareContext(ctx, `INSERT INTO `+t.to+` (`+t.key+`, ref) VALUES (?, ?)`)
		if err != nil {
			return fmt.Errorf("%s: %w", t.to, err)
		}
		defer insert.Close()
		if err := inChunks(ctx, tx, t.from, t.key, func(ref int64, key string) error {
			_, err := insert.ExecContext(ctx, packKey(key), ref)
			return err
		}); err != nil {
			return fmt.Errorf("%s: %w", t.to, err)
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+t.from); err != nil {
			return fmt.Errorf("%s: %w", t.from, err)
		}
	}
	return nil
}

// inChunks hands each row of table, its ref and its column's text, to
// each, in ref order, reading 4096 rows at a time so that a large table is
// never all in memory.
func inChunks(ctx context.Context, tx *sql.Tx, table, column string, each func(ref int64, text string) error) error {
	type row struct {
		ref  int64
		text string
	}
	var rows []row
	for last := int64(0); ; last = rows[len(rows)-1].ref {
		rows = rows[:0]
		if err := query(ctx, tx, `SELECT ref, `+column+` FROM `+table+` WHERE ref > ? ORDER BY ref LIMIT 4096`, []any{last},
			func(rs *sql.Rows) error {
				var r row
				err := rs.Scan(&r.ref, &r.text)
				rows = append(rows, r)
				return err
			}); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			if err := each(r.ref, r.text); err != nil {
				return err
			}
		}
	}
}

// packEventTexts fills the tables 0014_packed_event_text.sql made with the
// packed names and details, each row under its old number, and replaces
// the old tables.
func packEventTexts(ctx context.Context, tx *sql.Tx) error {
	addScope, err := tx.PrepareContext(ctx, sqlAddEventScope)
	if err != nil {
		return fmt.Errorf("event_scopes: %w", err)
	}
	defer addScope.Close()
	scopes := map[string]int64{} // a group's a scope: a few
	scopeRef := func(scope string) (int64, error) {
		if ref, ok := scopes[scope]; ok {
			return ref, nil
		}
		res, err := addScope.ExecContext(ctx, scope)
		if err != nil {
			return 0, fmt.Errorf("event_scopes: %w", err)
		}
		ref, err := res.LastInsertId()
		scopes[scope] = ref
		return ref, err
	}
	for _, t := range []struct {
		from, column, to, packed string
		hash                     func(text string, packed []byte) int64
	}{
		{"event_names", "id", "event_names_packed", "name",
			func(id string, _ []byte) int64 { return textHash(store.NameHash(id)) }},
		{"event_details", "detail", "event_details_packed", "detail",
			func(_ string, packed []byte) int64 { return textHash(store.DetailHash(string(packed))) }},
	} {
		insert, err := tx.PrepareContext(ctx, `INSERT INTO `+t.to+` (ref, hash, `+t.packed+`) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("%s: %w", t.to, err)
		}
		defer insert.Close()
		if err := inChunks(ctx, tx, t.from, t.column, func(ref int64, text string) error {
			packed, err := packEventText(text, scopeRef)
			if err == nil {
				_, err = insert.ExecContext(ctx, ref, t.hash(text, packed), packed)
			}
			return err
		}); err != nil {
			return fmt.Errorf("%s: %w", t.to, err)
		}
	}
	_, err = tx.ExecContext(ctx, `
		DROP TABLE event_names;
		DROP TABLE event_details;
		ALTER TABLE event_names_packed RENAME TO event_names;
		ALTER TABLE event_details_packed RENAME TO event_details;
		CREATE INDEX event_names_hash ON event_names (hash);
		CREATE INDEX event_details_hash ON event_details (hash);`)
	return err
}

// hashEventRows fills in the hashes by which the compact history finds its
// names and details (0006_compact_events.sql).
func hashEventRows(ctx context.Context, tx *sql.Tx) error {
	for _, t := range store.HashedEventTables {
		type row struct {
			ref  int64
			text string
		}
		var rows []row
		if err := query(ctx, tx, `SELECT ref, `+t.Column+` FROM `+t.Table, nil, func(rs *sql.Rows) error {
			var r row
			rows = append(rows, r)
			return rs.Scan(&rows[len(rows)-1].ref, &rows[len(rows)-1].text)
		}); err != nil {
			return fmt.Errorf("%s: %w", t.Table, err)
		}
		update, err := tx.PrepareContext(ctx, `UPDATE `+t.Table+` SET hash = ? WHERE ref = ?`)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Table, err)
		}
		defer update.Close()
		for _, r := range rows {
			if _, err := update.ExecContext(ctx, t.Hash(r.text), r.ref); err != nil {
				return fmt.Errorf("%s: %w", t.Table, err)
			}
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m store.Migration) (err error) {
	// The write transaction is immediate (see dsn), so the check below and
	// the script are atomic even against another process opening the file.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var n int
	if err = tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return tx.Commit()
	}
	if _, err = tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if step := migrationSteps[m.Version]; step != nil {
		if err = step(ctx, tx); err != nil {
			return err
		}
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

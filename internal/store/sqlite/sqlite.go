package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMS bounds how long a connection waits for a lock held by another
// process on the same file (this process has a single writer, so it never
// waits on itself).
const busyTimeoutMS = 5000

// Store is a store.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	w *sql.DB // exactly one connection: every write goes through it in turn
	r *sql.DB // read-only connections, as many as readers need

	// stmts holds the write statements prepared on w, by SQL text; it is
	// only read after Open.
	stmts map[string]*sql.Stmt
	// known are the history's references committed transactions learnt.
	known knownRefs
	// shapes are the models' shapes committed transactions learnt.
	shapes knownShapes
	// scopes are the history's scopes readers have read (eventtext.go).
	scopes eventScopes

	// loading is the memory of the load in progress (loadrows.go).
	loadingMu sync.Mutex
	loading   *loadMemory

	// bulk is set for the store of a Bulk (bulk.go).
	bulk bool
	// checkpoints runs the WAL's checkpoints beside the writer
	// (checkpoint.go); nil for a Bulk's store, whose writer runs them.
	checkpoints *checkpointer

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// ownerOnly makes the database file readable by its owner alone, as the
// TLS keys are: it holds every model a client wrote. SQLite gives its -wal
// and -shm files the database file's mode, so creating the file first is
// enough; a file made by an older azemu is tightened.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return f.Chmod(fi.Mode().Perm() &^ 0o077)
	}
	return nil
}

// Open opens, or creates, the database at path and brings its schema up to
// date.
func Open(path string) (*Store, error) { return open(path, false) }

func open(path string, bulk bool) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := ownerOnly(abs); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdsn := dsn(abs, false)
	if bulk {
		wdsn += "&" + bulkPragmas.Encode()
	} else {
		wdsn += "&" + url.Values{"_pragma": {fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages)}}.Encode()
	}
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A single write connection serialises writers in database/sql's pool,
	// where waiting honours ctx, instead of in SQLite's lock, where a second
	// writer would get SQLITE_BUSY. Keep it open for the Store's lifetime.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Migrate before any reader connects, so that the file is already in WAL
	// mode and has its schema when they do.
	if err := migrate(context.Background(), w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// No cap on readers: a History callback may itself read the store, and
	// a cap would let nested reads deadlock waiting for a connection.
	r.SetMaxIdleConns(4)
	if err := r.Ping(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{w: w, r: r, stmts: map[string]*sql.Stmt{}, bulk: bulk}
	if !bulk {
		c, err := sql.Open("sqlite", dsn(abs, false))
		if err != nil {
			r.Close()
			w.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		c.SetMaxOpenConns(1)
		s.checkpoints = newCheckpointer(c)
	}
	for _, q := range slices.Concat(writeStatements, eventStatements, shapeStatements) {
		st, err := w.Prepare(q)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: open %s: prepare: %w", path, err)
		}
		s.stmts[q] = st
	}
	return s, nil
}

// dsn builds the modernc URI for path. Pragmas go in the DSN so that every
// connection the pool opens, not only the first, gets them.
func dsn(abs string, readOnly bool) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path still needs an empty authority
	}
	// url.URL escapes '?', '#' and '%' in the path, which SQLite decodes;
	// left raw they would end the file name early.
	u := url.URL{Scheme: "file", Path: p}
	q := url.Values{}
	// unix-excl keeps the WAL index in this process's heap rather than in a
	// memory-mapped -shm file. With the map, a write to it on a hung disk
	// (a frozen file system) blocks in a page fault, where the Go runtime
	// cannot stop the goroutine, so the next garbage collection waited for
	// it and every request hung. In the heap, a hung disk blocks only the
	// system calls that write to it. The cost: no other process may open
	// the file while azemu has it, which the data dir's lock already rules.
	q.Set("vfs", "unix-excl")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	// WAL with synchronous=NORMAL: a commit is written to the WAL before
	// Apply returns, so it survives the process being killed at any point;
	// only a power loss or OS crash can lose the last commits (never corrupt
	// the file), and that is not a failure an emulator has to survive.
	// Commits then cost no fsync, which FULL would add to every Apply.
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// Take the write lock at BEGIN: a deferred transaction that later
		// upgrades can fail with SQLITE_BUSY_SNAPSHOT, which busy_timeout
		// does not retry, if another process wrote in between.
		q.Set("_txlock", "immediate")
	}
	return u.String() + "?" + q.Encode()
}

// bulkPragmas follow the others on OpenBulk's write connection, so that
// they win: no sync at commits or checkpoints, a 128 MiB page cache (the
// pages a load keeps rewriting, at the end of each table and index, stay
// in memory instead of being read back from the WAL), and a checkpoint
// every 64 MiB of WAL instead of every 4 MiB.
var bulkPragmas = url.Values{"_pragma": {"synchronous(OFF)", "cache_size(-131072)", "wal_autocheckpoint(16384)"}}

// putResource inserts (Version 1) or updates (Version n > 1, stored n-1) one
// resource, with the same conflict rule as putVM.
func (s *Store) putResource(ctx context.Context, tx *sql.Tx, r store.Resource) error {
	if err := store.CheckVersion(r.Version); err != nil {
		return err
	}
	times, err := store.TimeArgs(r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return err
	}
	created, updated := times[0], times[1]
	key := packKey(store.Key(r.ID))
	id, body := resourceIDArg(r), documentArg(r.Body, scopeOf(r.SubscriptionID, r.ResourceGroup))
	if r.Version == 1 {
		_, err = s.insertKeyed(ctx, tx, sqlInsertResource, sqlInsertResourceKey, key, "resource "+r.ID,
			id, r.Type, r.SubscriptionID, r.ResourceGroup, r.Name, r.Location, body, created, updated)
		return err
	}
	res, err := s.exec(ctx, tx, sqlUpdateResource, id, r.Type, r.SubscriptionID, r.ResourceGroup,
		r.Name, r.Location, body, r.Version, created, updated, key, r.Version-1)
	return versioned(res, err, "resource "+r.ID, r.Version)
}

// versioned turns the result of a versioned insert or update into
// ErrConflict when it touched no row: the row existed (version 1) or its
// stored version was not the one before.
func versioned(res sql.Result, err error, what string, version int64) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		if version == 1 {
			return fmt.Errorf("%w: version 1 of %s, which exists", store.ErrConflict, what)
		}
		return fmt.Errorf("%w: version %d of %s does not follow the stored one", store.ErrConflict, version, what)
	}
	return nil
}

// The write statements, prepared once at Open (see Store.exec).
const (
	sqlInsertSubscription = `INSERT INTO subscriptions (sub_key, id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (sub_key) DO NOTHING`
	sqlUpsertGroup = `INSERT INTO resource_groups
		(sub_key, name_key, subscription_id, name, location, body, version, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sub_key, name_key) DO UPDATE SET
		subscription_id = excluded.subscription_id, name = excluded.name,
		location = excluded.location, body = excluded.body,
		version = excluded.version, created_at = excluded.created_at`
	sqlUpsertSetting = `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`
	sqlDeleteGroup = `DELETE FROM resource_groups WHERE sub_key = ? AND name_key = ?`

	// A VM's and a resource's rows are numbered, and found by number
	// through their packed key (keys.go, 0008_keyed_rows.sql). A first
	// version writes its row, then its key, whose conflict, a row of the
	// key already there, fails the change and with it the row.
	sqlInsertVM = `INSERT INTO vms (id, subscription_id, resource_group, name, location,
		state, version, due_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`
	sqlInsertVMKey = `INSERT INTO vm_keys (vm_key, ref) VALUES (?, ?) ON CONFLICT (vm_key) DO NOTHING`
	sqlUpdateVM    = `UPDATE vms SET id = ?, subscription_id = ?, resource_group = ?, name = ?,
		location = ?, state = ?, version = ?, due_at = ?,
		created_at = ?, updated_at = ?
		WHERE ref = (SELECT ref FROM vm_keys WHERE vm_key = ?) AND version = ?`
	// A VM's model is written with its first version, and after only when
	// it changed: a step rewrites the state alone (0005_vm_models.sql). It
	// is kept as its shape and its own part (shapes.go).
	sqlUpsertVMModel = `INSERT INTO vm_models (ref, shape, model) VALUES (?, ?, ?)
		ON CONFLICT (ref) DO UPDATE SET shape = excluded.shape, model = excluded.model`
	sqlUpdateVMModel = `UPDATE vm_models SET shape = ?1, model = ?2
		WHERE ref = (SELECT ref FROM vm_keys WHERE vm_key = ?3) AND (shape IS NOT ?1 OR model IS NOT ?2)`
	sqlDeleteVMModel = `DELETE FROM vm_models WHERE ref = (SELECT ref FROM vm_keys WHERE vm_key = ?)`
	sqlDeleteVM      = `DELETE FROM vms WHERE ref = (SELECT ref FROM vm_keys WHERE vm_key = ?)`
	sqlDeleteVMKey   = `DELETE FROM vm_keys WHERE vm_key = ?`

	sqlInsertResource = `INSERT INTO resources (id, type, subscription_id, resource_group, name,
		location, body, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`
	sqlInsertResourceKey = `INSERT INTO res_keys (res_key, ref) VALUES (?, ?) ON CONFLICT (res_key) DO NOTHING`
	sqlUpdateResource    = `UPDATE resources SET id = ?, type = ?, subscription_id = ?, resource_group = ?,
		name = ?, location = ?, body = ?, version = ?, created_at = ?, updated_at = ?
		WHERE ref = (SELECT ref FROM res_keys WHERE res_key = ?) AND version = ?`
	sqlDeleteResource    = `DELETE FROM resources WHERE ref = (SELECT ref FROM res_keys WHERE res_key = ?)`
	sqlDeleteResourceKey = `DELETE FROM res_keys WHERE res_key = ?`

	// The newest instant of the history, raised by each commit that
	// holds a later one (0012_newest_mark.sql).
	sqlRaiseNewest = `INSERT INTO history_newest (one, at) VALUES (1, ?)
		ON CONFLICT (one) DO UPDATE SET at = max(at, excluded.at)`
)

// operationRows upserts the operations of an Apply, many rows to a
// statement (rows.go). A later row of an operation replaces an earlier
// one, in the same statement too.
var operationRows = newMultiRow(`INSERT OR FAIL INTO operations (op, id, subscription_id, location, kind, target,
		status, start_time, end_time, error, result) VALUES `,
	`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	` ON CONFLICT (op) DO UPDATE SET
		id = excluded.id, subscription_id = excluded.subscription_id,
		location = excluded.location, kind = excluded.kind,
		target = excluded.target, status = excluded.status,
		start_time = excluded.start_time, end_time = excluded.end_time,
		error = excluded.error, result = excluded.result`)

var writeStatements = slices.Concat([]string{
	sqlInsertSubscription, sqlUpsertGroup, sqlDeleteGroup,
	sqlInsertVM, sqlInsertVMKey, sqlUpdateVM, sqlUpsertVMModel, sqlUpdateVMModel,
	sqlDeleteVMModel, sqlDeleteVM, sqlDeleteVMKey,
	sqlInsertResource, sqlInsertResourceKey, sqlUpdateResource, sqlDeleteResource, sqlDeleteResourceKey,
	sqlRaiseNewest,
}, operationRows.bySize)

// exec runs a write statement in tx. Statements prepared at Open are reused
// on the write connection, since parsing SQL anew was the largest cost of a
// small Apply; tx.StmtContext re-prepares only if that connection changed.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st, ok := s.stmts[q]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// Apply implements store.Store. The changes are one transaction, so they
// share one commit: on any error, including a cancelled ctx, it is rolled
// back and nothing is kept.
//
// The changes are passed by value but their slices share their backing
// arrays with the caller's, so after a successful commit Apply writes the
// assigned sequence numbers into cs[i].Events[j].Seq, where the caller sees
// them. On failure the caller's events are left untouched.
func (s *Store) Apply(ctx context.Context, cs ...store.Change) (err error) {
	defer func() { err = diskFull(err) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: apply: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback() // the error that matters is the one returned
		}
	}()
	events, shapes := s.eventWriter(tx), s.shapeWriter(tx)
	// Each change's rows in turn, but their events and operations, whose
	// order matters only among themselves, gathered for a few multi-row
	// statements after (rows.go).
	var rows changeRows
	for i := range cs {
		if err = s.applyChange(ctx, tx, events, shapes, &rows, &cs[i]); err != nil {
			if len(cs) > 1 {
				return fmt.Errorf("sqlite: apply: change %d of %d: %w", i+1, len(cs), err)
			}
			return fmt.Errorf("sqlite: apply: %w", err)
		}
	}
	// The Seqs, in the order of the rows: a statement's rows take the
	// AUTOINCREMENT keys that follow one another up to the last it
	// inserted.
	seqs := make([]int64, 0, len(rows.events))
	if err = s.writeRows(ctx, tx, eventRows, rows.events, func(res sql.Result, n int) error {
		last, err := res.LastInsertId()
		for seq := last - int64(n) + 1; err == nil && seq <= last; seq++ {
			seqs = append(seqs, seq)
		}
		return err
	}); err != nil {
		return fmt.Errorf("sqlite: apply: events: %w", err)
	}
	if err = s.writeRows(ctx, tx, operationRows, rows.ops, nil); err != nil {
		return fmt.Errorf("sqlite: apply: operations: %w", err)
	}
	if newest, ok := newestOf(cs); ok {
		if _, err = s.exec(ctx, tx, sqlRaiseNewest, newest); err != nil {
			return fmt.Errorf("sqlite: apply: newest: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: apply: commit: %w", err)
	}
	if s.checkpoints != nil {
		s.checkpoints.committed()
	}
	events.keep()
	shapes.keep()
	for _, c := range cs {
		for j := range c.Events {
			c.Events[j].Seq, seqs = seqs[0], seqs[1:]
		}
	}
	return nil
}

// sqliteFull is SQLITE_FULL, the primary result code of a write that found
// no room on the disk (for the database, its journal or a temporary file).
const sqliteFull = 13

// diskFull marks an error of a full disk with store.ErrFull, so that the
// layers above can say so instead of reporting an anonymous failure.
func diskFull(err error) error {
	var coded interface{ Code() int }
	if err == nil || errors.Is(err, store.ErrFull) {
		return err
	}
	if errors.As(err, &coded) && coded.Code()&0xff == sqliteFull || errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", store.ErrFull, err)
	}
	return err
}

// changeRows are the parameters of the rows of an Apply's events and
// operations, in the changes' order, for multi-row statements.
type changeRows struct{ events, ops [][]any }

// applyChange writes c inside tx, but for its events and operations, whose
// rows' parameters it appends to rows, in order, for Apply to write.
func (s *Store) applyChange(ctx context.Context, tx *sql.Tx, events *eventWriter, shapes *shapeWriter, rows *changeRows, c *store.Change) error {
	for _, sub := range c.Subscriptions {
		created, err := store.TimeArg(sub.CreatedAt)
		if err != nil {
			return fmt.Errorf("subscription %s: %w", sub.ID, err)
		}
		if _, err := s.exec(ctx, tx, sqlInsertSubscription,
			store.Key(sub.ID), sub.ID, created); err != nil {
			return fmt.Errorf("subscription %s: %w", sub.ID, err)
		}
	}

	for _, g := range c.Groups {
		created, err := store.TimeArg(g.CreatedAt)
		if err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		if _, err := s.exec(ctx, tx, sqlUpsertGroup,
			store.Key(g.SubscriptionID), store.Key(g.Name), g.SubscriptionID, g.Name,
			g.Location, jsonArg(g.Body), g.Version, created); err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
	}

	for _, vm := range c.VMs {
		if err := s.putVM(ctx, tx, shapes, vm); err != nil {
			return fmt.Errorf("vm %s: %w", vm.ID, err)
		}
	}
	for _, r := range c.Resources {
		if err := s.putResource(ctx, tx, r); err != nil {
			return fmt.Errorf("resource %s: %w", r.ID, err)
		}
	}

	// The deletions follow every put: a table's rows are written in the
	// change's order, and no table refers to another.
	if err := s.deleteKeyed(ctx, tx, "vm", c.DeletedVMs, sqlDeleteVMModel, sqlDeleteVM, sqlDeleteVMKey); err != nil {
		return err
	}
	if err := s.deleteKeyed(ctx, tx, "resource", c.DeletedResources, sqlDeleteResource, sqlDeleteResourceKey); err != nil {
		return err
	}

	for _, g := range c.DeletedGroups {
		if _, err := s.exec(ctx, tx, sqlDeleteGroup,
			store.Key(g.SubscriptionID), store.Key(g.Name)); err != nil {
			return fmt.Errorf("delete group %s: %w", g.Name, err)
		}
	}

	for i, e := range c.Events {
		row, err := events.row(ctx, e)
		if err != nil {
			return fmt.Errorf("event %d of vm %s: %w", i, e.VMID, err)
		}
		rows.events = append(rows.events, row)
	}

	for _, op := range c.Operations {
		times, err := store.TimeArgs(op.StartTime, op.EndTime)
		if err != nil {
			return fmt.Errorf("operation %s: %w", op.ID, err)
		}
		rows.ops = append(rows.ops, []any{opKeyArg(op.ID), opIDArg(op.ID), subscriptionArg(op.SubscriptionID), op.Location, op.Kind,
			packTarget(op.TargetID, op.SubscriptionID), statusArg(op.Status), times[0], times[1], jsonArg(op.Error), jsonArg(op.Result)})
	}
	for name, value := range c.Settings {
		if _, err := s.exec(ctx, tx, sqlUpsertSetting, name, value); err != nil {
			return fmt.Errorf("setting %s: %w", name, err)
		}
	}
	return nil
}

// deleteKeyed runs each of stmts on the packed key of each of ids: the
// deletion of the rows of what (vm, resource) a change lists.
func (s *Store) deleteKeyed(ctx context.Context, tx *sql.Tx, what string, ids []string, stmts ...string) error {
	for _, id := range ids {
		key := packKey(store.Key(id))
		for _, stmt := range stmts {
			if _, err := s.exec(ctx, tx, stmt, key); err != nil {
				return fmt.Errorf("delete %s %s: %w", what, id, err)
			}
		}
	}
	return nil
}

// putVM inserts (Version 1) or updates (Version n > 1, stored n-1) one VM.
func (s *Store) putVM(ctx context.Context, tx *sql.Tx, shapes *shapeWriter, vm store.VM) error {
	if err := store.CheckVersion(vm.Version); err != nil {
		return err
	}
	times, err := store.TimeArgs(vm.DueAt, vm.CreatedAt, vm.UpdatedAt)
	if err != nil {
		return err
	}
	due, created, updated := times[0], times[1], times[2]
	key := packKey(store.Key(vm.ID))
	scope := scopeOf(vm.SubscriptionID, vm.ResourceGroup)
	state := documentArg(vm.State, scope)
	if vm.Version > 1 {
		res, err := s.exec(ctx, tx, sqlUpdateVM,
			vmIDArg(vm), vm.SubscriptionID, vm.ResourceGroup, vm.Name, vm.Location,
			state, vm.Version, due, created, updated, key, vm.Version-1)
		if err := versioned(res, err, "VM "+vm.ID, vm.Version); err != nil {
			return err
		}
		if vm.ModelUnchanged {
			return nil
		}
		shape, model, err := modelArgs(vm.Model, scope, shapes.refs(ctx))
		if err == nil {
			_, err = s.exec(ctx, tx, sqlUpdateVMModel, shape, model, key)
		}
		return err
	}
	shape, model, err := modelArgs(vm.Model, scope, shapes.refs(ctx))
	if err != nil {
		return err
	}
	ref, err := s.insertKeyed(ctx, tx, sqlInsertVM, sqlInsertVMKey, key, "VM "+vm.ID,
		vmIDArg(vm), vm.SubscriptionID, vm.ResourceGroup, vm.Name, vm.Location, state, due, created, updated)
	if err != nil {
		return err
	}
	// A first version replaces any model row a deleted VM of the same
	// number left (none should be left: delete removes it).
	_, err = s.exec(ctx, tx, sqlUpsertVMModel, ref, shape, model)
	return err
}

// insertKeyed writes the first version of a row by insert (its columns
// args) and then its key by insertKey, and returns the row's number; what
// names the row in the conflict of a key already there.
func (s *Store) insertKeyed(ctx context.Context, tx *sql.Tx, insert, insertKey, key, what string, args ...any) (int64, error) {
	res, err := s.exec(ctx, tx, insert, args...)
	if err != nil {
		return 0, err
	}
	ref, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	res, err = s.exec(ctx, tx, insertKey, key, ref)
	return ref, versioned(res, err, what, 1)
}

// vmIDArg is a VM's ID as the id column keeps it: NULL when it is the
// canonical ID its subscription, group and name make (a standalone VM's),
// which a load builds again (vmScanner), so that the row is smaller
// (0005_vm_models.sql).
func vmIDArg(vm store.VM) any {
	if vm.ID == store.VMID(vm.SubscriptionID, vm.ResourceGroup, vm.Name) {
		return nil
	}
	return vm.ID
}

// Load implements store.Store: LoadBatches with every batch kept.
func (s *Store) Load(ctx context.Context) (store.Snapshot, error) {
	var resources []store.Resource
	var vms []store.VM
	snap, err := s.LoadBatches(ctx, func(b []store.Resource) error {
		resources = append(resources, b...)
		return nil
	}, func(b []store.VM) error {
		vms = append(vms, b...)
		return nil
	})
	if err != nil {
		return store.Snapshot{}, err
	}
	snap.Resources, snap.VMs = resources, vms
	return snap, nil
}

// LoadBatches implements store.BatchLoader. It reads in one transaction, so
// the snapshot is consistent across tables. Subscriptions, groups and
// operations are ordered by key; VMs and resources by their row numbers,
// which is the order they were created in (and, for a file migrated to
// 0008, the order of their keys before).
func (s *Store) LoadBatches(ctx context.Context, resources func([]store.Resource) error, vms func([]store.VM) error) (snap store.Snapshot, err error) {
	s.shapes.mu.Lock()
	era := s.shapes.era // before the read: a reset after it makes what it learns stale
	s.shapes.mu.Unlock()
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("sqlite: load: %w", err)
	}
	defer tx.Rollback() // read-only: nothing to commit

	if snap.Subscriptions, err = loadRows(ctx, tx, "subscriptions",
		`SELECT id, created_at FROM subscriptions ORDER BY sub_key`, nil, scanSubscription); err != nil {
		return store.Snapshot{}, err
	}
	if snap.Groups, err = loadRows(ctx, tx, "groups",
		`SELECT subscription_id, name, location, body, version, created_at
		 FROM resource_groups ORDER BY sub_key, name_key`, nil, scanGroup); err != nil {
		return store.Snapshot{}, err
	}
	shapes, err := s.loadShapes(ctx, tx, era)
	if err != nil {
		return store.Snapshot{}, err
	}
	mem := s.startLoad()
	defer s.endLoad(mem)
	if err := loadBatches(ctx, tx, "resources",
		`SELECT id, type, subscription_id, resource_group, name, location, body, version, created_at, updated_at
		 FROM resources ORDER BY ref`, newResourceScanner(&mem.chunks), &mem.resources, resources); err != nil {
		return store.Snapshot{}, err
	}
	if err := loadBatches(ctx, tx, "vms",
		`SELECT v.id, v.subscription_id, v.resource_group, v.name, v.location, m.shape, m.model, v.state,
		   v.version, v.due_at, v.created_at, v.updated_at
		 FROM vms v LEFT JOIN vm_models m ON m.ref = v.ref ORDER BY v.ref`, newVMScanner(shapes, &mem.chunks), &mem.vms, vms); err != nil {
		return store.Snapshot{}, err
	}
	// The status is a literal, which the partial index of the operations
	// in progress needs. The op column sorts other keys than GUIDs apart.
	if snap.Operations, err = loadRows(ctx, tx, "operations",
		operationSelect+` WHERE status = `+strconv.Itoa(inProgress), nil, scanOperation); err != nil {
		return store.Snapshot{}, err
	}
	slices.SortFunc(snap.Operations, func(a, b store.Operation) int { return strings.Compare(store.Key(a.ID), store.Key(b.ID)) })

	if err := query(ctx, tx, `SELECT name, value FROM settings ORDER BY name`, nil, func(rows *sql.Rows) error {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return err
		}
		if snap.Settings == nil {
			snap.Settings = map[string]string{}
		}
		snap.Settings[name] = value
		return nil
	}); err != nil {
		return store.Snapshot{}, fmt.Errorf("sqlite: load settings: %w", err)
	}
	return snap, nil
}

// loadRows reads every row q selects, each made by scan, for Load; what
// names the rows in an error.
func loadRows[T any](ctx context.Context, tx *sql.Tx, what, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	var out []T
	err := query(ctx, tx, q, args, func(rows *sql.Rows) error {
		row, err := scan(rows)
		if err != nil {
			return err
		}
		out = append(out, row)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: load %s: %w", what, err)
	}
	return out, nil
}

func scanSubscription(row scanner) (store.Subscription, error) {
	var sub store.Subscription
	var created sql.NullInt64
	err := row.Scan(&sub.ID, &created)
	sub.CreatedAt = timeOf(created)
	return sub, err
}

func scanGroup(row scanner) (store.ResourceGroup, error) {
	var g store.ResourceGroup
	var body sql.NullString
	var created sql.NullInt64
	err := row.Scan(&g.SubscriptionID, &g.Name, &g.Location, &body, &g.Version, &created)
	g.Body, g.CreatedAt = jsonOf(body), timeOf(created)
	return g, err
}

const operationSelect = `SELECT op, id, subscription_id, location, kind, target, status,
	start_time, end_time, error, result FROM operations`

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

func scanOperation(row scanner) (store.Operation, error) {
	var op store.Operation
	var key, sub, status any
	var id sql.NullString
	var target string
	var start, end sql.NullInt64
	var opErr, result sql.NullString
	if err := row.Scan(&key, &id, &sub, &op.Location, &op.Kind, &target,
		&status, &start, &end, &opErr, &result); err != nil {
		return store.Operation{}, err
	}
	op.ID, op.SubscriptionID = operationIDOf(key), operationIDOf(sub)
	if id.Valid {
		op.ID = id.String
	}
	op.TargetID = unpackTarget(target, op.SubscriptionID)
	var err error
	if op.Status, err = statusOf(status); err != nil {
		return store.Operation{}, err
	}
	op.StartTime, op.EndTime = timeOf(start), timeOf(end)
	op.Error, op.Result = jsonOf(opErr), jsonOf(result)
	return op, nil
}

// Operation implements store.Store.
func (s *Store) Operation(ctx context.Context, id string) (store.Operation, error) {
	op, err := scanOperation(s.r.QueryRowContext(ctx, operationSelect+` WHERE op = ?`, opKeyArg(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Operation{}, fmt.Errorf("sqlite: operation %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Operation{}, fmt.Errorf("sqlite: operation %s: %w", id, err)
	}
	return op, nil
}

// History implements store.Store. Rows are scanned one at a time from an open
// cursor; a single SELECT reads one WAL snapshot, so a concurrent Apply is
// either wholly in the scan or wholly out of it, and is never blocked by it.
func (s *Store) History(ctx context.Context, vmID string, from, to time.Time, fn func(store.Event) error) error {
	// Bounds past the storable range (see store.TimeArg) are dropped rather than
	// wrapped; a window wholly outside it is empty.
	if !from.Before(to) || from.After(store.MaxTime) || !to.After(store.MinTime) {
		return ctx.Err()
	}
	// The window, on the at column of a table (named by prefix).
	window := func(prefix string) (where string, args []any) {
		if !from.Before(store.MinTime) {
			where += ` AND ` + prefix + `at >= ?`
			args = append(args, from.UnixNano())
		}
		if !to.After(store.MaxTime) {
			where += ` AND ` + prefix + `at < ?`
			args = append(args, to.UnixNano())
		}
		return where, args
	}
	cpWhere, cpArgs := window("")
	where, args := window("e.")
	key := ""
	if vmID != "" {
		key = store.Key(vmID)
		cpWhere += ` AND vm_key = ?`
		cpArgs = append(cpArgs, key)
		where += ` AND ` + store.EventsOfName
		args = append(args, textHash(store.NameHash(vmID)))
	}
	// One read transaction: the checkpoints and the events of one snapshot.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: history: %w", err)
	}
	defer tx.Rollback() // read-only: nothing to commit
	v := store.Visit(fn)
	err = query(ctx, tx, `SELECT `+store.CheckpointColumns+` FROM checkpoints WHERE 1`+cpWhere+` ORDER BY vm_key`, cpArgs,
		func(rows *sql.Rows) error {
			cp, err := store.ScanCheckpoint(rows.Scan)
			if err != nil {
				return err
			}
			return v.Pass(cp.Event)
		})
	if err == nil {
		unpack := s.scopes.reader(ctx, tx)
		err = query(ctx, tx, `SELECT `+eventColumns+` FROM `+store.EventTables+` WHERE 1`+where+` ORDER BY e.seq`, args, func(rows *sql.Rows) error {
			e, err := scanEvent(rows, unpack)
			if err != nil || !store.KeepsEvent(key, e.VMID) {
				return err
			}
			return v.Pass(e)
		})
	}
	return v.Result("sqlite: history", err)
}

// Newest implements store.Store: the mark the commits raised
// (0012_newest_mark.sql), which a compaction leaves where it was.
func (s *Store) Newest(ctx context.Context) (time.Time, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT at FROM history_newest`).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: newest: %w", err)
	}
	return store.FromUnixNano(at), nil
}

// newestOf is the latest instant of the events and operations of cs, in
// Unix nanoseconds; ok is false when they hold none. Apply has checked
// that each is storable.
func newestOf(cs []store.Change) (newest int64, ok bool) {
	raise := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if n := t.UnixNano(); !ok || n > newest {
			newest, ok = n, true
		}
	}
	for _, c := range cs {
		for _, e := range c.Events {
			raise(e.At)
		}
		for _, op := range c.Operations {
			raise(op.StartTime)
			raise(op.EndTime)
		}
	}
	return newest, ok
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// query runs q and calls each for every row as the cursor reaches it,
// stopping at the first error.
func query(ctx context.Context, db queryer, q string, args []any, each func(*sql.Rows) error) (err error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Reset implements store.Store. The events' sequence counter survives, so
// that a Seq is never reused.
func (s *Store) Reset(ctx context.Context) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: reset: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	s.known.forget()
	s.shapes.forget()
	for _, table := range []string{"events", "event_names", "event_states", "event_details", "event_scopes", "operations", "vms",
		"vm_models", "vm_shapes", "vm_keys", "resource_groups", "subscriptions", "settings", "resources", "res_keys", "checkpoints", "accounts",
		"history_newest"} {
		if _, err = tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			return fmt.Errorf("sqlite: reset %s: %w", table, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: reset: commit: %w", err)
	}
	return nil
}

// Close implements store.Store. It closes the readers first so that the
// final checkpoint can fold the whole WAL back into the database file.
// Calling it again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		for _, st := range s.stmts {
			st.Close() // closing w below releases them in any case
		}
		rerr := s.r.Close()
		var cerr error
		if s.checkpoints != nil {
			cerr = s.checkpoints.close()
		}
		if s.bulk {
			// A load's rows are written as its changes come, and a VM's
			// state row shrinks once its create has run, leaving its page
			// half empty: VACUUM packs the rows into full pages (half the
			// pages of vms) and gives the free pages back.
			if _, err := s.w.Exec(`VACUUM`); err != nil {
				cerr = fmt.Errorf("sqlite: close: vacuum: %w", err)
			}
			// The load ends durable: FULL syncs the checkpoint below, the
			// WAL before it is copied and the database after.
			if _, err := s.w.Exec(`PRAGMA synchronous=FULL`); err != nil {
				cerr = errors.Join(cerr, fmt.Errorf("sqlite: close: %w", err))
			}
		}
		if _, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			cerr = errors.Join(cerr, fmt.Errorf("sqlite: close: checkpoint: %w", err))
		}
		werr := s.w.Close()
		s.closeErr = errors.Join(rerr, cerr, werr)
	})
	return s.closeErr
}

// operationIDArg is an event's operation ID as the operation_id column
// keeps it: a lower-case GUID as its 16 bytes, anything else as text
// (0006_compact_events.sql).
func operationIDArg(id string) any {
	if b, ok := guidBytes(id); ok {
		return b
	}
	return id
}

// operationIDOf reads the operation_id column.
func operationIDOf(v any) string {
	switch v := v.(type) {
	case []byte:
		return guidText(v)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// guidBytes are the 16 bytes of a GUID written as a lower-case
// 8-4-4-4-12 hex string; ok is false for any other string.
func guidBytes(s string) (b []byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	b = make([]byte, 16)
	for i := range b {
		hi, lo := lowerHexValue[s[guidDigits[2*i]]], lowerHexValue[s[guidDigits[2*i+1]]]
		if hi|lo > 0xf {
			return nil, false
		}
		b[i] = hi<<4 | lo
	}
	return b, true
}

// guidDigits are the places of a GUID's 32 hex digits in its text.
var guidDigits = [32]uint8{0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17,
	19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35}

// lowerHexValue is the value of each digit 0-9 and a-f, and 0xff of any
// other byte.
var lowerHexValue = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

// guidText writes 16 bytes as a lower-case GUID.
func guidText(b []byte) string {
	if len(b) != 16 {
		return string(b) // never written: the column keeps GUIDs of 16
	}
	return armid.GUIDText([16]byte(b))
}

func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return store.FromUnixNano(n.Int64)
}

// jsonArg binds a document as TEXT (the columns are STRICT TEXT, which
// refuses a BLOB), and a nil one as NULL so that nil round-trips as nil.
func jsonArg(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func jsonOf(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

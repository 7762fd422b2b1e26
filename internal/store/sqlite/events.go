package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/azemu/azemu/internal/store"
)

// An event row refers to its name, state and detail rows
// (0006_compact_events.sql). The references that committed transactions
// wrote or read are kept in memory, so that an event of a known VM, state
// and detail is one insert. A transaction's own are kept once it has
// committed, unless a compaction, which deletes the rows no event refers
// to, or a reset began since it did: either forgets them all.
const (
	sqlFindEventName   = `SELECT ref FROM event_names WHERE hash = ? AND id = ?`
	sqlAddEventName    = `INSERT INTO event_names (hash, id) VALUES (?, ?)`
	sqlFindEventDetail = `SELECT ref FROM event_details WHERE hash = ? AND detail = ?`
	sqlAddEventDetail  = `INSERT INTO event_details (hash, detail) VALUES (?, ?)`
	sqlFindEventState  = `SELECT ref FROM event_states
		WHERE provisioning_state = ? AND provisioning_code = ? AND power_state = ? AND operation_kind = ?`
	sqlAddEventState = `INSERT INTO event_states (provisioning_state, provisioning_code, power_state, operation_kind)
		VALUES (?, ?, ?, ?)`
	sqlInsertEvent = `INSERT INTO events (res, at, state, operation_id, detail) VALUES (?, ?, ?, ?, ?)`
)

var eventStatements = []string{sqlFindEventName, sqlAddEventName, sqlFindEventDetail, sqlAddEventDetail,
	sqlFindEventState, sqlAddEventState, sqlInsertEvent}

// eventRefsMax bounds each table's remembered references; past it the
// table's are forgotten and learnt again.
const eventRefsMax = 1 << 14

// eventRefs are the references of name, state and detail rows, by text.
type eventRefs struct {
	names, states, details map[string]int64
}

// knownRefs are the references committed transactions learnt.
type knownRefs struct {
	mu   sync.Mutex
	refs eventRefs
	// era counts the compactions and resets: a transaction that began in
	// an earlier one may have learnt a reference to a row gone since.
	era int64
}

// forget drops every reference, for a compaction or a reset, in its
// transaction.
func (k *knownRefs) forget() {
	k.mu.Lock()
	k.refs, k.era = eventRefs{}, k.era+1
	k.mu.Unlock()
}

// eventWriter writes the events of one transaction, learning references.
type eventWriter struct {
	s   *Store
	tx  *sql.Tx
	era int64
	new eventRefs // learnt in this transaction
}

func (s *Store) eventWriter(tx *sql.Tx) *eventWriter {
	s.known.mu.Lock()
	defer s.known.mu.Unlock()
	return &eventWriter{s: s, tx: tx, era: s.known.era}
}

// keep remembers what w learnt, once its transaction has committed.
func (w *eventWriter) keep() {
	k := &w.s.known
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.era != w.era {
		return
	}
	for _, t := range []struct{ known, learnt *map[string]int64 }{
		{&k.refs.names, &w.new.names}, {&k.refs.states, &w.new.states}, {&k.refs.details, &w.new.details},
	} {
		if *t.known == nil || len(*t.known)+len(*t.learnt) > eventRefsMax {
			*t.known = make(map[string]int64, len(*t.learnt))
		}
		for text, ref := range *t.learnt {
			(*t.known)[text] = ref
		}
	}
}

// ref is the reference of text, known or found or added in w's
// transaction (find and add are its table's statements, both taking
// args); table picks the table's map of an eventRefs.
func (w *eventWriter) ref(ctx context.Context, table func(*eventRefs) *map[string]int64, text, find, add string, args ...any) (int64, error) {
	learnt := table(&w.new)
	if ref, ok := (*learnt)[text]; ok {
		return ref, nil
	}
	w.s.known.mu.Lock()
	ref, ok := (*table(&w.s.known.refs))[text]
	w.s.known.mu.Unlock()
	if ok {
		return ref, nil
	}
	err := w.tx.StmtContext(ctx, w.s.stmts[find]).QueryRowContext(ctx, args...).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		var res sql.Result
		if res, err = w.s.exec(ctx, w.tx, add, args...); err == nil {
			ref, err = res.LastInsertId()
		}
	}
	if err != nil {
		return 0, err
	}
	if *learnt == nil {
		*learnt = map[string]int64{}
	}
	(*learnt)[text] = ref
	return ref, nil
}

func names(r *eventRefs) *map[string]int64   { return &r.names }
func states(r *eventRefs) *map[string]int64  { return &r.states }
func details(r *eventRefs) *map[string]int64 { return &r.details }

// insert writes e and returns its Seq.
func (w *eventWriter) insert(ctx context.Context, e store.Event) (int64, error) {
	at, err := store.EventUnixNano(e)
	if err != nil {
		return 0, err
	}
	res, err := w.ref(ctx, names, e.VMID, sqlFindEventName, sqlAddEventName, store.NameHash(e.VMID), e.VMID)
	if err != nil {
		return 0, fmt.Errorf("name: %w", err)
	}
	state, err := w.ref(ctx, states, e.ProvisioningState+"\x00"+e.ProvisioningCode+"\x00"+e.PowerState+"\x00"+e.OperationKind,
		sqlFindEventState, sqlAddEventState, e.ProvisioningState, e.ProvisioningCode, e.PowerState, e.OperationKind)
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	var detail any // NULL for none
	if e.Detail != nil {
		d := string(e.Detail)
		if detail, err = w.ref(ctx, details, d, sqlFindEventDetail, sqlAddEventDetail, store.DetailHash(d), d); err != nil {
			return 0, fmt.Errorf("detail: %w", err)
		}
	}
	r, err := w.s.exec(ctx, w.tx, sqlInsertEvent, res, at, state, operationIDArg(e.OperationID), detail)
	if err != nil {
		return 0, err
	}
	// The last insert rowid of an INTEGER PRIMARY KEY table is the key.
	return r.LastInsertId()
}

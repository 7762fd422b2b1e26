package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/azemu/azemu/internal/store"
)

// An event row refers to its name, state and detail rows
// (0006_compact_events.sql), names and details packed, their scopes kept
// in rows of their own (eventtext.go). The references that committed
// transactions wrote or read are kept in memory, so that an event of a
// known VM, state and detail is one insert. A transaction's own are kept
// once it has committed, unless a compaction, which deletes the rows no
// event refers to, or a reset began since it did: either forgets them all.
const (
	sqlFindEventName   = `SELECT ref FROM event_names WHERE hash = ? AND name = ?`
	sqlAddEventName    = `INSERT INTO event_names (hash, name) VALUES (?, ?)`
	sqlFindEventDetail = `SELECT ref FROM event_details WHERE hash = ? AND detail = ?`
	sqlAddEventDetail  = `INSERT INTO event_details (hash, detail) VALUES (?, ?)`
	sqlFindEventScope  = `SELECT ref FROM event_scopes WHERE scope = ?`
	sqlAddEventScope   = `INSERT INTO event_scopes (scope) VALUES (?)`
	sqlFindEventState  = `SELECT ref FROM event_states
		WHERE provisioning_state = ? AND provisioning_code = ? AND power_state = ? AND operation_kind = ?`
	sqlAddEventState = `INSERT INTO event_states (provisioning_state, provisioning_code, power_state, operation_kind)
		VALUES (?, ?, ?, ?)`
)

// eventRows inserts the events of an Apply, many rows to a statement
// (rows.go), in the order their Seqs follow.
var eventRows = newMultiRow(`INSERT OR FAIL INTO events (res, at, state, operation_id, detail) VALUES `,
	`(?, ?, ?, ?, ?)`, ``)

var eventStatements = slices.Concat([]string{sqlFindEventName, sqlAddEventName, sqlFindEventDetail, sqlAddEventDetail,
	sqlFindEventScope, sqlAddEventScope, sqlFindEventState, sqlAddEventState}, eventRows.bySize)

// eventColumns are store.EventColumns as SQLite keeps them, from
// store.EventTables: the name packed (eventtext.go), in the order
// scanEvent takes them.
const eventColumns = `e.seq, n.name, e.at, s.provisioning_state, s.provisioning_code, s.power_state,
	e.operation_id, s.operation_kind, d.detail`

// textHash is the hash column of a name (store.NameHash) or a detail
// (store.DetailHash of the packed text) as SQLite keeps it: a signed 32-bit
// integer, 4 bytes in a row and an index entry, where the unsigned one
// over 2^31 took 6.
func textHash(h int64) int64 { return int64(int32(uint32(h))) }

// eventRefsMax bounds each table's remembered references; past it the
// table's are forgotten and learnt again.
const eventRefsMax = 1 << 14

// eventRefs are the references of name, state, detail and scope rows, by
// text (a name's and a detail's unpacked).
type eventRefs struct {
	names, states, details, scopes map[string]int64
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
		{&k.refs.scopes, &w.new.scopes},
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
// transaction (find and add are its table's statements, both taking the
// arguments args makes, called only when text is not known); table picks
// the table's map of an eventRefs.
func (w *eventWriter) ref(ctx context.Context, table func(*eventRefs) *map[string]int64, text, find, add string, args func() ([]any, error)) (int64, error) {
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
	a, err := args()
	if err != nil {
		return 0, err
	}
	err = w.tx.StmtContext(ctx, w.s.stmts[find]).QueryRowContext(ctx, a...).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		var res sql.Result
		if res, err = w.s.exec(ctx, w.tx, add, a...); err == nil {
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
func scopes(r *eventRefs) *map[string]int64  { return &r.scopes }

// scopeRef is the reference of a scope's row, for packEventText.
func (w *eventWriter) scopeRef(ctx context.Context) func(string) (int64, error) {
	return func(scope string) (int64, error) {
		return w.ref(ctx, scopes, scope, sqlFindEventScope, sqlAddEventScope, func() ([]any, error) { return []any{scope}, nil })
	}
}

// row is the parameters of e's row in eventRows, the rows it refers to
// found or added.
func (w *eventWriter) row(ctx context.Context, e store.Event) ([]any, error) {
	at, err := store.EventUnixNano(e)
	if err != nil {
		return nil, err
	}
	res, err := w.ref(ctx, names, e.VMID, sqlFindEventName, sqlAddEventName, func() ([]any, error) {
		name, err := packEventText(e.VMID, w.scopeRef(ctx))
		return []any{textHash(store.NameHash(e.VMID)), name}, err
	})
	if err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	state, err := w.ref(ctx, states, e.ProvisioningState+"\x00"+e.ProvisioningCode+"\x00"+e.PowerState+"\x00"+e.OperationKind,
		sqlFindEventState, sqlAddEventState, func() ([]any, error) {
			return []any{e.ProvisioningState, e.ProvisioningCode, e.PowerState, e.OperationKind}, nil
		})
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	var detail any // NULL for none
	if e.Detail != nil {
		d := string(e.Detail)
		if detail, err = w.ref(ctx, details, d, sqlFindEventDetail, sqlAddEventDetail, func() ([]any, error) {
			packed, err := packEventText(d, w.scopeRef(ctx))
			return []any{textHash(store.DetailHash(string(packed))), packed}, err
		}); err != nil {
			return nil, fmt.Errorf("detail: %w", err)
		}
	}
	return []any{res, at, state, operationIDArg(e.OperationID), detail}, nil
}

// scanEvent reads a row of eventColumns, unpacking its name and detail by
// unpack.
func scanEvent(rows *sql.Rows, unpack func([]byte) (string, error)) (store.Event, error) {
	var seq, at int64
	var name, detail sql.RawBytes // read before the next row
	var state, code, power, kind string
	var opID any
	if err := rows.Scan(&seq, &name, &at, &state, &code, &power, &opID, &kind, &detail); err != nil {
		return store.Event{}, err
	}
	id, err := unpack(name)
	if err != nil {
		return store.Event{}, fmt.Errorf("event %d: name: %w", seq, err)
	}
	var d *string
	if detail != nil {
		text, err := unpack(detail)
		if err != nil {
			return store.Event{}, fmt.Errorf("event %d: detail: %w", seq, err)
		}
		d = &text
	}
	return store.ScannedEvent(seq, id, at, state, code, power, operationIDOf(opID), kind, d), nil
}

package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The SQL backends keep checkpoints in the same table and compact alike:
// the statements here are theirs, written with ? parameters, which the
// PostgreSQL backend numbers (Numbered).

// Statement is one SQL statement both SQL backends run.
type Statement struct {
	SQL  string
	Args []any
	// Deleted, when not nil, is where the rows it deletes are counted.
	Deleted *int64
	// What it writes, for an error.
	What string
}

// Numbered is the statement with its ? parameters numbered $1, $2, ...,
// as PostgreSQL writes them. No statement here has a ? of its own.
func (s Statement) Numbered() string {
	var b strings.Builder
	n := 0
	for _, r := range s.SQL {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CompactStatements are the statements of one Compact, in order, counting
// what they delete into out. Run in one transaction, they are c. refs
// gives the references of a key's names (see NameRefs), read in that
// transaction; inProgress is how the backend's operations keep the status
// InProgress.
func CompactStatements(c Compaction, out *Compacted, inProgress any, refs func(key string) ([]int64, error)) ([]Statement, error) {
	horizon, _, err := UnixNano(c.Horizon)
	if err != nil {
		return nil, fmt.Errorf("horizon: %w", err)
	}
	opsBefore, _, err := UnixNano(c.OperationsBefore)
	if err != nil {
		return nil, fmt.Errorf("operations: %w", err)
	}
	// Running accounts saved before are of a history that is no more.
	stmts := []Statement{{SQL: `DELETE FROM accounts`, What: "saved accounts"}}
	ids := slices.Clone(c.Resources)
	for _, cp := range c.Checkpoints {
		ids = append(ids, cp.Event.VMID)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		key := Key(id)
		if seen[key] {
			continue
		}
		seen[key] = true
		stmts = append(stmts, Statement{SQL: `DELETE FROM checkpoints WHERE vm_key = ?`, Args: []any{key}, What: "checkpoint of " + id})
		names, err := refs(key)
		if err != nil {
			return nil, fmt.Errorf("names of %s: %w", id, err)
		}
		for _, ref := range names {
			stmts = append(stmts, Statement{SQL: `DELETE FROM events WHERE res = ? AND at < ?`, Args: []any{ref, horizon},
				Deleted: &out.Events, What: "events of " + id})
		}
	}
	if c.Resources == nil {
		stmts = append(stmts,
			Statement{SQL: `DELETE FROM checkpoints WHERE at < ?`, Args: []any{horizon}, What: "checkpoints"},
			Statement{SQL: `DELETE FROM events WHERE at < ?`, Args: []any{horizon}, Deleted: &out.Events, What: "events"})
		// The last part of a compaction: what no event refers to goes.
		stmts = append(stmts, unusedEventRows...)
	}
	if !c.OperationsBefore.IsZero() {
		stmts = append(stmts, Statement{SQL: `DELETE FROM operations WHERE status <> ? AND end_time < ?`,
			Args: []any{inProgress, opsBefore}, Deleted: &out.Operations, What: "operations"})
	}
	for _, cp := range c.Checkpoints {
		e := cp.Event
		at, err := EventUnixNano(e)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		stmts = append(stmts, Statement{SQL: `INSERT INTO checkpoints (vm_key, ` + CheckpointColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			Args: []any{Key(e.VMID), e.VMID, at, e.ProvisioningState, e.ProvisioningCode, e.PowerState,
				e.OperationID, e.OperationKind, orNull(e.Detail), orNull(cp.Usage)}, What: "checkpoint of " + e.VMID})
	}
	names := make([]string, 0, len(c.Settings))
	for name := range c.Settings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		stmts = append(stmts, Statement{SQL: `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, Args: []any{name, c.Settings[name]}, What: "setting " + name})
	}
	return stmts, nil
}

// CheckpointColumns are the checkpoints table's columns, less its key, in
// the order ScanCheckpoint reads them.
const CheckpointColumns = `vm_id, at, provisioning_state, provisioning_code, power_state, operation_id, operation_kind, detail, usage`

// ScanCheckpoint reads one row of CheckpointColumns through scan (a row's
// Scan, of database/sql or pgx: both fill a **string, nil for NULL).
func ScanCheckpoint(scan func(dest ...any) error) (Checkpoint, error) {
	var cp Checkpoint
	e := &cp.Event
	var at int64
	var detail, usage *string
	if err := scan(&e.VMID, &at, &e.ProvisioningState, &e.ProvisioningCode, &e.PowerState,
		&e.OperationID, &e.OperationKind, &detail, &usage); err != nil {
		return cp, err
	}
	e.At = FromUnixNano(at)
	if detail != nil {
		e.Detail = json.RawMessage(*detail)
	}
	if usage != nil {
		cp.Usage = json.RawMessage(*usage)
	}
	return cp, nil
}

// orNull is a JSON document for a TEXT column: NULL when absent.
func orNull(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/azemu/azemu/internal/store"
)

// The statements that write one event (see store.EventColumns), in this
// order: its name, state and detail are added when new (a lookup of the
// text, exact, through its hash), then the event's row takes their
// references. They are queued in Apply's batch, so none waits for
// another's answer; the events lock orders the writers.
const (
	sqlAddEventName = `INSERT INTO event_names (hash, id) SELECT $1::bigint, $2::text
		WHERE NOT EXISTS (SELECT 1 FROM event_names WHERE hash = $1 AND id = $2)`
	sqlAddEventState = `INSERT INTO event_states (provisioning_state, provisioning_code, power_state, operation_kind)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	sqlAddEventDetail = `INSERT INTO event_details (hash, detail) SELECT $1::bigint, $2::text
		WHERE NOT EXISTS (SELECT 1 FROM event_details WHERE hash = $1 AND detail = $2)`
	sqlInsertEvent = `INSERT INTO events (res, at, state, operation_id, detail) VALUES (
		(SELECT ref FROM event_names WHERE hash = $1 AND id = $2), $3,
		(SELECT ref FROM event_states WHERE provisioning_state = $4 AND provisioning_code = $5
		   AND power_state = $6 AND operation_kind = $7),
		$8, (SELECT ref FROM event_details WHERE hash = $9 AND detail = $10)) RETURNING seq`
)

// queueEvent queues the statements that write e; seq receives its Seq.
func queueEvent(b *pgx.Batch, e store.Event, seq *int64) error {
	at, err := store.EventUnixNano(e)
	if err != nil {
		return err
	}
	name := store.NameHash(e.VMID)
	b.Queue(sqlAddEventName, name, e.VMID)
	b.Queue(sqlAddEventState, e.ProvisioningState, e.ProvisioningCode, e.PowerState, e.OperationKind)
	var hash *int64 // NULL: the event's detail reference is NULL too
	var detail *string
	if e.Detail != nil {
		d, h := string(e.Detail), store.DetailHash(string(e.Detail))
		detail, hash = &d, &h
		b.Queue(sqlAddEventDetail, h, d)
	}
	b.Queue(sqlInsertEvent, name, e.VMID, at, e.ProvisioningState, e.ProvisioningCode, e.PowerState,
		e.OperationKind, e.OperationID, hash, detail).QueryRow(func(row pgx.Row) error { return row.Scan(seq) })
	return nil
}

package store

import "hash/fnv"

// The SQL backends keep the history compactly (sqlite 0006_compact_events,
// postgres 0004_compact_events): an event row holds its time, its
// operation's ID and three references, to the resource's ID (event_names),
// to its four state words (event_states) and to its detail
// (event_details), each kept once however many events share it. A fleet's
// events share a handful of states and, per size and region, a detail.
//
// Names and details are found by a 32-bit hash of their text (of a name's
// key): a small integer index rather than a second copy of the text. Two
// texts may share a hash, so a lookup compares the text itself too, and a
// lookup by key keeps only the names whose key it is (NameRefs,
// KeepsEvent).

// textHash is the lookup hash of a name's key or of a detail.
func textHash(s string) int64 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int64(h.Sum32())
}

// NameHash is the hash under which the names of the key of id are kept.
func NameHash(id string) int64 { return textHash(Key(id)) }

// DetailHash is the hash under which a detail is kept.
func DetailHash(detail string) int64 { return textHash(detail) }

// EventColumns are what History reads of an event, joined with its
// references, in the order ScannedEvent takes them; EventTables are where.
const (
	EventColumns = `e.seq, n.id, e.at, s.provisioning_state, s.provisioning_code, s.power_state,
		e.operation_id, s.operation_kind, d.detail`
	EventTables = `events e JOIN event_names n ON n.ref = e.res JOIN event_states s ON s.ref = e.state
		LEFT JOIN event_details d ON d.ref = e.detail`
	// EventsOfName narrows EventTables to the events whose name has the
	// hash argument: the key's, and any sharing its hash (KeepsEvent).
	EventsOfName = `e.res IN (SELECT ref FROM event_names WHERE hash = ?)`
)

// KeepsEvent reports whether a History scan for key (all when empty) keeps
// an event of vmID: a scan by a name's hash also meets the names that share
// it.
func KeepsEvent(key, vmID string) bool { return key == "" || Key(vmID) == key }

// ScannedEvent assembles an event of EventColumns.
func ScannedEvent(seq int64, vmID string, at int64, state, code, power, opID, kind string, detail *string) Event {
	e := Event{Seq: seq, VMID: vmID, At: FromUnixNano(at), ProvisioningState: state, ProvisioningCode: code,
		PowerState: power, OperationID: opID, OperationKind: kind}
	if detail != nil {
		e.Detail = []byte(*detail)
	}
	return e
}

// NameRefs selects the names that may be a key's (ref, id): the key's
// names are those whose ID has it.
const NameRefs = `SELECT ref, id FROM event_names WHERE hash = ?`

// unusedEventRows drop the names, states and details no event refers to
// any longer, after a compaction: each a set difference, which both
// backends compute in one pass over the events (no index leads from a
// state or a detail to its events).
var unusedEventRows = []Statement{
	{SQL: `DELETE FROM event_names WHERE ref IN (SELECT ref FROM event_names EXCEPT SELECT res FROM events)`, What: "unused names"},
	{SQL: `DELETE FROM event_states WHERE ref IN (SELECT ref FROM event_states EXCEPT SELECT state FROM events)`, What: "unused states"},
	{SQL: `DELETE FROM event_details WHERE ref IN (SELECT ref FROM event_details EXCEPT SELECT detail FROM events)`, What: "unused details"},
}

// KeyRefs are the references of the names of key, read by rows, which runs
// NameRefs with the key's hash and hands each row to each.
func KeyRefs(key string, rows func(hash int64, each func(ref int64, id string)) error) ([]int64, error) {
	var refs []int64
	err := rows(textHash(key), func(ref int64, id string) {
		if Key(id) == key {
			refs = append(refs, ref)
		}
	})
	return refs, err
}

// HashedEventTables are the tables whose rows are found by a hash of a
// column, and that hash: the migration to the compact history fills it in.
var HashedEventTables = []struct {
	Table, Column string
	Hash          func(string) int64
}{
	{"event_names", "id", NameHash},
	{"event_details", "detail", DetailHash},
}

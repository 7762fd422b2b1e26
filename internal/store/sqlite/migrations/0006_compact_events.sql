-- Smaller history. An event repeated its resource's ID twice (cased, and
-- as its key, again in the events_vm_seq index), four state words, an
-- operation's GUID as text and a detail that most events of a resource
-- share: about 700 bytes an event with its indexes. Now each ID, each set
-- of state words and each detail is kept once, in a table of its own, and
-- an event refers to them by number; a GUID is kept as its 16 bytes.
--
-- Names and details are found by a hash of their text (a name's, of its
-- key) which the store computes in Go (store.NameHash, store.DetailHash):
-- this script leaves it 0, and the migration's Go step fills it in the
-- same transaction.
CREATE TABLE event_names (
    ref  INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    id   TEXT NOT NULL
) STRICT;

CREATE TABLE event_states (
    ref                INTEGER PRIMARY KEY,
    provisioning_state TEXT NOT NULL,
    provisioning_code  TEXT NOT NULL,
    power_state        TEXT NOT NULL,
    operation_kind     TEXT NOT NULL,
    UNIQUE (provisioning_state, provisioning_code, power_state, operation_kind)
) STRICT;

CREATE TABLE event_details (
    ref    INTEGER PRIMARY KEY,
    hash   INTEGER NOT NULL,
    detail TEXT NOT NULL
) STRICT;

INSERT INTO event_names (hash, id) SELECT DISTINCT 0, vm_id FROM events;
CREATE INDEX migrating_names ON event_names (id);
INSERT INTO event_states (provisioning_state, provisioning_code, power_state, operation_kind)
SELECT DISTINCT provisioning_state, provisioning_code, power_state, operation_kind FROM events;
INSERT INTO event_details (hash, detail) SELECT DISTINCT 0, detail FROM events WHERE detail IS NOT NULL;
CREATE INDEX migrating_details ON event_details (detail);

-- operation_id is ANY: a lower-case GUID is kept as its 16 bytes (a
-- BLOB), anything else as the TEXT it was.
CREATE TABLE events_compact (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    res          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    state        INTEGER NOT NULL,
    operation_id ANY NOT NULL,
    detail       INTEGER
) STRICT;

INSERT INTO events_compact (seq, res, at, state, operation_id, detail)
SELECT e.seq, n.ref, e.at, s.ref,
       CASE WHEN length(e.operation_id) = 36 AND e.operation_id NOT GLOB '*[^0-9a-f-]*'
                 AND substr(e.operation_id, 9, 1) = '-' AND substr(e.operation_id, 14, 1) = '-'
                 AND substr(e.operation_id, 19, 1) = '-' AND substr(e.operation_id, 24, 1) = '-'
                 AND length(replace(e.operation_id, '-', '')) = 32
            THEN unhex(replace(e.operation_id, '-', '')) ELSE e.operation_id END,
       d.ref
FROM events e
JOIN event_names n ON n.id = e.vm_id
JOIN event_states s ON s.provisioning_state = e.provisioning_state AND s.provisioning_code = e.provisioning_code
                   AND s.power_state = e.power_state AND s.operation_kind = e.operation_kind
LEFT JOIN event_details d ON d.detail = e.detail
ORDER BY e.seq;

-- A Seq is never handed out twice: the new table's counter goes on from
-- the old one's, which may be past the last row (Reset deletes rows).
DELETE FROM sqlite_sequence WHERE name = 'events_compact';
INSERT INTO sqlite_sequence (name, seq) SELECT 'events_compact', seq FROM sqlite_sequence WHERE name = 'events';

DROP TABLE events;
ALTER TABLE events_compact RENAME TO events;
DROP INDEX migrating_names;
DROP INDEX migrating_details;
CREATE INDEX events_at ON events (at);
CREATE INDEX events_res_seq ON events (res, seq);
CREATE INDEX event_names_hash ON event_names (hash);
CREATE INDEX event_details_hash ON event_details (hash);

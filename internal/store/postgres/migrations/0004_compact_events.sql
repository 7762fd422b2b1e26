-- Smaller history, as the SQLite backend's 0006_compact_events.sql: each
-- resource ID, each set of state words and each detail is kept once, in a
-- table of its own, and an event refers to them by number. The hashes by
-- which names and details are found are computed in Go (store.NameHash,
-- store.DetailHash): this script leaves them 0, and the migration's Go
-- step fills them in, in the same transaction. The operation's ID stays
-- text here.
CREATE TABLE event_names (
    ref  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash BIGINT NOT NULL,
    id   TEXT NOT NULL
);

CREATE TABLE event_states (
    ref                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provisioning_state TEXT NOT NULL,
    provisioning_code  TEXT NOT NULL,
    power_state        TEXT NOT NULL,
    operation_kind     TEXT NOT NULL,
    UNIQUE (provisioning_state, provisioning_code, power_state, operation_kind)
);

CREATE TABLE event_details (
    ref    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash   BIGINT NOT NULL,
    detail document NOT NULL
);

INSERT INTO event_names (hash, id) SELECT DISTINCT 0, vm_id FROM events;
INSERT INTO event_states (provisioning_state, provisioning_code, power_state, operation_kind)
SELECT DISTINCT provisioning_state, provisioning_code, power_state, operation_kind FROM events;
INSERT INTO event_details (hash, detail) SELECT DISTINCT 0, detail FROM events WHERE detail IS NOT NULL;

-- The table keeps its identity column, so a Seq is never handed out twice.
ALTER TABLE events ADD COLUMN res BIGINT, ADD COLUMN state BIGINT, ADD COLUMN detail_ref BIGINT;
UPDATE events e SET res = n.ref FROM event_names n WHERE n.id = e.vm_id;
UPDATE events e SET state = s.ref FROM event_states s
WHERE s.provisioning_state = e.provisioning_state AND s.provisioning_code = e.provisioning_code
  AND s.power_state = e.power_state AND s.operation_kind = e.operation_kind;
UPDATE events e SET detail_ref = d.ref FROM event_details d WHERE d.detail = e.detail;
ALTER TABLE events
    DROP COLUMN vm_key, DROP COLUMN vm_id, DROP COLUMN provisioning_state, DROP COLUMN provisioning_code,
    DROP COLUMN power_state, DROP COLUMN operation_kind, DROP COLUMN detail,
    ALTER COLUMN res SET NOT NULL, ALTER COLUMN state SET NOT NULL;
ALTER TABLE events RENAME COLUMN detail_ref TO detail;

CREATE INDEX events_res_seq ON events (res, seq);
CREATE INDEX event_names_hash ON event_names (hash);
CREATE INDEX event_details_hash ON event_details (hash);

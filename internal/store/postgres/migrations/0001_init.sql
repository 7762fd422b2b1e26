-- The schema of the SQLite backend, in PostgreSQL's words. Keys (*_key
-- columns) are computed in Go with store.Key, so both backends fold case
-- alike.

-- An instant as Unix nanoseconds, NULL for the zero time (store.UnixNano):
-- timestamptz keeps only microseconds.
CREATE DOMAIN instant AS BIGINT;
-- A JSON document, kept byte for byte: jsonb would reorder it, json would
-- refuse an empty one.
CREATE DOMAIN document AS TEXT;

CREATE TABLE subscriptions (
    sub_key    TEXT PRIMARY KEY,
    id         TEXT NOT NULL,
    created_at instant
);

CREATE TABLE resource_groups (
    sub_key         TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    body            document,
    version         BIGINT NOT NULL,
    created_at      instant,
    PRIMARY KEY (sub_key, name_key)
);

CREATE TABLE vms (
    vm_key          TEXT PRIMARY KEY,
    id              TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    resource_group  TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    model           document,
    state           document,
    version         BIGINT NOT NULL,
    due_at          instant,
    created_at      instant,
    updated_at      instant
);

-- The engine's scheduler looks for the VMs due soonest.
CREATE INDEX vms_due_at ON vms (due_at);

CREATE TABLE resources (
    res_key         TEXT PRIMARY KEY,
    id              TEXT NOT NULL,
    type            TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    resource_group  TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    body            document,
    version         BIGINT NOT NULL,
    created_at      instant,
    updated_at      instant
);

-- A sequence never hands out a number twice, not even after Reset deletes
-- the newest rows: billing may keep a cursor on seq.
CREATE TABLE events (
    seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vm_key             TEXT NOT NULL,
    vm_id              TEXT NOT NULL,
    at                 instant NOT NULL,
    provisioning_state TEXT NOT NULL,
    provisioning_code  TEXT NOT NULL,
    power_state        TEXT NOT NULL,
    operation_id       TEXT NOT NULL,
    operation_kind     TEXT NOT NULL,
    detail             document
);

CREATE INDEX events_at ON events (at);
CREATE INDEX events_vm_seq ON events (vm_key, seq);

CREATE TABLE operations (
    op_key          TEXT PRIMARY KEY,
    id              TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    location        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    status          TEXT NOT NULL,
    start_time      instant,
    end_time        instant,
    error           document,
    result          document
);

-- Load reads the InProgress ones out of an ever-growing table.
CREATE INDEX operations_status ON operations (status);

-- Emulator-wide settings that must survive a restart, such as where a
-- manual clock stood.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

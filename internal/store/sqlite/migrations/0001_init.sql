-- Initial schema. Keys (*_key columns) are computed in Go with store.Key,
-- because SQLite's lower() folds ASCII only and would disagree with
-- strings.ToLower on non-ASCII names. Times are Unix nanoseconds, NULL for
-- the zero time.

CREATE TABLE subscriptions (
    sub_key    TEXT PRIMARY KEY,
    id         TEXT NOT NULL,
    created_at INTEGER
) STRICT;

CREATE TABLE resource_groups (
    sub_key         TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    body            TEXT,
    version         INTEGER NOT NULL,
    created_at      INTEGER,
    PRIMARY KEY (sub_key, name_key)
) STRICT;

CREATE TABLE vms (
    vm_key          TEXT PRIMARY KEY,
    id              TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    resource_group  TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    model           TEXT,
    state           TEXT,
    version         INTEGER NOT NULL,
    due_at          INTEGER,
    created_at      INTEGER,
    updated_at      INTEGER
) STRICT;

-- The engine's scheduler looks for the VMs due soonest.
CREATE INDEX vms_due_at ON vms (due_at);

-- AUTOINCREMENT so that a Seq is never handed out twice, not even after the
-- newest rows are deleted by Reset: billing may keep a cursor on it.
CREATE TABLE events (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    vm_key             TEXT NOT NULL,
    vm_id              TEXT NOT NULL,
    at                 INTEGER NOT NULL,
    provisioning_state TEXT NOT NULL,
    provisioning_code  TEXT NOT NULL,
    power_state        TEXT NOT NULL,
    operation_id       TEXT NOT NULL,
    operation_kind     TEXT NOT NULL,
    detail             TEXT
) STRICT;

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
    start_time      INTEGER,
    end_time        INTEGER,
    error           TEXT,
    result          TEXT
) STRICT;

-- Load reads the InProgress ones out of an ever-growing table.
CREATE INDEX operations_status ON operations (status);

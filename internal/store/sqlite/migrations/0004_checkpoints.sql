-- Retention: the history before a horizon is compacted into one checkpoint
-- per resource (its state at the horizon, and what it used before it), from
-- which billing starts; finished operations older than it are dropped.
CREATE TABLE checkpoints (
    vm_key             TEXT PRIMARY KEY,
    vm_id              TEXT NOT NULL,
    at                 INTEGER NOT NULL,
    provisioning_state TEXT NOT NULL,
    provisioning_code  TEXT NOT NULL,
    power_state        TEXT NOT NULL,
    operation_id       TEXT NOT NULL,
    operation_kind     TEXT NOT NULL,
    detail             TEXT,
    usage              TEXT
) STRICT;

-- Compaction finds the finished operations that ended before the horizon.
CREATE INDEX operations_end_time ON operations (end_time);

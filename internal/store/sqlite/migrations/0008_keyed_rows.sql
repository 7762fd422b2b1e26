-- Keys kept once, and packed. The vms, vm_models and resources tables were
-- keyed by the lower-case ID (about 140 bytes), kept in each row and again
-- in the table's unique index: about 300 bytes a table and a row. Now a
-- table of keys, WITHOUT ROWID so that a key is kept once, gives each key's
-- row number (ref); the rows are numbered, and a VM's model row has its
-- VM's number. A key is packed (keys.go), which this script cannot do: it
-- keeps the old keys in migrating_* tables, and the migration's Go step
-- packs them into vm_keys and res_keys in the same transaction.
--
-- The rows are numbered in the old key order, so Load, which reads them by
-- number, reads a migrated file in the order it did.
--
-- The index on vms.due_at goes: no query reads it (the engine keeps what is
-- due in memory), and every step rewrote an entry of it.

CREATE TABLE migrating_vm_keys (
    ref    INTEGER PRIMARY KEY,
    vm_key TEXT NOT NULL UNIQUE
) STRICT;

INSERT INTO migrating_vm_keys (vm_key) SELECT vm_key FROM vms ORDER BY vm_key;

CREATE TABLE vms_keyed (
    ref             INTEGER PRIMARY KEY,
    id              TEXT,
    subscription_id TEXT NOT NULL,
    resource_group  TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    state           TEXT,
    version         INTEGER NOT NULL,
    due_at          INTEGER,
    created_at      INTEGER,
    updated_at      INTEGER
) STRICT;

INSERT INTO vms_keyed (ref, id, subscription_id, resource_group, name, location, state, version, due_at, created_at, updated_at)
SELECT k.ref, v.id, v.subscription_id, v.resource_group, v.name, v.location, v.state, v.version, v.due_at, v.created_at, v.updated_at
FROM vms v JOIN migrating_vm_keys k ON k.vm_key = v.vm_key ORDER BY k.ref;

-- A model whose VM is gone (none should be) was never loaded, and goes.
CREATE TABLE vm_models_keyed (
    ref   INTEGER PRIMARY KEY,
    model TEXT
) STRICT;

INSERT INTO vm_models_keyed (ref, model)
SELECT k.ref, m.model FROM vm_models m JOIN migrating_vm_keys k ON k.vm_key = m.vm_key ORDER BY k.ref;

DROP TABLE vms;
DROP TABLE vm_models;
ALTER TABLE vms_keyed RENAME TO vms;
ALTER TABLE vm_models_keyed RENAME TO vm_models;

CREATE TABLE migrating_res_keys (
    ref     INTEGER PRIMARY KEY,
    res_key TEXT NOT NULL UNIQUE
) STRICT;

INSERT INTO migrating_res_keys (res_key) SELECT res_key FROM resources ORDER BY res_key;

CREATE TABLE resources_keyed (
    ref             INTEGER PRIMARY KEY,
    id              TEXT,
    type            TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    resource_group  TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    body            TEXT,
    version         INTEGER NOT NULL,
    created_at      INTEGER,
    updated_at      INTEGER
) STRICT;

INSERT INTO resources_keyed (ref, id, type, subscription_id, resource_group, name, location, body, version, created_at, updated_at)
SELECT k.ref, r.id, r.type, r.subscription_id, r.resource_group, r.name, r.location, r.body, r.version, r.created_at, r.updated_at
FROM resources r JOIN migrating_res_keys k ON k.res_key = r.res_key ORDER BY k.ref;

DROP TABLE resources;
ALTER TABLE resources_keyed RENAME TO resources;

CREATE TABLE vm_keys (
    vm_key TEXT PRIMARY KEY,
    ref    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE res_keys (
    res_key TEXT PRIMARY KEY,
    ref     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Compressed documents. A VM's state (about 740 bytes of JSON at rest,
-- 1.2 KB while a plan runs) and a resource's body are mostly words that
-- every VM's or disk's share: they are now kept compressed against a
-- preset dictionary (compress.go), in a BLOB column, which a STRICT table
-- cannot change in place. compress_document is the store's own function:
-- a document that compressing does not shorten is kept as it was.

CREATE TABLE vms_compressed (
    ref             INTEGER PRIMARY KEY,
    id              TEXT,
    subscription_id TEXT NOT NULL,
    resource_group  TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    state           BLOB,
    version         INTEGER NOT NULL,
    due_at          INTEGER,
    created_at      INTEGER,
    updated_at      INTEGER
) STRICT;

INSERT INTO vms_compressed (ref, id, subscription_id, resource_group, name, location, state, version, due_at, created_at, updated_at)
SELECT ref, id, subscription_id, resource_group, name, location, compress_document(state), version, due_at, created_at, updated_at
FROM vms ORDER BY ref;

DROP TABLE vms;
ALTER TABLE vms_compressed RENAME TO vms;

CREATE TABLE resources_compressed (
    ref             INTEGER PRIMARY KEY,
    id              TEXT,
    type            TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    resource_group  TEXT NOT NULL,
    name            TEXT NOT NULL,
    location        TEXT NOT NULL,
    body            BLOB,
    version         INTEGER NOT NULL,
    created_at      INTEGER,
    updated_at      INTEGER
) STRICT;

INSERT INTO resources_compressed (ref, id, type, subscription_id, resource_group, name, location, body, version, created_at, updated_at)
SELECT ref, id, type, subscription_id, resource_group, name, location, compress_document(body), version, created_at, updated_at
FROM resources ORDER BY ref;

DROP TABLE resources;
ALTER TABLE resources_compressed RENAME TO resources;

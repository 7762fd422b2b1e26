-- Resources other than VMs (managed disks first): each keeps its ARM body
-- and an engine-owned document, versioned like a VM.
CREATE TABLE resources (
    res_key         TEXT PRIMARY KEY,
    id              TEXT NOT NULL,
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

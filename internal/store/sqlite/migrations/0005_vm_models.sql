-- Smaller VM rows. With its model and its ID a VM's row took about 2.4 KB,
-- so each filled a 4 KiB page alone and left 40% of the vms table empty.
-- The model now has a row of its own, written only when it changes (a
-- fired step changes the state alone), and the id column is NULL when the
-- ID is the canonical one its subscription, group and name make (every
-- standalone VM's), which Load builds again: three rows of each table fit
-- a page.
CREATE TABLE vm_models (
    vm_key TEXT PRIMARY KEY,
    model  TEXT
) STRICT;

INSERT INTO vm_models (vm_key, model) SELECT vm_key, model FROM vms;

CREATE TABLE vms_compact (
    vm_key          TEXT PRIMARY KEY,
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

INSERT INTO vms_compact (vm_key, id, subscription_id, resource_group, name, location, state, version, due_at, created_at, updated_at)
SELECT vm_key,
       CASE WHEN id = '/subscriptions/' || subscription_id || '/resourceGroups/' || resource_group ||
                      '/providers/Microsoft.Compute/virtualMachines/' || name THEN NULL ELSE id END,
       subscription_id, resource_group, name, location, state, version, due_at, created_at, updated_at
FROM vms;

DROP TABLE vms;
ALTER TABLE vms_compact RENAME TO vms;
CREATE INDEX vms_due_at ON vms (due_at);

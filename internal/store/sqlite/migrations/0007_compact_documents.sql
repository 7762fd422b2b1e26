-- Smaller VM and resource rows. A VM's state and model and a resource's
-- body name resources of their own group by ID, each beginning with the
-- scope /subscriptions/{sub}/resourceGroups/{group}/providers/ that the
-- row's columns hold: it is now kept as one byte (see documents.go). A
-- resource's id column is NULL when the ID is the top-level one its
-- group, type and name make, as a VM's is (0005_vm_models.sql).

-- A document that holds a byte 1 to 3 (never unescaped in JSON) is kept
-- whole behind byte 3; one that holds its scope is kept behind byte 2,
-- each scope as byte 1.
UPDATE vms SET state = char(3) || state
WHERE instr(state, char(1)) > 0 OR instr(state, char(2)) > 0 OR instr(state, char(3)) > 0;
UPDATE vms SET state = char(2) || replace(state, '/subscriptions/' || subscription_id || '/resourceGroups/' || resource_group || '/providers/', char(1))
WHERE instr(state, char(1)) = 0 AND instr(state, char(2)) = 0 AND instr(state, char(3)) = 0
  AND instr(state, '/subscriptions/' || subscription_id || '/resourceGroups/' || resource_group || '/providers/') > 0;

-- A model's scope is its VM's, found through the vms key.
UPDATE vm_models SET model = char(3) || model
WHERE instr(model, char(1)) > 0 OR instr(model, char(2)) > 0 OR instr(model, char(3)) > 0;
UPDATE vm_models SET model = char(2) || replace(model, (SELECT '/subscriptions/' || v.subscription_id || '/resourceGroups/' ||
    v.resource_group || '/providers/' FROM vms v WHERE v.vm_key = vm_models.vm_key), char(1))
WHERE instr(model, char(1)) = 0 AND instr(model, char(2)) = 0 AND instr(model, char(3)) = 0
  AND instr(model, (SELECT '/subscriptions/' || v.subscription_id || '/resourceGroups/' || v.resource_group || '/providers/'
                    FROM vms v WHERE v.vm_key = vm_models.vm_key)) > 0;

CREATE TABLE resources_compact (
    res_key         TEXT PRIMARY KEY,
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

INSERT INTO resources_compact (res_key, id, type, subscription_id, resource_group, name, location, body, version, created_at, updated_at)
SELECT res_key,
       CASE WHEN id = '/subscriptions/' || subscription_id || '/resourceGroups/' || resource_group || '/providers/' || type || '/' || name
            THEN NULL ELSE id END,
       type, subscription_id, resource_group, name, location,
       CASE WHEN instr(body, char(1)) > 0 OR instr(body, char(2)) > 0 OR instr(body, char(3)) > 0 THEN char(3) || body
            WHEN instr(body, '/subscriptions/' || subscription_id || '/resourceGroups/' || resource_group || '/providers/') > 0
            THEN char(2) || replace(body, '/subscriptions/' || subscription_id || '/resourceGroups/' || resource_group || '/providers/', char(1))
            ELSE body END,
       version, created_at, updated_at
FROM resources ORDER BY res_key;

DROP TABLE resources;
ALTER TABLE resources_compact RENAME TO resources;

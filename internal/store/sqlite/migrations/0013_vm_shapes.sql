-- A VM's model kept by shape. A model was kept whole, about 1 KB a VM,
-- though a fleet made by one template repeats all of it but a few strings:
-- the engine already keeps it in memory as a jsonshape.Doc, a skeleton
-- shared by the models of its shape (with the strings of the model that
-- made it) and the VM's own strings. SQLite now keeps the same split:
-- vm_shapes holds each shape's text once, found by a hash of it, and a
-- model row its shape's reference and the VM's own part (a BLOB), or, for
-- a model with no shape, a NULL shape and the whole model, packed as
-- before (documents.go).
--
-- Splitting a model is done in Go (jsonshape): this script sets the old
-- rows aside, and the migration's Go step splits them into the new table
-- and drops the old one, in the same transaction.
CREATE TABLE vm_shapes (
    ref   INTEGER PRIMARY KEY,
    hash  INTEGER NOT NULL,
    shape TEXT NOT NULL
) STRICT;
CREATE INDEX vm_shapes_hash ON vm_shapes (hash);

ALTER TABLE vm_models RENAME TO migrating_vm_models;

CREATE TABLE vm_models (
    ref   INTEGER PRIMARY KEY,
    shape INTEGER,
    model BLOB
) STRICT;

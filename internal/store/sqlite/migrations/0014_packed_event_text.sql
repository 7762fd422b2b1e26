-- Packed history names and details (eventtext.go). A name was its
-- resource's whole ARM ID, and an OS disk's detail named its VM by ID:
-- about 145 bytes each, mostly the scope
-- /subscriptions/{sub}/resourceGroups/{group}/providers/ that a group's
-- IDs share, about 640 bytes a VM with the hash indexes. Now each scope is
-- kept once, in event_scopes, and a name or a detail writes it as a byte
-- and its row's number, and each of a few common words (types, the
-- details' keys and values) as a byte. A hash is kept as a signed 32-bit
-- integer.
--
-- The packing is the store's Go code: this script makes the tables, and
-- the migration's Go step fills them, a chunk at a time, keeping each
-- row's number so that the events, which refer to them, are not rewritten,
-- then replaces the old tables and makes the hash indexes.

-- AUTOINCREMENT: a scope's number never names another scope, even after a
-- reset, so that a reader may remember what a number names.
CREATE TABLE event_scopes (
    ref   INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE event_names_packed (
    ref  INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    name BLOB NOT NULL
) STRICT;

CREATE TABLE event_details_packed (
    ref    INTEGER PRIMARY KEY,
    hash   INTEGER NOT NULL,
    detail BLOB NOT NULL
) STRICT;

-- The index on vms.due_at goes, as in the SQLite backend's
-- 0008_keyed_rows.sql: no query reads it (the engine keeps what is due in
-- memory), and while it stood every step that moved a VM's due time had to
-- write a new entry in each of the table's indexes; without it such an
-- update changes no indexed column, so PostgreSQL can make it a heap-only
-- (HOT) update that writes no index at all.
DROP INDEX IF EXISTS vms_due_at;

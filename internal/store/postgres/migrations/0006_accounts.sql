-- The running accounts a reader of the history saves (the dashboard's
-- ledger: what each resource has cost up to an event), in parts of a form
-- of its own, so that a start reads them and the events after them instead
-- of the whole history. Compaction and reset empty the table.
CREATE TABLE accounts (
    part integer PRIMARY KEY,
    body bytea NOT NULL
);

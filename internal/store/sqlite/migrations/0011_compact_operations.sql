-- Smaller operations (operations.go). A row kept its lower-case ID as its
-- key and again as its ID, its subscription's GUID as text, its target's
-- whole ARM ID and its status as a word, with three indexes: about 400
-- bytes an operation. Now the key is a GUID's 16 bytes, kept once (the
-- table is WITHOUT ROWID), the ID only when it differs from the key's
-- text, the subscription's GUID as 16 bytes, the target packed and the
-- status a small integer. pack_operation_key, pack_subscription,
-- pack_target and operation_status are the store's own functions.
--
-- Load reads the operations in progress through a partial index, a few
-- entries; nothing reads the status or end-time index any longer (a
-- compaction, daily at most, reads the table whole).

CREATE TABLE operations_compact (
    op              ANY NOT NULL PRIMARY KEY,
    id              TEXT,
    subscription_id ANY NOT NULL,
    location        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    status          ANY NOT NULL,
    start_time      INTEGER,
    end_time        INTEGER,
    error           TEXT,
    result          TEXT
) STRICT, WITHOUT ROWID;

INSERT INTO operations_compact (op, id, subscription_id, location, kind, target, status, start_time, end_time, error, result)
SELECT pack_operation_key(op_key), CASE WHEN id = op_key THEN NULL ELSE id END, pack_subscription(subscription_id),
       location, kind, pack_target(target_id, subscription_id), operation_status(status), start_time, end_time, error, result
FROM operations ORDER BY op_key;

DROP TABLE operations;
ALTER TABLE operations_compact RENAME TO operations;
CREATE INDEX operations_in_progress ON operations (op) WHERE status = 0;

-- Replicas: every change committed is numbered, gapless, in commit order,
-- and kept for a while as JSON, so that a server that keeps the fleet in
-- memory catches up on what other servers committed (store.Shared).
CREATE TABLE changes (
    seq          BIGINT PRIMARY KEY,
    committed_at BIGINT NOT NULL, -- wall clock, Unix nanoseconds: what pruning reads
    reset        BOOLEAN NOT NULL,
    change       TEXT NOT NULL
);

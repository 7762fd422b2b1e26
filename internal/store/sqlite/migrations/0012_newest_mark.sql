-- The newest instant of the history kept in a row of its own. Newest read
-- it from an index on the events' time (events_at), which nothing else
-- needs (History reads by sequence, by resource through events_res_seq,
-- and a compaction, daily at most, may scan), and from the operations'
-- start and end times, unindexed: a scan of every operation at every
-- start. Each commit now raises the mark to its newest event or
-- operation's time; Reset removes it, and a compaction leaves it, so the
-- clock never goes back to a compacted past.

CREATE TABLE history_newest (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    at  INTEGER NOT NULL
) STRICT;

INSERT INTO history_newest (one, at)
SELECT 1, max(t) FROM (SELECT max(at) AS t FROM events
                       UNION ALL SELECT max(start_time) FROM operations
                       UNION ALL SELECT max(end_time) FROM operations)
HAVING max(t) IS NOT NULL;

DROP INDEX events_at;

package sqlite

import (
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
)

// A commit appends the pages it changed to the WAL; a checkpoint copies
// them into the database file (and syncs both), so that the WAL can start
// again from its beginning. SQLite runs it on the committing connection
// once the WAL passes wal_autocheckpoint pages, inside that commit: with
// one writer, every commit queued behind it waited for the copy. The store
// runs it on a connection of its own instead, beside the writer, after
// about checkpointPages pages of commits. A checkpoint copies only what no reader still
// needs and stops at the last commit before it started, so the writer
// finds the WAL wholly copied, and starts it again, only when no commit
// came in the meantime; the writer still checkpoints itself once the WAL
// passes writerCheckpointPages (it has then only the last commits left to
// copy), which bounds the WAL as before. Which connection copies the
// pages changes nothing of what survives a crash: a checkpoint never
// touches a commit's frames before they are in the WAL, and syncs the WAL
// before it writes the database file.

// checkpointPages is about how many pages the WAL gains between two
// checkpoints beside the writer, as SQLite's default wal_autocheckpoint
// would have them.
const checkpointPages = 1000

// writerCheckpointPages is the writer connection's wal_autocheckpoint: the
// WAL's length, in pages, past which the writer checkpoints at the end of
// its commits (16 MiB of 4 KiB pages).
const writerCheckpointPages = 4096

// checkpointer runs the checkpoints beside the writer.
type checkpointer struct {
	db *sql.DB // one connection of its own
	// commits counts the commits; the checkpointer is woken at the commit
	// numbered next.
	commits, next atomic.Int64
	wake          chan struct{}
	stop          chan struct{}
	stopped       sync.WaitGroup
	// ran is told of each checkpoint run, when it has room, for tests.
	ran chan struct{}
}

// pagesPerCommit is the guess the first checkpoint is timed by: a group
// commit's batch of 32 changes writes about 20 pages.
const pagesPerCommit = 20

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{}), ran: make(chan struct{}, 1)}
	c.next.Store(checkpointPages / pagesPerCommit)
	c.stopped.Add(1)
	go c.run()
	return c
}

// committed counts a commit, and wakes the checkpointer once the WAL has
// gained about checkpointPages since its last checkpoint.
func (c *checkpointer) committed() {
	if c.commits.Add(1) < c.next.Load() {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default: // it is still at the last one
	}
}

func (c *checkpointer) run() {
	defer c.stopped.Done()
	// The WAL's length and the commits at the last checkpoint, and the
	// pages a commit added since: the WAL's pages are SQLite's to count,
	// so the next checkpoint is timed in commits.
	lastPages, lastCommits, perCommit := int64(-1), int64(0), int64(pagesPerCommit)
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		commits := c.commits.Load()
		// A checkpoint that fails (a full disk, a reader in the way)
		// loses nothing: the pages stay in the WAL for the next one, or
		// for the writer's own past writerCheckpointPages.
		var busy, pages, copied int64
		if c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &pages, &copied) == nil {
			// A WAL started again since has fewer pages: keep the
			// last measure.
			if pages > lastPages && lastPages >= 0 && commits > lastCommits {
				perCommit = max(1, (pages-lastPages)/(commits-lastCommits))
			}
			lastPages, lastCommits = pages, commits
			select {
			case c.ran <- struct{}{}:
			default:
			}
		}
		c.next.Store(commits + max(1, checkpointPages/perCommit))
	}
}

// close stops the checkpointer, once any checkpoint it is running ends,
// and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	c.stopped.Wait()
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("checkpointer: %w", err)
	}
	return nil
}

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/azemu/azemu/internal/store"
)

// Bulk is the store of an offline bulk load (azemu seed), made by
// OpenBulk. Its Apply returns once the changes are queued, and a writer
// of its own commits them in order, many to a transaction, so that the
// caller decides the next changes while SQLite writes the last. That
// relaxes two promises of store.Store, which a bulk load does not need:
//
//   - an Apply that returned may yet fail to commit, and with it the
//     changes queued next to it that share its transaction: the failure is
//     returned by the next Apply, Flush or Close, and nothing queued after
//     it is written;
//   - reads (Load, History, Operation) see only what has been written.
//
// The events' Seq are written into the caller's changes as Apply returns,
// as Store.Apply writes them: Apply numbers them as the writer's inserts
// will, after the events queued before, and the writer checks that they
// did (a database that another writer added events to fails the load).
//
// Flush waits for everything queued. Whatever has been written is whole
// transactions, so a load killed part way leaves a consistent database
// that holds at least what was flushed.
type Bulk struct {
	*Store
	queue  chan bulkItem
	wrote  chan struct{} // closed when the writer has ended
	mu     sync.Mutex    // held by a send, which may wait for room
	closed bool
	// nextSeq is the Seq the next event queued is to get; the writer
	// keeps its own count of what it wrote (write).
	nextSeq int64
	errMu   sync.Mutex
	err     error // the first failure, after which nothing more is written
}

// bulkItem is what the writer takes: changes to write, or a Flush waiting
// for everything before it.
type bulkItem struct {
	changes []store.Change
	flushed chan error
}

// Bounds on what the writer holds: how many Apply calls may wait in the
// queue (the caller waits beyond), and how many changes go in one
// transaction.
const (
	bulkQueue    = 8
	bulkTxChange = 4096
)

// OpenBulk opens the database at path, as Open does, for an offline bulk
// load, which trades durability for speed until Close: commits are queued
// (see Bulk) and not synced to the disk (synchronous=OFF), the write
// connection keeps a larger page cache, and the WAL is folded back into
// the database less often. A process killed mid-load still leaves a
// consistent database (every commit reached the operating system); a
// power loss or operating system crash mid-load may not, and the load must
// then start afresh. Close writes what is queued, packs the file into full
// pages (VACUUM) and ends with a synced checkpoint, after which the file is
// as durable as one Open wrote.
func OpenBulk(path string) (*Bulk, error) {
	s, err := open(path, true)
	if err != nil {
		return nil, err
	}
	next, err := nextEventSeq(s)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	b := &Bulk{Store: s, queue: make(chan bulkItem, bulkQueue), wrote: make(chan struct{}), nextSeq: next}
	go b.write(next)
	return b, nil
}

// nextEventSeq is the Seq the next event written gets: one past the
// largest the events ever had (AUTOINCREMENT), which sqlite_sequence
// keeps, even when they have since been deleted.
func nextEventSeq(s *Store) (int64, error) {
	var last int64
	err := s.w.QueryRow(`SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
		coalesce((SELECT max(seq) FROM events), 0))`).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("the events' next number: %w", err)
	}
	return last + 1, nil
}

// Apply queues cs to be written, in one transaction, after every change
// queued before, and writes into cs[i].Events[j].Seq the sequence numbers
// they are to be written with; it returns an earlier failure of the
// writer instead.
func (b *Bulk) Apply(ctx context.Context, cs ...store.Change) error {
	if err := b.failed(); err != nil {
		return err
	}
	// The writer gets events of its own: the store writes each one's Seq
	// back, which the caller may be reading by then.
	own := slices.Clone(cs)
	for i := range own {
		own[i].Events = slices.Clone(own[i].Events)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.sendLocked(ctx, bulkItem{changes: own}); err != nil {
		return err
	}
	// Numbered in the order queued, which is the order written.
	for _, c := range cs {
		for j := range c.Events {
			c.Events[j].Seq = b.nextSeq
			b.nextSeq++
		}
	}
	return nil
}

// Flush returns once every change queued before it is written, with the
// writer's failure if there was one.
func (b *Bulk) Flush(ctx context.Context) error {
	flushed := make(chan error, 1)
	if err := b.send(ctx, bulkItem{flushed: flushed}); err != nil {
		return err
	}
	select {
	case err := <-flushed:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued, stops the writer and closes the store (a
// VACUUM and a synced checkpoint); it returns the writer's failure if there
// was one.
func (b *Bulk) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.wrote
	return errors.Join(b.failed(), b.Store.Close())
}

func (b *Bulk) send(ctx context.Context, it bulkItem) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sendLocked(ctx, it)
}

// sendLocked is send, b.mu held.
func (b *Bulk) sendLocked(ctx context.Context, it bulkItem) error {
	if b.closed {
		return errors.New("sqlite: bulk: the store is closed")
	}
	// Held while waiting for room, so that Close cannot close the queue
	// under a send; the writer takes items without the lock.
	select {
	case b.queue <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Bulk) failed() error {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.err
}

// write is the writer: it takes what is queued, as many changes at once as
// are waiting (up to bulkTxChange), and commits them in one Apply, and
// checks that their events got the Seqs Apply told, from next on.
func (b *Bulk) write(next int64) {
	defer close(b.wrote)
	var batch []store.Change
	var flushes []chan error
	for it := range b.queue {
		batch, flushes = append(batch[:0], it.changes...), flushes[:0]
		if it.flushed != nil {
			flushes = append(flushes, it.flushed)
		}
	more:
		for len(batch) < bulkTxChange && len(flushes) == 0 {
			select {
			case next, ok := <-b.queue:
				if !ok {
					break more
				}
				batch = append(batch, next.changes...)
				if next.flushed != nil {
					flushes = append(flushes, next.flushed)
				}
			default:
				break more
			}
		}
		err := b.failed()
		if err == nil && len(batch) > 0 {
			err = b.Store.Apply(context.Background(), batch...)
			if err == nil {
				next, err = checkSeqs(batch, next)
			}
			if err != nil {
				err = fmt.Errorf("sqlite: bulk: %w", err)
				b.errMu.Lock()
				b.err = err
				b.errMu.Unlock()
			}
		}
		clear(batch) // let the written changes go
		for _, f := range flushes {
			f <- err
		}
	}
}

// checkSeqs checks that the events of written changes were numbered from
// next on, as Apply told their caller, and returns the number after them.
func checkSeqs(written []store.Change, next int64) (int64, error) {
	for _, c := range written {
		for _, ev := range c.Events {
			if ev.Seq != next {
				return next, fmt.Errorf("an event was numbered %d, not %d as it was told: the database was written to by another writer", ev.Seq, next)
			}
			next++
		}
	}
	return next, nil
}

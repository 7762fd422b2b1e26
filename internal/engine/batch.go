package engine

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/azemu/azemu/internal/store"
)

// Group commit: the changes clients ask for at the same time share one
// store transaction, so that the cost of a commit is paid once per batch
// rather than once per change.
//
// A writer queues its decision and waits. Whichever waiting writer takes
// the lead first takes the writer lock (lockWrite: on a shared store the
// fleet lock too, after catching up), drains the queue, and decides each
// change in turn in a tx of its own over the batch's tx (under), so that
// each sees the ones before it; then drains what queued meanwhile, until
// nothing does. A change refused is dropped alone; one decided is absorbed
// into the batch. The batch's changes are then written in one Apply, in
// order, and only once it has committed are they laid into memory, told to
// the observers, and answered, each with its own result. When the commit
// fails, none of them is: memory stays as it was, and every writer of the
// batch gets the error.

// DefaultMaxBatch bounds the changes of one batch (Config.MaxBatch), so
// that a commit stays short however many writers wait.
const DefaultMaxBatch = 512

// pending is one queued decision and, once its batch has ended, its
// outcome.
type pending struct {
	decide func(t *tx) error
	err    error
	// panicked is what decide panicked with, to panic with in the
	// writer's own goroutine.
	panicked any
	stack    []byte
	done     chan struct{}
}

// batcher is the queue of decisions waiting for a batch.
type batcher struct {
	mu    sync.Mutex
	queue []*pending
	// lead is held by the writer running a batch.
	lead chan struct{}
}

func newBatcher() batcher { return batcher{lead: make(chan struct{}, 1)} }

// decide runs decide in a change of the next batch, and returns once the
// batch has ended: nil when the change is committed (or there was none to
// make), decide's error when it refused, the store's when the batch's
// commit failed.
func (e *Engine) decide(ctx context.Context, decide func(t *tx) error) error {
	w := &pending{decide: decide, done: make(chan struct{})}
	q := &e.batches
	q.mu.Lock()
	q.queue = append(q.queue, w)
	q.mu.Unlock()
	for {
		// A writer whose change has been answered leads no more batches.
		select {
		case <-w.done:
		default:
			select {
			case <-w.done:
			case q.lead <- struct{}{}:
				func() {
					defer func() { <-q.lead }() // a panic must not keep the lead
					e.runBatch(ctx, w)
				}()
				continue
			}
		}
		if w.panicked != nil {
			panic(fmt.Sprintf("%v\n\nin the batch's writer:\n%s", w.panicked, w.stack))
		}
		return w.err
	}
}

// runBatch runs the next batch, for the writer of w. Every writer whose
// decision is queued waits to lead, so each batch has a writer to run it.
func (e *Engine) runBatch(ctx context.Context, w *pending) {
	q := &e.batches
	unlock, err := e.lockWrite(ctx)
	if err != nil {
		// Only w's own context may have given up on the lock: the others
		// wait for a writer whose context has not. A w no longer queued
		// has ended in an earlier batch.
		q.mu.Lock()
		for i, p := range q.queue {
			if p == w {
				q.queue = append(q.queue[:i:i], q.queue[i+1:]...)
				w.err = err
				close(w.done)
				break
			}
		}
		q.mu.Unlock()
		return
	}
	defer unlock()
	if batch := q.take(e.cfg.MaxBatch); len(batch) > 0 {
		e.commitBatch(ctx, batch)
	}
}

// take drains up to n queued decisions.
func (q *batcher) take(n int) []*pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(len(q.queue), n)
	batch := q.queue[:n:n]
	q.queue = q.queue[n:]
	if len(q.queue) == 0 {
		q.queue = nil // let the drained ones go
	}
	return batch
}

// commitBatch decides each of batch in turn, commits the changes decided,
// and ends each writer's wait. The caller holds the writer lock.
func (e *Engine) commitBatch(ctx context.Context, batch []*pending) {
	defer func() {
		// A panic past the decisions (an observer's) ends every wait
		// before it goes on up the leading writer's stack.
		if v := recover(); v != nil {
			for _, w := range batch {
				w.err = fmt.Errorf("engine: the batch's commit panicked: %v", v)
				close(w.done)
			}
			panic(v)
		}
	}()
	b := e.begin(e.Now())
	changes := make([]store.Change, 0, len(batch))
	notes := make([]Change, 0, len(batch))
	for i := 0; ; i++ {
		if i == len(batch) {
			// The decisions queued while this batch was decided join
			// it rather than wait for its commit: the writers of the
			// batch before queue again while this one is decided.
			more := e.batches.take(e.cfg.MaxBatch - len(batch))
			if len(more) == 0 {
				break
			}
			batch = append(batch, more...)
		}
		w := batch[i]
		t := e.begin(e.Now())
		t.under = b
		if !decideSafely(w, t) {
			continue
		}
		notes = append(notes, t.seal())
		changes = append(changes, t.ch)
		b.absorb(t)
	}
	err := e.commit(ctx, b, changes, notes)
	for _, w := range batch {
		if err != nil && w.panicked == nil {
			// A refusal too was decided over changes that never were.
			w.err = err
		}
		close(w.done)
	}
}

// decideSafely runs w's decision in t, and reports whether it decided a
// change; a panic is kept for w's writer to panic with, as it would have
// had it decided alone.
func decideSafely(w *pending, t *tx) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			w.panicked, w.stack, ok = v, debug.Stack(), false
		}
	}()
	w.err = w.decide(t)
	if w.err == nil {
		w.err = t.err
	}
	return w.err == nil
}

// absorb lays a change decided over b into b, after the changes b holds.
func (b *tx) absorb(t *tx) {
	for k, v := range t.vms {
		set(&b.vms, k, v)
	}
	for k, s := range t.res {
		set(&b.res, k, s)
	}
	for typ, keys := range t.touched {
		for k := range keys {
			b.touch(typ, k)
		}
	}
	for k, g := range t.groups {
		set(&b.groups, k, g)
	}
	for k, op := range t.ops {
		set(&b.ops, k, op)
	}
	for id, s := range t.subs {
		set(&b.subs, id, s)
	}
	b.dues = append(b.dues, t.dues...)
	if t.faultsChanged {
		b.faults, b.faultsChanged = t.faults, true
	}
}

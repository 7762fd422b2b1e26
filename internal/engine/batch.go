package engine

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/azemu/azemu/internal/store"
)

// Group commit: the changes clients ask for at the same time share one
// store transaction, so that the cost of a commit is paid once per batch
// rather than once per change.
//
// A writer queues its decision and waits. Whichever waiting writer takes
// the lead first takes the writer lock (lockWrite: on a shared store the
// fleet lock too, after catching up), drains the queue, and decides each
// change in turn in a tx of its own over the batch's tx, so that each sees
// the ones before it; then drains what queued meanwhile, until nothing
// does. A change refused is dropped alone; one decided is absorbed into the
// batch. The batch's changes are then written in one Apply, in order, and
// only once it has committed are they laid into memory, told to the
// observers, and answered, each with its own result. When the commit
// fails, none of them is: memory stays as it was, and every writer of the
// batch gets the error.
//
// The batches are pipelined: while one is written (its flight), the leading
// writer decides the next over it, taking the decisions as they arrive, so
// that the decisions of one batch and the store's write of the one before
// run on two cores. The next is written only once the one before has
// committed and been laid into memory; when the one before fails, the next
// fails whole, unwritten, for it was decided over changes that never were.
// The writer lock is held from a batch's decisions until the last flight
// has landed, across the writers that lead meanwhile (each leads until its
// own change is answered, and leaves the flight to the next), but for at
// most pipelineRun batches in a row: then the pipeline drains and lets go
// of the lock, so that the engine's own steps and the clock get their turn.

// DefaultMaxBatch bounds the changes of one batch (Config.MaxBatch), so
// that a commit stays short however many writers wait.
const DefaultMaxBatch = 512

// pipelineRun bounds the batches written in a row under one hold of the
// writer lock.
const pipelineRun = 8

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

// batcher is the queue of decisions waiting for a batch, and the pipeline
// of batches being written.
type batcher struct {
	mu    sync.Mutex
	queue []*pending
	// arrived is told, without waiting, when a decision queues, so that a
	// writer deciding while the batch before is written takes it at once.
	arrived chan struct{}
	// received counts the decisions ever queued (for tests).
	received atomic.Int64
	// lead is held by the writer running a batch.
	lead chan struct{}

	// Only the writer holding lead reads or writes these.
	//
	// unlock lets go of the writer lock, which the pipeline holds across
	// leaders; nil when it is not held.
	unlock func()
	// flight is the batch being written, nil when none is.
	flight *flight
	// run counts the batches written since the writer lock was taken.
	run int
}

// flight is a decided batch: its writers, and, once it is being written,
// the store's answer.
type flight struct {
	overlay *tx
	batch   []*pending // every writer of the batch, refused ones too
	writes  []store.Change
	notes   []Change // what to tell of writes[i] once committed
	// done is closed once the store has answered; err is its answer.
	done     chan struct{}
	err      error
	answered bool
}

// written reports whether the store has answered f's write.
func (f *flight) written() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// answer ends the wait of each of f's writers: with err when it is not
// nil and the writer was not refused or did not panic on its own.
func (f *flight) answer(err error) {
	if f.answered {
		return
	}
	f.answered = true
	for _, w := range f.batch {
		if err != nil && w.panicked == nil {
			// A refusal too was decided over changes that never were.
			w.err = err
		}
		close(w.done)
	}
}

func newBatcher() batcher {
	return batcher{lead: make(chan struct{}, 1), arrived: make(chan struct{}, 1)}
}

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
	q.received.Add(1)
	select {
	case q.arrived <- struct{}{}:
	default:
	}
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

// runBatch takes the pipeline one step, for the writer of w. Every writer
// whose decision is queued or in flight waits to lead, so each step has a
// writer to run it.
func (e *Engine) runBatch(ctx context.Context, w *pending) {
	q := &e.batches
	if q.unlock == nil {
		unlock, err := e.lockWrite(ctx)
		if err != nil {
			// Only w's own context may have given up on the lock: the
			// others wait for a writer whose context has not. A w no
			// longer queued has ended in an earlier batch. Nothing is
			// in flight without the lock.
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
		q.unlock = unlock
	}
	e.pipelineStep(ctx)
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

// pipelineStep decides the next batch over the one in flight, lands the
// one in flight, and starts writing the next. The caller holds lead and
// the writer lock; the lock is let go once nothing is in flight.
func (e *Engine) pipelineStep(ctx context.Context) {
	q := &e.batches
	prev := q.flight
	q.flight = nil
	var next *flight
	// Whether prev is laid into memory, for a panic to finish.
	prevLaid := false
	defer func() {
		// A panic past the decisions (an observer's, or the engine's
		// own) ends every wait before it goes on up the leading writer's
		// stack. A write under way is waited for, and what committed is
		// laid into memory (its observers not told), so that memory
		// agrees with the store and nothing is in flight once the lock
		// is let go.
		v := recover()
		if v == nil {
			return
		}
		err := fmt.Errorf("engine: the batch's commit panicked: %v", v)
		if prev != nil {
			<-prev.done
			if prev.err == nil && !prevLaid {
				e.layMemory(prev.overlay)
			}
			prev.answer(err)
		}
		if next != nil {
			if q.flight == next { // its write has begun
				<-next.done
				if next.err == nil {
					e.layMemory(next.overlay)
				}
			}
			next.answer(err)
		}
		q.flight, q.run = nil, 0
		q.unlock()
		q.unlock = nil
		panic(v)
	}()
	if prev == nil || q.run < pipelineRun {
		next = e.decideBatch(prev)
	}
	if prev != nil {
		<-prev.done
		if prev.err != nil && next != nil {
			next.answer(prev.err)
			next = nil
		}
	}
	// The next batch is written while the one before is laid into memory
	// and answered: only the store's answer had to come first.
	switch {
	case next == nil:
	case len(next.writes) == 0:
	default:
		next.done = make(chan struct{})
		q.flight, q.run = next, q.run+1
		go func(f *flight) {
			// The request's context must not cancel a commit half-way
			// through: a change is applied whole or not at all.
			f.err = e.apply(context.WithoutCancel(ctx), f.writes...)
			close(f.done)
		}(next)
		// Let the write start now, on this core: the writers answered
		// next would otherwise run ahead of it here.
		runtime.Gosched()
	}
	if prev != nil {
		if prev.err == nil {
			e.layMemory(prev.overlay)
			prevLaid = true
			e.tell(prev.notes)
		}
		prev.answer(prev.err)
	}
	if next != nil {
		// What next was decided over is memory now.
		next.overlay.under = nil
		if len(next.writes) == 0 {
			next.answer(nil) // refusals alone, or changes that change nothing
		}
	}
	if q.flight == nil {
		q.run = 0
		q.unlock()
		q.unlock = nil
	}
}

// decideBatch decides the queued decisions in turn, each over the ones
// before it and over prev, the batch in flight when not nil; while prev is
// being written it goes on taking decisions as they queue. It returns nil
// when there were none.
func (e *Engine) decideBatch(prev *flight) *flight {
	q := &e.batches
	b := e.begin(e.Now())
	if prev != nil {
		b.under = prev.overlay
	}
	f := &flight{overlay: b}
	defer func() {
		// A panic outside a decision (decideSafely keeps those) ends
		// the wait of every writer taken, nothing of theirs written.
		if v := recover(); v != nil {
			f.answer(fmt.Errorf("engine: the batch's commit panicked: %v", v))
			panic(v)
		}
	}()
	var changes []store.Change
	var notes []Change
	for i := 0; ; i++ {
		for i == len(f.batch) {
			// The decisions queued while this batch was decided join
			// it rather than wait for its commit: the writers of the
			// batch before queue again while this one is decided. Once
			// the batch before is written, this one is written next,
			// without waiting for more, unless it is still empty.
			room := e.cfg.MaxBatch - len(f.batch)
			if prev == nil || !prev.written() || len(f.batch) == 0 {
				if more := q.take(room); len(more) > 0 {
					f.batch = append(f.batch, more...)
					break
				}
			}
			if prev == nil || room == 0 || prev.written() {
				if len(f.batch) == 0 {
					return nil
				}
				f.writes, f.notes = writesOf(changes, notes)
				return f
			}
			select {
			case <-prev.done:
			case <-q.arrived:
			}
		}
		w := f.batch[i]
		t := e.begin(e.Now())
		t.under = b
		if !decideSafely(w, t) {
			continue
		}
		notes = append(notes, t.seal())
		changes = append(changes, t.ch)
		b.absorb(t)
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

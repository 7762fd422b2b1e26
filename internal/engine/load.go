package engine

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// orderedDecoder decodes a start's rows, a batch at a time, on every core
// while the store reads the next batches, and lays each batch's values in,
// on one goroutine, in the order the batches came: what a loop over the
// rows in order does, stopping at the same first error. A batch is dropped
// once laid in, so that a start holds a few batches of rows at a time
// rather than the fleet's.
type orderedDecoder struct {
	jobs     chan *decodeJob // to the decoders
	queue    chan *decodeJob // to the layer, in the order they came
	failed   atomic.Bool     // the layer met a failed batch: err is set
	err      error           // the first failed batch's, once laid is closed
	decoders sync.WaitGroup
	laid     chan struct{}
}

type decodeJob struct {
	decode func() error
	lay    func()
	err    error
	done   chan struct{} // closed once decoded
}

// errDecodeFailed stops a store's read once a batch failed to decode: the
// decoder's wait says why.
var errDecodeFailed = errors.New("engine: a row failed to decode")

func newOrderedDecoder() *orderedDecoder {
	workers := runtime.GOMAXPROCS(0)
	d := &orderedDecoder{
		jobs: make(chan *decodeJob, 2*workers),
		// bounds the batches read and not yet laid in
		queue: make(chan *decodeJob, 4*workers),
		laid:  make(chan struct{}),
	}
	for range workers {
		d.decoders.Go(func() {
			for j := range d.jobs {
				// After a failure only later batches are left, which the
				// layer drops.
				if !d.failed.Load() {
					j.err = j.decode()
				}
				close(j.done)
			}
		})
	}
	go func() {
		defer close(d.laid)
		for j := range d.queue {
			<-j.done
			switch {
			case d.failed.Load():
			case j.err != nil:
				d.err = j.err
				d.failed.Store(true)
			default:
				j.lay()
			}
		}
	}()
	return d
}

// add queues a batch: decode makes its values on some core, stopping at
// its first error, and lay lays them in, after every batch added before.
// It fails with errDecodeFailed once a batch has failed.
func (d *orderedDecoder) add(decode func() error, lay func()) error {
	if d.failed.Load() {
		return errDecodeFailed
	}
	j := &decodeJob{decode: decode, lay: lay, done: make(chan struct{})}
	d.jobs <- j
	d.queue <- j
	return nil
}

// wait lets every batch added be laid in, or dropped after a failure, and
// returns the first failed batch's error. Call it once, after the last add.
func (d *orderedDecoder) wait() error {
	close(d.jobs)
	close(d.queue)
	d.decoders.Wait()
	<-d.laid
	return d.err
}

// decodeBatch adds rows to d: decode makes each row's value, and lay lays
// each row and its value in.
func decodeBatch[R, T any](d *orderedDecoder, rows []R, decode func(R) (T, error), lay func(R, T), recycle func([]R)) error {
	out := make([]T, len(rows))
	return d.add(func() error {
		for i, r := range rows {
			v, err := decode(r)
			if err != nil {
				return err
			}
			out[i] = v
		}
		return nil
	}, func() {
		for i, r := range rows {
			lay(r, out[i])
		}
		if recycle != nil {
			recycle(rows)
		}
	})
}

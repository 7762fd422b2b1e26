package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/store"
)

// StoreHealth is how the engine's writes to the store have gone: health
// and metrics report it, so a failing disk is never anonymous.
type StoreHealth struct {
	Writable bool
	// Problem names why the store takes no writes: "diskFull" or
	// "writeFailed" (the last write failed), or "writeStuck" (a write has
	// waited for the disk longer than Config.WriteTimeout, and still waits).
	Problem string
	Message string
	// Since is when writes started failing (wall clock).
	Since time.Time
	// Failures counts failed writes since start, by problem.
	Failures map[string]int64
}

// storeHealth records the outcome of each write.
type storeHealth struct {
	// writing is when the write under way began (Unix nanoseconds, wall
	// clock), 0 when none is: writes are serialised by writeMu.
	writing  atomic.Int64
	mu       sync.Mutex
	problem  string
	message  string
	since    time.Time
	failures map[string]int64
}

// note records a write's outcome and returns the error to give the caller:
// a full disk becomes an error with its own code.
func (e *Engine) noteWrite(err error) error {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		if h.problem != "" {
			e.log.Info("store writable again", "after", time.Since(h.since).Round(time.Millisecond))
			h.problem, h.message = "", ""
		}
		return nil
	}
	problem := "writeFailed"
	if errors.Is(err, store.ErrFull) {
		problem = "diskFull"
	}
	if h.failures == nil {
		h.failures = map[string]int64{}
	}
	h.failures[problem]++
	if h.problem == "" {
		h.since = time.Now()
		e.log.Error("store write failed", "problem", problem, "err", err)
	}
	h.problem, h.message = problem, err.Error()
	if problem == "diskFull" {
		return &Error{Code: armerror.CodeInsufficientStorage,
			Message: "The change was not saved: the disk holding azemu's data is full. Nothing was lost; free space on it and retry."}
	}
	return err
}

// apply writes changes to the store in one transaction, noting while it
// is under way, so that a write the disk does not finish is seen before it
// returns.
func (e *Engine) apply(ctx context.Context, cs ...store.Change) error {
	e.health.writing.Store(time.Now().UnixNano())
	defer e.health.writing.Store(0)
	err := e.cfg.Store.Apply(ctx, cs...)
	if err == nil {
		for _, c := range cs {
			if !c.Empty() {
				e.wrote()
			}
		}
	}
	return e.noteWrite(err)
}

// DefaultWriteTimeout is how long a write may wait for the disk before the
// store is reported stuck (Config.WriteTimeout).
const DefaultWriteTimeout = 10 * time.Second

// WriteTimeout is how long a write may wait for the disk before the store
// is reported stuck, and a request waiting for it is answered.
func (e *Engine) WriteTimeout() time.Duration { return e.cfg.WriteTimeout }

// StoreHealth reports how writes to the store have gone.
func (e *Engine) StoreHealth() StoreHealth {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	out := StoreHealth{Writable: h.problem == "", Problem: h.problem, Message: h.message, Since: h.since, Failures: map[string]int64{}}
	for k, v := range h.failures {
		out.Failures[k] = v
	}
	if began := h.writing.Load(); began != 0 {
		since := time.Unix(0, began)
		if waited := time.Since(since); waited >= e.cfg.WriteTimeout {
			out.Writable, out.Problem, out.Since = false, ProblemWriteStuck, since
			out.Message = fmt.Sprintf("a write has waited %s for the disk holding azemu's data", waited.Round(time.Second))
		}
	}
	return out
}

// ProblemWriteStuck is StoreHealth's Problem while a write waits for the
// disk longer than Config.WriteTimeout.
const ProblemWriteStuck = "writeStuck"

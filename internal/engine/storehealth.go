package engine

import (
	"errors"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/store"
)

// StoreHealth is how the engine's writes to the store have gone: health
// and metrics report it, so a failing disk is never anonymous.
type StoreHealth struct {
	Writable bool
	// Problem names why the last write failed: "diskFull" or "writeFailed".
	Problem string
	Message string
	// Since is when writes started failing (wall clock).
	Since time.Time
	// Failures counts failed writes since start, by problem.
	Failures map[string]int64
}

// storeHealth records the outcome of each write.
type storeHealth struct {
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

// StoreHealth reports how writes to the store have gone.
func (e *Engine) StoreHealth() StoreHealth {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	out := StoreHealth{Writable: h.problem == "", Problem: h.problem, Message: h.message, Since: h.since, Failures: map[string]int64{}}
	for k, v := range h.failures {
		out.Failures[k] = v
	}
	return out
}

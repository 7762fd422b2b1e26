package engine

import (
	"context"
	"time"
)

// Request is what Do takes: a Command on a resource, or one of the
// emulator's controls below. Every change to the engine's state goes
// through Do, so its checks (a closing engine refuses) and any that come
// later hold for all of them.
type Request interface {
	run(ctx context.Context, e *Engine) (Result, error)
}

// AdvanceClock moves a manual clock forward by By, firing every step that
// falls due, in order and each at its own due time. Result.Clock is the new
// time.
type AdvanceClock struct{ By time.Duration }

func (r AdvanceClock) run(ctx context.Context, e *Engine) (Result, error) {
	at, err := e.advance(ctx, r.By)
	return Result{Clock: at}, err
}

// ResetFleet empties all state; the clock stays where it is.
type ResetFleet struct{}

func (ResetFleet) run(ctx context.Context, e *Engine) (Result, error) {
	return Result{}, e.reset(ctx)
}

// AddFault registers Fault; Result.Fault is it with its new ID.
type AddFault struct{ Fault Fault }

func (r AddFault) run(ctx context.Context, e *Engine) (Result, error) {
	f, err := e.addFault(ctx, r.Fault)
	return Result{Fault: f}, err
}

// RemoveFaults removes the fault with ID, or every fault when ID is empty;
// Result.Removed counts them.
type RemoveFaults struct{ ID string }

func (r RemoveFaults) run(ctx context.Context, e *Engine) (Result, error) {
	n, err := e.removeFaults(ctx, r.ID)
	return Result{Removed: n}, err
}

// ProbeFault asks whether a fault of Kind (FaultThrottle or
// FaultPowerStateUnavailable) fires for the read Operation now, spending
// one of its uses when it does (Result.Fired). It takes no writer lock: a
// read never waits for a write.
type ProbeFault struct{ Kind, Operation string }

func (r ProbeFault) run(ctx context.Context, e *Engine) (Result, error) {
	return Result{Fired: e.probeFault(ctx, r.Kind, r.Operation)}, nil
}

// SetCapacity replaces the cores each region offers per size family (nil:
// unlimited) for operations submitted from now on.
type SetCapacity struct{ Capacity Capacity }

func (r SetCapacity) run(_ context.Context, e *Engine) (Result, error) {
	e.setCapacity(r.Capacity)
	return Result{}, nil
}

// CompactHistory compacts the history before Horizon into checkpoints
// (retention.go); Result.Compacted is what it deleted.
type CompactHistory struct{ Horizon time.Time }

func (r CompactHistory) run(ctx context.Context, e *Engine) (Result, error) {
	c, err := e.compact(ctx, r.Horizon)
	return Result{Compacted: c}, err
}

package clock

import "time"

// Clock is a source of the current time and of one-shot timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, at Now()+d.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer, like *time.Timer but behind an interface so a
// Manual clock can supply its own.
type Timer interface {
	// C returns the channel the firing time is delivered on.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it did so:
	// false means the timer had already fired or been stopped.
	Stop() bool
}

// Real is the wall clock.
type Real struct{}

var _ Clock = Real{}

// Now returns the current time in UTC. The UTC conversion also drops the
// monotonic reading, so times compare and serialise by wall clock alone.
func (Real) Now() time.Time { return time.Now().UTC() }

// NewTimer wraps time.NewTimer. The values it delivers are time.Timer's own
// (local time, with a monotonic reading); callers wanting a timestamp should
// call Now.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

package store

import (
	"fmt"
	"math"
	"time"
)

// Every backend stores an instant as integer Unix nanoseconds, NULL for the
// zero time. The history is exact to the nanosecond and billing floors it,
// so a column type that rounds (PostgreSQL's timestamptz keeps microseconds)
// would make one backend's bill differ from another's.
//
// Unix nanoseconds in an int64 cover MinTime to MaxTime (1677-09-21 to
// 2262-04-11); an instant outside would wrap, so it is refused instead.
var (
	MinTime = time.Unix(0, math.MinInt64).UTC()
	MaxTime = time.Unix(0, math.MaxInt64).UTC()
)

// UnixNano encodes t for a nullable time column: ok is false for the zero
// time (stored as NULL, so that the Unix epoch itself, 0, still round-trips).
func UnixNano(t time.Time) (ns int64, ok bool, err error) {
	if t.IsZero() {
		return 0, false, nil
	}
	if t.Before(MinTime) || t.After(MaxTime) {
		return 0, false, fmt.Errorf("time %s outside the storable range %s to %s",
			t.Format(time.RFC3339Nano), MinTime.Format(time.RFC3339Nano), MaxTime.Format(time.RFC3339Nano))
	}
	return t.UnixNano(), true, nil
}

// TimeArg is t as a query's argument for a nullable time column, as every
// backend binds one: nil (NULL) for the zero time, else UnixNano's value.
func TimeArg(t time.Time) (any, error) {
	ns, ok, err := UnixNano(t)
	if !ok {
		return nil, err
	}
	return ns, nil
}

// TimeArgs is TimeArg of each of ts, in order.
func TimeArgs(ts ...time.Time) ([]any, error) {
	out := make([]any, len(ts))
	for i, t := range ts {
		var err error
		if out[i], err = TimeArg(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FromUnixNano is the instant a stored time column holds, in UTC.
func FromUnixNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// EventUnixNano encodes an event's At. An event without a time could never
// fall in a History window and would vanish from billing, so it is refused
// rather than lost silently.
func EventUnixNano(e Event) (int64, error) {
	if e.At.IsZero() {
		return 0, fmt.Errorf("event of vm %s: zero At", e.VMID)
	}
	ns, _, err := UnixNano(e.At)
	return ns, err
}

// Latest is the latest of ts; zero when ts holds only zero times.
func Latest(ts ...time.Time) time.Time {
	var latest time.Time
	for _, t := range ts {
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

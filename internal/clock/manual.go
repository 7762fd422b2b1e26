package clock

import (
	"container/heap"
	"sync"
	"time"
)

// DefaultManualStart is the fixed instant a manual clock starts at unless
// configured: 2026-01-01T00:00:00Z.
var DefaultManualStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Manual is a clock that moves only when Advance or Set is called. It is safe
// for concurrent use. Its zero value is a clock stopped at the zero time;
// use NewManual to start it elsewhere.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	pending timerHeap // armed timers, earliest deadline first
	seq     uint64    // creation counter, so equal deadlines fire in creation order
}

var _ Clock = (*Manual)(nil)

// NewManual returns a manual clock reading start, converted to UTC (which
// also drops any monotonic reading) to match Real.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start.UTC()}
}

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// NewTimer returns a timer that fires when the clock is advanced to or past
// Now()+d. A timer with d <= 0 fires before NewTimer returns.
func (m *Manual) NewTimer(d time.Duration) Timer {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTimer{m: m, c: make(chan time.Time, 1), deadline: m.now.Add(d), seq: m.seq, index: -1}
	m.seq++
	if d <= 0 {
		t.c <- m.now
		return t
	}
	heap.Push(&m.pending, t)
	return t
}

// Advance moves the clock forward by d and returns the new time. Timers that
// become due fire in deadline order (creation order among equal deadlines),
// each with the clock standing at its deadline; by the time Advance returns
// the clock reads the old time plus d and every fired timer's value is in its
// channel. A negative d is ignored, since the clock never runs backwards and
// a test helper panicking would be worse than a no-op; Advance then returns
// the unchanged time.
func (m *Manual) Advance(d time.Duration) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d < 0 {
		return m.now
	}
	m.advanceTo(m.now.Add(d))
	return m.now
}

// Set moves the clock to t if t is after the current time, firing timers as
// Advance does. An earlier or equal t is ignored: the clock never goes
// backwards, so deadlines already passed stay passed.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.After(m.now) {
		m.advanceTo(t.UTC())
	}
}

// advanceTo fires every timer due by target, then sets the clock to target.
// The lock is held throughout: sends are non-blocking, and holding it means
// no caller sees the clock between two timers' deadlines.
func (m *Manual) advanceTo(target time.Time) {
	for len(m.pending) > 0 && !m.pending[0].deadline.After(target) {
		t := heap.Pop(&m.pending).(*manualTimer)
		m.now = t.deadline
		select {
		case t.c <- m.now:
		default: // unreachable: each timer sends at most once into a 1-buffered channel
		}
	}
	m.now = target
}

// manualTimer is a Manual clock's timer. Its fields other than c are guarded
// by m.mu.
type manualTimer struct {
	m        *Manual
	c        chan time.Time
	deadline time.Time
	seq      uint64
	index    int // position in m.pending; -1 once fired or stopped
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

// Stop removes the timer from its clock if it has not fired. Because firing
// happens under the same lock, a true result guarantees nothing is or will
// be sent on C.
func (t *manualTimer) Stop() bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.m.pending, t.index)
	return true
}

// timerHeap is a min-heap of armed timers by (deadline, seq).
type timerHeap []*manualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].deadline.Equal(h[j].deadline) {
		return h[i].deadline.Before(h[j].deadline)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*manualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

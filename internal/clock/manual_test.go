package clock

import (
	"container/heap"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

var start = DefaultManualStart

// fired returns the value waiting on c, if any, without blocking. Manual
// sends before Advance returns, so no waiting is needed.
func fired(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestDefaultManualStart(t *testing.T) {
	want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !DefaultManualStart.Equal(want) || DefaultManualStart.Location() != time.UTC {
		t.Fatalf("DefaultManualStart = %v", DefaultManualStart)
	}
	if got := NewManual(DefaultManualStart).Now(); got != want {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}

func TestNewManualConvertsToUTC(t *testing.T) {
	zone := time.FixedZone("X", 5*3600)
	m := NewManual(time.Date(2026, 1, 1, 5, 0, 0, 0, zone))
	if got := m.Now(); got != start {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
}

func TestAdvance(t *testing.T) {
	m := NewManual(start)
	if got := m.Advance(90 * time.Second); got != start.Add(90*time.Second) {
		t.Fatalf("Advance returned %v", got)
	}
	if got := m.Now(); got != start.Add(90*time.Second) {
		t.Fatalf("Now() = %v after Advance", got)
	}
	if got := m.Advance(-time.Hour); got != start.Add(90*time.Second) {
		t.Fatalf("Advance(-1h) returned %v, want the unchanged time", got)
	}
	if got := m.Advance(0); got != start.Add(90*time.Second) {
		t.Fatalf("Advance(0) returned %v", got)
	}
}

func TestTimersFireInOrderAtTheirDeadlines(t *testing.T) {
	m := NewManual(start)
	t3 := m.NewTimer(3 * time.Second)
	t1 := m.NewTimer(1 * time.Second)
	t2 := m.NewTimer(2 * time.Second)
	t5 := m.NewTimer(5 * time.Second)

	m.Advance(2 * time.Second)
	for name, tm := range map[string]Timer{"1s": t1, "2s": t2} {
		v, ok := fired(tm.C())
		if !ok {
			t.Fatalf("%s timer did not fire after Advance(2s)", name)
		}
		// The value is the deadline, not the time Advance moved to.
		d, _ := time.ParseDuration(name)
		if v != start.Add(d) {
			t.Errorf("%s timer fired with %v, want %v", name, v, start.Add(d))
		}
	}
	if _, ok := fired(t3.C()); ok {
		t.Fatal("3s timer fired early")
	}

	// A timer made now counts from the advanced time.
	t4 := m.NewTimer(2 * time.Second) // due at start+4s
	m.Advance(time.Second)
	if v, ok := fired(t3.C()); !ok || v != start.Add(3*time.Second) {
		t.Fatalf("3s timer: %v, %v", v, ok)
	}
	if _, ok := fired(t4.C()); ok {
		t.Fatal("timer made at 2s for 2s fired at 3s")
	}
	m.Advance(time.Hour)
	if v, ok := fired(t4.C()); !ok || v != start.Add(4*time.Second) {
		t.Fatalf("4s timer: %v, %v", v, ok)
	}
	if v, ok := fired(t5.C()); !ok || v != start.Add(5*time.Second) {
		t.Fatalf("5s timer: %v, %v", v, ok)
	}
	// Timers fire once.
	m.Advance(time.Hour)
	for _, tm := range []Timer{t1, t2, t3, t4, t5} {
		if _, ok := fired(tm.C()); ok {
			t.Fatal("a timer fired twice")
		}
	}
}

// TestFiringOrder checks the queue Advance fires from: earliest deadline
// first, creation order among equal deadlines. Channel sends cannot show the
// order, so this looks at the queue itself.
func TestFiringOrder(t *testing.T) {
	m := NewManual(start)
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		m.NewTimer(time.Duration(1+r.IntN(20)) * time.Second)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var prev *manualTimer
	for m.pending.Len() > 0 {
		tm := heap.Pop(&m.pending).(*manualTimer)
		if prev != nil {
			if tm.deadline.Before(prev.deadline) || tm.deadline.Equal(prev.deadline) && tm.seq < prev.seq {
				t.Fatalf("timer (%v, %d) popped after (%v, %d)", tm.deadline, tm.seq, prev.deadline, prev.seq)
			}
		}
		prev = tm
	}
}

func TestTimerFiresExactlyAtDeadline(t *testing.T) {
	m := NewManual(start)
	tm := m.NewTimer(5 * time.Second)
	m.Advance(5*time.Second - time.Nanosecond)
	if _, ok := fired(tm.C()); ok {
		t.Fatal("fired a nanosecond early")
	}
	m.Advance(time.Nanosecond)
	if _, ok := fired(tm.C()); !ok {
		t.Fatal("did not fire at its deadline")
	}
}

func TestNonPositiveDurationFiresAtOnce(t *testing.T) {
	m := NewManual(start)
	for _, d := range []time.Duration{0, -time.Second} {
		tm := m.NewTimer(d)
		if v, ok := fired(tm.C()); !ok || v != start {
			t.Fatalf("NewTimer(%v): %v, %v; want %v at once", d, v, ok, start)
		}
		if tm.Stop() {
			t.Fatalf("Stop of fired NewTimer(%v) = true", d)
		}
	}
}

func TestStop(t *testing.T) {
	m := NewManual(start)
	stopped := m.NewTimer(time.Second)
	kept := m.NewTimer(time.Second)
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer = false")
	}
	if stopped.Stop() {
		t.Fatal("second Stop = true")
	}
	m.Advance(time.Minute)
	if _, ok := fired(stopped.C()); ok {
		t.Fatal("stopped timer fired")
	}
	if _, ok := fired(kept.C()); !ok {
		t.Fatal("stopping one timer kept another from firing")
	}

	// Stop after firing reports false and leaves the value in the channel,
	// as time.Timer's buffered channel did.
	late := m.NewTimer(time.Second)
	m.Advance(time.Second)
	if late.Stop() {
		t.Fatal("Stop of a fired timer = true")
	}
	if _, ok := fired(late.C()); !ok {
		t.Fatal("fired value lost")
	}
}

func TestSetNeverGoesBackwards(t *testing.T) {
	m := NewManual(start)
	tm := m.NewTimer(time.Hour)

	m.Set(start.Add(-time.Hour))
	if got := m.Now(); got != start {
		t.Fatalf("Set(earlier) moved the clock to %v", got)
	}
	m.Set(start)
	if got := m.Now(); got != start {
		t.Fatalf("Set(now) moved the clock to %v", got)
	}

	target := start.Add(2 * time.Hour).In(time.FixedZone("Y", -3600))
	m.Set(target)
	if got := m.Now(); !got.Equal(target) || got.Location() != time.UTC {
		t.Fatalf("Set(later): Now() = %v, want %v in UTC", got, target)
	}
	if v, ok := fired(tm.C()); !ok || v != start.Add(time.Hour) {
		t.Fatalf("Set did not fire the due timer at its deadline: %v, %v", v, ok)
	}

	m.Set(start.Add(time.Hour))
	if got := m.Now(); !got.Equal(target) {
		t.Fatalf("Set(earlier) after Set(later) moved the clock to %v", got)
	}
}

func TestZeroManualIsUsable(t *testing.T) {
	var m Manual
	tm := m.NewTimer(time.Second)
	m.Advance(time.Second)
	if v, ok := fired(tm.C()); !ok || v != (time.Time{}).Add(time.Second) {
		t.Fatalf("zero Manual timer: %v, %v", v, ok)
	}
}

// TestManualConcurrent is for -race: readers, advancers and timer users at
// once. Each reader must see time move forward only, and the final time must
// account for every Advance.
func TestManualConcurrent(t *testing.T) {
	const workers, steps = 8, 200
	m := NewManual(start)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			prev := m.Now()
			for range steps {
				now := m.Now()
				if now.Before(prev) {
					t.Errorf("Now went backwards: %v then %v", prev, now)
					return
				}
				prev = now
			}
		})
		wg.Go(func() {
			for range steps {
				m.Advance(time.Millisecond)
			}
		})
		wg.Go(func() {
			for i := range steps {
				tm := m.NewTimer(time.Duration(i%3) * time.Millisecond)
				if i%2 == 0 {
					tm.Stop()
				}
				m.Set(m.Now().Add(time.Microsecond))
			}
		})
	}
	wg.Wait()
	least := start.Add(workers * steps * time.Millisecond)
	if got := m.Now(); got.Before(least) {
		t.Fatalf("Now() = %v, want at least %v", got, least)
	}
	m.Advance(time.Hour)
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.pending.Len(); n != 0 {
		t.Fatalf("%d timers still pending an hour past every deadline", n)
	}
}

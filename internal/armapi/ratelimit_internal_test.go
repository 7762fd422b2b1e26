package armapi

import (
	"testing"
	"time"
)

func TestTakeToken(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at        time.Duration // since t0
		ok        bool
		remaining int
		retry     int
	}
	for _, tc := range []struct {
		name  string
		rate  int
		steps []step
	}{
		{"a new bucket is full", 3, []step{{0, true, 2, 0}, {0, true, 1, 0}, {0, true, 0, 0}, {0, false, 0, 1200}}},
		{"refills continuously", 3, []step{
			{0, true, 2, 0}, {0, true, 1, 0}, {0, true, 0, 0},
			{10 * time.Minute, false, 0, 600},               // half a token back
			{20*time.Minute - time.Nanosecond, false, 0, 1}, // a nanosecond short rounds up to 1 s
			{20 * time.Minute, true, 0, 0},                  // exactly one token
			{80 * time.Minute, true, 2, 0},                  // three back: full, never more
			{5 * time.Hour, true, 2, 0},
		}},
		{"never over capacity", 1, []step{{0, true, 0, 0}, {10 * time.Hour, true, 0, 0}, {10 * time.Hour, false, 0, 3600}}},
		{"Azure's writes", 1200, []step{{0, true, 1199, 0}, {time.Hour, true, 1199, 0}}},
		{"fast refill waits at least a second", 1_000_000, []step{{0, true, 999_999, 0}}},
		{"a clock that goes back refills nothing", 2, []step{
			{time.Hour, true, 1, 0}, {time.Hour, true, 0, 0}, {0, false, 0, 1800}, {time.Hour + 30*time.Minute, true, 0, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bucket
			for i, s := range tc.steps {
				var remaining, retry int
				var ok bool
				b, remaining, retry, ok = takeToken(b, tc.rate, t0.Add(s.at))
				if ok != s.ok || remaining != s.remaining || retry != s.retry {
					t.Fatalf("step %d at %v: ok %v remaining %d retry %d, want %v %d %d", i, s.at, ok, remaining, retry, s.ok, s.remaining, s.retry)
				}
			}
		})
	}
	// A spent fast bucket: the wait is under a second, reported as 1.
	b := bucket{level: 0, at: t0}
	if _, _, retry, ok := takeToken(b, 1_000_000, t0); ok || retry != 1 {
		t.Fatalf("spent fast bucket: ok %v retry %d", ok, retry)
	}
}

func TestRequestClass(t *testing.T) {
	for m, want := range map[string]int{"GET": classReads, "HEAD": classReads, "OPTIONS": classReads,
		"PUT": classWrites, "PATCH": classWrites, "POST": classWrites, "DELETE": classDeletes} {
		if got := requestClass(m); got != want {
			t.Errorf("%s: class %s, want %s", m, classNames[got], classNames[want])
		}
	}
}

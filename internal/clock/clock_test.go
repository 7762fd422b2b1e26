package clock

import (
	"testing"
	"time"
)

func TestRealNowIsUTC(t *testing.T) {
	now := Real{}.Now()
	if now.Location() != time.UTC {
		t.Fatalf("Real.Now() location = %v, want UTC", now.Location())
	}
	if d := time.Since(now); d < 0 || d > time.Minute {
		t.Fatalf("Real.Now() is %v away from time.Now()", d)
	}
}

func TestRealTimer(t *testing.T) {
	var c Clock = Real{}
	// A zero-duration timer fires at once; receiving blocks only until then.
	<-c.NewTimer(0).C()

	long := c.NewTimer(time.Hour)
	if !long.Stop() {
		t.Fatal("Stop of a pending real timer = false")
	}
	if long.Stop() {
		t.Fatal("second Stop of a real timer = true")
	}
}

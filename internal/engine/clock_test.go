package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

// The rules of the clock at start, one case each: see startClock.
func TestClockAtStart(t *testing.T) {
	ctx := context.Background()
	history := t0.Add(5 * time.Hour)
	tests := []struct {
		name     string
		saved    string    // where a manual clock stood, "" for none
		events   bool      // history up to t0+5h
		manual   bool      // else a clock handed over as the real one
		start    time.Time // the configured start, or the real time
		want     time.Time // zero: refused
		refusing string    // what the refusal says
	}{
		{name: "a new manual clock", manual: true, start: t0, want: t0},
		{name: "manual resumes where it stood", manual: true, saved: t0.Add(time.Hour).Format(time.RFC3339Nano), start: t0, want: t0.Add(time.Hour)},
		{name: "manual starts at the newest history", manual: true, events: true, saved: t0.Add(time.Hour).Format(time.RFC3339Nano), start: t0, want: history},
		{name: "manual keeps a later configured start", manual: true, events: true, start: history.Add(time.Hour), want: history.Add(time.Hour)},
		{name: "manual ahead of the history stays", manual: true, events: true, saved: history.Add(time.Minute).Format(time.RFC3339Nano), start: t0, want: history.Add(time.Minute)},
		{name: "manual with a garbled saved time", manual: true, saved: "10000-01-01T00:00:00Z", start: t0, refusing: "where the manual clock stood"},
		{name: "manual past the storable range", manual: true, start: store.MaxTime.Add(time.Second), refusing: "cannot start"},
		{name: "real after the history", events: true, start: history.Add(time.Second), want: history.Add(time.Second)},
		{name: "real at the history", events: true, start: history, want: history},
		{name: "real behind the history", events: true, start: history.Add(-time.Second), refusing: "later than the real clock's"},
		{name: "real ignores where a manual clock stood", saved: history.Format(time.RFC3339Nano), start: t0, want: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memstore.New()
			c := store.Change{}
			if tt.saved != "" {
				c.Settings = map[string]string{settingManualClock: tt.saved}
			}
			if tt.events {
				c.Events = []store.Event{{VMID: vmID("rg", "a"), At: t0, ProvisioningState: "Creating"},
					{VMID: vmID("rg", "a"), At: history, ProvisioningState: "Succeeded"}}
			}
			if err := st.Apply(ctx, c); err != nil {
				t.Fatal(err)
			}
			clk := clock.NewManual(tt.start)
			cfg := Config{Store: st, Clock: clk}
			if tt.manual {
				cfg = Config{Store: st, Manual: clk}
			}
			eng, err := New(ctx, cfg)
			if tt.refusing != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refusing) {
					t.Fatalf("New: %v, want a refusal saying %q", err, tt.refusing)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := eng.Now(); !got.Equal(tt.want) {
				t.Errorf("the clock starts at %s, want %s", got, tt.want)
			}
		})
	}
}

// A real clock behind the history is refused with both times, so the user
// sees how far behind it is.
func TestRealClockBehindTheHistoryNamesBothTimes(t *testing.T) {
	st := memstore.New()
	later := t0.Add(400 * 24 * time.Hour)
	if err := st.Apply(context.Background(), store.Change{Events: []store.Event{{VMID: vmID("rg", "a"), At: later}}}); err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), Config{Store: st, Clock: clock.NewManual(t0)})
	var behind *ClockBehindError
	if !errors.As(err, &behind) || !behind.Newest.Equal(later) || !behind.Now.Equal(t0) {
		t.Fatalf("New: %v", err)
	}
	for _, want := range []string{"2027-02-05T00:00:00Z", "2026-01-01T00:00:00Z", "--clock manual"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

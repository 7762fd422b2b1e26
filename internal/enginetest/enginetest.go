// Package enginetest builds the engine the fast tests of the ARM API and
// the dashboard run on: an in-memory store (memstore, which passes the
// same storetest suite as SQLite), a manual clock and a quiet log. Tests of
// durability itself use the SQLite store directly.
package enginetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

// Rig is an engine with its store and manual clock.
type Rig struct {
	Engine *engine.Engine
	Clock  *clock.Manual
	Store  store.Store
}

// New starts an engine on a fresh in-memory store with a manual clock at
// start (clock.DefaultManualStart when zero); tweak, when not nil, changes
// its configuration first. The engine and store close when the test ends.
func New(t testing.TB, start time.Time, tweak func(*engine.Config)) *Rig {
	t.Helper()
	if start.IsZero() {
		start = clock.DefaultManualStart
	}
	st := memstore.New()
	clk := clock.NewManual(start)
	cfg := engine.Config{Store: st, Manual: clk, Logger: slog.New(slog.DiscardHandler)}
	if tweak != nil {
		tweak(&cfg)
	}
	eng, err := engine.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eng.Close()
		st.Close()
	})
	return &Rig{Engine: eng, Clock: clk, Store: st}
}

// Reopen starts a second engine on the rig's store, as a restart would:
// what it loads is what the first one made durable.
func (r *Rig) Reopen(t testing.TB) *engine.Engine {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.Config{Store: r.Store, Manual: clock.NewManual(r.Engine.Now()),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

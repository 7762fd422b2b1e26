// Package enginetest builds the engine the fast tests of the ARM API and
// the dashboard run on: an in-memory store (memstore, which passes the
// same storetest suite as SQLite), a manual clock and a quiet log. Tests of
// durability itself use the SQLite store directly.
package enginetest

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
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

// The commands the tests send most, through Engine.Do.

// PutGroup creates or updates a resource group.
func PutGroup(ctx context.Context, eng *engine.Engine, sub, name, location string) error {
	_, err := eng.Do(ctx, engine.Command{ID: armid.ResourceGroupID(sub, name), Verb: engine.VerbPut,
		Input: engine.GroupPut{Location: location}})
	return err
}

// PutVM creates or updates a VM with the given model and spec.
func PutVM(ctx context.Context, eng *engine.Engine, sub, rg, name string, model json.RawMessage, spec engine.VMSpec) (*engine.VM, store.Operation, error) {
	res, err := eng.Do(ctx, engine.Command{ID: armid.VirtualMachineID(sub, rg, name), Verb: engine.VerbPut,
		Input: engine.VMPut{Model: model, Spec: spec}})
	v, _ := res.State.(*engine.VM)
	return v, res.Operation, err
}

// Act runs a lifecycle operation on a VM.
func Act(ctx context.Context, eng *engine.Engine, sub, rg, name string, req lifecycle.Request) (store.Operation, error) {
	res, err := eng.Do(ctx, engine.Command{ID: armid.VirtualMachineID(sub, rg, name), Verb: engine.VerbAct, Input: req})
	return res.Operation, err
}

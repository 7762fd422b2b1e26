package server_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// The clock never moves behind the newest history, whichever clock a data
// dir is served with next: a manual clock starts at the history a real one
// wrote, a real clock behind a manual one's history is refused, a refused
// advance changes nothing, and no restart puts the clock back.
func TestClockNeverMovesBehindTheHistory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	januaryFirst := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	start := func(cfg server.Config) *server.Server {
		t.Helper()
		cfg.DataDir, cfg.Listen = dir, "127.0.0.1:0"
		srv, err := server.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	stop := func(srv *server.Server) {
		t.Helper()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	newest := func(srv *server.Server) time.Time {
		t.Helper()
		var at time.Time
		if err := srv.Engine().History(ctx, "", time.Time{}, store.MaxTime, func(e store.Event) error {
			at = store.Latest(at, e.At)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return at
	}

	// A real clock writes history at the real time.
	srv := start(server.Config{Speed: 1000})
	client := httpsClient(t, srv)
	vm := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
	armPut(t, client, srv.URL()+"/subscriptions/"+sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"eastus"}`)
	armPut(t, client, srv.URL()+vm+"?api-version=2025-04-01", `{"location":"eastus","properties":{
		"hardwareProfile":{"vmSize":"Standard_D2s_v3"},
		"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},
		"osProfile":{"computerName":"vm1","adminUsername":"azureuser","adminPassword":"Passw0rd!secret"},
		"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-nic"}]}}}`)
	if vmHistory := newest(srv); !vmHistory.After(januaryFirst) {
		t.Fatalf("the real clock's history ends at %s, not after the manual clock's default start", vmHistory)
	}
	stop(srv)
	// The newest history, operations included, as the store holds it now
	// that nothing moves.
	st, err := sqlite.Open(filepath.Join(dir, "azemu.db"))
	if err != nil {
		t.Fatal(err)
	}
	realHistory, err := st.Newest(ctx)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	// A manual clock configured to start months earlier starts at that
	// history instead.
	srv = start(server.Config{ManualStart: januaryFirst})
	if now := srv.Engine().Now(); !now.Equal(realHistory) {
		t.Fatalf("the manual clock starts at %s, want the newest history %s", now, realHistory)
	}
	// It moves a year on, past the real time, and writes history there.
	res, err := srv.Engine().Do(ctx, engine.AdvanceClock{By: 366 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ahead := res.Clock
	if _, err := srv.Engine().Do(ctx, engine.Command{ID: armid.VirtualMachineID(sub, "rg", "vm1"), Verb: engine.VerbAct,
		Input: lifecycle.Request{Kind: lifecycle.PowerOff}}); err != nil {
		t.Fatal(err)
	}
	// An advance out of the storable range is refused and changes nothing.
	var refusal *engine.Error
	if _, err := srv.Engine().Do(ctx, engine.AdvanceClock{By: 250 * 366 * 24 * time.Hour}); !errors.As(err, &refusal) || refusal.Code != "InvalidParameter" {
		t.Fatalf("an advance past 2262: %v, want InvalidParameter", err)
	}
	if now := srv.Engine().Now(); !now.Equal(ahead) {
		t.Fatalf("after a refused advance the clock reads %s, want %s", now, ahead)
	}
	stop(srv)

	// The real clock now reads behind that history: refused, naming both.
	if _, err := server.Start(ctx, server.Config{DataDir: dir, Listen: "127.0.0.1:0"}); err == nil {
		t.Fatal("a real clock behind the history started")
	} else {
		var behind *engine.ClockBehindError
		msg := err.Error()
		if !errors.As(err, &behind) || !strings.Contains(msg, ahead.Format(time.RFC3339Nano)) ||
			!strings.Contains(msg, behind.Now.Format(time.RFC3339Nano)) || !strings.Contains(msg, "--clock manual") {
			t.Fatalf("a real clock behind the history: %v", err)
		}
	}

	// A manual clock resumes where it stood, whatever its configured start.
	srv = start(server.Config{ManualStart: januaryFirst})
	if now := srv.Engine().Now(); !now.Equal(ahead) {
		t.Fatalf("after a restart the manual clock reads %s, want %s", now, ahead)
	}
	// Reset forgets the history but not where the clock stands.
	if _, err := srv.Engine().Do(ctx, engine.ResetFleet{}); err != nil {
		t.Fatal(err)
	}
	stop(srv)
	srv = start(server.Config{ManualStart: januaryFirst})
	if now := srv.Engine().Now(); !now.Equal(ahead) {
		t.Fatalf("after a reset and a restart the manual clock reads %s, want %s", now, ahead)
	}
	stop(srv)

	// Once the history is gone, the real clock may run again.
	srv = start(server.Config{})
	stop(srv)
}

package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/server"
)

// A vacuum is refused while a server holds the data dir, saying who holds
// it and to stop it, and touches nothing; once the server stops, it packs
// the file, and the next server finds its state.
func TestVacuumRefusedWhileServing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "azemu.db")
	srv := startServer(t, server.Config{DataDir: dir, Faults: []engine.Fault{{Kind: "throttle", Operation: "*"}}})
	kept := srv.Engine().Faults()
	ctx := context.Background()
	before, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.Vacuum(ctx, dir, db)
	if !errors.Is(err, server.ErrDataDirInUse) || !strings.Contains(err.Error(), "PID "+strconv.Itoa(os.Getpid())) ||
		!strings.Contains(err.Error(), srv.URL()) || !strings.Contains(err.Error(), "stop it, then vacuum") {
		t.Fatalf("a vacuum of a served data dir: %v, want a refusal naming the server", err)
	}
	if after, err := os.Stat(db); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the refused vacuum touched the database (%v)", err)
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	v, err := server.Vacuum(ctx, dir, db)
	if err != nil {
		t.Fatalf("a vacuum of a stopped data dir: %v", err)
	}
	if v.Before <= 0 || v.After <= 0 || v.Migrations != nil {
		t.Errorf("vacuum of a current file: %+v, want sizes and no migration", v)
	}
	got := startServer(t, server.Config{DataDir: dir}).Engine().Faults()
	if len(got) != 1 || len(kept) != 1 || got[0].ID != kept[0].ID {
		t.Errorf("faults after the vacuum: %+v, want %+v", got, kept)
	}
}

// A vacuum of a data dir that does not exist, or holds no database, says
// so and creates neither.
func TestVacuumOfNothing(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := server.Vacuum(ctx, missing, filepath.Join(missing, "azemu.db")); err == nil || !strings.Contains(err.Error(), "no data dir") {
		t.Errorf("vacuum of a missing data dir: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the vacuum created the data dir (%v)", err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "azemu.db")
	if _, err := server.Vacuum(ctx, dir, db); err == nil || !strings.Contains(err.Error(), "no database at") {
		t.Errorf("vacuum of an empty data dir: %v", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the vacuum created the database (%v)", err)
	}
}

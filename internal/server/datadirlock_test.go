package server_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/server"
)

// A second server on the same data dir refuses to start, naming the owner,
// and applies none of its --faults; once the owner stops, it starts.
func TestOneServerPerDataDir(t *testing.T) {
	dir := t.TempDir()
	first := startServer(t, server.Config{DataDir: dir, Faults: []engine.Fault{{Kind: "throttle", Operation: "*"}}})
	kept := first.Engine().Faults()

	second, err := server.Start(context.Background(), server.Config{DataDir: dir, Listen: "127.0.0.1:0",
		Faults: []engine.Fault{{Kind: "powerStateUnavailable", Probability: 0.5}}})
	if err == nil {
		second.Shutdown(context.Background())
		t.Fatal("a second server started on a data dir another one owns")
	}
	if !errors.Is(err, server.ErrDataDirInUse) || !strings.Contains(err.Error(), "PID "+strconv.Itoa(os.Getpid())) ||
		!strings.Contains(err.Error(), first.URL()) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("the refusal does not name the owner: %v", err)
	}

	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The refused server changed nothing: the next one finds the first's
	// faults, and starts now that the data dir is free.
	third := startServer(t, server.Config{DataDir: dir})
	got := third.Engine().Faults()
	if len(got) != 1 || len(kept) != 1 || got[0].ID != kept[0].ID || got[0].Kind != "throttle" {
		t.Fatalf("faults after a refused start: %+v, want %+v", got, kept)
	}
}

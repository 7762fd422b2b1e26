package server_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/pgtest"
	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// On a PostgreSQL store one server serves a database, whatever its data dir:
// a second one is refused, naming the first and why, and applies none of
// its faults; once the first stops, the next one starts and finds the
// first's state.
func TestOneServerPerPostgresStore(t *testing.T) {
	url := pgtest.Database(t)
	first := startServer(t, server.Config{Store: url, Faults: []engine.Fault{{Kind: "throttle", Operation: "*"}}})
	kept := first.Engine().Faults()

	second, err := server.Start(context.Background(), server.Config{Store: url, DataDir: t.TempDir(), Listen: "127.0.0.1:0",
		Faults: []engine.Fault{{Kind: "powerStateUnavailable", Probability: 0.5}}})
	if err == nil {
		second.Shutdown(context.Background())
		t.Fatal("a second server started on a PostgreSQL store another one serves")
	}
	if !errors.Is(err, postgres.ErrOwned) {
		t.Fatalf("second server: %v, want postgres.ErrOwned", err)
	}
	for _, want := range []string{first.URL(), "not supported yet"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}

	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	third := startServer(t, server.Config{Store: url})
	got := third.Engine().Faults()
	if len(got) != 1 || len(kept) != 1 || got[0].ID != kept[0].ID || got[0].Kind != "throttle" {
		t.Fatalf("faults after a refused start: %+v, want %+v", got, kept)
	}
}

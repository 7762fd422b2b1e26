package dashboard_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
	"github.com/azemu/azemu/internal/store"
)

// gatedStore holds every scan of the history, and every read of the saved
// accounts, while a gate is set, and then fails it with fail, if set: a
// history that takes as long as a test likes to read.
type gatedStore struct {
	store.Store
	mu   sync.Mutex
	gate chan struct{}
	fail error
}

func (g *gatedStore) hold(fail error) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	gate := make(chan struct{})
	g.gate, g.fail = gate, fail
	return func() { close(gate) }
}

// pass waits for the gate, if set, and then says whether to fail.
func (g *gatedStore) pass(ctx context.Context) error {
	g.mu.Lock()
	gate, fail := g.gate, g.fail
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fail
}

func (g *gatedStore) History(ctx context.Context, id string, from, to time.Time, fn func(store.Event) error) error {
	if err := g.pass(ctx); err != nil {
		return err
	}
	return g.Store.History(ctx, id, from, to, fn)
}

// Accounts is held as the history is: a start reads the saved accounts
// rather than the history when it can.
func (g *gatedStore) Accounts(ctx context.Context, fn func([]byte) error) error {
	if err := g.pass(ctx); err != nil {
		return err
	}
	return g.Store.Accounts(ctx, fn)
}

// gatedEngine is an engine on a gatedStore.
func gatedEngine(t *testing.T) (*enginetest.Rig, *gatedStore) {
	t.Helper()
	var gated *gatedStore
	er := enginetest.New(t, t0, func(c *engine.Config) {
		gated = &gatedStore{Store: c.Store}
		c.Store = gated
	})
	return er, gated
}

// TestStartDoesNotWaitForTheHistory starts a dashboard while reading the
// history is held up: it starts at once, and the costs it shows wait for
// the whole history, so they are those of a dashboard that read it first.
func TestStartDoesNotWaitForTheHistory(t *testing.T) {
	t.Parallel()
	er, gated := gatedEngine(t)
	r := rigOn(t, er.Engine, er.Clock, nil)
	r.group(subA, "rg", "eastus")
	r.vm(subA, "rg", "web", "eastus")
	r.vm(subA, "rg", "db", "eastus")
	r.advance(10 * time.Minute)
	r.act(vmID(subA, "rg", "db"), "powerOff")
	r.advance(time.Hour)
	status, want := r.do(http.MethodGet, "/_dashboard/api/vms", nil)
	if status != http.StatusOK || !strings.Contains(string(want), `"web"`) {
		t.Fatalf("GET vms: HTTP %d %s", status, want)
	}

	release := gated.hold(nil)
	restarted := rigOn(t, er.Engine, er.Clock, nil) // returns although the history cannot be read yet
	answered := make(chan string, 1)
	go func() {
		_, body := restarted.do(http.MethodGet, "/_dashboard/api/vms", nil)
		answered <- string(body)
	}()
	select {
	case got := <-answered:
		t.Fatalf("the costs were shown before the history was read: %s", got)
	default:
	}
	// The ARM API and health answer meanwhile.
	if status, body := restarted.do(http.MethodGet, "/_azemu/health", nil); status != http.StatusOK {
		t.Fatalf("health while the history is read: HTTP %d %s", status, body)
	}
	release()
	if got := <-answered; got != string(want) {
		t.Errorf("after a start the dashboard shows\n%s\nwant what it showed before\n%s", got, want)
	}

	// A history that cannot be read says so where costs are shown.
	broken := errors.New("the disk is gone")
	gated.hold(broken)()
	failed := rigOn(t, er.Engine, er.Clock, nil)
	status, body := failed.do(http.MethodGet, "/_dashboard/api/vms", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "the disk is gone") {
		t.Errorf("GET vms with an unreadable history: HTTP %d %s", status, body)
	}
	if status, body := failed.do(http.MethodGet, "/_dashboard/api/tree", nil); status != http.StatusOK {
		t.Errorf("GET tree with an unreadable history: HTTP %d %s", status, body)
	}
}

package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
)

// feed fans the engine's changes out to the live streams. The engine calls
// onChange under its writer lock, so onChange only records what changed in
// each client's pending set and signals it: the network writes happen on the
// client's own goroutine, never on the engine's.
type feed struct {
	maxPending int
	maxClients int

	mu      sync.Mutex
	clients map[*client]struct{}
	closed  bool
}

// client is one open stream.
type client struct {
	scope Scope
	wake  chan struct{} // capacity 1: "something is pending"
	done  chan struct{} // closed when the client is dropped or the feed closes

	mu      sync.Mutex
	pending map[string]*engine.VM // by VM key, the latest snapshot; nil: gone
}

func newFeed(maxPending, maxClients int) *feed {
	return &feed{maxPending: maxPending, maxClients: maxClients, clients: map[*client]struct{}{}}
}

var (
	errFeedClosed = errors.New("dashboard: the live feed is closed")
	errFeedFull   = errors.New("dashboard: the live feed has all the clients it serves")
)

func (f *feed) add(scope Scope) (*client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errFeedClosed
	}
	if len(f.clients) >= f.maxClients {
		return nil, errFeedFull
	}
	c := &client{scope: scope, wake: make(chan struct{}, 1), done: make(chan struct{}), pending: map[string]*engine.VM{}}
	f.clients[c] = struct{}{}
	return c, nil
}

func (f *feed) remove(c *client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clients[c]; ok {
		delete(f.clients, c)
		close(c.done)
	}
}

// close ends every stream and refuses new ones (server shutdown).
func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for c := range f.clients {
		delete(f.clients, c)
		close(c.done)
	}
}

// onChange runs on the engine's commit path: map updates and non-blocking
// sends only.
func (f *feed) onChange(ch engine.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.clients {
		if !c.offer(ch, f.maxPending) {
			// Too far behind: drop it rather than buffer without bound.
			// Its browser reconnects and reloads what it shows.
			delete(f.clients, c)
			close(c.done)
		}
	}
}

// offer records a change; false when the pending set outgrew max. A change
// without VMs (a manual clock advance) still wakes the client: its clock moved.
func (c *client) offer(ch engine.Change, max int) bool {
	c.mu.Lock()
	for _, v := range ch.VMs {
		if c.scope.AllowsID(v.ID) {
			c.pending[store.Key(v.ID)] = v
		}
	}
	for _, id := range ch.Gone {
		if c.scope.AllowsID(id) {
			c.pending[store.Key(id)] = nil
		}
	}
	n := len(c.pending)
	c.mu.Unlock()
	if n > max {
		return false
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// take empties the pending set.
func (c *client) take() (vms []*engine.VM, gone []string) {
	c.mu.Lock()
	pending := c.pending
	c.pending = make(map[string]*engine.VM, len(pending))
	c.mu.Unlock()
	for k, v := range pending {
		if v == nil {
			gone = append(gone, k)
		} else {
			vms = append(vms, v)
		}
	}
	sort.Slice(vms, func(i, j int) bool { return store.Key(vms[i].ID) < store.Key(vms[j].ID) })
	sort.Strings(gone)
	return vms, gone
}

// batch is one message of the live feed.
type batch struct {
	Clock clockView `json:"clock"`
	VMs   []vmRow   `json:"vms"`
	Gone  []string  `json:"gone"`
}

// Heartbeats keep proxies from closing an idle stream and let a dead
// client be noticed.
const heartbeat = 15 * time.Second

// writeTimeout bounds one write to a stream where the connection supports
// deadlines: a client that does not read is dropped, not waited for.
const writeTimeout = 10 * time.Second

// serveEvents streams batches of changes as server-sent events. Changes are
// coalesced per VM and flushed at most every interval, so a burst of
// thousands of transitions costs a client a few messages, not thousands.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request, scope Scope) {
	c, err := h.feed.add(scope)
	if errors.Is(err, errFeedFull) {
		w.Header().Set("Retry-After", "10")
		writeError(w, armerror.New(armerror.CodeServiceUnavailable, "The live feed serves at most %d clients at once; retry later.", h.feed.maxClients))
		return
	}
	if err != nil {
		writeError(w, armerror.New(armerror.CodeServiceUnavailable, "The server is shutting down."))
		return
	}
	defer h.feed.remove(c)
	rc := http.NewResponseController(w)
	// A stream outlives the server's read timeout, which bounds reading a
	// request: the request is read, so lift it for this one.
	_ = rc.SetReadDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	send := func(event string, v any) bool {
		buf.Reset()
		buf.WriteString("event: " + event + "\ndata: ")
		if err := json.NewEncoder(&buf).Encode(v); err != nil { // one line, newline-terminated
			return false
		}
		buf.WriteString("\n")
		return h.write(rc, w, buf.Bytes())
	}
	// The first message says the stream is live; the page reloads what it
	// shows on every reconnection, so nothing missed in between is lost.
	// retry: a dropped client comes back after a second.
	if !h.write(rc, w, []byte("retry: 1000\n\n")) || !send("hello", h.clockView()) {
		return
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	var last time.Time
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case <-beat.C:
			if !h.write(rc, w, []byte(": ping\n\n")) {
				return
			}
		case <-c.wake:
			if wait := h.interval - time.Since(last); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return
				case <-c.done:
					t.Stop()
					return
				}
			}
			vms, gone := c.take()
			b := batch{Clock: h.clockView(), VMs: h.rows(vms, h.eng.Now()), Gone: gone}
			if b.Gone == nil {
				b.Gone = []string{}
			}
			if !send("batch", b) {
				return
			}
			last = time.Now()
		}
	}
}

func (h *Handler) write(rc *http.ResponseController, w http.ResponseWriter, p []byte) bool {
	// Deadlines need a ResponseWriter that unwraps to the connection's;
	// without one the write may block this goroutine, but never the engine.
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := w.Write(p); err != nil {
		return false
	}
	return rc.Flush() == nil
}

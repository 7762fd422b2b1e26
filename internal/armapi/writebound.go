package armapi

import (
	"fmt"
	"maps"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/engine"
)

// A write waits for the disk; a hung disk (a frozen file system, a stalled
// network volume) would hold its request, and every write queued behind
// it, for as long as the disk hangs. So a request that may write is served
// with a bound: once the store is stuck (one write has waited for the disk
// longer than the engine's WriteTimeout), the client gets 503
// StoreWriteTimeout, and the handler goes on in the background, its answer
// dropped; the change it makes is committed whole, or not at all, when the
// disk answers. A request that is merely long (an advance that fires
// thousands of steps, each written at once) is not cut. While the store is
// stuck, new writes are refused at once, before they change anything, and
// reads, served from memory, go on answering.

// maxDetached bounds the handlers left running past their deadline; more
// writes are refused at once.
const maxDetached = 64

// writes reports whether r may write to the store: any method but GET,
// HEAD and OPTIONS, on ARM, the emulator endpoints and the dashboard's
// actions. Signing in (to the token service, or the dashboard's session)
// writes nothing and is left alone, so that reads go on with fresh tokens.
func writes(r *request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return r.seg(0, "subscriptions") || r.seg(0, "_azemu") ||
		len(r.lower) == 3 && r.seg(0, "_dashboard") && r.seg(1, "api") && r.seg(2, "actions")
}

// boundWrite serves r with the write deadline.
func (s *Server) boundWrite(r *request) {
	timeout := s.eng.WriteTimeout()
	if h := s.eng.StoreHealth(); h.Problem == engine.ProblemWriteStuck {
		s.refuseWrite(r, timeout, fmt.Sprintf("The change was refused: %s since %s. Nothing was changed; retry once /_azemu/health says ok.",
			h.Message, h.Since.UTC().Format(time.RFC3339)))
		return
	}
	if s.detached.Load() >= maxDetached {
		s.refuseWrite(r, timeout, fmt.Sprintf("The change was refused: %d earlier changes are still waiting for the disk holding azemu's data. Nothing was changed; retry once /_azemu/health says ok.", maxDetached))
		return
	}
	answer := *r // answers through the real writer, if the deadline passes
	rec := &responseRecorder{header: maps.Clone(r.w.Header())}
	r.w = rec
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic serving request", "request_id", r.requestID, "panic", v, "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(r, errorf("InternalServerError", "", "The server encountered an internal error. Please retry the request."))
				}
			}
		}()
		s.dispatch(r)
	}()
	// The store is checked a few times per timeout: a stuck write is
	// answered at most a quarter of the timeout after it is declared stuck.
	tick := time.NewTicker(max(timeout/4, time.Millisecond))
	defer tick.Stop()
	for s.eng.StoreHealth().Problem != engine.ProblemWriteStuck {
		select {
		case <-done:
			rec.replay(answer.w)
			return
		case <-tick.C:
		}
	}
	s.detached.Add(1)
	go func() {
		<-done
		s.detached.Add(-1)
		s.log.Info("a change answered 503 when the disk hung has ended", "request_id", r.requestID, "status", rec.status)
	}()
	s.refuseWrite(&answer, timeout, fmt.Sprintf("The change was not confirmed: the disk holding azemu's data has taken no write for over %s. It may still be saved, whole, once the disk answers: read the resource back before retrying.", timeout))
}

func (s *Server) refuseWrite(r *request, timeout time.Duration, message string) {
	r.w.Header().Set("Retry-After", strconv.Itoa(max(1, int(timeout.Seconds()))))
	s.writeError(r, errorf(armerror.CodeStoreWriteTimeout, "", "%s", message))
}

// Flush does nothing: a recorded answer goes out whole, in replay.
func (w *responseRecorder) Flush() {}

// replay writes the recorded answer to w.
func (w *responseRecorder) replay(to http.ResponseWriter) {
	h := to.Header()
	clear(h)
	maps.Copy(h, w.header)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	to.WriteHeader(w.status)
	_, _ = to.Write(w.body.Bytes())
}

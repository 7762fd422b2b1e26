package armapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// The fault registry over HTTP (docs/faults.md):
//
//	POST   /_azemu/faults        body: one engine.Fault; 201 with its id
//	GET    /_azemu/faults        {"value":[...]}, oldest first
//	GET    /_azemu/faults/{id}   one fault; 404 when unknown
//	DELETE /_azemu/faults        removes all: {"removed":n}
//	DELETE /_azemu/faults/{id}   removes one: {"removed":1}; 404 when unknown
func (s *Server) serveFaults(r *request, rest []string) {
	switch {
	case len(rest) == 1:
		switch r.Method {
		case http.MethodPost:
			s.addFault(r)
		case http.MethodGet:
			faults := s.eng.Faults()
			if faults == nil {
				faults = []engine.Fault{}
			}
			s.writeJSON(r, http.StatusOK, map[string]any{"value": faults})
		case http.MethodDelete:
			s.removeFaults(r, "")
		default:
			s.methodNotAllowed(r)
		}
	case len(rest) == 2:
		id := r.segs[2]
		switch r.Method {
		case http.MethodGet:
			for _, f := range s.eng.Faults() {
				if strings.EqualFold(f.ID, id) {
					s.writeJSON(r, http.StatusOK, f)
					return
				}
			}
			s.writeError(r, faultNotFound(id))
		case http.MethodDelete:
			s.removeFaults(r, id)
		default:
			s.methodNotAllowed(r)
		}
	default:
		s.notFound(r)
	}
}

func faultNotFound(id string) *armerror.Error {
	return errorf("NotFound", "id", "The fault '%s' is not registered.", id)
}

// addFault registers the fault in the body. Unknown fields are refused, so
// a misspelt "probabilty" does not silently make an always-on fault.
func (s *Server) addFault(r *request) {
	body, ok := s.readBody(r)
	if !ok {
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		s.writeError(r, notDeserialized(errEmptyBody))
		return
	}
	f, err := DecodeFault(body)
	if err != nil {
		s.writeError(r, notDeserialized(err))
		return
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.AddFault{Fault: f})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	r.w.Header().Set("Location", r.base+"/_azemu/faults/"+res.Fault.ID)
	s.writeJSON(r, http.StatusCreated, res.Fault)
}

// DecodeFault reads one fault as POST /_azemu/faults and the --faults file
// take it: engine.Fault's JSON, unknown fields refused, the id ignored.
func DecodeFault(data []byte) (engine.Fault, error) {
	var f engine.Fault
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, err
	}
	if dec.More() {
		return f, errTrailingData
	}
	f.ID = ""
	return f, nil
}

var errTrailingData = errors.New("unexpected data after the fault object")

func (s *Server) removeFaults(r *request, id string) {
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.RemoveFaults{ID: id})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	if id != "" && res.Removed == 0 {
		s.writeError(r, faultNotFound(id))
		return
	}
	s.writeJSON(r, http.StatusOK, map[string]any{"removed": res.Removed})
}

// throttleRetryAfter is the Retry-After of an injected throttle (D): one
// second, ARM's minimum, so an SDK that honours it retries at once.
const throttleRetryAfter = 1

// throttleOperation is the operation name a throttle fault is matched
// against: the VM action for POST .../virtualMachines/{vm}/{action} when a
// throttle fault names that action, else the HTTP method. So "*" matches
// every ARM request, "GET"/"PUT"/"PATCH"/"POST"/"DELETE" a method, and
// "start", "deallocate", ... one VM action.
func (s *Server) throttleOperation(r *request) string {
	if r.Method == http.MethodPost && len(r.lower) == 9 && r.lower[6] == "virtualmachines" {
		action := r.lower[8]
		for _, f := range s.eng.Faults() {
			if f.Kind == engine.FaultThrottle && strings.EqualFold(f.Operation, action) {
				return action
			}
		}
	}
	return r.Method
}

// faultFires reports whether an injected fault of kind fires for the read
// op of r. An engine that cannot say (it is shutting down) fires none: the
// read is served as it would be without faults.
func (s *Server) faultFires(r *request, kind, op string) bool {
	if kind == engine.FaultThrottle {
		if p, ok := throttleProbes[op]; ok {
			return s.probeFires(r, p)
		}
	}
	return s.probeFires(r, engine.ProbeFault{Kind: kind, Operation: op})
}

// probeFires runs the fault probe p for r.
func (s *Server) probeFires(r *request, p engine.Request) bool {
	// The request's own context, unwrapped (every ARM request probes): a
	// probe waits for nothing. It spends a use in memory and the store
	// learns of it in the background, so a client's hang-up has nothing
	// to cut short.
	res, err := s.eng.Do(r.Context(), p)
	return err == nil && res.Fired
}

// throttleProbes are the throttle probes of HTTP's methods, made once:
// every ARM request makes one, and a probe made per request is an
// allocation (an engine.Request holding two strings).
var throttleProbes = func() map[string]engine.Request {
	m := map[string]engine.Request{}
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace} {
		m[method] = engine.ProbeFault{Kind: engine.FaultThrottle, Operation: method}
	}
	return m
}()

// throttled answers 429 when an injected throttle fault fires for r.
func (s *Server) throttled(r *request) bool {
	op := s.throttleOperation(r)
	if !s.faultFires(r, engine.FaultThrottle, op) {
		return false
	}
	r.w.Header().Set("Retry-After", strconv.Itoa(throttleRetryAfter))
	s.writeError(r, errorf("TooManyRequests", "",
		"The request is being throttled as the limit has been reached for operation type - %s. For more information, see - https://aka.ms/throttling.", op))
	return true
}

// listVMsStatusOnly is listAll with statusOnly=true: every VM's identity
// and run-time status, without its model, as Compute answers it (see
// docs/api-coverage.md). A powerStateUnavailable fault that fires for a VM
// drops its PowerState entry, the intermittent gap Azure documents for
// this call.
func (s *Server) listVMsStatusOnly(r *request, prefix string, match func(*engine.VM) bool) {
	page, next := s.eng.ListVMsIn(prefix, match, r.URL.Query().Get("$skiptoken"), s.pageSize)
	writePage(r, statusOnlyPage(page, nextLink(r, next), func() bool { // listrender.go
		return s.faultFires(r, engine.FaultPowerStateUnavailable, "listAll")
	}, s.statusOnly))
}

func withoutPowerState(statuses []lifecycle.Status) []lifecycle.Status {
	out := make([]lifecycle.Status, 0, len(statuses))
	for _, st := range statuses {
		if !strings.HasPrefix(st.Code, "PowerState/") {
			out = append(out, st)
		}
	}
	return out
}

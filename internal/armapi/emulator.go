package armapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/crosssite"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// serveEmulator answers the emulator's own endpoints under /_azemu/. In
// the open mode they need no token: they steer the emulator, not Azure
// resources. So a change that another site's page could send is refused
// (internal/crosssite). The strict mode asks for a token and a role
// (guardEmulator).
func (s *Server) serveEmulator(r *request) {
	if no := crosssite.Check(r.Request); no != nil {
		s.writeError(r, no)
		return
	}
	if !s.guardEmulator(r) {
		return
	}
	rest := r.lower[1:]
	switch {
	case len(rest) == 1 && rest[0] == "health":
		s.onlyGET(r, s.health)
	case len(rest) == 1 && rest[0] == "clock":
		s.onlyGET(r, s.getClock)
	case len(rest) == 2 && rest[0] == "clock" && rest[1] == "advance":
		if r.Method != http.MethodPost {
			s.methodNotAllowed(r)
			return
		}
		s.advanceClock(r)
	case len(rest) == 1 && rest[0] == "reset":
		if r.Method != http.MethodPost {
			s.methodNotAllowed(r)
			return
		}
		if _, err := s.eng.Do(r.Context(), engine.ResetFleet{}); err != nil {
			s.writeErr(r, err)
			return
		}
		s.writeJSON(r, http.StatusOK, map[string]any{"reset": true})
	case len(rest) >= 1 && rest[0] == "faults":
		s.serveFaults(r, rest)
	case len(rest) == 2 && rest[0] == "billing" && rest[1] == "usage":
		s.onlyGET(r, s.serve(s.billingUsage))
	case len(rest) == 2 && rest[0] == "billing" && rest[1] == "idle":
		s.onlyGET(r, s.serve(s.billingIdle))
	case len(rest) == 1 && rest[0] == "vms":
		s.onlyGET(r, s.serve(s.fleet))
	case len(rest) > 2 && rest[0] == "vms" && rest[len(rest)-1] == "history":
		s.onlyGET(r, s.serve(s.vmHistory))
	case len(rest) > 2 && rest[0] == "vms":
		if r.Method != http.MethodPost {
			s.methodNotAllowed(r)
			return
		}
		s.guestAction(r)
	default:
		s.notFound(r)
	}
}

func (s *Server) health(r *request) {
	st := s.eng.Stats()
	mode := "real"
	if s.eng.ManualClock() {
		mode = "manual"
	}
	body := map[string]any{
		"status": "ok",
		"clock":  mode,
		"now":    s.eng.Now().UTC().Format(time.RFC3339Nano),
		"speed":  s.eng.Speed(),
	}
	// Reads are served from memory whatever the disk does; a store that
	// refuses writes makes the emulator degraded, and says why.
	sh := s.eng.StoreHealth()
	store := map[string]any{"writable": sh.Writable, "failedWrites": sh.Failures}
	if !sh.Writable {
		body["status"] = "degraded"
		store["problem"] = sh.Problem
		store["since"] = sh.Since.UTC().Format(time.RFC3339Nano)
		store["message"] = sh.Message
	}
	body["store"] = store
	// The fleet's counts span every subscription: the strict mode shows
	// them to an admin only.
	if s.identity == nil || !s.identity.Strict() || r.caller.Principal != nil && r.caller.Principal.Admin {
		body["fleet"] = map[string]any{
			"subscriptions":        st.Subscriptions,
			"resourceGroups":       st.Groups,
			"virtualMachines":      st.VMs,
			"operationsInProgress": st.OperationsInProgress,
			"byPowerState":         st.ByPower,
		}
	}
	s.writeJSON(r, http.StatusOK, body)
}

func (s *Server) clockBody() map[string]any {
	mode := "real"
	if s.eng.ManualClock() {
		mode = "manual"
	}
	return map[string]any{"now": s.eng.Now().UTC().Format(time.RFC3339Nano), "mode": mode, "speed": s.eng.Speed()}
}

func (s *Server) getClock(r *request) { s.writeJSON(r, http.StatusOK, s.clockBody()) }

func (s *Server) advanceClock(r *request) {
	var in struct {
		Duration string `json:"duration"`
	}
	if !s.readJSON(r, &in) {
		return
	}
	d, err := time.ParseDuration(in.Duration)
	if err != nil {
		s.writeError(r, invalidParameter("duration", "The duration '%s' is not a Go duration such as \"90s\" or \"1h30m\".", in.Duration))
		return
	}
	if _, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.AdvanceClock{By: d}); err != nil {
		s.writeErr(r, err)
		return
	}
	s.writeJSON(r, http.StatusOK, s.clockBody())
}

// guestActions are what happens inside a VM rather than through ARM.
var guestActions = map[string]lifecycle.Kind{
	"guestshutdown": lifecycle.GuestShutdown,
	"migrate":       lifecycle.Migrate,
	// evict is a Spot eviction as the platform does it: the same plan as
	// ARM's simulateEviction (the VM's evictionPolicy decides), but as an
	// operation the caller can poll.
	"evict": lifecycle.SimulateEviction,
}

// guestAction serves POST /_azemu/vms/{ARM ID of a VM}/{guestShutdown|migrate|evict}.
func (s *Server) guestAction(r *request) {
	action := r.lower[len(r.lower)-1]
	kind, ok := guestActions[action]
	if !ok {
		s.notFound(r)
		return
	}
	id, err := armid.Parse("/" + strings.Join(r.segs[2:len(r.segs)-1], "/"))
	if err != nil || !strings.EqualFold(id.Type(), "Microsoft.Compute/virtualMachines") {
		s.writeError(r, invalidParameter("id", "'%s' is not the ID of a virtual machine.", strings.Join(r.segs[2:len(r.segs)-1], "/")))
		return
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: id.String(), Verb: engine.VerbAct, Input: lifecycle.Request{Kind: kind}})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	op := res.Operation
	r.apiVer = "2025-04-01"
	s.setLRO(r, op, true)
	s.writeJSON(r, http.StatusAccepted, operationStatusBody(op))
}

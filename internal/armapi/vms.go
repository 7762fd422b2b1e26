package armapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

func (s *Server) putVM(r *request, sub, rg, name string) {
	if err := armid.ValidName("virtualMachines", name); err != nil {
		s.writeError(r, errorf(http.StatusBadRequest, "InvalidResourceName", "", "Resource name %s is invalid: %v.", name, err))
		return
	}
	var body map[string]any
	if !s.readJSON(r, &body) {
		return
	}
	s.upsertVM(r, sub, rg, name, func(*engine.VM) (map[string]any, error) { return body, nil })
}

func (s *Server) patchVM(r *request, sub, rg, name string) {
	var patch map[string]any
	if !s.readJSON(r, &patch) {
		return
	}
	if _, err := s.eng.GetVM(sub, rg, name); err != nil {
		s.writeErr(r, err)
		return
	}
	for _, k := range []string{"location", "id", "name", "type"} {
		delete(patch, k)
	}
	s.upsertVM(r, sub, rg, name, func(old *engine.VM) (map[string]any, error) {
		if old == nil {
			return nil, &engine.Error{Code: engine.CodeResourceNotFound, Message: "The Resource 'Microsoft.Compute/virtualMachines/" + name + "' under resource group '" + rg + "' was not found."}
		}
		var model map[string]any
		if err := json.Unmarshal(old.Model, &model); err != nil {
			return nil, err
		}
		return mergePatch(model, patch), nil
	})
}

// upsertVM validates the body that build returns and hands it to the engine,
// answering 201 (new) or 200 with the VM and the operation's headers.
func (s *Server) upsertVM(r *request, sub, rg, name string, build func(*engine.VM) (map[string]any, error)) {
	vm, created, op, err := s.eng.PutVM(ctxWithoutCancel(r.Context()), engine.PutVMRequest{
		SubscriptionID: sub, ResourceGroup: rg, Name: name,
		IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Build: func(old *engine.VM) (json.RawMessage, engine.VMSpec, error) {
			body, err := build(old)
			if err != nil {
				return nil, engine.VMSpec{}, err
			}
			spec, aerr := checkVM(name, body, old != nil)
			if aerr != nil {
				return nil, spec, aerr
			}
			model, err := json.Marshal(normaliseVMModel(strings.ToLower(sub), rgName(s, sub, rg), name, body, spec))
			return model, spec, err
		},
	})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.setLRO(r, op, false)
	r.w.Header().Set("ETag", vm.ETag())
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeJSON(r, status, renderVM(vm, false))
}

// rgName is the resource group's name with the casing it was created with.
func rgName(s *Server, sub, rg string) string {
	if g, ok := s.eng.Group(sub, rg); ok {
		return g.Name
	}
	return rg
}

func (s *Server) getVM(r *request, sub, rg, name string) {
	vm, err := s.eng.GetVM(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	expand := strings.EqualFold(r.URL.Query().Get("$expand"), "instanceView")
	r.w.Header().Set("ETag", vm.ETag())
	s.writeJSON(r, http.StatusOK, renderVM(vm, expand))
}

func (s *Server) getInstanceView(r *request, sub, rg, name string) {
	vm, err := s.eng.GetVM(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.writeJSON(r, http.StatusOK, instanceView(vm))
}

func (s *Server) deleteVM(r *request, sub, rg, name string) {
	req := lifecycle.Request{Kind: lifecycle.Delete, Force: strings.EqualFold(r.URL.Query().Get("forceDeletion"), "true")}
	if _, err := s.eng.GetVM(sub, rg, name); err != nil {
		var ee *engine.Error
		if asEngineError(err, &ee) && ee.Code == engine.CodeResourceNotFound {
			// Deleting what is not there succeeds with 204, as ARM does.
			r.w.WriteHeader(http.StatusNoContent)
			return
		}
		s.writeErr(r, err)
		return
	}
	s.runAction(r, sub, rg, name, req)
}

// vmActions maps the POST action segment (lower case) to its operation.
var vmActions = map[string]lifecycle.Kind{
	"start":            lifecycle.Start,
	"poweroff":         lifecycle.PowerOff,
	"deallocate":       lifecycle.Deallocate,
	"restart":          lifecycle.Restart,
	"redeploy":         lifecycle.Redeploy,
	"reimage":          lifecycle.Reimage,
	"generalize":       lifecycle.Generalize,
	"simulateeviction": lifecycle.SimulateEviction,
	"runcommand":       lifecycle.RunCommand,
}

// shutdownScript recognises scripts that shut the guest down, whatever the
// shell: they stop the VM from inside, which Azure still bills.
var shutdownScript = regexp.MustCompile(`(?i)(^|[\s;&|(])(shutdown|poweroff|halt|init\s+0|systemctl\s+(poweroff|halt)|stop-computer)\b`)

func (s *Server) vmAction(r *request, sub, rg, name, action string) {
	kind, ok := vmActions[action]
	if !ok {
		s.notFound(r)
		return
	}
	q := r.URL.Query()
	req := lifecycle.Request{Kind: kind,
		SkipShutdown: strings.EqualFold(q.Get("skipShutdown"), "true"),
		Hibernate:    strings.EqualFold(q.Get("hibernate"), "true"),
	}
	if kind == lifecycle.RunCommand {
		var in struct {
			CommandID string   `json:"commandId"`
			Script    []string `json:"script"`
		}
		if !s.readJSON(r, &in) {
			return
		}
		if in.CommandID == "" {
			s.writeError(r, missingParameter("commandId"))
			return
		}
		req.ShutsDownGuest = shutdownScript.MatchString(strings.Join(in.Script, "\n"))
	} else if !s.readOptionalJSON(r, &map[string]any{}) {
		return
	}
	s.runAction(r, sub, rg, name, req)
}

func (s *Server) runAction(r *request, sub, rg, name string, req lifecycle.Request) {
	op, err := s.eng.Act(ctxWithoutCancel(r.Context()), sub, rg, name, req)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	switch req.Kind {
	case lifecycle.Generalize:
		// Synchronous in Azure: 200 with no LRO.
		r.w.WriteHeader(http.StatusOK)
	case lifecycle.SimulateEviction:
		r.w.WriteHeader(http.StatusNoContent)
	default:
		s.setLRO(r, op, true)
		r.w.WriteHeader(http.StatusAccepted)
	}
}

func (s *Server) listVMsInGroup(r *request, sub, rg string) {
	if _, ok := s.eng.Group(sub, rg); !ok {
		s.writeErr(r, &engine.Error{Code: engine.CodeResourceGroupNotFound, Message: "Resource group '" + rg + "' could not be found."})
		return
	}
	prefix := strings.ToLower(armid.ResourceGroupID(sub, rg)) + "/providers/microsoft.compute/virtualmachines/"
	s.listVMs(r, func(v *engine.VM) bool { return strings.HasPrefix(strings.ToLower(v.ID), prefix) }, false)
}

// scaleSetFilter is the one $filter listAll supports.
var scaleSetFilter = regexp.MustCompile(`(?i)^\s*'?virtualMachineScaleSet/id'?\s+eq\s+'([^']+)'\s*$`)

func (s *Server) listVMsInSubscription(r *request, sub, location string) {
	q := r.URL.Query()
	subKey := "/subscriptions/" + strings.ToLower(sub) + "/"
	scaleSet := ""
	if f := q.Get("$filter"); f != "" {
		m := scaleSetFilter.FindStringSubmatch(f)
		if m == nil {
			s.writeError(r, invalidParameter("$filter", "The $filter '%s' is not supported. Only 'virtualMachineScaleSet/id' eq '<id>' is.", f))
			return
		}
		scaleSet = m[1]
	}
	loc := armLocation(location)
	match := func(v *engine.VM) bool {
		if !strings.HasPrefix(strings.ToLower(v.ID), subKey) {
			return false
		}
		if loc != "" && v.Spec.Location != loc {
			return false
		}
		return scaleSet == "" || armid.Equal(v.Spec.ScaleSetID, scaleSet)
	}
	statusOnly := strings.EqualFold(q.Get("statusOnly"), "true")
	s.listVMs(r, match, statusOnly)
}

func (s *Server) listVMs(r *request, match func(*engine.VM) bool, withInstanceView bool) {
	q := r.URL.Query()
	withInstanceView = withInstanceView || strings.EqualFold(q.Get("$expand"), "instanceView")
	page, next := s.eng.ListVMs(match, q.Get("$skiptoken"), s.pageSize)
	value := make([]any, 0, len(page))
	for _, v := range page {
		value = append(value, renderVM(v, withInstanceView))
	}
	s.writeList(r, value, next)
}

func asEngineError(err error, target **engine.Error) bool {
	e, ok := err.(*engine.Error)
	if ok {
		*target = e
	}
	return ok
}

package armapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// installSecondsTag sets how long an extension takes to install, for tests
// that want a given duration (D); the default is engine.DefaultExtensionInstall.
const installSecondsTag = "azemu-install-seconds"

type extensionInput struct {
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	Properties *struct {
		Publisher          string `json:"publisher"`
		Type               string `json:"type"`
		TypeHandlerVersion string `json:"typeHandlerVersion"`
	} `json:"properties"`
}

// checkExtension validates an extension body and derives its spec; the
// body is kept less its protected settings, which Azure never returns.
func checkExtension(body map[string]any, vm *engine.VM) (engine.ExtensionSpec, *armerror.Error) {
	var in extensionInput
	if e := retyped(body, &in); e != nil {
		return engine.ExtensionSpec{}, e
	}
	p := in.Properties
	if p == nil {
		return engine.ExtensionSpec{}, missingParameter("properties")
	}
	if strings.TrimSpace(p.Publisher) == "" {
		return engine.ExtensionSpec{}, missingParameter("publisher")
	}
	if strings.TrimSpace(p.Type) == "" {
		return engine.ExtensionSpec{}, missingParameter("type")
	}
	if strings.TrimSpace(p.TypeHandlerVersion) == "" {
		return engine.ExtensionSpec{}, missingParameter("typeHandlerVersion")
	}
	location := vm.Spec.Location
	if in.Location != "" {
		if armLocation(in.Location) != vm.Spec.Location {
			return engine.ExtensionSpec{}, invalidParameter("location", "The extension's location '%s' is not its VM's, '%s'.", in.Location, vm.Spec.Location)
		}
	}
	var install time.Duration
	if v, ok := in.Tags[installSecondsTag]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			return engine.ExtensionSpec{}, invalidParameter("tags."+installSecondsTag, "The tag '%s' must be a whole number of seconds from 1 to 3600.", installSecondsTag)
		}
		install = time.Duration(n) * time.Second
	}
	model := map[string]any{}
	for k, v := range body {
		if k == "tags" || k == "properties" {
			model[k] = v
		}
	}
	if props, ok := model["properties"].(map[string]any); ok {
		delete(props, "protectedSettings")
		delete(props, "provisioningState")
		delete(props, "instanceView")
	}
	m, _ := json.Marshal(model)
	return engine.ExtensionSpec{Location: location, Publisher: p.Publisher, Type: p.Type, TypeHandlerVersion: p.TypeHandlerVersion,
		Install: install, Model: m}, nil
}

func (s *Server) putExtension(r *request, sub, rg, vmName, name string) {
	var body map[string]any
	if !s.readJSON(r, &body) {
		return
	}
	vm, err := s.eng.GetVM(sub, rg, vmName)
	if err != nil {
		s.writeErr(r, parentErr(err, vmName))
		return
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.ChildID(vm.ID, "extensions", name), Verb: engine.VerbPut,
		Build: engine.Build(func(*engine.Extension) (any, error) {
			return asError(checkExtension(body, vm))
		}),
	})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.writePut(r, res.Operation, "", res.Created, s.renderExtension(r.Context(), res.State.(*engine.Extension), false))
}

// parentErr turns a missing VM into ARM's nested-resource error.
func parentErr(err error, vm string) error {
	if armerror.HasCode(err, armerror.CodeResourceNotFound) {
		return armerror.New(armerror.CodeParentResourceNotFound, "Can not perform requested operation on nested resource. Parent resource '%s' not found.", vm)
	}
	return err
}

func (s *Server) getExtension(r *request, sub, rg, vmName, name string) {
	if _, err := s.eng.GetVM(sub, rg, vmName); err != nil {
		s.writeErr(r, parentErr(err, vmName))
		return
	}
	x, err := s.eng.GetExtension(sub, rg, vmName, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.writeJSON(r, http.StatusOK, s.renderExtension(r.Context(), x, strings.EqualFold(r.URL.Query().Get("$expand"), "instanceView")))
}

func (s *Server) listExtensions(r *request, sub, rg, vmName string) {
	vm, err := s.eng.GetVM(sub, rg, vmName)
	if err != nil {
		s.writeErr(r, parentErr(err, vmName))
		return
	}
	expand := strings.EqualFold(r.URL.Query().Get("$expand"), "instanceView")
	value := []any{}
	for _, x := range s.eng.Extensions(vm.ID) {
		value = append(value, s.renderExtension(r.Context(), x, expand))
	}
	// VirtualMachineExtensionsListResult has no nextLink: one page.
	s.writeJSON(r, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) deleteExtension(r *request, sub, rg, vmName, name string) {
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.ChildID(armid.VirtualMachineID(sub, rg, vmName), "extensions", name), Verb: engine.VerbDelete})
	if err != nil {
		s.writeErr(r, parentErr(err, vmName))
		return
	}
	op := res.Operation
	if !res.Found {
		r.w.WriteHeader(http.StatusNoContent)
		return
	}
	s.setLRO(r, op, true)
	r.w.WriteHeader(http.StatusAccepted)
}

// extensionView is an extension's entry in an instance view.
type extensionView struct {
	Name               string             `json:"name"`
	Type               string             `json:"type"`
	TypeHandlerVersion string             `json:"typeHandlerVersion"`
	Statuses           []lifecycle.Status `json:"statuses"`
}

func (s *Server) extensionView(ctx context.Context, x *engine.Extension) extensionView {
	state := s.eng.ExtensionState(ctx, x)
	st := lifecycle.Status{Code: "ProvisioningState/succeeded", Level: lifecycle.Info, DisplayStatus: "Provisioning succeeded", Message: "Enable succeeded"}
	switch state {
	case "Creating", "Updating":
		st = lifecycle.Status{Code: "ProvisioningState/transitioning", Level: lifecycle.Info, DisplayStatus: "Transitioning", Message: "Enable in progress"}
	case "Failed":
		st = lifecycle.Status{Code: "ProvisioningState/failed/1", Level: lifecycle.Error, DisplayStatus: "Provisioning failed", Message: "Enable failed: the script exited with status 1"}
	}
	return extensionView{Name: x.Name, Type: x.Spec.Publisher + "." + x.Spec.Type, TypeHandlerVersion: x.Spec.TypeHandlerVersion, Statuses: []lifecycle.Status{st}}
}

func (s *Server) renderExtension(ctx context.Context, x *engine.Extension, withInstanceView bool) map[string]any {
	var model map[string]any
	_ = json.Unmarshal(x.Spec.Model, &model)
	props, _ := model["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	props["publisher"] = x.Spec.Publisher
	props["type"] = x.Spec.Type
	props["typeHandlerVersion"] = x.Spec.TypeHandlerVersion
	props["provisioningState"] = s.eng.ExtensionState(ctx, x)
	if withInstanceView {
		props["instanceView"] = s.extensionView(ctx, x)
	}
	out := map[string]any{
		"id":         x.ID,
		"name":       x.Name,
		"type":       engine.ExtensionType,
		"location":   x.Spec.Location,
		"properties": props,
	}
	if tags, ok := model["tags"]; ok {
		out["tags"] = tags
	}
	return out
}

// withExtensions adds the VM's extensions to its instance view.
func (s *Server) withExtensions(ctx context.Context, exts []*engine.Extension, iv vmInstanceView) vmInstanceView {
	for _, x := range exts {
		iv.Extensions = append(iv.Extensions, s.extensionView(ctx, x))
		// A running agent reports a handler per extension it runs.
		if iv.VMAgent != nil && iv.VMAgent.VMAgentVersion != "Unknown" {
			iv.VMAgent.ExtensionHandlers = append(iv.VMAgent.ExtensionHandlers, extensionHandler{
				Type: x.Spec.Publisher + "." + x.Spec.Type, TypeHandlerVersion: x.Spec.TypeHandlerVersion,
				Status: lifecycle.Status{Code: "ProvisioningState/succeeded", Level: lifecycle.Info, DisplayStatus: "Ready"}})
		}
	}
	return iv
}

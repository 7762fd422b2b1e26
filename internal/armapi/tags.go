package armapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// The Tags API: {scope}/providers/Microsoft.Resources/tags/default, where
// the scope is a resource group or a resource azemu keeps (VM, scale set,
// disk). A subscription's own tags are not kept (D): GET shows none, and
// writing them is refused.

// isTagsPath reports whether the path ends in the Tags API's resource.
func isTagsPath(r *request) bool {
	n := len(r.segs)
	return n >= 6 && r.seg(n-4, "providers") && r.seg(n-3, "Microsoft.Resources") && r.seg(n-2, "tags") && r.seg(n-1, "default")
}

func (s *Server) routeTags(r *request, sub string) {
	scope := "/" + strings.Join(r.segs[:len(r.segs)-4], "/")
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		s.methodNotAllowed(r)
		return
	}
	tags, ok := s.scopeTags(r, sub, scope)
	if !ok {
		return
	}
	var in struct {
		Operation  string `json:"operation"`
		Properties *struct {
			Tags map[string]*string `json:"tags"`
		} `json:"properties"`
	}
	switch r.Method {
	case http.MethodGet:
		s.writeTags(r, scope, tags)
		return
	case http.MethodDelete:
		tags = map[string]string{}
	case http.MethodPut, http.MethodPatch:
		if !s.readJSON(r, &in) {
			return
		}
		if in.Properties == nil || in.Properties.Tags == nil {
			s.writeError(r, missingParameter("properties.tags"))
			return
		}
		given := tagsOf(in.Properties.Tags)
		op := "Replace"
		if r.Method == http.MethodPatch {
			op = canonicalOneOf(in.Operation, "Merge", "Replace", "Delete")
			if op == "" {
				s.writeError(r, invalidParameter("operation", "The value '%s' of parameter 'operation' is not allowed. Allowed values are 'Merge', 'Replace' and 'Delete'.", in.Operation))
				return
			}
		}
		switch op {
		case "Replace":
			tags = given
		case "Merge":
			for k, v := range given {
				tags[k] = v
			}
		case "Delete":
			// A pair goes when its name and value match, or when the
			// request names the tag with an empty value.
			for k, v := range given {
				for have, hv := range tags {
					if strings.EqualFold(have, k) && (v == "" || v == hv) {
						delete(tags, have)
					}
				}
			}
		}
	}
	if len(tags) > 50 {
		s.writeError(r, invalidParameter("tags", "A resource can have at most 50 tags; the request leaves %d.", len(tags)))
		return
	}
	if !s.setScopeTags(r, sub, scope, tags) {
		return
	}
	if r.Method == http.MethodDelete {
		r.w.WriteHeader(http.StatusOK)
		return
	}
	s.writeTags(r, scope, tags)
}

func (s *Server) writeTags(r *request, scope string, tags map[string]string) {
	if tags == nil {
		tags = map[string]string{}
	}
	s.writeJSON(r, http.StatusOK, map[string]any{
		"id": scope + "/providers/Microsoft.Resources/tags/default", "name": "default", "type": "Microsoft.Resources/tags",
		"properties": map[string]any{"tags": tags},
	})
}

// tagScope is what a scope names: the subscription, a group, or a resource.
type tagScope struct {
	rg   string
	id   armid.ID
	kind string // "", "group", or the resource type
}

func parseTagScope(sub, scope string) (tagScope, bool) {
	segs := strings.Split(strings.Trim(scope, "/"), "/")
	switch {
	case len(segs) == 2:
		return tagScope{}, true
	case len(segs) == 4 && strings.EqualFold(segs[2], "resourceGroups"):
		return tagScope{rg: segs[3], kind: "group"}, true
	}
	id, err := armid.Parse(scope)
	if err != nil || !strings.EqualFold(id.SubscriptionID, sub) {
		return tagScope{}, false
	}
	return tagScope{rg: id.ResourceGroup, id: id, kind: strings.ToLower(id.Type())}, true
}

func (s *Server) scopeNotFound(r *request, scope string) {
	s.writeErr(r, armerror.New(armerror.CodeResourceNotFound, "The resource '%s' was not found.", scope))
}

// scopeTags reads the tags of the scope, answering 404 when it is not there.
func (s *Server) scopeTags(r *request, sub, scope string) (map[string]string, bool) {
	ts, ok := parseTagScope(sub, scope)
	if !ok {
		s.scopeNotFound(r, scope)
		return nil, false
	}
	var tags map[string]string
	var err error
	switch ts.kind {
	case "":
		return map[string]string{}, true
	case "group":
		g, found := s.eng.Group(sub, ts.rg)
		if !found {
			s.writeErr(r, armerror.ResourceGroupNotFound(ts.rg))
			return nil, false
		}
		tags = g.Tags
	case "microsoft.compute/virtualmachines":
		var v *engine.VM
		if v, err = s.eng.GetVM(sub, ts.rg, ts.id.Name()); err == nil {
			tags = modelTags(v.Model.Bytes())
		}
	case "microsoft.compute/virtualmachinescalesets":
		var set *engine.ScaleSet
		if set, err = s.eng.GetScaleSet(sub, ts.rg, ts.id.Name()); err == nil {
			tags = modelTags(set.Spec.Model)
		}
	case "microsoft.compute/disks":
		var d *engine.Disk
		if d, err = s.eng.GetDisk(sub, ts.rg, ts.id.Name()); err == nil {
			tags = modelTags(d.Spec.Model)
		}
	default:
		s.scopeNotFound(r, scope)
		return nil, false
	}
	if err != nil {
		s.writeErr(r, err)
		return nil, false
	}
	out := map[string]string{}
	for k, v := range tags {
		out[k] = v
	}
	return out, true
}

// withTags returns the model with its tags replaced.
func withTags(model json.RawMessage, tags map[string]string) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(model, &m); err != nil || m == nil {
		m = map[string]any{}
	}
	delete(m, "tags")
	if len(tags) > 0 {
		m["tags"] = tags
	}
	return json.Marshal(m)
}

// retagExisting is the Build of a PUT that gives the existing resource at
// scope, of type T, new tags: retag makes the PUT's input from the resource
// as it is. A resource gone meanwhile is not found.
func retagExisting[T resource.State](scope string, retag func(old T) (any, error)) func(resource.State) (any, error) {
	return func(st resource.State) (any, error) {
		old, ok := st.(T)
		if !ok {
			return nil, armerror.New(armerror.CodeResourceNotFound, "The resource '%s' was not found.", scope)
		}
		return retag(old)
	}
}

// setScopeTags writes the tags through the engine, as a PATCH of the tags
// would; on an error it has answered and returns false.
func (s *Server) setScopeTags(r *request, sub, scope string, tags map[string]string) bool {
	ts, _ := parseTagScope(sub, scope)
	ctx := ctxWithoutCancel(r.Context())
	var err error
	switch ts.kind {
	case "":
		s.writeError(r, errorf(armerror.CodeInvalidParameter, "scope", "azemu keeps no tags on a subscription; tag its resource groups or resources."))
		return false
	case "group":
		g, _ := s.eng.Group(sub, ts.rg)
		_, err = s.eng.Do(ctx, engine.Command{ID: armid.ResourceGroupID(sub, g.Name), Verb: engine.VerbPut,
			Input: engine.GroupPut{Location: g.Location, Tags: tags, ManagedBy: g.ManagedBy}})
	case "microsoft.compute/virtualmachines":
		_, err = s.eng.Do(ctx, engine.Command{ID: armid.VirtualMachineID(sub, ts.rg, ts.id.Name()), Verb: engine.VerbPut,
			Build: retagExisting(scope, func(old *engine.VM) (any, error) {
				model, err := withTags(old.Model.Bytes(), tags)
				return engine.VMPut{Model: model, Spec: old.Spec}, err
			})})
	case "microsoft.compute/virtualmachinescalesets":
		_, err = s.eng.Do(ctx, engine.Command{ID: armid.ComputeID(sub, ts.rg, "virtualMachineScaleSets", ts.id.Name()), Verb: engine.VerbPut,
			Build: retagExisting(scope, func(old *engine.ScaleSet) (any, error) {
				spec := old.Spec
				spec.Capacity = -1 // the instances stay as they are
				var merr error
				spec.Model, merr = withTags(old.Spec.Model, tags)
				return engine.ScaleSetPut{Spec: spec, Instance: s.newInstance}, merr
			})})
	case "microsoft.compute/disks":
		_, err = s.eng.Do(ctx, engine.Command{ID: armid.ComputeID(sub, ts.rg, "disks", ts.id.Name()), Verb: engine.VerbPut,
			Build: retagExisting(scope, func(old *engine.Disk) (any, error) {
				spec := old.Spec
				var err error
				spec.Model, err = withTags(old.Spec.Model, tags)
				return spec, err
			})})
	}
	if err != nil {
		s.writeErr(r, err)
		return false
	}
	return true
}

package armapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
)

// children lists what a parent shows as a child collection, rendered.
func (s *Server) children(parent engine.Snapshot, child string) []map[string]any {
	var out []map[string]any
	switch p := parent.(type) {
	case *engine.VirtualNetwork:
		for _, sn := range p.Subnets {
			out = append(out, s.renderSubnet(p, sn))
		}
	case *engine.SecurityGroup:
		if child == "defaultSecurityRules" {
			return defaultRules(p)
		}
		for _, rule := range p.Rules {
			out = append(out, renderRule(p, rule))
		}
	case *engine.NetworkInterface:
		for _, c := range p.IPConfigs {
			out = append(out, renderIPConfig(p, c))
		}
	case *engine.LoadBalancer:
		for _, c := range s.renderLoadBalancer(p)["properties"].(map[string]any)[child].([]any) {
			out = append(out, c.(map[string]any))
		}
	}
	return out
}

func (s *Server) listNetworkChildren(r *request, k *netKind, sub, rg, name, segment string) {
	child := childKind(k, segment)
	if child == "" {
		s.notFound(r)
		return
	}
	parent, err := s.lookupNetwork(k, sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	value := []any{}
	for _, c := range s.children(parent, child) {
		value = append(value, c)
	}
	s.writeList(r, value, "")
}

func (s *Server) getNetworkChild(r *request, k *netKind, sub, rg, name, child, childName string) {
	parent, err := s.lookupNetwork(k, sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	for _, c := range s.children(parent, child) {
		if strings.EqualFold(c["name"].(string), childName) {
			s.writeJSON(r, http.StatusOK, c)
			return
		}
	}
	if child == "subnets" || child == "securityRules" {
		s.writeErr(r, engine.ChildNotFound(childType(child), name, childName))
		return
	}
	s.writeError(r, errorf("NotFound", "", "Resource /%s/%s of %s not found.", child, childName, parent.ResourceID()))
}

// putNetworkChild is a PUT of a subnet or a security rule.
func (s *Server) putNetworkChild(r *request, k *netKind, sub, rg, name, child, childName string) {
	var body map[string]any
	if !s.readJSON(r, &body) {
		return
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.ChildID(networkID(sub, rg, k, name), child, childName), Verb: engine.VerbPut,
		IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Build: func(engine.Snapshot) (any, error) {
			body["name"] = childName
			switch child {
			case "subnets":
				return asError(parseSubnet(body, 0))
			case "securityRules":
				return asError(parseRule(body, 0))
			}
			return balancerPart(body), nil
		},
	})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	for _, c := range s.children(res.State.(*engine.Child).Parent, child) {
		if strings.EqualFold(c["name"].(string), childName) {
			s.answerNetworkPut(r, res, c, false)
			return
		}
	}
}

// setNetworkLRO sets Network's long-running operation headers: its
// Azure-AsyncOperation (and, for a DELETE, Location) under
// Microsoft.Network/locations/{location}/operations.
func (s *Server) setNetworkLRO(r *request, op store.Operation, withLocation bool) {
	loc := op.Location
	if loc == "" {
		loc = "global"
	}
	async := fmt.Sprintf("%s/subscriptions/%s/providers/Microsoft.Network/locations/%s/operations/%s?api-version=%s",
		r.base, op.SubscriptionID, loc, op.ID, url.QueryEscape(r.apiVer))
	h := r.w.Header()
	h.Set("Azure-AsyncOperation", async)
	if withLocation {
		h.Set("Location", strings.Replace(async, "/operations/", "/operationResults/", 1))
	}
	h.Set("Retry-After", retryAfter)
	noCache(h)
}

func networkID(sub, rg string, k *netKind, name string) string {
	return armid.NetworkID(armid.Fold(sub), rg, k.segment, name)
}

func (s *Server) deleteNetwork(r *request, k *netKind, sub, rg, name, child string) {
	id := networkID(sub, rg, k, name)
	if child != "" {
		id = armid.ChildID(id, childKind(k, r.lower[8]), child)
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: id, Verb: engine.VerbDelete})
	switch {
	case err != nil:
		s.writeErr(r, err)
	case !res.Found:
		r.w.WriteHeader(http.StatusNoContent)
	default:
		s.setNetworkLRO(r, res.Operation, true)
		r.w.WriteHeader(http.StatusAccepted)
	}
}

package armapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
)

// netKind is one Microsoft.Network resource type azemu serves: how a
// request body becomes what the engine decides over, and how a snapshot
// is shown.
type netKind struct {
	typ     string // the engine's ARM type
	segment string // the path segment, as Azure spells it
	// build reads a PUT body given the resource as it is (nil when new).
	build func(s *Server, b netPut, old engine.Snapshot) (any, error)
	// render shows a snapshot as Azure does.
	render func(s *Server, st engine.Snapshot) map[string]any
}

// read reads a PUT body of kind k: its location and properties, which
// every kind has, then what build makes of them.
func (k *netKind) read(s *Server, body map[string]any, old engine.Snapshot) (any, error) {
	b, e := readNetPut(body)
	if e != nil {
		return nil, e
	}
	return k.build(s, b, old)
}

// netKinds are the network types, by lower-case path segment.
var netKinds = map[string]*netKind{}

func init() {
	for _, k := range []*netKind{
		{engine.VirtualNetworkType, "virtualNetworks", (*Server).buildVNet, (*Server).renderVNet},
		{engine.SecurityGroupType, "networkSecurityGroups", (*Server).buildNSG, (*Server).renderNSG},
		{engine.NetworkInterfaceType, "networkInterfaces", (*Server).buildNIC, (*Server).renderNIC},
		{engine.PublicIPType, "publicIPAddresses", (*Server).buildPublicIP, (*Server).renderPublicIP},
		{engine.LoadBalancerType, "loadBalancers", (*Server).buildLoadBalancer, (*Server).renderLoadBalancer},
	} {
		netKinds[strings.ToLower(k.segment)] = k
	}
}

// routeNetwork serves .../resourceGroups/{rg}/providers/Microsoft.Network/...
func (s *Server) routeNetwork(r *request, sub, rg string) {
	n := len(r.segs)
	k := netKinds[r.lower[6]]
	if k == nil || n > 10 {
		s.notFound(r)
		return
	}
	switch n {
	case 7:
		s.onlyGET(r, func(r *request) { s.listNetwork(r, k, sub, rg) })
	case 8:
		name := r.segs[7]
		s.byMethod(r, func(patch bool) { s.putNetwork(r, k, sub, rg, name, patch) },
			func() { s.getNetwork(r, k, sub, rg, name) }, func() { s.deleteNetwork(r, k, sub, rg, name, "") })
	case 9:
		s.onlyGET(r, func(r *request) { s.listNetworkChildren(r, k, sub, rg, r.segs[7], r.lower[8]) })
	case 10:
		child := childKind(k, r.lower[8])
		if child == "" {
			s.notFound(r)
			return
		}
		name, childName := r.segs[7], r.segs[9]
		if child == "defaultSecurityRules" || child == "ipConfigurations" || child == "frontendIPConfigurations" {
			s.onlyGET(r, func(r *request) { s.getNetworkChild(r, k, sub, rg, name, child, childName) })
			return
		}
		s.byMethod(r, func(patch bool) {
			if patch {
				s.methodNotAllowed(r)
				return
			}
			s.putNetworkChild(r, k, sub, rg, name, child, childName)
		}, func() { s.getNetworkChild(r, k, sub, rg, name, child, childName) },
			func() { s.deleteNetwork(r, k, sub, rg, name, childName) })
	}
}

// childKind is the child collection a path segment names under kind k, as
// Azure spells it; "" when k has none of that name.
func childKind(k *netKind, segment string) string {
	switch {
	case k.typ == engine.VirtualNetworkType && segment == "subnets":
		return "subnets"
	case k.typ == engine.SecurityGroupType && segment == "securityrules":
		return "securityRules"
	case k.typ == engine.SecurityGroupType && segment == "defaultsecurityrules":
		return "defaultSecurityRules"
	case k.typ == engine.NetworkInterfaceType && segment == "ipconfigurations":
		return "ipConfigurations"
	case k.typ == engine.LoadBalancerType:
		for _, part := range append([]string{"frontendIPConfigurations"}, engine.LoadBalancerParts...) {
			if strings.EqualFold(segment, part) {
				return part
			}
		}
	}
	return ""
}

// childType is the engine type of a writable child collection.
func childType(child string) string {
	switch child {
	case "subnets":
		return engine.SubnetType
	case "securityRules":
		return engine.SecurityRuleType
	}
	return engine.LoadBalancerType + "/" + child
}

// lookupNetwork finds a top-level network resource or answers why not.
func (s *Server) lookupNetwork(k *netKind, sub, rg, name string) (engine.Snapshot, error) {
	if st, ok := s.eng.Resource(k.typ, networkID(sub, rg, k, name)); ok {
		return st, nil
	}
	if _, ok := s.eng.Group(sub, rg); !ok {
		return nil, armerror.ResourceGroupNotFound(rg)
	}
	return nil, engine.NetworkNotFound(k.typ, rg, name)
}

func (s *Server) getNetwork(r *request, k *netKind, sub, rg, name string) {
	st, err := s.lookupNetwork(k, sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.writeJSON(r, http.StatusOK, k.render(s, st))
}

func (s *Server) listNetwork(r *request, k *netKind, sub, rg string) {
	if _, ok := s.eng.Group(sub, rg); rg != "" && !ok {
		s.writeErr(r, armerror.ResourceGroupNotFound(rg))
		return
	}
	prefix := armid.Fold(scopePrefix(sub, rg))
	page, next := s.eng.Resources(k.typ, func(st engine.Snapshot) bool {
		return strings.HasPrefix(armid.Fold(st.ResourceID()), prefix) && !scaleSetOwned(st.ResourceID()) && r.readable(st.ResourceID())
	}, r.URL.Query().Get("$skiptoken"), s.pageSize)
	value := make([]any, 0, len(page))
	for _, st := range page {
		value = append(value, k.render(s, st))
	}
	s.writeList(r, value, next)
}

// putNetwork is a PUT (or a PATCH of tags) of a top-level resource.
func (s *Server) putNetwork(r *request, k *netKind, sub, rg, name string, patch bool) {
	var body map[string]any
	if !s.readJSON(r, &body) {
		return
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: networkID(sub, rg, k, name), Verb: engine.VerbPut,
		IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Build: func(old engine.Snapshot) (any, error) {
			if patch {
				// A PATCH changes tags only (Azure's UpdateTags): the rest is
				// the resource as it is.
				if old == nil {
					return nil, engine.NetworkNotFound(k.typ, rg, name)
				}
				// Through JSON, so the body reads as a client's would.
				raw, _ := json.Marshal(k.render(s, old))
				var full map[string]any
				_ = json.Unmarshal(raw, &full)
				full["tags"] = body["tags"]
				return k.read(s, full, old)
			}
			return k.read(s, body, old)
		},
	})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	s.answerNetworkPut(r, res, k.render(s, res.State), patch)
}

// answerNetworkPut answers a PUT as Network does: 201 for a new resource,
// else 200, with Azure-AsyncOperation naming the (ended) operation; a
// PATCH answers 200 with no operation.
func (s *Server) answerNetworkPut(r *request, res engine.Result, body map[string]any, patch bool) {
	status := http.StatusOK
	if !patch {
		if res.Created {
			status = http.StatusCreated
		}
		s.setNetworkLRO(r, res.Operation, false)
	}
	s.writeJSON(r, status, body)
}

// routeNetworkProvider serves the subscription's Microsoft.Network paths:
// lists of each type, and the operations its answers name.
func (s *Server) routeNetworkProvider(r *request, sub string) bool {
	n := len(r.segs)
	switch {
	case n == 5 && netKinds[r.lower[4]] != nil:
		k := netKinds[r.lower[4]]
		s.onlyGET(r, func(r *request) { s.listNetwork(r, k, sub, "") })
	case n == 8 && r.seg(4, "locations") && r.seg(6, "operations"):
		s.onlyGET(r, func(r *request) { s.getOperation(r, r.segs[7]) })
	case n == 8 && r.seg(4, "locations") && r.seg(6, "operationResults"):
		s.onlyGET(r, func(r *request) {
			if op, ok := s.lookupOperation(r, r.segs[7]); ok {
				s.writeMonitor(r, op, r.base+r.URL.RequestURI())
			}
		})
	default:
		return false
	}
	return true
}

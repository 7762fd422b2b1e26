package armapi

import (
	"net/http"
	"net/url"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
)

func unescape(s string) (string, error) { return url.PathUnescape(s) }

// route dispatches an ARM call by its path segments, matched
// case-insensitively. docs/api-coverage.md lists what is served.
func (s *Server) route(r *request) {
	n := len(r.segs)
	if n == 1 {
		s.onlyGET(r, s.listSubscriptions)
		return
	}
	sub := r.segs[1]
	if !armid.IsGUID(sub) {
		s.writeError(r, errorf("InvalidSubscriptionId", "", "The provided subscription identifier '%s' is malformed or invalid.", sub))
		return
	}
	// A subscription is recorded by the first call that changes
	// something: a read writes nothing (any GUID is a valid subscription).
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if _, known := s.eng.Subscription(sub); !known {
			if _, err := s.eng.Do(r.Context(), engine.Command{ID: armid.ID{SubscriptionID: sub}.String(), Verb: engine.VerbPut}); err != nil {
				s.writeErr(r, err)
				return
			}
		}
	}
	switch {
	case isTagsPath(r):
		s.routeTags(r, sub)
	case n == 2:
		s.onlyGET(r, func(r *request) { s.getSubscription(r, sub) })
	case r.seg(2, "resources") && n == 3:
		s.onlyGET(r, func(r *request) { s.listResources(r, sub, "") })
	case r.seg(2, "providers"):
		s.routeProviders(r, sub)
	case r.seg(2, "locations") && n == 3:
		s.onlyGET(r, func(r *request) { s.listLocations(r, sub) })
	case r.seg(2, "operationresults") && n == 4:
		s.onlyGET(r, func(r *request) { s.getOperationResult(r, r.segs[3]) })
	case r.seg(2, "resourcegroups"):
		s.routeGroups(r, sub)
	default:
		s.notFound(r)
	}
}

func (s *Server) onlyGET(r *request, h func(*request)) {
	if r.Method != http.MethodGet {
		s.methodNotAllowed(r)
		return
	}
	h(r)
}

func (s *Server) routeProviders(r *request, sub string) {
	n := len(r.segs)
	switch {
	case n == 3:
		s.onlyGET(r, func(r *request) { s.listProviders(r, sub) })
	case n == 4:
		s.onlyGET(r, func(r *request) { s.getProvider(r, sub, r.segs[3]) })
	case n == 5 && r.seg(4, "register"):
		if r.Method != http.MethodPost {
			s.methodNotAllowed(r)
			return
		}
		s.getProvider(r, sub, r.segs[3])
	case r.seg(3, "Microsoft.Compute") && n == 5 && r.seg(4, "skus"):
		s.onlyGET(r, s.listSKUs)
	case r.seg(3, "Microsoft.Compute") && n == 7 && r.seg(4, "locations") && r.seg(6, "vmSizes"):
		s.onlyGET(r, func(r *request) { s.listVMSizes(r, r.segs[5]) })
	case r.seg(3, "Microsoft.Compute") && n == 7 && r.seg(4, "locations") && r.seg(6, "usages"):
		s.onlyGET(r, func(r *request) { s.listUsages(r, sub, r.segs[5]) })
	case r.seg(3, "Microsoft.Compute") && n >= 7 && r.seg(4, "locations") && r.seg(6, "publishers"):
		s.routeImages(r, sub)
	case r.seg(3, "Microsoft.Network") && s.routeNetworkProvider(r, sub):
	case r.seg(3, "Microsoft.Compute") && n == 5 && r.seg(4, "disks"):
		s.onlyGET(r, func(r *request) { s.listDisks(r, sub, "") })
	case r.seg(3, "Microsoft.CostManagement") && n == 5 && r.seg(4, "query"):
		s.answer(r)(s.costQuery(r, sub, ""))
	case r.seg(3, "Microsoft.Compute") && n == 5 && r.seg(4, "virtualMachineScaleSets"):
		s.onlyGET(r, func(r *request) { s.listScaleSets(r, sub, "") })
	case r.seg(3, "Microsoft.Compute") && n == 5 && r.seg(4, "virtualMachines"):
		s.onlyGET(r, func(r *request) { s.listVMsInSubscription(r, sub, "") })
	case r.seg(3, "Microsoft.Compute") && n == 7 && r.seg(4, "locations") && r.seg(6, "virtualMachineScaleSets"):
		s.onlyGET(r, func(r *request) { s.listScaleSetsByLocation(r, sub, r.segs[5]) })
	case r.seg(3, "Microsoft.Compute") && n == 7 && r.seg(4, "locations") && r.seg(6, "virtualMachines"):
		s.onlyGET(r, func(r *request) { s.listVMsInSubscription(r, sub, r.segs[5]) })
	case r.seg(3, "Microsoft.Compute") && n == 8 && r.seg(4, "locations") && r.seg(6, "operations"):
		s.onlyGET(r, func(r *request) { s.getOperation(r, r.segs[7]) })
	default:
		s.notFound(r)
	}
}

func (s *Server) routeGroups(r *request, sub string) {
	n := len(r.segs)
	if n == 3 {
		s.onlyGET(r, func(r *request) { s.listGroups(r, sub) })
		return
	}
	rg := r.segs[3]
	// A VM's calls, its GETs above all, are the most frequent: they are
	// matched first, as one comparison of each lower-cased segment.
	if n >= 7 && r.lower[4] == "providers" && r.lower[5] == "microsoft.compute" && r.lower[6] == "virtualmachines" {
		s.routeVMs(r, sub, rg)
		return
	}
	if n == 5 && r.seg(4, "resources") {
		s.onlyGET(r, func(r *request) { s.listResources(r, sub, rg) })
		return
	}
	if n == 4 {
		switch r.Method {
		case http.MethodPut:
			s.putGroup(r, sub, rg)
		case http.MethodPatch:
			s.patchGroup(r, sub, rg)
		case http.MethodGet, http.MethodHead:
			s.getGroup(r, sub, rg)
		case http.MethodDelete:
			s.deleteGroup(r, sub, rg)
		default:
			s.methodNotAllowed(r)
		}
		return
	}
	if r.seg(4, "providers") && r.seg(5, "Microsoft.Compute") && r.seg(6, "disks") {
		s.routeDisks(r, sub, rg)
		return
	}
	if r.seg(4, "deployments") {
		// The deployment operations' older path leaves the provider out
		// (.../resourcegroups/{rg}/deployments/{name}/operations).
		r.segs = append(r.segs[:4:4], append([]string{"providers", "Microsoft.Resources"}, r.segs[4:]...)...)
		r.lower = append(r.lower[:4:4], append([]string{"providers", "microsoft.resources"}, r.lower[4:]...)...)
	}
	if r.seg(4, "providers") && r.seg(5, "Microsoft.Resources") && r.seg(6, "deployments") {
		s.routeDeployments(r, sub, rg)
		return
	}
	if n >= 7 && r.seg(4, "providers") && r.seg(5, "Microsoft.Network") {
		s.routeNetwork(r, sub, rg)
		return
	}
	if r.seg(4, "providers") && r.seg(5, "Microsoft.Compute") && r.seg(6, "virtualMachineScaleSets") {
		s.routeScaleSets(r, sub, rg)
		return
	}
	if n == 7 && r.seg(4, "providers") && r.seg(5, "Microsoft.CostManagement") && r.seg(6, "query") {
		s.answer(r)(s.costQuery(r, sub, rg))
		return
	}
	s.notFound(r)
}

// routeVMs serves .../providers/Microsoft.Compute/virtualMachines and what
// is under it.
func (s *Server) routeVMs(r *request, sub, rg string) {
	switch n := len(r.segs); n {
	case 7:
		s.onlyGET(r, func(r *request) { s.listVMsInGroup(r, sub, rg) })
	case 8:
		name := r.segs[7]
		switch r.Method {
		case http.MethodPut:
			s.putVM(r, sub, rg, name)
		case http.MethodPatch:
			s.patchVM(r, sub, rg, name)
		case http.MethodGet:
			s.getVM(r, sub, rg, name)
		case http.MethodDelete:
			s.deleteVM(r, sub, rg, name)
		default:
			s.methodNotAllowed(r)
		}
	case 9:
		name := r.segs[7]
		if r.seg(8, "instanceView") {
			s.onlyGET(r, func(r *request) { s.getInstanceView(r, sub, rg, name) })
			return
		}
		if r.seg(8, "extensions") {
			s.onlyGET(r, func(r *request) { s.listExtensions(r, sub, rg, name) })
			return
		}
		if r.seg(8, "vmSizes") {
			s.onlyGET(r, func(r *request) { s.listAvailableSizes(r, sub, rg, name) })
			return
		}
		if r.Method != http.MethodPost {
			s.methodNotAllowed(r)
			return
		}
		s.vmAction(r, sub, rg, name, r.lower[8])
	case 10:
		if !r.seg(8, "extensions") {
			s.notFound(r)
			return
		}
		vmName, name := r.segs[7], r.segs[9]
		s.byMethod(r, func(bool) { s.putExtension(r, sub, rg, vmName, name) },
			func() { s.getExtension(r, sub, rg, vmName, name) }, func() { s.deleteExtension(r, sub, rg, vmName, name) })
	case 11, 12:
		if !(r.seg(8, "providers") && r.seg(9, "Microsoft.ResourceHealth") && r.seg(10, "availabilityStatuses")) || (n == 12 && !r.seg(11, "current")) {
			s.notFound(r)
			return
		}
		if n == 11 {
			s.onlyGET(r, func(r *request) { s.listAvailability(r, sub, rg, r.segs[7]) })
			return
		}
		s.onlyGET(r, func(r *request) { s.getAvailability(r, sub, rg, r.segs[7]) })
	default:
		s.notFound(r)
	}
}

func (s *Server) routeDisks(r *request, sub, rg string) {
	if len(r.segs) > 8 {
		s.notFound(r)
		return
	}
	s.routeNamed(r, sub, rg, namedRoutes{(*Server).listDisks, (*Server).putDisk, (*Server).getDisk, (*Server).deleteDisk})
}

// namedRoutes are the handlers of a resource type in a group: the list
// (GET on the collection) and PUT, PATCH, GET and DELETE of one by name.
type namedRoutes struct {
	list func(s *Server, r *request, sub, rg string)
	put  func(s *Server, r *request, sub, rg, name string, patch bool)
	get  func(s *Server, sub, rg, name string) (reply, error)
	del  func(s *Server, r *request, sub, rg, name string)
}

// routeNamed serves .../{type} (7 segments) and .../{type}/{name} (8).
func (s *Server) routeNamed(r *request, sub, rg string, h namedRoutes) {
	if len(r.segs) == 7 {
		s.onlyGET(r, func(r *request) { h.list(s, r, sub, rg) })
		return
	}
	name := r.segs[7]
	s.byMethod(r, func(patch bool) { h.put(s, r, sub, rg, name, patch) },
		func() { s.answer(r)(h.get(s, sub, rg, name)) }, func() { h.del(s, r, sub, rg, name) })
}

// byMethod serves one named resource: PUT and PATCH (patch true) to put,
// GET to get, DELETE to del, and 405 to anything else.
func (s *Server) byMethod(r *request, put func(patch bool), get, del func()) {
	switch r.Method {
	case http.MethodPut, http.MethodPatch:
		put(r.Method == http.MethodPatch)
	case http.MethodGet:
		get()
	case http.MethodDelete:
		del()
	default:
		s.methodNotAllowed(r)
	}
}

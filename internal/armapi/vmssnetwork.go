package armapi

import (
	"net/http"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
)

// A Uniform scale set's instances get their interfaces and public IPs
// from the set's networkInterfaceConfigurations. Network names them under
// the instance and serves them only there (api-version 2018-10-01 in
// every SDK), never as top-level resources of the group:
//
//	.../virtualMachineScaleSets/{set}/networkInterfaces
//	.../virtualMachineScaleSets/{set}/publicIPAddresses
//	.../virtualMachineScaleSets/{set}/virtualMachines/{id}/networkInterfaces[/{nic}]
//	.../networkInterfaces/{nic}/ipConfigurations[/{ipConfiguration}]
//	.../ipConfigurations/{ipConfiguration}/publicIPAddresses[/{ip}]

// scaleSetOwned reports whether a network resource's ID is under a scale
// set: a Uniform instance's interface or public IP, which Network lists
// only under the set.
func scaleSetOwned(id string) bool {
	return strings.Contains(armid.Fold(id), "/providers/Microsoft.Compute/virtualMachineScaleSets/")
}

// routeScaleSetNetwork serves the paths above; false when the path is not
// one of them.
func (s *Server) routeScaleSetNetwork(r *request, sub, rg string) bool {
	n := len(r.segs)
	switch {
	case n == 9 && (r.seg(8, "networkInterfaces") || r.seg(8, "publicIPAddresses")):
		typ := engine.NetworkInterfaceType
		if r.seg(8, "publicIPAddresses") {
			typ = engine.PublicIPType
		}
		s.onlyGET(r, func(r *request) { s.listScaleSetNetwork(r, sub, rg, r.segs[7], "", typ) })
	case n >= 11 && n <= 16 && r.seg(8, "virtualMachines") && r.seg(10, "networkInterfaces") &&
		(n < 13 || r.seg(12, "ipConfigurations")) && (n < 15 || r.seg(14, "publicIPAddresses")):
		s.onlyGET(r, func(r *request) { s.getInstanceNetwork(r, sub, rg) })
	default:
		return false
	}
	return true
}

// listScaleSetNetwork lists the interfaces (or public IPs) of a set's
// instances, or of one instance when instanceID is set.
func (s *Server) listScaleSetNetwork(r *request, sub, rg, name, instanceID, typ string) {
	set, err := s.eng.GetScaleSet(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	prefix := armid.Fold(set.ID) + "/virtualMachines/"
	if instanceID != "" {
		v, err := s.eng.GetInstance(sub, rg, name, instanceID)
		if err != nil {
			s.writeErr(r, err)
			return
		}
		prefix = armid.Fold(v.ID) + "/"
	}
	page, next := s.eng.Resources(typ, func(st engine.Snapshot) bool {
		return strings.HasPrefix(armid.Fold(st.ResourceID()), prefix)
	}, r.URL.Query().Get("$skiptoken"), s.pageSize)
	value := make([]any, 0, len(page))
	for _, st := range page {
		if typ == engine.PublicIPType {
			value = append(value, s.renderPublicIP(st))
		} else {
			value = append(value, s.renderNIC(st))
		}
	}
	s.writeList(r, value, next)
}

// getInstanceNetwork serves an instance's interfaces, one of them, its IP
// configurations and their public IPs.
func (s *Server) getInstanceNetwork(r *request, sub, rg string) {
	set, instanceID, segs := r.segs[7], r.segs[9], r.segs
	if len(segs) == 11 {
		s.listScaleSetNetwork(r, sub, rg, set, instanceID, engine.NetworkInterfaceType)
		return
	}
	v, err := s.eng.GetInstance(sub, rg, set, instanceID)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	nicID := v.ID + "/networkInterfaces/" + segs[11]
	st, ok := s.eng.Resource(engine.NetworkInterfaceType, nicID)
	if !ok {
		s.writeErr(r, instanceNetworkNotFound(rg, set, instanceID, segs[10:12]))
		return
	}
	n := st.(*engine.NetworkInterface)
	switch len(segs) {
	case 12:
		s.writeJSON(r, http.StatusOK, s.renderNIC(n))
		return
	case 13:
		s.writeList(r, s.ipConfigs(n), "")
		return
	}
	var config *engine.IPConfig
	for i := range n.IPConfigs {
		if strings.EqualFold(n.IPConfigs[i].Name, segs[13]) {
			config = &n.IPConfigs[i]
		}
	}
	if config == nil {
		s.writeErr(r, instanceNetworkNotFound(rg, set, instanceID, segs[10:14]))
		return
	}
	if len(segs) == 14 {
		s.writeJSON(r, http.StatusOK, renderIPConfig(n, *config))
		return
	}
	var ips []any
	var found map[string]any
	if config.PublicIP != "" {
		if p, ok := s.eng.Resource(engine.PublicIPType, config.PublicIP); ok {
			ips = append(ips, s.renderPublicIP(p))
			if len(segs) == 16 && strings.EqualFold(p.ResourceMeta().Name, segs[15]) {
				found = s.renderPublicIP(p)
			}
		}
	}
	if len(segs) == 15 {
		s.writeList(r, ips, "")
		return
	}
	if found == nil {
		s.writeErr(r, instanceNetworkNotFound(rg, set, instanceID, segs[10:16]))
		return
	}
	s.writeJSON(r, http.StatusOK, found)
}

func (s *Server) ipConfigs(n *engine.NetworkInterface) []any {
	var out []any
	for _, c := range n.IPConfigs {
		out = append(out, renderIPConfig(n, c))
	}
	return out
}

// instanceNetworkNotFound is Network's not-found error for what an
// instance's path names: the segments after the instance.
func instanceNetworkNotFound(rg, set, instanceID string, rest []string) error {
	return &engine.Error{Code: "ResourceNotFound", Status: http.StatusNotFound, Message: "The Resource 'Microsoft.Compute/virtualMachineScaleSets/" +
		set + "/virtualMachines/" + instanceID + "/" + strings.Join(rest, "/") + "' under resource group '" + rg + "' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"}
}

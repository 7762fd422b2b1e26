package armapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
)

// netEtag is a network resource's entity tag: Network's are weak.
func netEtag(st engine.Snapshot) string { return "W/" + st.ResourceMeta().ETag() }

func idRef(id string) map[string]any { return map[string]any{"id": id} }

// netBody is the envelope every network resource shares, with its kept
// model's tags, zones and echoed properties.
func netBody(st engine.Snapshot, typ, location, guid string, model netModel, props map[string]any) map[string]any {
	m := st.ResourceMeta()
	for k, v := range model.Props {
		props[k] = v
	}
	props["provisioningState"] = "Succeeded"
	if guid != "" {
		props["resourceGuid"] = guid
	}
	out := map[string]any{"id": m.ID, "name": m.Name, "type": typ, "etag": netEtag(st), "location": location, "properties": props}
	if model.Tags != nil {
		out["tags"] = model.Tags
	}
	if len(model.Zones) > 0 {
		out["zones"] = model.Zones
	}
	return out
}

func (s *Server) renderVNet(st engine.Snapshot) map[string]any {
	v := st.(*engine.VirtualNetwork)
	subnets := []any{}
	for _, sn := range v.Subnets {
		subnets = append(subnets, s.renderSubnet(v, sn))
	}
	props := map[string]any{
		"addressSpace":           map[string]any{"addressPrefixes": v.Spec.AddressPrefixes},
		"subnets":                subnets,
		"virtualNetworkPeerings": []any{},
		"enableDdosProtection":   false,
		// Network's default since 2024-05-01; the azurerm provider reads it
		// back and plans a change when it is missing.
		"privateEndpointVNetPolicies": "Disabled",
	}
	return netBody(v, engine.VirtualNetworkType, v.Spec.Location, v.ResourceGUID, readModel(v.Spec.Model), props)
}

func (s *Server) renderSubnet(v *engine.VirtualNetwork, sn engine.Subnet) map[string]any {
	id := v.SubnetID(sn.Name)
	var configs []any
	for _, n := range s.eng.NICsIn(id) {
		for _, c := range n.IPConfigs {
			if armid.Equal(c.Subnet, id) {
				configs = append(configs, idRef(n.IPConfigID(c.Name)))
			}
		}
	}
	model := readModel(sn.Model)
	props := map[string]any{"addressPrefix": sn.AddressPrefix, "provisioningState": "Succeeded",
		"delegations": []any{}, "privateEndpointNetworkPolicies": "Disabled", "privateLinkServiceNetworkPolicies": "Enabled"}
	for k, val := range model.Props {
		props[k] = val
	}
	if sn.NSG != "" {
		props["networkSecurityGroup"] = idRef(sn.NSG)
	}
	if configs != nil {
		props["ipConfigurations"] = configs
	}
	return map[string]any{"id": id, "name": sn.Name, "type": engine.SubnetType, "etag": netEtag(v), "properties": props}
}

func (s *Server) renderNSG(st engine.Snapshot) map[string]any {
	g := st.(*engine.SecurityGroup)
	rules := []any{}
	for _, rule := range g.Rules {
		rules = append(rules, renderRule(g, rule))
	}
	defaults := []any{}
	for _, d := range defaultRules(g) {
		defaults = append(defaults, d)
	}
	props := map[string]any{"securityRules": rules, "defaultSecurityRules": defaults}
	var nics, subnets []any
	for _, n := range s.eng.NICsBehind(g.ID) {
		nics = append(nics, idRef(n.ID))
	}
	vnets, _ := s.eng.Resources(engine.VirtualNetworkType, nil, "", 0)
	for _, vs := range vnets {
		v := vs.(*engine.VirtualNetwork)
		for _, sn := range v.Subnets {
			if sn.NSG != "" && armid.Equal(sn.NSG, g.ID) {
				subnets = append(subnets, idRef(v.SubnetID(sn.Name)))
			}
		}
	}
	if nics != nil {
		props["networkInterfaces"] = nics
	}
	if subnets != nil {
		props["subnets"] = subnets
	}
	return netBody(g, engine.SecurityGroupType, g.Spec.Location, g.ResourceGUID, readModel(g.Spec.Model), props)
}

func renderRule(g *engine.SecurityGroup, rule engine.SecurityRule) map[string]any {
	props := map[string]any{"priority": rule.Priority, "direction": rule.Direction, "access": rule.Access, "protocol": rule.Protocol,
		"provisioningState": "Succeeded", "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
		"sourcePortRanges": []any{}, "destinationPortRanges": []any{}, "sourceAddressPrefixes": []any{}, "destinationAddressPrefixes": []any{}}
	given := readModel(rule.Model).Props
	for k, v := range given {
		props[k] = v
	}
	// A rule given a list shows the list, not the single form's default.
	for _, pair := range [][2]string{{"sourceAddressPrefix", "sourceAddressPrefixes"}, {"destinationAddressPrefix", "destinationAddressPrefixes"},
		{"sourcePortRange", "sourcePortRanges"}, {"destinationPortRange", "destinationPortRanges"}} {
		if list, ok := given[pair[1]].([]any); ok && len(list) > 0 && given[pair[0]] == nil {
			delete(props, pair[0])
		}
	}
	return map[string]any{"id": g.RuleID(rule.Name), "name": rule.Name, "type": engine.SecurityRuleType, "etag": netEtag(g), "properties": props}
}

func defaultRules(g *engine.SecurityGroup) []map[string]any {
	var out []map[string]any
	for _, d := range engine.DefaultSecurityRules {
		out = append(out, map[string]any{
			"id": armid.ChildID(g.ID, "defaultSecurityRules", d.Name), "name": d.Name, "etag": netEtag(g),
			"type": engine.SecurityGroupType + "/defaultSecurityRules",
			"properties": map[string]any{"description": d.Description, "protocol": d.Protocol, "sourcePortRange": "*", "destinationPortRange": "*",
				"sourceAddressPrefix": d.Source, "destinationAddressPrefix": d.Destination, "access": d.Access, "priority": d.Priority,
				"direction": d.Direction, "provisioningState": "Succeeded", "sourcePortRanges": []any{}, "destinationPortRanges": []any{},
				"sourceAddressPrefixes": []any{}, "destinationAddressPrefixes": []any{}},
		})
	}
	return out
}

func (s *Server) renderNIC(st engine.Snapshot) map[string]any {
	n := st.(*engine.NetworkInterface)
	configs := []any{}
	for _, c := range n.IPConfigs {
		configs = append(configs, renderIPConfig(n, c))
	}
	props := map[string]any{
		"ipConfigurations":            configs,
		"enableAcceleratedNetworking": n.Spec.AcceleratedNetworking,
		"enableIPForwarding":          n.Spec.IPForwarding,
		"dnsSettings":                 map[string]any{"dnsServers": []any{}, "appliedDnsServers": []any{}, "internalDomainNameSuffix": internalDomain(n)},
		"hostedWorkloads":             []any{},
		"tapConfigurations":           []any{},
		"nicType":                     "Standard",
		"vnetEncryptionSupported":     false,
		"auxiliaryMode":               "None",
		"auxiliarySku":                "None",
		"disableTcpStateTracking":     false,
	}
	if n.Spec.NSG != "" {
		props["networkSecurityGroup"] = idRef(n.Spec.NSG)
	}
	if n.VirtualMachine != "" {
		props["virtualMachine"] = idRef(n.VirtualMachine)
		props["primary"] = n.Primary
	}
	if n.MACAddress != "" {
		props["macAddress"] = n.MACAddress
	}
	return netBody(n, engine.NetworkInterfaceType, n.Spec.Location, n.ResourceGUID, readModel(n.Spec.Model), props)
}

// internalDomain is the DNS suffix Azure gives a network's interfaces
// (<guid>.<region code>.internal.cloudapp.net); azemu derives it from the
// interface's resourceGuid.
func internalDomain(n *engine.NetworkInterface) string {
	hex := strings.ReplaceAll(n.ResourceGUID, "-", "")
	return fmt.Sprintf("%s.bx.internal.cloudapp.net", hex[:min(len(hex), 26)])
}

func renderIPConfig(n *engine.NetworkInterface, c engine.IPConfig) map[string]any {
	props := map[string]any{"privateIPAddress": c.Address, "privateIPAllocationMethod": c.Allocation, "privateIPAddressVersion": c.Version,
		"subnet": idRef(c.Subnet), "primary": c.Primary, "provisioningState": "Succeeded"}
	if c.PublicIP != "" {
		props["publicIPAddress"] = idRef(c.PublicIP)
	}
	if len(c.Pools) > 0 {
		pools := make([]any, 0, len(c.Pools))
		for _, id := range c.Pools {
			pools = append(pools, idRef(id))
		}
		props["loadBalancerBackendAddressPools"] = pools
	}
	return map[string]any{"id": n.IPConfigID(c.Name), "name": c.Name, "type": engine.NetworkInterfaceType + "/ipConfigurations", "etag": netEtag(n), "properties": props}
}

func (s *Server) renderPublicIP(st engine.Snapshot) map[string]any {
	p := st.(*engine.PublicIP)
	props := map[string]any{"publicIPAddressVersion": p.Spec.Version, "publicIPAllocationMethod": p.Spec.Allocation,
		"idleTimeoutInMinutes": max(p.Spec.IdleTimeout, 4), "ipTags": []any{}}
	if p.Address != "" {
		props["ipAddress"] = p.Address
	}
	if p.IPConfiguration != "" {
		props["ipConfiguration"] = idRef(p.IPConfiguration)
	}
	out := netBody(p, engine.PublicIPType, p.Spec.Location, p.ResourceGUID, readModel(p.Spec.Model), props)
	out["sku"] = map[string]any{"name": p.Spec.SKU, "tier": p.Spec.Tier}
	return out
}

// networkResources are the network resources mine keeps, as Resources -
// List shows them.
func (s *Server) networkResources(mine func(id string) bool) []genericResource {
	var out []genericResource
	for _, k := range []*netKind{netKinds["virtualnetworks"], netKinds["networksecuritygroups"], netKinds["networkinterfaces"], netKinds["publicipaddresses"], netKinds["loadbalancers"]} {
		page, _ := s.eng.Resources(k.typ, func(st engine.Snapshot) bool { return mine(st.ResourceID()) && !scaleSetOwned(st.ResourceID()) }, "", 0)
		for _, st := range page {
			m, row := st.ResourceMeta(), st.Row()
			g := genericResource{ID: m.ID, Name: m.Name, Type: k.typ, Location: row.Location, ResourceGroup: m.ResourceGroup,
				Created: row.CreatedAt, ProvisioningState: "Succeeded"}
			var model netModel
			switch v := st.(type) {
			case *engine.VirtualNetwork:
				model = readModel(v.Spec.Model)
			case *engine.SecurityGroup:
				model = readModel(v.Spec.Model)
			case *engine.NetworkInterface:
				model = readModel(v.Spec.Model)
			case *engine.PublicIP:
				model = readModel(v.Spec.Model)
				g.SKU = map[string]any{"name": v.Spec.SKU, "tier": v.Spec.Tier}
			case *engine.LoadBalancer:
				model = readModel(v.Spec.Model)
				g.SKU = map[string]any{"name": v.Spec.SKU, "tier": v.Spec.Tier}
			}
			if model.Tags != nil {
				g.Tags = map[string]string{}
				for key, val := range model.Tags {
					g.Tags[key], _ = val.(string)
				}
			}
			out = append(out, g)
		}
	}
	return out
}

func (s *Server) renderLoadBalancer(st engine.Snapshot) map[string]any {
	b := st.(*engine.LoadBalancer)
	child := func(part, name string, raw []byte) map[string]any {
		p := map[string]any{}
		_ = json.Unmarshal(raw, &p)
		p["provisioningState"] = "Succeeded"
		out := map[string]any{"id": b.PartID(part, name), "name": name, "type": engine.LoadBalancerType + "/" + part, "etag": netEtag(b), "properties": p}
		if zones, ok := p["zones"]; ok {
			delete(p, "zones")
			out["zones"] = zones
		}
		return out
	}
	fronts := []any{}
	for _, f := range b.Spec.Frontends {
		c := child("frontendIPConfigurations", f.Name, f.Props)
		p := c["properties"].(map[string]any)
		if f.PublicIP != "" {
			p["publicIPAddress"] = idRef(f.PublicIP)
		}
		if f.Subnet != "" {
			p["subnet"] = idRef(f.Subnet)
			if p["privateIPAllocationMethod"] == nil {
				p["privateIPAllocationMethod"] = "Dynamic"
			}
		}
		fronts = append(fronts, c)
	}
	props := map[string]any{"frontendIPConfigurations": fronts}
	for _, part := range engine.LoadBalancerParts {
		list := []any{}
		for _, c := range b.Spec.Parts[part] {
			list = append(list, child(part, c.Name, c.Props))
		}
		props[part] = list
	}
	out := netBody(b, engine.LoadBalancerType, b.Spec.Location, b.ResourceGUID, readModel(b.Spec.Model), props)
	out["sku"] = map[string]any{"name": b.Spec.SKU, "tier": b.Spec.Tier}
	return out
}

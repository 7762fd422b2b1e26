package armapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
)

// netModel is what a network resource keeps of its body besides what the
// rules decide over: its tags, zones and the writable properties azemu
// only echoes.
type netModel struct {
	Tags  map[string]any `json:"tags,omitempty"`
	Zones []any          `json:"zones,omitempty"`
	Props map[string]any `json:"props,omitempty"`
}

func modelOf(body, props map[string]any, echoed ...string) json.RawMessage {
	m := netModel{Props: map[string]any{}}
	if tags, ok := body["tags"].(map[string]any); ok {
		m.Tags = tags
	}
	if zones, ok := body["zones"].([]any); ok {
		m.Zones = zones
	}
	for _, k := range echoed {
		if v, ok := props[k]; ok && v != nil {
			m.Props[k] = v
		}
	}
	raw, _ := json.Marshal(m)
	return raw
}

func readModel(raw json.RawMessage) netModel {
	var m netModel
	_ = json.Unmarshal(raw, &m)
	return m
}

// network resources' writable properties that azemu keeps and shows back.
var (
	vnetEchoed   = []string{"dhcpOptions", "enableDdosProtection", "enableVmProtection", "bgpCommunities", "encryption", "flowTimeoutInMinutes", "privateEndpointVNetPolicies"}
	subnetEchoed = []string{"delegations", "serviceEndpoints", "privateEndpointNetworkPolicies", "privateLinkServiceNetworkPolicies", "defaultOutboundAccess", "routeTable", "natGateway"}
	ruleEchoed   = []string{"description", "sourceAddressPrefix", "sourceAddressPrefixes", "destinationAddressPrefix", "destinationAddressPrefixes",
		"sourcePortRange", "sourcePortRanges", "destinationPortRange", "destinationPortRanges", "sourceApplicationSecurityGroups", "destinationApplicationSecurityGroups"}
	nicEchoed = []string{"dnsSettings", "nicType", "auxiliaryMode", "disableTcpStateTracking"}
	pipEchoed = []string{"dnsSettings", "ipTags", "ddosSettings"}
)

// refID is the canonical ID a {"id": ...} reference names; "" when none.
func refID(props map[string]any, key string) string {
	ref, _ := props[key].(map[string]any)
	id := str(ref["id"])
	if parsed, err := armid.Parse(id); err == nil {
		return parsed.String()
	}
	return id
}

// location reads and checks a body's location.
func location(body map[string]any) (string, *armerror.Error) {
	loc := armLocation(str(body["location"]))
	if loc == "" {
		return "", missingParameter("location")
	}
	if !knownLocation(loc) {
		return "", errorf("LocationNotAvailableForResourceType", "", "The provided location '%s' is not available for resource type 'Microsoft.Network'. List of available regions for the resource type is '%s'.",
			str(body["location"]), strings.Join(locations, ","))
	}
	return loc, nil
}

// netPut is the body of a PUT of a Network resource, its location read
// and checked: what every network kind's build starts from.
type netPut struct {
	raw      map[string]any // as sent
	location string         // in Azure's form
	props    map[string]any // the body's properties; nil when it has none
}

// readNetPut reads a body's location, which every Network resource needs,
// and its properties.
func readNetPut(body map[string]any) (netPut, *armerror.Error) {
	loc, e := location(body)
	return netPut{raw: body, location: loc, props: dig(body, "properties")}, e
}

func strings_(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (s *Server) buildVNet(b netPut, old engine.Snapshot) (any, error) {
	spec := engine.VirtualNetworkSpec{Location: b.location, AddressPrefixes: strings_(dig(b.props, "addressSpace")["addressPrefixes"]),
		Model: modelOf(b.raw, b.props, vnetEchoed...)}
	if len(spec.AddressPrefixes) == 0 {
		if prev, ok := old.(*engine.VirtualNetwork); ok {
			spec.AddressPrefixes = prev.Spec.AddressPrefixes
		} else {
			return nil, missingParameter("properties.addressSpace.addressPrefixes")
		}
	}
	subnets, e := parseEach(b.props["subnets"], parseSubnet)
	return asError(engine.VirtualNetworkPut{Spec: spec, Subnets: subnets}, e)
}

// parseEach reads a body's list of children with parse: nil when the
// body has no list (the children stay as they are), else each one's.
func parseEach[T any](v any, parse func(m map[string]any, i int) (T, *armerror.Error)) ([]T, *armerror.Error) {
	list, ok := v.([]any)
	if !ok {
		return nil, nil
	}
	out := []T{}
	for i, x := range list {
		m, _ := x.(map[string]any)
		item, e := parse(m, i)
		if e != nil {
			return nil, e
		}
		out = append(out, item)
	}
	return out, nil
}

func parseSubnet(m map[string]any, i int) (engine.Subnet, *armerror.Error) {
	props := dig(m, "properties")
	sn := engine.Subnet{Name: str(m["name"]), AddressPrefix: str(props["addressPrefix"]), NSG: refID(props, "networkSecurityGroup"),
		Model: modelOf(nil, props, subnetEchoed...)}
	if sn.AddressPrefix == "" {
		if list := strings_(props["addressPrefixes"]); len(list) > 0 {
			sn.AddressPrefix = list[0]
		}
	}
	if sn.AddressPrefix == "" {
		return sn, missingParameter(fmt.Sprintf("subnets[%d].properties.addressPrefix", i))
	}
	return sn, nil
}

func (s *Server) buildNSG(b netPut, old engine.Snapshot) (any, error) {
	rules, e := parseEach(b.props["securityRules"], parseRule)
	return asError(engine.SecurityGroupPut{Spec: engine.SecurityGroupSpec{Location: b.location, Model: modelOf(b.raw, b.props)}, Rules: rules}, e)
}

// canonicalOr is v in the casing of the allowed value it matches, else v
// as sent (for the rules to refuse).
func canonicalOr(v string, allowed ...string) string {
	if c := canonicalOneOf(v, allowed...); c != "" {
		return c
	}
	return v
}

func parseRule(m map[string]any, i int) (engine.SecurityRule, *armerror.Error) {
	props := dig(m, "properties")
	rule := engine.SecurityRule{Name: str(m["name"]),
		Direction: canonicalOr(str(props["direction"]), "Inbound", "Outbound"),
		Access:    canonicalOr(str(props["access"]), "Allow", "Deny"),
		Protocol:  canonicalOr(str(props["protocol"]), "Tcp", "Udp", "Icmp", "Esp", "Ah", "*"),
		Model:     modelOf(nil, props, ruleEchoed...)}
	prio, ok := props["priority"].(float64)
	if !ok {
		return rule, missingParameter(fmt.Sprintf("securityRules[%d].properties.priority", i))
	}
	if prio != math.Trunc(prio) {
		return rule, invalidParameter("priority", "Security rule has invalid Priority. Value provided: %v Allowed range 100-4096.", prio)
	}
	rule.Priority = int(prio)
	return rule, nil
}

func (s *Server) buildNIC(b netPut, _ engine.Snapshot) (any, error) {
	spec := engine.NetworkInterfaceSpec{Location: b.location, NSG: refID(b.props, "networkSecurityGroup"),
		Model: modelOf(b.raw, b.props, nicEchoed...)}
	spec.AcceleratedNetworking, _ = b.props["enableAcceleratedNetworking"].(bool)
	spec.IPForwarding, _ = b.props["enableIPForwarding"].(bool)
	list, _ := b.props["ipConfigurations"].([]any)
	if len(list) == 0 {
		return nil, missingParameter("properties.ipConfigurations")
	}
	for i, x := range list {
		m, _ := x.(map[string]any)
		c, e := parseIPConfig(m, i)
		if e != nil {
			return nil, e
		}
		spec.IPConfigs = append(spec.IPConfigs, c)
	}
	return spec, nil
}

func parseIPConfig(m map[string]any, i int) (engine.IPConfigSpec, *armerror.Error) {
	props := dig(m, "properties")
	c := engine.IPConfigSpec{Name: str(m["name"]), Subnet: refID(props, "subnet"), PrivateIP: str(props["privateIPAddress"]),
		Allocation: canonicalOr(str(props["privateIPAllocationMethod"]), "Dynamic", "Static"),
		Version:    canonicalOr(str(props["privateIPAddressVersion"]), "IPv4", "IPv6"),
		PublicIP:   refID(props, "publicIPAddress"), Pools: poolRefs(props)}
	c.Primary, _ = props["primary"].(bool)
	if c.Allocation == "" {
		c.Allocation = "Dynamic"
		if c.PrivateIP != "" {
			c.Allocation = "Static"
		}
	}
	if c.Allocation == "Dynamic" {
		c.PrivateIP = ""
	}
	if c.Version == "" {
		c.Version = "IPv4"
	}
	if c.Subnet == "" {
		return c, missingParameter(fmt.Sprintf("ipConfigurations[%d].properties.subnet.id", i))
	}
	return c, nil
}

func (s *Server) buildPublicIP(b netPut, _ engine.Snapshot) (any, error) {
	return asError(publicIPSpec(b))
}

// publicIPSpec reads a public IP's body, with the API's defaults: Basic,
// Regional, IPv4, Dynamic for Basic and Static for Standard.
func publicIPSpec(b netPut) (engine.PublicIPSpec, *armerror.Error) {
	sku := dig(b.raw, "sku")
	spec := engine.PublicIPSpec{Location: b.location, SKU: canonicalOr(str(sku["name"]), "Basic", "Standard"),
		Tier:       canonicalOr(str(sku["tier"]), "Regional", "Global"),
		Allocation: canonicalOr(str(b.props["publicIPAllocationMethod"]), "Static", "Dynamic"),
		Version:    canonicalOr(str(b.props["publicIPAddressVersion"]), "IPv4", "IPv6"),
		Model:      modelOf(b.raw, b.props, pipEchoed...)}
	if spec.SKU == "" {
		spec.SKU = "Basic" // the API's default when sku is left out
	}
	if spec.SKU != "Basic" && spec.SKU != "Standard" {
		return spec, invalidParameter("sku.name", "The value '%s' of parameter 'sku.name' is not allowed. Allowed values are 'Basic' and 'Standard'.", spec.SKU)
	}
	if spec.Tier == "" {
		spec.Tier = "Regional"
	}
	if spec.Allocation == "" {
		spec.Allocation = map[string]string{"Basic": "Dynamic", "Standard": "Static"}[spec.SKU]
	}
	if spec.Version == "" {
		spec.Version = "IPv4"
	}
	if idle, ok := b.props["idleTimeoutInMinutes"].(float64); ok {
		spec.IdleTimeout = int(idle)
	}
	return spec, nil
}

// buildLoadBalancer reads a balancer's body, with the API's default SKU
// (Basic). Each frontend's public IP or subnet is what the rules decide
// over; the other parts are kept as written.
func (s *Server) buildLoadBalancer(b netPut, _ engine.Snapshot) (any, error) {
	sku := dig(b.raw, "sku")
	spec := engine.LoadBalancerSpec{Location: b.location, SKU: canonicalOr(str(sku["name"]), "Basic", "Standard", "Gateway"),
		Tier: canonicalOr(str(sku["tier"]), "Regional", "Global"), Model: modelOf(b.raw, b.props)}
	if spec.SKU == "" {
		spec.SKU = "Basic"
	}
	if spec.SKU == "Gateway" {
		return nil, invalidParameter("sku.name", "The value '%s' of parameter 'sku.name' is not supported by the emulator. Supported values are 'Basic' and 'Standard'.", str(sku["name"]))
	}
	if spec.SKU != "Basic" && spec.SKU != "Standard" {
		return nil, invalidParameter("sku.name", "The value '%s' of parameter 'sku.name' is not allowed. Allowed values are 'Basic' and 'Standard'.", str(sku["name"]))
	}
	if spec.Tier == "" {
		spec.Tier = "Regional"
	}
	named := func(m map[string]any, part string, i int) (string, map[string]any, *armerror.Error) {
		name := str(m["name"])
		if name == "" {
			return "", nil, missingParameter(fmt.Sprintf("properties.%s[%d].name", part, i))
		}
		return name, partProps(m), nil
	}
	fronts, _ := b.props["frontendIPConfigurations"].([]any)
	for i, x := range fronts {
		m, _ := x.(map[string]any)
		name, p, e := named(m, "frontendIPConfigurations", i)
		if e != nil {
			return nil, e
		}
		f := engine.LoadBalancerFrontend{Name: name, PublicIP: refID(p, "publicIPAddress"), Subnet: refID(p, "subnet")}
		delete(p, "publicIPAddress")
		delete(p, "subnet")
		if zones, ok := m["zones"]; ok {
			p["zones"] = zones // kept with the properties, shown at the top
		}
		f.Props, _ = json.Marshal(p)
		spec.Frontends = append(spec.Frontends, f)
	}
	spec.Parts = map[string][]engine.LoadBalancerPart{}
	for _, part := range engine.LoadBalancerParts {
		list, _ := b.props[part].([]any)
		for i, x := range list {
			m, _ := x.(map[string]any)
			name, p, e := named(m, part, i)
			if e != nil {
				return nil, e
			}
			raw, _ := json.Marshal(p)
			spec.Parts[part] = append(spec.Parts[part], engine.LoadBalancerPart{Name: name, Props: raw})
		}
	}
	return spec, nil
}

// partProps are the properties of a balancer's child as written, less
// what Network sets.
func partProps(m map[string]any) map[string]any {
	p := map[string]any{}
	for k, v := range dig(m, "properties") {
		if k != "provisioningState" {
			p[k] = v
		}
	}
	return p
}

// balancerPart reads the body of a PUT of one child of a balancer (its
// name is the path's).
func balancerPart(body map[string]any) engine.LoadBalancerPart {
	raw, _ := json.Marshal(partProps(body))
	return engine.LoadBalancerPart{Name: str(body["name"]), Props: raw}
}

// poolRefs are the IDs of the backend pools an IP configuration joins.
func poolRefs(props map[string]any) []string {
	list, _ := props["loadBalancerBackendAddressPools"].([]any)
	var out []string
	for i := range list {
		if id := refID(map[string]any{"pool": list[i]}, "pool"); id != "" {
			out = append(out, id)
		}
	}
	return out
}

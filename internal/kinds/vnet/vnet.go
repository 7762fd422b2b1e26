// Package vnet decides virtual networks and their subnets: every subnet's
// prefix lies inside the network's address space and overlaps no other,
// and a subnet that network interfaces use cannot go. Subnets are part of
// their network's snapshot (Azure serves them inline and as child
// resources). It is pure: the caller passes which IP configurations use
// each subnet.
package vnet

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/network"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of virtual networks; SubnetType of their subnets.
const (
	Type       = network.Namespace + "/virtualNetworks"
	SubnetType = Type + "/subnets"
)

// VNet is a virtual network snapshot with its subnets.
type VNet struct {
	network.Base
	Spec    Spec     `json:"spec"`
	Subnets []Subnet `json:"subnets"`
}

// Spec is what azemu keeps of a virtual network's model.
type Spec struct {
	Location        string          `json:"location"`
	AddressPrefixes []string        `json:"addressPrefixes"`
	Model           json.RawMessage `json:"model,omitempty"` // tags, dhcpOptions, ... as written
}

// Subnet is one subnet of a network.
type Subnet struct {
	Name          string `json:"name"`
	AddressPrefix string `json:"addressPrefix"`
	// NSG is the ID of the network security group linked to the subnet.
	NSG   string          `json:"nsg,omitempty"`
	Model json.RawMessage `json:"model,omitempty"` // the rest of its properties as written
}

// Location is where the network is.
func (v *VNet) Location() string { return v.Spec.Location }

// ResourceType is Type.
func (v *VNet) ResourceType() string { return Type }

// Row is the network as the store keeps it.
func (v *VNet) Row() resource.Row { return v.Base.Row(v, v.Spec.Location) }

// Decode reads a network back from its stored row.
var Decode = resource.Decode[VNet]

// ID is the ID of the network named name in a group.
func ID(sub, rg, name string) string { return armid.NetworkID(sub, rg, "virtualNetworks", name) }

// SubnetID is the ID of a subnet of network v.
func (v *VNet) SubnetID(name string) string { return armid.ChildID(v.ID, "subnets", name) }

// Subnet returns the subnet named name, ignoring case.
func (v *VNet) Subnet(name string) (Subnet, bool) {
	return network.Find(v.Subnets, func(s Subnet) string { return s.Name }, name)
}

// Users lists, by subnet name (any casing), the IDs of the IP
// configurations that use the subnet: what may not lose its subnet.
type Users map[string][]string

func (u Users) of(name string) []string {
	for k, ids := range u {
		if strings.EqualFold(k, name) {
			return ids
		}
	}
	return nil
}

// NotFound is the error of a request naming a network that does not exist.
func NotFound(rg, name string) error {
	return network.NotFound("virtualNetworks", rg, name)
}

// SubnetNotFound is the error of a request naming a subnet that does not exist.
func SubnetNotFound(vnet, name string) error {
	return &resource.Error{Code: "NotFound", Message: fmt.Sprintf("Resource /subnets/%s of virtual network %s not found.", name, vnet)}
}

// World is what a network's decisions read of other resources: who uses
// its subnets, and where the security groups its subnets name are (by
// armid.Fold of their IDs; a group that does not exist is absent).
type World struct {
	Users  Users
	Groups map[string]string
}

// Named lists the IDs of the security groups subnets name: what the
// caller looks up before deciding.
func Named(subnets []Subnet) []string {
	var out []string
	for _, s := range subnets {
		if s.NSG != "" {
			out = append(out, s.NSG)
		}
	}
	return out
}

// Put decides a client's PUT of a network with its subnets (inline). old
// is the network as it is (nil when new).
func Put(old *VNet, sub, rg, name string, spec Spec, subnets []Subnet, w World, env resource.Env) (*VNet, resource.Effects, error) {
	v, err := network.Next(old, spec.Location, func() *VNet { return &VNet{Base: network.Fresh(sub, rg, "virtualNetworks", name, env)} })
	if err != nil {
		return nil, resource.Effects{}, err
	}
	v.Spec, v.Subnets = spec, subnets
	if err := v.check(old, w.Users); err != nil {
		return nil, resource.Effects{}, err
	}
	for _, s := range v.Subnets {
		if s.NSG == "" {
			continue
		}
		if at, ok := w.Groups[armid.Fold(s.NSG)]; !ok || !armid.SameLocation(at, spec.Location) {
			return nil, resource.Effects{}, network.Refusal("InvalidResourceReference", "", fmt.Sprintf(
				"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
				s.NSG, v.SubnetID(s.Name)))
		}
	}
	return v, resource.Effects{Put: []resource.State{v}}, nil
}

// PutSubnet decides a PUT of one subnet of v.
func PutSubnet(v *VNet, s Subnet, w World, env resource.Env) (*VNet, resource.Effects, error) {
	subnets := network.Upsert(v.Subnets, s, subnetName)
	return Put(v, v.SubscriptionID, v.ResourceGroup, v.Name, v.Spec, subnets, w, env)
}

// DeleteSubnet decides a DELETE of one subnet of v; one in use is refused.
func DeleteSubnet(v *VNet, name string, w World, env resource.Env) (*VNet, resource.Effects, error) {
	return Put(v, v.SubscriptionID, v.ResourceGroup, v.Name, v.Spec, network.Without(v.Subnets, subnetName, name), w, env)
}

func subnetName(s *Subnet) *string { return &s.Name }

// Delete decides a client's DELETE: a network whose subnets are in use is
// refused.
func Delete(v *VNet, users Users, env resource.Env) (resource.Effects, error) {
	for _, s := range v.Subnets {
		if ids := users.of(s.Name); len(ids) > 0 {
			return resource.Effects{}, inUse(s.Name, ids)
		}
	}
	return Remove(v, "", env), nil
}

// Remove decides the deletion of a network whatever its state (its group
// is deleted).
func Remove(v *VNet, _ string, _ resource.Env) resource.Effects {
	return resource.Effects{Removed: []resource.State{v}}
}

func inUse(subnet string, ids []string) error {
	return network.Refusal("InUseSubnetCannotBeDeleted", "", fmt.Sprintf(
		"Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.",
		subnet, strings.Join(ids, ", ")))
}

// check holds Azure's rules for a network's address space and subnets.
func (v *VNet) check(old *VNet, users Users) error {
	var space []netip.Prefix
	for _, p := range v.Spec.AddressPrefixes {
		prefix, err := cidr(p, v.ID)
		if err != nil {
			return err
		}
		space = append(space, prefix)
	}
	if len(space) == 0 {
		return network.Refusal("InvalidRequestFormat", "addressSpace.addressPrefixes", "Cannot parse the request: the virtual network needs at least one address prefix in addressSpace.addressPrefixes.")
	}
	for i := range space {
		for j := range i {
			if space[i].Overlaps(space[j]) {
				return network.Refusal("NetcfgInvalidAddressSpace", "", fmt.Sprintf(
					"Address space %s of virtual network %s overlaps with address space %s.", space[i], v.Name, space[j]))
			}
		}
	}
	type named struct {
		name   string
		prefix netip.Prefix
	}
	var seen []named
	names := map[string]string{}
	for _, s := range v.Subnets {
		if s.Name == "" {
			return network.Refusal("InvalidRequestFormat", "subnets.name", "Cannot parse the request: every subnet needs a name.")
		}
		if prev, dup := names[strings.ToLower(s.Name)]; dup {
			return network.Refusal("InvalidRequestFormat", "", fmt.Sprintf("Cannot parse the request: two subnets are named '%s'.", prev))
		}
		names[strings.ToLower(s.Name)] = s.Name
		prefix, err := cidr(s.AddressPrefix, v.SubnetID(s.Name))
		if err != nil {
			return err
		}
		inside := false
		for _, sp := range space {
			if sp.Bits() <= prefix.Bits() && sp.Contains(prefix.Addr()) {
				inside = true
			}
		}
		if !inside {
			return network.Refusal("NetcfgSubnetRangeOutsideVnet", "", fmt.Sprintf(
				"Subnet '%s' is not valid because its IP address range is outside the IP address range of virtual network '%s'.", s.Name, v.Name))
		}
		for _, o := range seen {
			if other := o.name; o.prefix.Overlaps(prefix) {
				return network.Refusal("NetcfgSubnetRangesOverlap", "", fmt.Sprintf(
					"Subnet '%s' is not valid because its IP address range overlaps with that of an existing subnet '%s' in virtual network '%s'.", s.Name, other, v.Name))
			}
		}
		seen = append(seen, named{s.Name, prefix})
		if prefix.Bits() > 29 && prefix.Addr().Is4() {
			return network.Refusal("InvalidSubnetPrefix", "", fmt.Sprintf(
				"Subnet '%s' has prefix %s; the smallest subnet Azure supports is a /29.", s.Name, prefix))
		}
	}
	if old == nil {
		return nil
	}
	for _, s := range old.Subnets {
		ids := users.of(s.Name)
		if len(ids) == 0 {
			continue
		}
		now, kept := v.Subnet(s.Name)
		if !kept {
			return inUse(s.Name, ids)
		}
		if now.AddressPrefix != s.AddressPrefix {
			return network.Refusal("InUseSubnetCannotBeUpdated", "", fmt.Sprintf(
				"Subnet %s is in use by %s and its address prefix cannot change from %s to %s.", s.Name, strings.Join(ids, ", "), s.AddressPrefix, now.AddressPrefix))
		}
	}
	return nil
}

// cidr parses an address prefix as Azure requires it: in CIDR notation,
// with no host bits set.
func cidr(s, owner string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return p, network.Refusal("InvalidAddressPrefixFormat", "", fmt.Sprintf(
			"Address prefix %s of resource %s is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.", s, owner))
	}
	if p.Masked() != p {
		return p, network.Refusal("InvalidCIDRNotation", "", fmt.Sprintf(
			"The address prefix %s in resource %s has an invalid CIDR notation. For the given prefix length, the address prefix should be %s.", s, owner, p.Masked()))
	}
	return p, nil
}

// Prefix is a subnet's prefix, parsed (the zero Prefix when invalid: a
// stored subnet always parses).
func (s Subnet) Prefix() netip.Prefix {
	p, _ := netip.ParsePrefix(s.AddressPrefix)
	return p
}

// SubnetNames lists v's subnets' names in order, for transcripts.
func (v *VNet) SubnetNames() []string {
	var out []string
	for _, s := range v.Subnets {
		out = append(out, s.Name+"="+s.AddressPrefix)
	}
	sort.Strings(out)
	return out
}

// Package loadbalancer decides load balancers: their SKU, their frontend
// IP configurations (each naming a public IP or a subnet, which must
// exist), and the association of a frontend's public IP, which holds the
// IP while the frontend names it. The other parts (backend pools, inbound
// NAT pools and rules, load-balancing rules, probes) are kept as written
// and shown with their IDs. It is pure: the caller passes the public IPs
// and subnets the balancer names, the time and the IDs.
package loadbalancer

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/network"
	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of load balancers.
const Type = "Microsoft.Network/loadBalancers"

// The SKUs, as Azure spells them.
const (
	Basic    = "Basic"
	Standard = "Standard"
)

// Parts are the child collections of a balancer other than its frontends,
// as Azure spells them, in the order they are shown.
var Parts = []string{"backendAddressPools", "inboundNatPools", "inboundNatRules", "loadBalancingRules", "probes"}

// LB is a load balancer snapshot.
type LB struct {
	network.Base
	Spec Spec `json:"spec"`
}

// Spec is what azemu keeps of a balancer's model.
type Spec struct {
	Location  string     `json:"location"`
	SKU       string     `json:"sku"`
	Tier      string     `json:"tier"`
	Frontends []Frontend `json:"frontendIPConfigurations,omitempty"`
	// Parts are the other child collections, by name in Parts.
	Parts map[string][]Part `json:"parts,omitempty"`
	Model json.RawMessage   `json:"model,omitempty"` // tags and the like, as written
}

// Frontend is a frontend IP configuration: a public IP's or a subnet's.
type Frontend struct {
	Name     string `json:"name"`
	PublicIP string `json:"publicIPAddress,omitempty"`
	Subnet   string `json:"subnet,omitempty"`
	// Props are its other properties, as written.
	Props json.RawMessage `json:"props,omitempty"`
}

// Part is a child of one of the other collections, kept as written.
type Part struct {
	Name  string          `json:"name"`
	Props json.RawMessage `json:"props,omitempty"`
}

// World is what a balancer's decisions read of other resources, by Key of
// their IDs: the public IPs and subnets (to their regions) it names.
type World struct {
	PublicIPs map[string]*publicip.PublicIP
	Subnets   map[string]string
	// Taken are the public addresses held, for a Dynamic IP given one.
	Taken publicip.Taken
}

// Location is where the balancer is.
func (b *LB) Location() string { return b.Spec.Location }

// ResourceType is Type.
func (b *LB) ResourceType() string { return Type }

// Row is the balancer as the store keeps it.
func (b *LB) Row() resource.Row { return b.Base.Row(b, b.Spec.Location) }

// Decode reads a balancer back from its stored row.
var Decode = resource.Decode[LB]

// ID is the ID of the balancer named name in a group.
func ID(sub, rg, name string) string { return armid.NetworkID(sub, rg, "loadBalancers", name) }

// PartID is the ID of the child named name of collection part
// ("frontendIPConfigurations", "backendAddressPools", ...).
func (b *LB) PartID(part, name string) string { return armid.ChildID(b.ID, part, name) }

// Key is the case-insensitive map key of an ID.
func Key(id string) string { return armid.Fold(id) }

// NotFound is the error of a request naming a balancer that does not exist.
func NotFound(rg, name string) error { return network.NotFound("loadBalancers", rg, name) }

// Named lists the IDs of the public IPs and subnets spec's frontends name:
// what the caller looks up before deciding.
func Named(spec Spec) (ips, subnets []string) {
	for _, f := range spec.Frontends {
		if f.PublicIP != "" {
			ips = append(ips, f.PublicIP)
		}
		if f.Subnet != "" {
			subnets = append(subnets, f.Subnet)
		}
	}
	return ips, subnets
}

func missingReference(ref, owner string) error {
	return network.Refusal("InvalidResourceReference", "", fmt.Sprintf(
		"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", ref, owner))
}

// Put decides a client's PUT of a balancer. old is the balancer as it is
// (nil when new). Each frontend's public IP is associated with it, and
// those old's frontends named and spec's no longer do are let go.
func Put(old *LB, sub, rg, name string, spec Spec, w World, env resource.Env) (*LB, resource.Effects, error) {
	b, err := network.Next(old, spec.Location, func() *LB { return &LB{Base: network.Fresh(sub, rg, "loadBalancers", name, env)} })
	if err != nil {
		return nil, resource.Effects{}, err
	}
	b.Spec = spec
	for _, f := range spec.Frontends {
		if f.PublicIP != "" && f.Subnet != "" {
			return nil, resource.Effects{}, network.Refusal("FrontendIPConfigHasBothSubnetAndPublicIP", "", fmt.Sprintf(
				"Frontend IP Configuration %s must not reference both a Subnet and a Public IP Address.", b.PartID("frontendIPConfigurations", f.Name)))
		}
		if f.Subnet != "" {
			if loc, ok := w.Subnets[Key(f.Subnet)]; !ok || !armid.SameLocation(loc, spec.Location) {
				return nil, resource.Effects{}, missingReference(f.Subnet, b.ID)
			}
		}
	}
	eff := resource.Effects{Put: []resource.State{b}}
	if old != nil {
		// First what old no longer names, so that an IP may move from one
		// of its frontends to another.
		eff.Add(release(old, w, spec, env))
	}
	for _, f := range spec.Frontends {
		if f.PublicIP == "" {
			continue
		}
		p := w.PublicIPs[Key(f.PublicIP)]
		if p == nil || !armid.SameLocation(p.Spec.Location, spec.Location) {
			return nil, resource.Effects{}, missingReference(f.PublicIP, b.ID)
		}
		if p.Spec.SKU != spec.SKU {
			return nil, resource.Effects{}, network.Refusal("PublicIPAndLBSkuDoNotMatch", "", fmt.Sprintf(
				"%s sku load balancer %s cannot reference %s sku publicIP %s.", spec.SKU, b.ID, p.Spec.SKU, p.ID))
		}
		cfg := b.PartID("frontendIPConfigurations", f.Name)
		if strings.EqualFold(p.IPConfiguration, cfg) {
			continue
		}
		// A frontend is always serving: a Dynamic address is held.
		np, e, err := publicip.Associate(p, cfg, "", true, w.Taken, env)
		if err != nil {
			return nil, resource.Effects{}, err
		}
		w.PublicIPs[Key(f.PublicIP)] = np
		if np.Address != "" {
			w.Taken[np.Address] = true
		}
		eff.Add(e)
	}
	return b, eff, nil
}

// release lets go of the public IPs b's frontends hold that next's
// frontends do not name with the same frontend.
func release(b *LB, w World, next Spec, env resource.Env) resource.Effects {
	kept := map[string]bool{}
	for _, f := range next.Frontends {
		kept[strings.ToLower(f.Name)+" "+Key(f.PublicIP)] = true
	}
	var eff resource.Effects
	for _, f := range b.Spec.Frontends {
		if f.PublicIP == "" || kept[strings.ToLower(f.Name)+" "+Key(f.PublicIP)] {
			continue
		}
		if p := w.PublicIPs[Key(f.PublicIP)]; p != nil && strings.EqualFold(p.IPConfiguration, b.PartID("frontendIPConfigurations", f.Name)) {
			np, e := publicip.Dissociate(p, env)
			w.PublicIPs[Key(f.PublicIP)] = np
			eff.Add(e)
		}
	}
	return eff
}

// PartType is the ARM type of the children of part ("inboundNatRules"),
// which a client may also PUT and DELETE one by one.
func PartType(part string) string { return Type + "/" + part }

// Part finds the child named name of collection part.
func (b *LB) Part(part, name string) (Part, bool) {
	return network.Find(b.Spec.Parts[part], func(p Part) string { return p.Name }, name)
}

// PutPart decides a PUT of one child of collection part: it replaces the
// one of its name (which keeps its casing) or is added.
func PutPart(b *LB, part string, item Part) (*LB, resource.Effects, error) {
	return withPart(b, part, network.Upsert(b.Spec.Parts[part], item, partName))
}

// DeletePart decides a DELETE of the child named name of collection part.
func DeletePart(b *LB, part, name string) (*LB, resource.Effects, error) {
	return withPart(b, part, network.Without(b.Spec.Parts[part], partName, name))
}

func partName(p *Part) *string { return &p.Name }

func withPart(b *LB, part string, items []Part) (*LB, resource.Effects, error) {
	nb := *b
	nb.Spec.Parts = map[string][]Part{}
	for k, v := range b.Spec.Parts {
		nb.Spec.Parts[k] = v
	}
	nb.Spec.Parts[part] = items
	return &nb, resource.Effects{Put: []resource.State{&nb}}, nil
}

// Delete decides a client's DELETE: the balancer goes and its frontends'
// public IPs are let go.
func Delete(b *LB, w World, env resource.Env) resource.Effects {
	eff := release(b, w, Spec{}, env)
	eff.Add(Remove(b, "", env))
	return eff
}

// Remove decides the deletion of a balancer with its group: its public IPs
// go on their own.
func Remove(b *LB, _ string, _ resource.Env) resource.Effects {
	return resource.Effects{Removed: []resource.State{b}}
}

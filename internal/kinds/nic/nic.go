// Package nic decides network interfaces: their IP configurations'
// private addresses (allocated from the subnet, Dynamic or Static, as
// Azure allocates them), the primary configuration, the links to a
// network security group and to public IPs, and the VM that uses the
// interface. It is pure: the caller passes the subnets, groups and public
// IPs the interface names, with the addresses already in use.
package nic

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/network"
	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of network interfaces.
const Type = "Microsoft.Network/networkInterfaces"

// Allocation methods of a private address.
const (
	Dynamic = "Dynamic"
	Static  = "Static"
)

// IPConfigSpec is one IP configuration as the client asks for it.
type IPConfigSpec struct {
	Name       string `json:"name"`
	Subnet     string `json:"subnet"`
	PrivateIP  string `json:"privateIPAddress,omitempty"` // asked for (Static)
	Allocation string `json:"allocation"`
	Version    string `json:"version"`
	Primary    bool   `json:"primary"`
	PublicIP   string `json:"publicIPAddress,omitempty"`
	// Pools are the load balancers' backend pools it joins, as named
	// (kept and shown; a pool does not list it back).
	Pools []string `json:"loadBalancerBackendAddressPools,omitempty"`
}

// IPConfig is an IP configuration with the private address it holds.
type IPConfig struct {
	IPConfigSpec
	Address string `json:"address"`
}

// NIC is a network interface snapshot.
type NIC struct {
	network.Base
	Spec      Spec       `json:"spec"`
	IPConfigs []IPConfig `json:"ipConfigurations"`
	// VirtualMachine is the ID of the VM using the interface; empty when
	// none does.
	VirtualMachine string `json:"virtualMachine,omitempty"`
	// Primary is whether it is its VM's primary interface.
	Primary bool `json:"primary,omitempty"`
	// DeleteOption is what its VM's deletion does to it (Delete or
	// Detach), as the VM's network profile says.
	DeleteOption string `json:"deleteOption,omitempty"`
	MACAddress   string `json:"macAddress,omitempty"`
}

// Spec is what azemu keeps of an interface's model.
type Spec struct {
	Location              string          `json:"location"`
	NSG                   string          `json:"nsg,omitempty"`
	AcceleratedNetworking bool            `json:"acceleratedNetworking,omitempty"`
	IPForwarding          bool            `json:"ipForwarding,omitempty"`
	IPConfigs             []IPConfigSpec  `json:"ipConfigurations"`
	Model                 json.RawMessage `json:"model,omitempty"` // tags, dnsSettings, ... as written
}

// Decode reads an interface back from its stored row.
var Decode = resource.Decode[NIC]

// ID is the ID of the interface named name in a group.
func ID(sub, rg, name string) string { return armid.NetworkID(sub, rg, "networkInterfaces", name) }

// IPConfigID is the ID of an IP configuration of n.
func (n *NIC) IPConfigID(name string) string { return armid.ChildID(n.ID, "ipConfigurations", name) }

// Key is the case-insensitive map key of an ID.
func Key(id string) string { return armid.Fold(id) }

// Location is where the interface is.
func (n *NIC) Location() string { return n.Spec.Location }

// ResourceType is Type.
func (n *NIC) ResourceType() string { return Type }

// Row is the interface as the store keeps it.
func (n *NIC) Row() resource.Row { return n.Base.Row(n, n.Spec.Location) }

// NotFound is the error of a request naming an interface that does not exist.
func NotFound(rg, name string) error {
	return network.NotFound("networkInterfaces", rg, name)
}

// Subnet is what the rules need of a subnet an IP configuration names.
type Subnet struct {
	ID       string
	Prefix   netip.Prefix
	Location string // its network's
	// Used are the private addresses held in the subnet by other
	// interfaces' IP configurations; nil when none are.
	Used Holders
}

// Holders says which IP configuration holds a private address of a
// subnet. A fleet's subnet may hold thousands: the caller answers from
// an index rather than list them all for every decision.
type Holders interface {
	// Holder is the ID of the IP configuration holding address addr.
	Holder(addr string) (configID string, ok bool)
	// FreeFrom is where a search for the lowest free address at or after
	// first may start: every address from first up to it is held. first
	// itself is always a right answer; a later one spares the search the
	// lookups of a subnet filled from its start.
	FreeFrom(first netip.Addr) netip.Addr
}

// World is what an interface's decisions read of other resources, by Key
// of their IDs; the caller passes those the interface names.
type World struct {
	Subnets map[string]Subnet
	// NSGs are the security groups that exist, to their regions.
	NSGs      map[string]string
	PublicIPs map[string]*publicip.PublicIP
	// Taken are the public addresses held, for a Dynamic IP given one.
	Taken publicip.Taken
	// Running is whether the interface's VM holds a host (a Dynamic
	// public address is held only then).
	Running bool
}

// Named lists the IDs of the subnets, group and public IPs spec names:
// what the caller looks up before deciding.
func Named(spec Spec) (subnets, nsgs, ips []string) {
	if spec.NSG != "" {
		nsgs = append(nsgs, spec.NSG)
	}
	for _, c := range spec.IPConfigs {
		subnets = append(subnets, c.Subnet)
		if c.PublicIP != "" {
			ips = append(ips, c.PublicIP)
		}
	}
	return subnets, nsgs, ips
}

func missingReference(ref, owner string) error {
	return network.Refusal("InvalidResourceReference", "", fmt.Sprintf(
		"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", ref, owner))
}

// Put decides a client's PUT of an interface. old is the interface as it
// is (nil when new).
func Put(old *NIC, sub, rg, name string, spec Spec, w World, env resource.Env) (*NIC, resource.Effects, error) {
	return PutAt(old, network.At(sub, rg, "networkInterfaces", name), spec, w, env)
}

// PutAt is Put for an interface at any place: a Uniform scale set
// instance's interfaces have IDs under the instance.
func PutAt(old *NIC, at resource.Meta, spec Spec, w World, env resource.Env) (*NIC, resource.Effects, error) {
	n, err := network.Next(old, spec.Location, func() *NIC { return &NIC{Base: network.FreshAt(at, env)} })
	if err != nil {
		return nil, resource.Effects{}, err
	}
	if len(spec.IPConfigs) == 0 {
		return nil, resource.Effects{}, network.Refusal("NetworkInterfaceMustHaveAtLeastOneIpConfiguration", "", fmt.Sprintf(
			"Network interface %s must have at least one IP configuration.", n.ID))
	}
	if at, ok := w.NSGs[Key(spec.NSG)]; spec.NSG != "" && (!ok || !armid.SameLocation(at, spec.Location)) {
		return nil, resource.Effects{}, missingReference(spec.NSG, n.ID)
	}
	configs, err := primaries(n.ID, spec.IPConfigs)
	if err != nil {
		return nil, resource.Effects{}, err
	}
	spec.IPConfigs = configs
	n.Spec = spec
	held := map[string]string{} // addresses this interface takes, to its configuration
	var out []IPConfig
	for _, c := range configs {
		s, ok := w.Subnets[Key(c.Subnet)]
		if !ok || !armid.SameLocation(s.Location, spec.Location) {
			return nil, resource.Effects{}, missingReference(c.Subnet, n.ID)
		}
		a, err := allocate(n, old, c, s, held)
		if err != nil {
			return nil, resource.Effects{}, err
		}
		held[a] = n.IPConfigID(c.Name)
		out = append(out, IPConfig{IPConfigSpec: c, Address: a})
	}
	n.IPConfigs = out
	eff, err := relink(old, n, w, env)
	if err != nil {
		return nil, resource.Effects{}, err
	}
	eff.Put = append([]resource.State{n}, eff.Put...)
	return n, eff, nil
}

// primaries makes exactly one configuration primary: the one marked, or
// the first when none is.
func primaries(id string, configs []IPConfigSpec) ([]IPConfigSpec, error) {
	out := append([]IPConfigSpec(nil), configs...)
	count := 0
	names := map[string]bool{}
	for _, c := range out {
		if c.Name == "" {
			return nil, network.Refusal("InvalidRequestFormat", "ipConfigurations.name", "Cannot parse the request: every IP configuration needs a name.")
		}
		if names[strings.ToLower(c.Name)] {
			return nil, network.Refusal("InvalidRequestFormat", "", fmt.Sprintf("Cannot parse the request: two IP configurations are named '%s'.", c.Name))
		}
		names[strings.ToLower(c.Name)] = true
		if c.Primary {
			count++
		}
	}
	switch {
	case count == 0 && len(out) > 1:
		return nil, network.Refusal("NetworkInterfaceMustHavePrimaryIpConfiguration", "", fmt.Sprintf(
			"Network interface %s has %d IP configurations and none is primary: exactly one must have primary set to true.", id, len(out)))
	case count == 0:
		out[0].Primary = true
	case count > 1:
		return nil, network.Refusal("MoreThanOnePrimaryIpConfigurationOnNetworkInterface", "", fmt.Sprintf(
			"Network interface %s has %d primary IP configurations; exactly one may be primary.", id, count))
	}
	return out, nil
}

// allocate gives configuration c its private address in subnet s: the
// address asked for (Static), else the one it held in the same subnet,
// else the lowest free one. Azure reserves the first four addresses of a
// subnet and its last.
func allocate(n, old *NIC, c IPConfigSpec, s Subnet, held map[string]string) (string, error) {
	first, last := usable(s.Prefix)
	taken := func(a string) (string, bool) {
		if by, ok := held[a]; ok {
			return by, true
		}
		if s.Used == nil {
			return "", false
		}
		return s.Used.Holder(a)
	}
	if c.Allocation == Static && c.PrivateIP != "" {
		a, err := netip.ParseAddr(c.PrivateIP)
		if err != nil || !s.Prefix.Contains(a) {
			return "", network.Refusal("PrivateIPAddressNotInSubnet", "", fmt.Sprintf(
				"IP configuration %s is using the private IP address %s which is not in the range of subnet %s.", n.IPConfigID(c.Name), c.PrivateIP, s.ID))
		}
		if a.Less(first) || last.Less(a) {
			return "", network.Refusal("PrivateIPAddressInReservedRange", "", fmt.Sprintf(
				"IP configuration %s is using the private IP address %s, which falls in the range of addresses Azure reserves in subnet %s (the first four and the last).", n.IPConfigID(c.Name), a, s.ID))
		}
		if by, ok := taken(a.String()); ok {
			return "", network.Refusal("PrivateIPAddressIsAllocated", "", fmt.Sprintf(
				"IP configuration %s is using the private IP address %s which is already allocated to resource %s.", n.IPConfigID(c.Name), a, by))
		}
		return a.String(), nil
	}
	if old != nil {
		for _, prev := range old.IPConfigs {
			if strings.EqualFold(prev.Name, c.Name) && armid.Equal(prev.Subnet, c.Subnet) && prev.Address != "" {
				if _, ok := taken(prev.Address); !ok {
					return prev.Address, nil
				}
			}
		}
	}
	from := first
	if s.Used != nil {
		if f := s.Used.FreeFrom(first); first.Less(f) {
			from = f
		}
	}
	for a := from; !last.Less(a); a = a.Next() {
		if _, ok := taken(a.String()); !ok {
			return a.String(), nil
		}
	}
	return "", network.Refusal("SubnetIsFull", "", fmt.Sprintf(
		"Subnet %s with address prefix %s does not have enough capacity for 1 IP addresses.", s.ID, s.Prefix))
}

// usable is the range of addresses Azure hands out in prefix p: all but
// the first four and the last.
func usable(p netip.Prefix) (first, last netip.Addr) {
	first = p.Addr()
	for range 4 {
		first = first.Next()
	}
	return first, lastOf(p).Prev()
}

// lastOf is the highest address of prefix p.
func lastOf(p netip.Prefix) netip.Addr {
	if p.Addr().Is4() {
		b := p.Addr().As4()
		for i := p.Bits(); i < 32; i++ {
			b[i/8] |= 0x80 >> (i % 8)
		}
		return netip.AddrFrom4(b)
	}
	b := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(b)
}

// relink associates the public IPs n's configurations name and
// dissociates those old's named and n no longer does.
func relink(old, n *NIC, w World, env resource.Env) (resource.Effects, error) {
	var eff resource.Effects
	current := func(id string) *publicip.PublicIP { return w.PublicIPs[Key(id)] }
	wanted := map[string]bool{}
	for _, c := range n.IPConfigs {
		if c.PublicIP == "" {
			continue
		}
		p := current(c.PublicIP)
		if p == nil || !armid.SameLocation(p.Spec.Location, n.Spec.Location) {
			return resource.Effects{}, missingReference(c.PublicIP, n.ID)
		}
		wanted[Key(c.PublicIP)] = true
		cfg := n.IPConfigID(c.Name)
		if strings.EqualFold(p.IPConfiguration, cfg) {
			continue
		}
		np, e, err := publicip.Associate(p, cfg, n.VirtualMachine, w.Running && n.VirtualMachine != "", w.Taken, env)
		if err != nil {
			return resource.Effects{}, err
		}
		w.PublicIPs[Key(c.PublicIP)] = np
		if np.Address != "" {
			w.Taken[np.Address] = true
		}
		eff.Add(e)
	}
	if old != nil {
		for _, c := range old.IPConfigs {
			if c.PublicIP == "" || wanted[Key(c.PublicIP)] {
				continue
			}
			if p := current(c.PublicIP); p != nil && strings.EqualFold(p.IPConfiguration, old.IPConfigID(c.Name)) {
				np, e := publicip.Dissociate(p, env)
				w.PublicIPs[Key(c.PublicIP)] = np
				eff.Add(e)
			}
		}
	}
	return eff, nil
}

// inUse is Azure's refusal to delete, or hand to another VM, an interface
// a VM uses.
func inUse(n *NIC) error {
	return network.Refusal("NicInUse", "", fmt.Sprintf(
		"Network Interface %s is used by existing resource %s. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.",
		n.ID, n.VirtualMachine))
}

// Delete decides a client's DELETE: an interface a VM uses is refused; the
// public IPs it names are dissociated.
func Delete(n *NIC, w World, env resource.Env) (resource.Effects, error) {
	if n.VirtualMachine != "" {
		return resource.Effects{}, inUse(n)
	}
	return Remove(n, "", w, env), nil
}

// Remove decides the deletion of an interface whatever its state (its
// group is deleted, or its VM with deleteOption Delete): each public IP
// it names goes too when its own deleteOption says Delete, else is
// dissociated.
func Remove(n *NIC, opID string, w World, env resource.Env) resource.Effects {
	eff := resource.Effects{Removed: []resource.State{n}}
	for _, c := range n.IPConfigs {
		p := w.PublicIPs[Key(c.PublicIP)]
		if p == nil || !strings.EqualFold(p.IPConfiguration, n.IPConfigID(c.Name)) {
			continue
		}
		if p.Spec.DeleteOption == "Delete" {
			eff.Add(publicip.Remove(p, opID, env))
			continue
		}
		_, e := publicip.Dissociate(p, env)
		eff.Add(e)
	}
	return eff
}

// Use is how a VM's network profile names an interface.
type Use struct {
	VM           string
	Primary      bool
	DeleteOption string // Delete or Detach
}

// Link decides a VM's use of n: an interface another VM uses is refused.
// The interface gets a MAC address when it first has one; running says
// whether the VM holds a host, which gives its Dynamic public IPs their
// addresses.
func Link(n *NIC, u Use, w World, env resource.Env) (*NIC, resource.Effects, error) {
	if n.VirtualMachine != "" && !strings.EqualFold(n.VirtualMachine, u.VM) {
		return nil, resource.Effects{}, network.Refusal("NicInUse", "", fmt.Sprintf(
			"Network Interface %s is used by existing resource %s. A network interface can be used by one virtual machine at a time.", n.ID, n.VirtualMachine))
	}
	nn := *n
	nn.VirtualMachine, nn.Primary = u.VM, u.Primary
	nn.DeleteOption = "Detach"
	if strings.EqualFold(u.DeleteOption, "Delete") {
		nn.DeleteOption = "Delete"
	}
	if nn.MACAddress == "" {
		nn.MACAddress = mac(env.NewID())
	}
	eff := resource.Effects{Put: []resource.State{&nn}}
	e, err := Power(&nn, w.Running, w, env)
	if err != nil {
		return nil, resource.Effects{}, err
	}
	eff.Add(e)
	return &nn, eff, nil
}

// Unlink decides a VM letting n go (it no longer names it, or is deleted
// with deleteOption Detach): its Dynamic public addresses are released.
func Unlink(n *NIC, w World, env resource.Env) (*NIC, resource.Effects) {
	nn := *n
	nn.VirtualMachine, nn.Primary, nn.DeleteOption = "", false, ""
	eff := resource.Effects{Put: []resource.State{&nn}}
	e, _ := Power(&nn, false, w, env) // releasing draws nothing
	eff.Add(e)
	return &nn, eff
}

// Power decides what its VM's power change does to n's public IPs: a
// Dynamic one holds an address only while the VM holds a host.
func Power(n *NIC, allocated bool, w World, env resource.Env) (resource.Effects, error) {
	var eff resource.Effects
	for _, c := range n.IPConfigs {
		p := w.PublicIPs[Key(c.PublicIP)]
		if p == nil || !strings.EqualFold(p.IPConfiguration, n.IPConfigID(c.Name)) {
			continue
		}
		np, e, err := publicip.Power(p, n.VirtualMachine, allocated, w.Taken, env)
		if err != nil {
			return resource.Effects{}, err
		}
		if np.Address != "" {
			w.Taken[np.Address] = true
		}
		w.PublicIPs[Key(c.PublicIP)] = np
		eff.Add(e)
	}
	return eff, nil
}

// mac derives a MAC address in Microsoft's 00-0D-3A block from a fresh ID.
func mac(id string) string {
	hex := strings.ToUpper(strings.ReplaceAll(id, "-", ""))
	for len(hex) < 6 {
		hex += "0"
	}
	return fmt.Sprintf("00-0D-3A-%s-%s-%s", hex[0:2], hex[2:4], hex[4:6])
}

// SubnetUsers lists, by subnet name, the IP configurations of the
// interfaces that use a subnet of network vnetID: what its subnets'
// deletion is refused over.
func SubnetUsers(nics []*NIC, vnetID string) map[string][]string {
	users := map[string][]string{}
	prefix := armid.Fold(vnetID) + "/subnets/"
	for _, n := range nics {
		for _, c := range n.IPConfigs {
			if k := Key(c.Subnet); strings.HasPrefix(k, prefix) {
				name := k[len(prefix):]
				users[strings.ToLower(name)] = append(users[strings.ToLower(name)], n.IPConfigID(c.Name))
			}
		}
	}
	return users
}

// NSGUsers lists the interfaces linked to group nsgID.
func NSGUsers(nics []*NIC, nsgID string) []string {
	var out []string
	for _, n := range nics {
		if n.Spec.NSG != "" && armid.Equal(n.Spec.NSG, nsgID) {
			out = append(out, n.ID)
		}
	}
	return out
}

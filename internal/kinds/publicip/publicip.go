// Package publicip decides public IP addresses: their SKU and allocation
// rules, the address each is given (from the documentation ranges, drawn
// from the Env so that a seed repeats it), their association with a
// network interface's IP configuration, and what a VM's power changes do
// to a Dynamic address. It is pure: the caller passes the addresses in
// use, the time and the draws, and applies the returned effects.
package publicip

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/network"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of public IP addresses.
const Type = "Microsoft.Network/publicIPAddresses"

// SKUs, tiers, allocation methods and IP versions, as Azure spells them.
const (
	Basic    = "Basic"
	Standard = "Standard"
	Regional = "Regional"
	Global   = "Global"
	Static   = "Static"
	Dynamic  = "Dynamic"
	IPv4     = "IPv4"
	IPv6     = "IPv6"
)

// PublicIP is a public IP address snapshot. It bills from creation to
// deletion whatever the VM it serves does, so it has its own history.
type PublicIP struct {
	network.Base
	Spec Spec `json:"spec"`
	// Address is the assigned address; empty while a Dynamic address is
	// not held (no running resource uses it).
	Address string `json:"ipAddress,omitempty"`
	// IPConfiguration is the ID of the NIC IP configuration it is
	// associated with; empty when unassociated.
	IPConfiguration string `json:"ipConfiguration,omitempty"`
	// VM is the VM whose interface holds it: what it is billed under.
	VM string `json:"vm,omitempty"`
}

// Spec is what azemu keeps of a public IP's model.
type Spec struct {
	Location    string `json:"location"`
	SKU         string `json:"sku"`
	Tier        string `json:"tier"`
	Allocation  string `json:"allocation"`
	Version     string `json:"version"`
	IdleTimeout int    `json:"idleTimeoutInMinutes"`
	// DeleteOption is what happens to it when the VM whose
	// networkInterfaceConfigurations created it is deleted (Delete or
	// Detach); empty for one a client created.
	DeleteOption string          `json:"deleteOption,omitempty"`
	Model        json.RawMessage `json:"model,omitempty"` // tags, zones, dnsSettings, ... as written
}

// Detail is what billing needs of a public IP at a history event.
type Detail struct {
	Location   string `json:"location"`
	SKU        string `json:"publicIpSku"`
	Tier       string `json:"publicIpTier"`
	Allocation string `json:"allocationMethod"`
	Version    string `json:"ipVersion"`
	// Address is the address held then; a Dynamic IP without one holds
	// none.
	Address string `json:"ipAddress,omitempty"`
	// VM is the VM whose interface holds the IP then.
	VM string `json:"vm,omitempty"`
}

// Location is where the IP is.
func (p *PublicIP) Location() string { return p.Spec.Location }

// ResourceType is Type.
func (p *PublicIP) ResourceType() string { return Type }

// Row is the public IP as the store keeps it.
func (p *PublicIP) Row() resource.Row { return p.Base.Row(p, p.Spec.Location) }

// Decode reads a public IP back from its stored row.
var Decode = resource.Decode[PublicIP]

// ID is the ID of the public IP named name in a group.
func ID(sub, rg, name string) string { return armid.NetworkID(sub, rg, "publicIPAddresses", name) }

// Key is the case-insensitive map key of an ID.
func Key(id string) string { return armid.Fold(id) }

// NotFound is the error of a request naming a public IP that does not exist.
func NotFound(rg, name string) error {
	return network.NotFound("publicIPAddresses", rg, name)
}

// Taken is the set of public addresses held, by address: what a new
// address is drawn outside of.
type Taken map[string]bool

// pools are the ranges addresses are drawn from, in order: the
// documentation ranges of RFC 5737 (IPv4) and RFC 3849 (IPv6), which no
// real host holds.
var (
	pools4 = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.0/24")}
	pool6  = netip.MustParsePrefix("2001:db8::/64")
)

// draw picks an address not taken: a random free host of the first IPv4
// pool that has one, or a random host of the IPv6 pool.
func draw(version string, taken Taken, env resource.Env) (string, error) {
	if version == IPv6 {
		for range 64 {
			a := pool6.Addr().As16()
			n := uint64(env.Float64() * (1 << 52))
			for i := 15; i >= 8 && n > 0; i-- {
				a[i] = byte(n)
				n >>= 8
			}
			if s := netip.AddrFrom16(a).String(); !taken[s] && a[15]|a[14] != 0 {
				return s, nil
			}
		}
	} else {
		for _, pool := range pools4 {
			var free []string
			for a := pool.Addr().Next(); pool.Contains(a.Next()); a = a.Next() {
				if s := a.String(); !taken[s] {
					free = append(free, s)
				}
			}
			if len(free) > 0 {
				return free[int(env.Float64()*float64(len(free)))%len(free)], nil
			}
		}
	}
	return "", network.Refusal("PublicIPCountLimitReached", "", "Cannot create more public IP addresses: every address of the emulator's documentation ranges is in use.")
}

// Put decides a client's PUT of a public IP. old is the IP as it is (nil
// when new); running says whether a running VM uses it (a Dynamic
// address is held only then).
func Put(old *PublicIP, sub, rg, name string, spec Spec, running bool, taken Taken, env resource.Env) (*PublicIP, resource.Effects, error) {
	return PutAt(old, network.At(sub, rg, "publicIPAddresses", name), spec, running, taken, env)
}

// PutAt is Put for an IP at any place: a Uniform scale set instance's
// public IPs have IDs under the instance's interface.
func PutAt(old *PublicIP, at resource.Meta, spec Spec, running bool, taken Taken, env resource.Env) (*PublicIP, resource.Effects, error) {
	if err := check(old, spec); err != nil {
		return nil, resource.Effects{}, err
	}
	var p *PublicIP
	kind := "create"
	if old == nil {
		p = &PublicIP{Base: network.FreshAt(at, env)}
	} else {
		cp := *old
		p, kind = &cp, "update"
		if spec.DeleteOption == "" {
			spec.DeleteOption = old.Spec.DeleteOption
		}
	}
	p.Spec = spec
	if err := p.settle(running, taken, env); err != nil {
		return nil, resource.Effects{}, err
	}
	return p, put(old, p, kind, env.Now), nil
}

// check holds Azure's rules for a public IP's model.
func check(old *PublicIP, spec Spec) error {
	if spec.SKU == Standard && spec.Allocation == Dynamic {
		return network.Refusal("StandardSkuPublicIPAddressesCannotHaveDynamicAllocation", "", "Standard sku publicIp addresses cannot have Dynamic allocation method. Please use Static allocation method instead.")
	}
	if spec.SKU == Basic && spec.Tier == Global {
		return network.Refusal("GlobalTierPublicIPRequiresStandardSku", "sku.tier", "A public IP address in the Global tier must use the Standard SKU.")
	}
	if spec.IdleTimeout != 0 && (spec.IdleTimeout < 4 || spec.IdleTimeout > 30) {
		return network.Refusal("PublicIPIdleTimeoutIsOutOfRange", "idleTimeoutInMinutes", fmt.Sprintf(
			"IdleTimeoutInMinutes %d is out of range: it must be between 4 and 30.", spec.IdleTimeout))
	}
	if old == nil {
		return nil
	}
	if err := network.StayPut(old.ResourceMeta(), old.Spec.Location, spec.Location); err != nil {
		return err
	}
	if old.Spec.Version != spec.Version {
		return network.Refusal("PublicIPAddressVersionCannotBeChanged", "publicIPAddressVersion", fmt.Sprintf(
			"The IP version of public IP address %s cannot change from %s to %s.", old.ID, old.Spec.Version, spec.Version))
	}
	if old.Spec.SKU == Standard && spec.SKU == Basic {
		return network.Refusal("PublicIPSkuDowngradeNotAllowed", "sku.name", fmt.Sprintf(
			"Public IP address %s cannot be changed from the Standard SKU to the Basic SKU.", old.ID))
	}
	if old.Spec.SKU == Basic && spec.SKU == Standard && old.IPConfiguration != "" {
		return network.Refusal("PublicIPAddressInUse", "sku.name", fmt.Sprintf(
			"Public IP address %s must be disassociated from %s before its SKU is upgraded.", old.ID, old.IPConfiguration))
	}
	return nil
}

// settle makes the address match the rules: a Static IP always holds one;
// a Dynamic one only while a running resource uses it (Azure releases a
// Dynamic address when its VM is deallocated or the IP is dissociated,
// and gives one again when the VM starts).
func (p *PublicIP) settle(running bool, taken Taken, env resource.Env) error {
	hold := p.Spec.Allocation == Static || (running && p.IPConfiguration != "")
	switch {
	case hold && p.Address == "":
		a, err := draw(p.Spec.Version, taken, env)
		if err != nil {
			return err
		}
		p.Address = a
	case !hold:
		p.Address = ""
	}
	return nil
}

// Delete decides a client's DELETE: an associated IP is refused.
func Delete(p *PublicIP, env resource.Env) (resource.Effects, error) {
	if p.IPConfiguration != "" {
		return resource.Effects{}, network.Refusal("PublicIPAddressCannotBeDeleted", "", fmt.Sprintf(
			"Public IP address %s can not be deleted since it is still allocated to resource %s. In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To learn how to do this, see aka.ms/deletepublicip.",
			p.ID, p.IPConfiguration))
	}
	return Remove(p, "", env), nil
}

// Remove decides the deletion of an IP whatever its state: its group or
// the VM that created it is deleted. opID is the removing operation.
func Remove(p *PublicIP, opID string, env resource.Env) resource.Effects {
	return resource.Effects{Removed: []resource.State{p}, Events: []resource.Event{event(p, "Deleted", opID, "delete", env.Now)}}
}

// Associate decides associating p with a NIC IP configuration; vm is the
// VM using that NIC ("" for none) and running whether it holds a host.
func Associate(p *PublicIP, ipConfig, vm string, running bool, taken Taken, env resource.Env) (*PublicIP, resource.Effects, error) {
	if p.IPConfiguration != "" && !strings.EqualFold(p.IPConfiguration, ipConfig) {
		return nil, resource.Effects{}, network.Refusal("PublicIPAddressInUse", "", fmt.Sprintf(
			"Resource %s is referenced by resource %s and cannot be used by %s: a public IP address is associated with one IP configuration at a time.",
			p.ID, p.IPConfiguration, ipConfig))
	}
	np := *p
	np.IPConfiguration, np.VM = ipConfig, vm
	if err := np.settle(running, taken, env); err != nil {
		return nil, resource.Effects{}, err
	}
	return &np, put(p, &np, "associate", env.Now), nil
}

// Dissociate decides removing p's association: a Dynamic address goes.
func Dissociate(p *PublicIP, env resource.Env) (*PublicIP, resource.Effects) {
	np := *p
	np.IPConfiguration, np.VM = "", ""
	_ = np.settle(false, nil, env) // releasing draws nothing
	return &np, put(p, &np, "dissociate", env.Now)
}

// Power decides what its VM's power does to an associated IP: a Dynamic
// address is released when the VM is deallocated and given again (a new
// one) when it is allocated. vm is the VM whose interface holds the IP
// ("" once the interface is let go), which it is billed under.
func Power(p *PublicIP, vm string, allocated bool, taken Taken, env resource.Env) (*PublicIP, resource.Effects, error) {
	np := *p
	np.VM = vm
	if err := np.settle(allocated, taken, env); err != nil {
		return nil, resource.Effects{}, err
	}
	if np.Address == p.Address && np.VM == p.VM {
		return p, resource.Effects{}, nil
	}
	kind := "release"
	switch {
	case np.Address == p.Address && np.VM != "":
		kind = "attach" // only the VM it serves changed
	case np.Address == p.Address:
		kind = "detach"
	case np.Address != "":
		kind = "assign"
	}
	return &np, put(p, &np, kind, env.Now), nil
}

// put records p's next snapshot, with a history event when what billing
// sees changed (or it is new).
func put(prev, p *PublicIP, kind string, at time.Time) resource.Effects {
	eff := resource.Effects{Put: []resource.State{p}}
	if prev == nil || prev.Spec.SKU != p.Spec.SKU || prev.Spec.Tier != p.Spec.Tier || prev.Spec.Allocation != p.Spec.Allocation ||
		prev.Spec.Version != p.Spec.Version || prev.Address != p.Address || prev.VM != p.VM {
		eff.Events = append(eff.Events, event(p, "Succeeded", "", kind, at))
	}
	return eff
}

func event(p *PublicIP, state, opID, kind string, at time.Time) resource.Event {
	d := Detail{Location: p.Spec.Location, SKU: p.Spec.SKU, Tier: p.Spec.Tier, Allocation: p.Spec.Allocation, Version: p.Spec.Version}
	code := ""
	if state != "Deleted" {
		d.Address, d.VM = p.Address, p.VM
		code = "ProvisioningState/succeeded"
	}
	detail, _ := json.Marshal(d)
	return resource.Event{ResourceID: p.ID, At: at, ProvisioningState: state, ProvisioningCode: code, OperationID: opID, OperationKind: kind, Detail: detail}
}

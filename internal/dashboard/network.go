package dashboard

import (
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
)

// nicLine is one network interface of a VM as the VM panel shows it: its
// IP configurations with their private addresses and the public IPs they
// hold, each public IP with what it has cost and costs now.
type nicLine struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Primary    bool           `json:"primary"`
	MACAddress string         `json:"macAddress,omitempty"`
	NSG        string         `json:"networkSecurityGroup,omitempty"` // its name
	IPConfigs  []ipConfigLine `json:"ipConfigurations"`
}

type ipConfigLine struct {
	Name       string        `json:"name"`
	PrivateIP  string        `json:"privateIPAddress"`
	Allocation string        `json:"privateIPAllocationMethod"`
	Subnet     string        `json:"subnet"` // network/subnet
	PublicIP   *publicIPLine `json:"publicIPAddress,omitempty"`
}

type publicIPLine struct {
	ipLine
	Name    string `json:"name"`
	Address string `json:"ipAddress,omitempty"` // none while a Dynamic IP is released
	SKU     string `json:"sku"`
}

// nics lists the interfaces VM v uses, in its network profile's order,
// with their addresses and their public IPs' costs from the ledger. An
// interface the profile names that does not exist is left out.
func (h *Handler) nics(v *engine.VM, now time.Time) []nicLine {
	ips := map[string]ipLine{}
	for _, l := range h.ledger.publicIPs(armid.Fold(v.ID), now) {
		ips[armid.Fold(l.ID)] = l
	}
	out := []nicLine{}
	for _, ref := range v.Spec.NICs {
		st, ok := h.eng.Resource(engine.NetworkInterfaceType, ref.ID)
		if !ok {
			continue
		}
		n := st.(*engine.NetworkInterface)
		line := nicLine{ID: n.ID, Name: n.Name, Primary: n.Primary, MACAddress: n.MACAddress, IPConfigs: []ipConfigLine{}}
		if n.Spec.NSG != "" {
			line.NSG = lastSegment(n.Spec.NSG)
		}
		for _, c := range n.IPConfigs {
			cl := ipConfigLine{Name: c.Name, PrivateIP: c.Address, Allocation: c.Allocation, Subnet: subnetName(c.Subnet)}
			if c.PublicIP != "" {
				if ps, ok := h.eng.Resource(engine.PublicIPType, c.PublicIP); ok {
					p := ps.(*engine.PublicIP)
					cost, billed := ips[armid.Fold(p.ID)]
					if !billed {
						cost = ipLine{costLine: costLine{ID: p.ID}, Allocation: p.Spec.Allocation}
					}
					cl.PublicIP = &publicIPLine{ipLine: cost, Name: p.Name, Address: p.Address, SKU: p.Spec.SKU}
				}
			}
			line.IPConfigs = append(line.IPConfigs, cl)
		}
		out = append(out, line)
	}
	return out
}

// subnetName is "network/subnet" from a subnet's ID.
func subnetName(id string) string {
	parsed, err := armid.Parse(id)
	if err != nil {
		return id
	}
	parent, ok := parsed.Parent()
	if !ok {
		return parsed.Name()
	}
	return parent.Name() + "/" + parsed.Name()
}

package nic

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/nsg"
	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
	"github.com/azemu/azemu/internal/kinds/vnet"
)

// A network scenario scripts one resource group's networks, security
// groups, public IPs, interfaces and the VMs that use them, deciding
// through the four network modules as the runtime does. Commands:
//
//	vnet NAME PREFIX[,PREFIX] [SUBNET=PREFIX...] [location=L]
//	subnet VNET NAME PREFIX [nsg=G]     a PUT of one subnet
//	delete-subnet VNET NAME
//	delete-vnet NAME
//	nsg NAME [RULE:PRIORITY:DIRECTION:ACCESS:PROTOCOL...] [location=L]
//	delete-nsg NAME
//	ip NAME [sku=S] [alloc=A] [version=V] [delete=Delete]
//	delete-ip NAME
//	nic NAME CONFIG...                  CONFIG is name,VNET/SUBNET[,ip=A][,pip=P][,primary]
//	    [nsg=G] [location=L]
//	delete-nic NAME
//	vm NAME NIC[,primary][,delete]...    the VM (running) now names these interfaces
//	power VM allocated|deallocated
//	vm-delete NAME
//	group-delete
//	advance DURATION
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step { return newWorld().step })
}

const sub, rg = "00000000-0000-0000-0000-000000000001", "rg"

type world struct {
	env     resource.Env
	vnets   map[string]*vnet.VNet
	groups  map[string]*nsg.NSG
	ips     map[string]*publicip.PublicIP
	nics    map[string]*NIC
	vms     map[string][]string // VM name to the interfaces it names
	running map[string]bool
}

func newWorld() *world {
	draw := 0.0
	return &world{env: resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1,
		// A fixed walk through [0, 1), so addresses differ but repeat.
		Float64: func() float64 { draw += 0.37; draw -= float64(int(draw)); return draw }},
		vnets: map[string]*vnet.VNet{}, groups: map[string]*nsg.NSG{}, ips: map[string]*publicip.PublicIP{},
		nics: map[string]*NIC{}, vms: map[string][]string{}, running: map[string]bool{}}
}

func vmID(name string) string { return armid.VirtualMachineID(sub, rg, name) }

func (w *world) allNICs() []*NIC {
	var out []*NIC
	for _, k := range sorted(w.nics) {
		out = append(out, w.nics[k])
	}
	return out
}

func (w *world) taken() publicip.Taken {
	t := publicip.Taken{}
	for _, p := range w.ips {
		if p.Address != "" {
			t[p.Address] = true
		}
	}
	return t
}

// view is what the runtime would pass an interface's decision: every
// subnet, group and public IP, by key.
func (w *world) view(except string, running bool) World {
	v := World{Subnets: map[string]Subnet{}, NSGs: map[string]string{}, PublicIPs: map[string]*publicip.PublicIP{}, Taken: w.taken(), Running: running}
	for _, n := range w.vnets {
		for _, s := range n.Subnets {
			id := n.SubnetID(s.Name)
			v.Subnets[Key(id)] = Subnet{ID: id, Prefix: s.Prefix(), Location: n.Spec.Location, Used: usedIn(w.allNICs(), id, except)}
		}
	}
	for k, g := range w.groups {
		v.NSGs[k] = g.Spec.Location
	}
	for k, p := range w.ips {
		v.PublicIPs[k] = p
	}
	return v
}

func (w *world) nsgUsers(id string) []string {
	users := NSGUsers(w.allNICs(), id)
	for _, n := range w.vnets {
		for _, s := range n.Subnets {
			if s.NSG != "" && armid.Equal(s.NSG, id) {
				users = append(users, n.SubnetID(s.Name))
			}
		}
	}
	return users
}

// vnetWorld is what network id's decisions read.
func (w *world) vnetWorld(id string) vnet.World {
	groups := map[string]string{}
	for k, g := range w.groups {
		groups[k] = g.Spec.Location
	}
	return vnet.World{Users: SubnetUsers(w.allNICs(), id), Groups: groups}
}

func (w *world) step(f []string, out *strings.Builder) error {
	args := scenariotest.Args(f[1:])
	var eff resource.Effects
	var err error
	switch f[0] {
	case "vnet":
		spec := vnet.Spec{Location: or(args["location"], "eastus"), AddressPrefixes: strings.Split(f[2], ",")}
		var subnets []vnet.Subnet
		for _, a := range f[3:] {
			if name, prefix, ok := strings.Cut(a, "="); ok && name != "location" {
				subnets = append(subnets, vnet.Subnet{Name: name, AddressPrefix: prefix})
			}
		}
		id := vnet.ID(sub, rg, f[1])
		_, eff, err = vnet.Put(w.vnets[Key(id)], sub, rg, f[1], spec, subnets, w.vnetWorld(id), w.env)
	case "subnet", "delete-subnet":
		v := w.vnets[Key(vnet.ID(sub, rg, f[1]))]
		if v == nil {
			return fmt.Errorf("no vnet %s", f[1])
		}
		users := w.vnetWorld(v.ID)
		if f[0] == "subnet" {
			s := vnet.Subnet{Name: f[2], AddressPrefix: f[3]}
			if g := args["nsg"]; g != "" {
				s.NSG = nsg.ID(sub, rg, g)
			}
			_, eff, err = vnet.PutSubnet(v, s, users, w.env)
		} else {
			_, eff, err = vnet.DeleteSubnet(v, f[2], users, w.env)
		}
	case "delete-vnet":
		v := w.vnets[Key(vnet.ID(sub, rg, f[1]))]
		eff, err = vnet.Delete(v, SubnetUsers(w.allNICs(), v.ID), w.env)
	case "nsg":
		var rules []nsg.Rule
		for _, a := range f[2:] {
			if strings.Contains(a, "=") {
				continue
			}
			p := strings.Split(a, ":")
			var prio int
			fmt.Sscan(p[1], &prio)
			rules = append(rules, nsg.Rule{Name: p[0], Priority: prio, Direction: p[2], Access: p[3], Protocol: p[4]})
		}
		id := nsg.ID(sub, rg, f[1])
		_, eff, err = nsg.Put(w.groups[Key(id)], sub, rg, f[1], nsg.Spec{Location: or(args["location"], "eastus")}, rules, w.env)
	case "delete-nsg":
		g := w.groups[Key(nsg.ID(sub, rg, f[1]))]
		eff, err = nsg.Delete(g, w.nsgUsers(g.ID), w.env)
	case "ip":
		spec := publicip.Spec{Location: "eastus", SKU: or(args["sku"], publicip.Standard), Tier: publicip.Regional,
			Allocation: or(args["alloc"], publicip.Static), Version: or(args["version"], publicip.IPv4), DeleteOption: args["delete"]}
		old := w.ips[Key(publicip.ID(sub, rg, f[1]))]
		running := false
		if old != nil && old.IPConfiguration != "" {
			running = w.runningNIC(old.IPConfiguration)
		}
		_, eff, err = publicip.Put(old, sub, rg, f[1], spec, running, w.taken(), w.env)
	case "delete-ip":
		eff, err = publicip.Delete(w.ips[Key(publicip.ID(sub, rg, f[1]))], w.env)
	case "nic":
		spec := Spec{Location: or(args["location"], "eastus")}
		if g := args["nsg"]; g != "" {
			spec.NSG = nsg.ID(sub, rg, g)
		}
		for _, a := range f[2:] {
			if strings.Contains(a, "=") && !strings.Contains(a, ",") {
				continue
			}
			spec.IPConfigs = append(spec.IPConfigs, parseConfig(a))
		}
		id := ID(sub, rg, f[1])
		old := w.nics[Key(id)]
		running := old != nil && old.VirtualMachine != "" && w.running[Key(old.VirtualMachine)]
		_, eff, err = Put(old, sub, rg, f[1], spec, w.view(id, running), w.env)
	case "delete-nic":
		n := w.nics[Key(ID(sub, rg, f[1]))]
		eff, err = Delete(n, w.view(n.ID, false), w.env)
	case "vm":
		eff, err = w.link(f[1], f[2:])
	case "power":
		allocated := f[2] == "allocated"
		w.running[Key(vmID(f[1]))] = allocated
		for _, name := range w.vms[f[1]] {
			n := w.nics[Key(ID(sub, rg, name))]
			if n == nil {
				continue
			}
			var e resource.Effects
			if e, err = Power(n, allocated, w.view(n.ID, allocated), w.env); err != nil {
				break
			}
			eff.Add(e)
		}
	case "vm-delete":
		op := w.env.NewID()
		view := w.view("", false)
		for _, name := range w.vms[f[1]] {
			n := w.nics[Key(ID(sub, rg, name))]
			if n == nil {
				continue
			}
			if n.DeleteOption == "Delete" {
				eff.Add(Remove(n, op, view, w.env))
				continue
			}
			_, e := Unlink(n, view, w.env)
			eff.Add(e)
		}
		delete(w.vms, f[1])
	case "group-delete":
		// In dependency order: interfaces, then IPs, groups and networks.
		op := w.env.NewID()
		view := w.view("", false)
		for _, n := range w.allNICs() {
			eff.Add(Remove(n, op, view, w.env))
		}
		for _, k := range sorted(w.ips) {
			eff.Add(publicip.Remove(w.ips[k], op, w.env))
		}
		for _, k := range sorted(w.groups) {
			eff.Add(nsg.Remove(w.groups[k], op, w.env))
		}
		for _, k := range sorted(w.vnets) {
			eff.Add(vnet.Remove(w.vnets[k], op, w.env))
		}
	case "advance":
		d, err := time.ParseDuration(f[1])
		if err != nil {
			return err
		}
		w.env.Now = w.env.Now.Add(d)
		return nil
	default:
		return fmt.Errorf("unknown command %q", f[0])
	}
	if err != nil {
		return scenariotest.WriteError(out, err)
	}
	scenariotest.WriteEffects(out, eff)
	w.apply(eff)
	w.write(out)
	return nil
}

// link decides a VM naming interfaces: each named one is linked, each it
// named before and no longer does is let go.
func (w *world) link(vm string, refs []string) (resource.Effects, error) {
	var eff resource.Effects
	running := true
	w.running[Key(vmID(vm))] = running
	var names []string
	for _, r := range refs {
		parts := strings.Split(r, ",")
		n := w.nics[Key(ID(sub, rg, parts[0]))]
		if n == nil {
			names = append(names, parts[0]) // today's behaviour: a VM may name a missing interface
			continue
		}
		u := Use{VM: vmID(vm)}
		for _, p := range parts[1:] {
			u.Primary = u.Primary || p == "primary"
			if p == "delete" {
				u.DeleteOption = "Delete"
			}
		}
		_, e, err := Link(n, u, w.view(n.ID, running), w.env)
		if err != nil {
			return resource.Effects{}, err
		}
		eff.Add(e)
		names = append(names, parts[0])
	}
	for _, prev := range w.vms[vm] {
		if n := w.nics[Key(ID(sub, rg, prev))]; n != nil && !contains(names, prev) {
			_, e := Unlink(n, w.view("", false), w.env)
			eff.Add(e)
		}
	}
	w.vms[vm] = names
	return eff, nil
}

func (w *world) runningNIC(ipConfig string) bool {
	for _, n := range w.nics {
		if strings.HasPrefix(Key(ipConfig), Key(n.ID)+"/") && n.VirtualMachine != "" {
			return w.running[Key(n.VirtualMachine)]
		}
	}
	return false
}

func (w *world) apply(eff resource.Effects) {
	for _, s := range eff.Put {
		k := Key(s.ResourceID())
		switch v := s.(type) {
		case *vnet.VNet:
			w.vnets[k] = v
		case *nsg.NSG:
			w.groups[k] = v
		case *publicip.PublicIP:
			w.ips[k] = v
		case *NIC:
			w.nics[k] = v
		}
	}
	for _, s := range eff.Removed {
		k := Key(s.ResourceID())
		delete(w.vnets, k)
		delete(w.groups, k)
		delete(w.ips, k)
		delete(w.nics, k)
	}
}

// write prints every resource as it now is, one line each.
func (w *world) write(out *strings.Builder) {
	for _, k := range sorted(w.vnets) {
		v := w.vnets[k]
		fmt.Fprintf(out, "  = %s %s subnets %s\n", scenariotest.Short(v.ID), strings.Join(v.Spec.AddressPrefixes, ","), strings.Join(v.SubnetNames(), " "))
	}
	for _, k := range sorted(w.groups) {
		g := w.groups[k]
		var rules []string
		for _, r := range g.Rules {
			rules = append(rules, fmt.Sprintf("%s:%d:%s", r.Name, r.Priority, r.Direction))
		}
		fmt.Fprintf(out, "  = %s rules %s\n", scenariotest.Short(g.ID), strings.Join(rules, " "))
	}
	for _, k := range sorted(w.ips) {
		p := w.ips[k]
		fmt.Fprintf(out, "  = %s %s %s %s address %q", scenariotest.Short(p.ID), p.Spec.SKU, p.Spec.Allocation, p.Spec.Version, p.Address)
		if p.IPConfiguration != "" {
			fmt.Fprintf(out, " on %s", scenariotest.Short(p.IPConfiguration))
		}
		out.WriteString("\n")
	}
	for _, k := range sorted(w.nics) {
		n := w.nics[k]
		fmt.Fprintf(out, "  = %s", scenariotest.Short(n.ID))
		for _, c := range n.IPConfigs {
			fmt.Fprintf(out, " [%s %s %s", c.Name, c.Address, c.Allocation)
			if c.Primary {
				out.WriteString(" primary")
			}
			if c.PublicIP != "" {
				fmt.Fprintf(out, " pip %s", scenariotest.Short(c.PublicIP))
			}
			out.WriteString("]")
		}
		if n.Spec.NSG != "" {
			fmt.Fprintf(out, " nsg %s", scenariotest.Short(n.Spec.NSG))
		}
		if n.VirtualMachine != "" {
			fmt.Fprintf(out, " vm %s primary=%v deleteOption %s mac %s", scenariotest.Short(n.VirtualMachine), n.Primary, n.DeleteOption, n.MACAddress)
		}
		out.WriteString("\n")
	}
}

func parseConfig(spec string) IPConfigSpec {
	parts := strings.Split(spec, ",")
	vn, subnet, _ := strings.Cut(parts[1], "/")
	c := IPConfigSpec{Name: parts[0], Subnet: armid.ChildID(vnet.ID(sub, rg, vn), "subnets", subnet), Allocation: Dynamic, Version: "IPv4"}
	for _, p := range parts[2:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "ip":
			c.PrivateIP, c.Allocation = v, Static
		case "pip":
			c.PublicIP = publicip.ID(sub, rg, v)
		case "primary":
			c.Primary = true
		}
	}
	return c
}

func sorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// usedAddresses are Holders listed: address to configuration ID.
type usedAddresses map[string]string

func (u usedAddresses) Holder(addr string) (string, bool) {
	id, ok := u[addr]
	return id, ok
}

// FreeFrom skips every held address from first: the furthest answer the
// contract allows, so that a scenario fails if allocate trusts it wrongly.
func (u usedAddresses) FreeFrom(first netip.Addr) netip.Addr {
	for a := first; a.IsValid(); a = a.Next() {
		if _, ok := u[a.String()]; !ok {
			return a
		}
	}
	return first
}

// usedIn lists the private addresses the interfaces hold in subnet
// subnetID, to the configuration holding each, leaving out interface
// except (the one being decided).
func usedIn(nics []*NIC, subnetID, except string) usedAddresses {
	used := usedAddresses{}
	for _, n := range nics {
		if armid.Equal(n.ID, except) {
			continue
		}
		for _, c := range n.IPConfigs {
			if armid.Equal(c.Subnet, subnetID) && c.Address != "" {
				used[c.Address] = n.IPConfigID(c.Name)
			}
		}
	}
	return used
}

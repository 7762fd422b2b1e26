package engine

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/loadbalancer"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/nsg"
	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/vm"
	"github.com/azemu/azemu/internal/kinds/vnet"
)

// The network kinds' snapshots, their specs and parts, under the names
// the ARM layer knows them by (each package under internal/kinds decides
// its kind's rules); Snapshot is any kind's, and publicIPDetail what a
// public IP's history event carries for billing.
type Snapshot = resource.State
type VirtualNetwork = vnet.VNet
type VirtualNetworkSpec = vnet.Spec
type Subnet = vnet.Subnet
type SecurityGroup = nsg.NSG
type SecurityGroupSpec = nsg.Spec
type SecurityRule = nsg.Rule
type NetworkInterface = nic.NIC
type NetworkInterfaceSpec = nic.Spec
type IPConfigSpec = nic.IPConfigSpec
type IPConfig = nic.IPConfig
type PublicIP = publicip.PublicIP
type PublicIPSpec = publicip.Spec
type publicIPDetail = publicip.Detail
type LoadBalancer = loadbalancer.LB
type LoadBalancerSpec = loadbalancer.Spec
type LoadBalancerFrontend = loadbalancer.Frontend
type LoadBalancerPart = loadbalancer.Part

// DefaultSecurityRules are the rules every security group has below its own.
var DefaultSecurityRules = nsg.DefaultRules

// The network kinds' ARM types.
const VirtualNetworkType = vnet.Type
const SubnetType = vnet.SubnetType
const SecurityGroupType = nsg.Type
const SecurityRuleType = nsg.RuleType
const NetworkInterfaceType = nic.Type
const PublicIPType = publicip.Type
const LoadBalancerType = loadbalancer.Type

// LoadBalancerParts are a balancer's child collections besides its
// frontends.
var LoadBalancerParts = loadbalancer.Parts

// VirtualNetworkPut is what a PUT of a network asks for; Subnets nil keeps
// the network's subnets (a body without properties.subnets).
type VirtualNetworkPut struct {
	Spec    VirtualNetworkSpec
	Subnets []Subnet
}

// SecurityGroupPut is what a PUT of a security group asks for; Rules nil
// keeps the group's rules.
type SecurityGroupPut struct {
	Spec  SecurityGroupSpec
	Rules []SecurityRule
}

// Resource returns the snapshot of a resource of a kind in the resources
// table, by type and ID.
func (e *Engine) Resource(typ, id string) (resource.State, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.res[typ][armid.Key(id)]
	return s, ok
}

// Resources pages the resources of a type that match, in key order:
// after is the key the page starts after ("" for the first), next the key
// of the following page ("" on the last).
func (e *Engine) Resources(typ string, match func(resource.State) bool, after string, limit int) (page []resource.State, next string) {
	after = armid.Fold(after) // a token of a build whose keys were lower case
	e.mu.RLock()
	defer e.mu.RUnlock()
	var found []resource.State
	for k, s := range e.res[typ] {
		if k > after && (match == nil || match(s)) {
			found = append(found, s)
		}
	}
	found = sortedByID(found)
	if limit <= 0 || len(found) <= limit {
		return found, ""
	}
	return found[:limit], armid.Fold(found[limit-1].ResourceID())
}

// sortedByID is states in the order of their folded IDs, each folded once
// rather than at every comparison.
func sortedByID[S resource.State](states []S) []S {
	folded := make([]string, len(states))
	order := make([]int, len(states))
	for i, s := range states {
		folded[i], order[i] = armid.Fold(s.ResourceID()), i
	}
	sort.Slice(order, func(i, j int) bool { return folded[order[i]] < folded[order[j]] })
	out := make([]S, len(states))
	for i, at := range order {
		out[i] = states[at]
	}
	return out
}

// NICsIn lists the interfaces holding an address in subnet subnetID, in
// the order Resources lists them: from the engine's index of the
// subnet's addresses, not the fleet's interfaces.
func (e *Engine) NICsIn(subnetID string) []*NetworkInterface {
	e.mu.RLock()
	defer e.mu.RUnlock()
	held := e.addrsBySubnet[armid.Key(subnetID)]
	if held == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []*NetworkInterface
	for _, k := range held.byAddr {
		if seen[k] {
			continue
		}
		seen[k] = true
		if n, ok := e.res[NetworkInterfaceType][k].(*NetworkInterface); ok {
			out = append(out, n)
		}
	}
	return sortedByID(out)
}

// NICsBehind lists the interfaces that name security group nsgID, in the
// order Resources lists them, from the engine's index of them.
func (e *Engine) NICsBehind(nsgID string) []*NetworkInterface {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*NetworkInterface
	for k := range e.nicsByNSG[armid.Key(nsgID)] {
		if n, ok := e.res[NetworkInterfaceType][k].(*NetworkInterface); ok {
			out = append(out, n)
		}
	}
	return sortedByID(out)
}

// Child is a subnet or a security rule as a command's target: a view of
// its parent's snapshot (the parent keeps it), with the parent's version.
type Child struct {
	resource.Meta
	Type   string
	Parent resource.State
}

// ResourceType is the child's ARM type.
func (c *Child) ResourceType() string { return c.Type }

// Row is its parent's: a child has no row of its own.
func (c *Child) Row() resource.Row { return c.Parent.Row() }

// loadChild finds a subnet or a security rule in its parent as this change
// sees it; nil when either is missing.
func (t *tx) loadChild(id string) resource.State {
	parsed, err := armid.Parse(id)
	if err != nil {
		return nil
	}
	p, _ := parsed.Parent()
	name := parsed.Name()
	child := func(parent resource.State, childName string) resource.State {
		m := *parent.ResourceMeta()
		m.ID, m.Name = armid.ChildID(m.ID, parsed.Types[len(parsed.Types)-1], childName), childName
		return &Child{Meta: m, Type: parsed.Type(), Parent: parent}
	}
	switch parent := t.get(p).(type) {
	case *VirtualNetwork:
		if s, ok := parent.Subnet(name); ok {
			return child(parent, s.Name)
		}
	case *SecurityGroup:
		if r, ok := parent.Rule(name); ok {
			return child(parent, r.Name)
		}
	case *LoadBalancer:
		if p, ok := parent.Part(parsed.Types[len(parsed.Types)-1], name); ok {
			return child(parent, p.Name)
		}
	}
	return nil
}

// parentOf is the snapshot that keeps a child command's target.
func (t *tx) parentOf(target resource.State, c resource.Command) resource.State {
	if ch, ok := target.(*Child); ok {
		return ch.Parent
	}
	parsed, _ := armid.Parse(c.Target)
	p, _ := parsed.Parent()
	return t.get(p)
}

// withOp gives a network change the operation its Azure-AsyncOperation
// names: Network's changes are done when answered, so it has ended.
func withOp(eff resource.Effects, err error, kind, target, location string, env resource.Env) (string, resource.Effects, error) {
	if err != nil {
		return "", resource.Effects{}, err
	}
	id := env.NewOperationID()
	eff.Started = append(eff.Started, resource.Operation{ID: id, Kind: kind, TargetID: target, Location: location})
	eff.Ended = append(eff.Ended, resource.OperationEnd{ID: id, Status: resource.StatusSucceeded, At: env.Now})
	return id, eff, nil
}

// The operation kinds of the network changes.
const (
	opPut    = "createOrUpdate"
	opDelete = "delete"
)

// topVerbs are the decisions of a top-level network kind S whose put takes
// In: each change runs as an operation that has ended (withOp); a group's
// deletion removes the resource whatever it is.
type topVerbs[S interface {
	resource.State
	Location() string
}, In any] struct {
	put    func(t *tx, old S, sub, rg, name string, in In, env resource.Env) (resource.Effects, string, error)
	del    func(t *tx, s S, env resource.Env) (resource.Effects, error)
	remove func(s S, opID string, env resource.Env) resource.Effects
}

func (k topVerbs[S, In]) verbs() map[string]decision {
	return map[string]decision{
		VerbPut: taking(func(t *tx, target resource.State, c resource.Command, in In, env resource.Env) (string, resource.Effects, error) {
			old, _ := target.(S)
			at := t.placeOf(c.Target)
			sub, rg, name := at.sub, at.rg, at.name
			eff, location, err := k.put(t, old, sub, rg, name, in, env)
			return withOp(eff, err, opPut, c.Target, location, env)
		}),
		VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			s := target.(S)
			eff, err := k.del(t, s, env)
			return withOp(eff, err, opDelete, c.Target, s.Location(), env)
		},
		group.VerbRemove: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			return "", k.remove(target.(S), c.OperationID, env), nil
		},
	}
}

// childVerbs are the decisions of a child kind (a subnet, a rule) kept in
// its parent P, whose put takes In: its module's put and delete of one
// child of the parent.
func childVerbs[P interface {
	resource.State
	Location() string
}, In any](put func(t *tx, parent P, in In, env resource.Env) (P, resource.Effects, error),
	del func(t *tx, parent P, name string, env resource.Env) (P, resource.Effects, error)) map[string]decision {
	return map[string]decision{
		VerbPut: taking(func(t *tx, target resource.State, c resource.Command, in In, env resource.Env) (string, resource.Effects, error) {
			parent := t.parentOf(target, c).(P)
			_, eff, err := put(t, parent, in, env)
			return withOp(eff, err, opPut, c.Target, parent.Location(), env)
		}),
		VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			parent := t.parentOf(target, c).(P)
			_, eff, err := del(t, parent, target.ResourceMeta().Name, env)
			return withOp(eff, err, opDelete, c.Target, parent.Location(), env)
		},
	}
}

// kept is the children a PUT asks for, or, when its body has no list of
// them (nil), those old has.
func kept[S any, C any](asked []C, old *S, of func(*S) []C) []C {
	if asked == nil && old != nil {
		return of(old)
	}
	return asked
}

func vnetVerbs() map[string]decision {
	return topVerbs[*VirtualNetwork, VirtualNetworkPut]{
		put: func(t *tx, old *VirtualNetwork, sub, rg, name string, p VirtualNetworkPut, env resource.Env) (resource.Effects, string, error) {
			subnets := kept(p.Subnets, old, func(v *VirtualNetwork) []Subnet { return v.Subnets })
			_, eff, err := vnet.Put(old, sub, rg, name, p.Spec, subnets, t.vnetWorld(vnet.ID(sub, rg, name), subnets), env)
			return eff, p.Spec.Location, err
		},
		del: func(t *tx, v *VirtualNetwork, env resource.Env) (resource.Effects, error) {
			return vnet.Delete(v, t.subnetUsers(v.ID), env)
		},
		remove: vnet.Remove,
	}.verbs()
}

func subnetVerbs() map[string]decision {
	put := func(t *tx, v *VirtualNetwork, s Subnet, env resource.Env) (*VirtualNetwork, resource.Effects, error) {
		return vnet.PutSubnet(v, s, t.vnetWorld(v.ID, append(append([]Subnet(nil), v.Subnets...), s)), env)
	}
	return childVerbs(put, func(t *tx, v *VirtualNetwork, name string, env resource.Env) (*VirtualNetwork, resource.Effects, error) {
		return vnet.DeleteSubnet(v, name, t.vnetWorld(v.ID, v.Subnets), env)
	})
}

// vnetWorld is what a network's decisions read: who uses its subnets, and
// the security groups subnets name.
func (t *tx) vnetWorld(id string, subnets []Subnet) vnet.World {
	w := vnet.World{Users: t.subnetUsers(id), Groups: map[string]string{}}
	for _, g := range vnet.Named(subnets) {
		if s, ok := t.resource(SecurityGroupType, armid.Key(g)).(*SecurityGroup); ok && s != nil {
			w.Groups[armid.Fold(g)] = s.Spec.Location
		}
	}
	return w
}

func nsgVerbs() map[string]decision {
	return topVerbs[*SecurityGroup, SecurityGroupPut]{
		put: func(t *tx, old *SecurityGroup, sub, rg, name string, p SecurityGroupPut, env resource.Env) (resource.Effects, string, error) {
			_, eff, err := nsg.Put(old, sub, rg, name, p.Spec, kept(p.Rules, old, func(g *SecurityGroup) []SecurityRule { return g.Rules }), env)
			return eff, p.Spec.Location, err
		},
		remove: nsg.Remove,
		del: func(t *tx, g *SecurityGroup, env resource.Env) (resource.Effects, error) {
			return nsg.Delete(g, t.securityGroupUsers(g.ID), env)
		},
	}.verbs()
}

func ruleVerbs() map[string]decision {
	drop := func(_ *tx, g *SecurityGroup, name string, env resource.Env) (*SecurityGroup, resource.Effects, error) {
		return nsg.DeleteRule(g, name, env)
	}
	return childVerbs(func(_ *tx, g *SecurityGroup, r SecurityRule, env resource.Env) (*SecurityGroup, resource.Effects, error) {
		return nsg.PutRule(g, r, env)
	}, drop)
}

func nicVerbs() map[string]decision {
	verbs := topVerbs[*NetworkInterface, NetworkInterfaceSpec]{
		put: func(t *tx, old *NetworkInterface, sub, rg, name string, spec NetworkInterfaceSpec, env resource.Env) (resource.Effects, string, error) {
			_, eff, err := nic.Put(old, sub, rg, name, spec, t.nicWorld(old, spec), env)
			return eff, spec.Location, err
		},
		del: func(t *tx, n *NetworkInterface, env resource.Env) (resource.Effects, error) {
			return nic.Delete(n, t.nicWorld(n, n.Spec), env)
		},
		// With its group, its public IPs go on their own.
		remove: func(n *NetworkInterface, opID string, env resource.Env) resource.Effects {
			return nic.Remove(n, opID, nic.World{}, env)
		},
	}.verbs()
	// What a VM asks of the interfaces it uses (internal/kinds/vm).
	verbs[vm.VerbCreateNIC] = taking(func(t *tx, _ resource.State, c resource.Command, spec NetworkInterfaceSpec, env resource.Env) (string, resource.Effects, error) {
		at, err := placeAt(c.Target)
		if err != nil {
			return "", resource.Effects{}, err
		}
		_, eff, err := nic.PutAt(nil, at, spec, t.nicWorld(nil, spec), env)
		return "", eff, err
	})
	verbs[vm.VerbLinkNIC] = taking(func(t *tx, target resource.State, c resource.Command, args vm.LinkArgs, env resource.Env) (string, resource.Effects, error) {
		n := target.(*NetworkInterface)
		w := t.nicWorld(n, n.Spec)
		w.Running = args.Running
		_, eff, err := nic.Link(n, args.Use, w, env)
		return "", eff, err
	})
	verbs[vm.VerbUnlinkNIC] = func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
		n := target.(*NetworkInterface)
		_, eff := nic.Unlink(n, t.nicWorld(n, n.Spec), env)
		return "", eff, nil
	}
	verbs[vm.VerbReleaseNIC] = func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
		n := target.(*NetworkInterface)
		w := t.nicWorld(n, n.Spec)
		if n.DeleteOption == "Delete" {
			return "", nic.Remove(n, c.OperationID, w, env), nil
		}
		_, eff := nic.Unlink(n, w, env)
		return "", eff, nil
	}
	verbs[vm.VerbPowerNIC] = taking(func(t *tx, target resource.State, c resource.Command, args vm.PowerArgs, env resource.Env) (string, resource.Effects, error) {
		n := target.(*NetworkInterface)
		eff, err := nic.Power(n, args.Allocated, t.nicWorld(n, n.Spec), env)
		if err != nil {
			// The documentation ranges are spent: the VM runs without a
			// public address rather than failing its plan.
			t.e.log.Warn("no public address for a starting VM", "vm", args.VM, "err", err)
			return "", resource.Effects{}, nil
		}
		return "", eff, nil
	})
	return verbs
}

func publicIPVerbs() map[string]decision {
	verbs := topVerbs[*PublicIP, PublicIPSpec]{
		put: func(t *tx, old *PublicIP, sub, rg, name string, spec PublicIPSpec, env resource.Env) (resource.Effects, string, error) {
			running := old != nil && t.ipRunning(old)
			_, eff, err := publicip.Put(old, sub, rg, name, spec, running, t.publicTaken(), env)
			return eff, spec.Location, err
		},
		del:    func(_ *tx, p *PublicIP, env resource.Env) (resource.Effects, error) { return publicip.Delete(p, env) },
		remove: publicip.Remove,
	}.verbs()
	// A VM's configuration creates the public IPs it names.
	verbs[vm.VerbCreatePublicIP] = taking(func(t *tx, _ resource.State, c resource.Command, spec PublicIPSpec, env resource.Env) (string, resource.Effects, error) {
		at, err := placeAt(c.Target)
		if err != nil {
			return "", resource.Effects{}, err
		}
		_, eff, err := publicip.PutAt(nil, at, spec, false, t.publicTaken(), env)
		return "", eff, err
	})
	return verbs
}

func loadBalancerVerbs() map[string]decision {
	return topVerbs[*LoadBalancer, LoadBalancerSpec]{
		put: func(t *tx, old *LoadBalancer, sub, rg, name string, spec LoadBalancerSpec, env resource.Env) (resource.Effects, string, error) {
			_, eff, err := loadbalancer.Put(old, sub, rg, name, spec, t.balancerWorld(old, spec), env)
			return eff, spec.Location, err
		},
		del: func(t *tx, b *LoadBalancer, env resource.Env) (resource.Effects, error) {
			return loadbalancer.Delete(b, t.balancerWorld(b, b.Spec), env), nil
		},
		remove: loadbalancer.Remove,
	}.verbs()
}

// balancerPartVerbs are the decisions of one child collection of a
// balancer (its NAT rules, its pools), kept in the balancer.
func balancerPartVerbs(part string) map[string]decision {
	return childVerbs(func(_ *tx, b *LoadBalancer, p LoadBalancerPart, _ resource.Env) (*LoadBalancer, resource.Effects, error) {
		return loadbalancer.PutPart(b, part, p)
	}, func(_ *tx, b *LoadBalancer, name string, _ resource.Env) (*LoadBalancer, resource.Effects, error) {
		return loadbalancer.DeletePart(b, part, name)
	})
}

// balancerWorld is what a balancer's decisions read: the public IPs and
// subnets spec (and the balancer as it is, old) names.
func (t *tx) balancerWorld(old *LoadBalancer, spec LoadBalancerSpec) loadbalancer.World {
	w := loadbalancer.World{PublicIPs: map[string]*PublicIP{}, Subnets: map[string]string{}, Taken: t.publicTaken()}
	ips, subnets := loadbalancer.Named(spec)
	if old != nil {
		oldIPs, _ := loadbalancer.Named(old.Spec)
		ips = append(ips, oldIPs...)
	}
	for _, id := range ips {
		if p, ok := t.resource(PublicIPType, armid.Key(id)).(*PublicIP); ok && p != nil {
			w.PublicIPs[loadbalancer.Key(id)] = p
		}
	}
	for _, id := range subnets {
		if s, ok := t.loadChild(id).(*Child); ok && s.Type == SubnetType {
			w.Subnets[loadbalancer.Key(id)] = s.Parent.(*VirtualNetwork).Spec.Location
		}
	}
	return w
}

// allOf lists every resource of a type as this change sees it, by ID.
func (t *tx) allOf(typ string) []resource.State {
	seen := map[string]bool{}
	var out []resource.State
	add := func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		if s := t.resource(typ, k); s != nil {
			out = append(out, s)
		}
	}
	t.eachKey(typ, add)
	return sortedByID(out)
}

// subnetHolders answers which configuration holds an address of a
// subnet as change t sees it, leaving out interface except (the one being
// decided): from the interfaces t and the changes under it touched, read
// once, then from the engine's index of what is committed.
type subnetHolders struct {
	t          *tx
	subnet, id string // the subnet's key and ID
	except     string
	touched    map[string]bool   // nil until the first question
	mine       map[string]string // addresses the touched interfaces hold
}

func (h *subnetHolders) Holder(addr string) (string, bool) {
	h.readTouched()
	if id, ok := h.mine[addr]; ok {
		return id, true
	}
	var k string
	var ok bool
	if held := h.t.e.addrsBySubnet[h.subnet]; held != nil {
		k, ok = held.byAddr[addr]
	}
	if !ok || h.touched[k] {
		return "", false
	}
	n, _ := h.t.e.res[NetworkInterfaceType][k].(*NetworkInterface)
	var configID string
	if n != nil {
		h.add(n, func(a, id string) {
			if a == addr {
				configID = id
			}
		})
	}
	return configID, configID != ""
}

// FreeFrom starts a search for a free address past the run of held
// addresses the index keeps (subnetAddrs), but not past an address the
// committed interfaces this change touched, or the one left out, may have
// let go.
func (h *subnetHolders) FreeFrom(first netip.Addr) netip.Addr {
	h.readTouched()
	from := h.t.e.addrsBySubnet[h.subnet].freeFrom(first)
	if from == first {
		return first
	}
	lower := func(n *NetworkInterface) {
		for _, c := range n.IPConfigs {
			if c.Address == "" || !armid.Equal(c.Subnet, h.id) {
				continue
			}
			if a, err := netip.ParseAddr(c.Address); err == nil && !a.Less(first) && a.Less(from) {
				from = a
			}
		}
	}
	committed := h.t.e.res[NetworkInterfaceType]
	for k := range h.touched {
		if n, ok := committed[k].(*NetworkInterface); ok {
			lower(n)
		}
	}
	if h.except != "" {
		if n, ok := committed[armid.Key(h.except)].(*NetworkInterface); ok {
			lower(n)
		}
	}
	return from
}

// readTouched reads, once, the addresses the interfaces that t and the
// changes under it touched hold.
func (h *subnetHolders) readTouched() {
	if h.touched != nil {
		return
	}
	h.touched, h.mine = map[string]bool{}, map[string]string{}
	for x := h.t; x != nil; x = x.under {
		for k := range x.touched[NetworkInterfaceType] {
			if h.touched[k] {
				continue
			}
			h.touched[k] = true
			if n, ok := h.t.resource(NetworkInterfaceType, k).(*NetworkInterface); ok && n != nil {
				h.add(n, func(a, configID string) { h.mine[a] = configID })
			}
		}
	}
}

// add calls fn with each address n holds in the subnet, unless n is the
// interface left out.
func (h *subnetHolders) add(n *NetworkInterface, fn func(addr, configID string)) {
	if h.except != "" && armid.Equal(n.ID, h.except) {
		return
	}
	for _, c := range n.IPConfigs {
		if c.Address != "" && armid.Equal(c.Subnet, h.id) {
			fn(c.Address, n.IPConfigID(c.Name))
		}
	}
}

// nicsIn lists the interfaces this change sees that may use subnet
// subnetID, in the order of their keys.
func (t *tx) nicsIn(subnetID string) []*NetworkInterface {
	var keys []string
	t.eachNICIn(armid.Key(subnetID), func(k string) { keys = append(keys, k) })
	slices.Sort(keys)
	var out []*NetworkInterface
	for _, k := range keys {
		if n, ok := t.resource(NetworkInterfaceType, k).(*NetworkInterface); ok && n != nil {
			out = append(out, n)
		}
	}
	return out
}

// subnetUsers lists the users of network vnetID's subnets (none when it
// does not exist yet): the interfaces holding an address in one.
func (t *tx) subnetUsers(vnetID string) vnet.Users {
	v, _ := t.resource(VirtualNetworkType, armid.Key(vnetID)).(*VirtualNetwork)
	if v == nil {
		return nic.SubnetUsers(nil, vnetID)
	}
	var users []*NetworkInterface
	seen := map[string]bool{}
	for _, s := range v.Subnets {
		for _, n := range t.nicsIn(v.SubnetID(s.Name)) {
			if k := armid.Key(n.ID); !seen[k] {
				seen[k] = true
				users = append(users, n)
			}
		}
	}
	return nic.SubnetUsers(users, vnetID)
}

// securityGroupUsers lists the interfaces and subnets linked to a group.
func (t *tx) securityGroupUsers(id string) []string {
	var nics []*NetworkInterface
	seen := map[string]bool{}
	t.eachNICBehind(armid.Key(id), func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		if n, ok := t.resource(NetworkInterfaceType, k).(*NetworkInterface); ok && n != nil {
			nics = append(nics, n)
		}
	})
	users := nic.NSGUsers(sortedByID(nics), id)
	for _, s := range t.allOf(VirtualNetworkType) {
		v := s.(*VirtualNetwork)
		for _, sn := range v.Subnets {
			if sn.NSG != "" && armid.Equal(sn.NSG, id) {
				users = append(users, v.SubnetID(sn.Name))
			}
		}
	}
	return users
}

// publicTaken is every public address held.
func (t *tx) publicTaken() publicip.Taken {
	taken := publicip.Taken{}
	for _, s := range t.allOf(PublicIPType) {
		if p := s.(*PublicIP); p.Address != "" {
			taken[p.Address] = true
		}
	}
	return taken
}

// vmAllocated reports whether the VM with this ID holds a host.
func (t *tx) vmAllocated(id string) bool {
	v := t.vm(armid.Key(id))
	return v != nil && v.Machine.State.Power.Allocated()
}

// ipRunning reports whether a running VM uses public IP p.
func (t *tx) ipRunning(p *PublicIP) bool {
	if p.IPConfiguration == "" {
		return false
	}
	id, err := armid.Parse(p.IPConfiguration)
	if err != nil {
		return false
	}
	parent, _ := id.Parent()
	if t.resource(LoadBalancerType, armid.Key(parent.String())) != nil {
		return true // a balancer's frontend always serves
	}
	n, _ := t.resource(NetworkInterfaceType, armid.Key(parent.String())).(*NetworkInterface)
	return n != nil && n.VirtualMachine != "" && t.vmAllocated(n.VirtualMachine)
}

// nicWorld is what an interface's decisions read: the subnets, group and
// public IPs spec (and the interface as it is, old) names.
func (t *tx) nicWorld(old *NetworkInterface, spec NetworkInterfaceSpec) nic.World {
	w := nic.World{Subnets: map[string]nic.Subnet{}, NSGs: map[string]string{}, PublicIPs: map[string]*PublicIP{}, Taken: t.publicTaken()}
	except := ""
	if old != nil {
		except = old.ID
		w.Running = old.VirtualMachine != "" && t.vmAllocated(old.VirtualMachine)
	}
	subnets, groups, ips := nic.Named(spec)
	if old != nil {
		_, _, oldIPs := nic.Named(old.Spec)
		ips = append(ips, oldIPs...)
		for _, c := range old.IPConfigs {
			if c.PublicIP != "" {
				ips = append(ips, c.PublicIP)
			}
		}
	}
	for _, id := range subnets {
		parsed, err := armid.Parse(id)
		if err != nil {
			continue
		}
		parent, ok := parsed.Parent()
		if !ok {
			continue
		}
		v, _ := t.resource(VirtualNetworkType, armid.Key(parent.String())).(*VirtualNetwork)
		if v == nil {
			continue
		}
		if s, ok := v.Subnet(parsed.Name()); ok {
			sid := v.SubnetID(s.Name)
			w.Subnets[nic.Key(id)] = nic.Subnet{ID: sid, Prefix: s.Prefix(), Location: v.Spec.Location, Used: &subnetHolders{t: t, subnet: armid.Key(sid), id: sid, except: except}}
		}
	}
	for _, id := range groups {
		if g, ok := t.resource(SecurityGroupType, armid.Key(id)).(*SecurityGroup); ok && g != nil {
			w.NSGs[nic.Key(id)] = g.Spec.Location
		}
	}
	for _, id := range ips {
		if p, ok := t.resource(PublicIPType, armid.Key(id)).(*PublicIP); ok && p != nil {
			w.PublicIPs[nic.Key(id)] = p
		}
	}
	return w
}

// The interfaces a VM's network profile names, and what its
// networkInterfaceConfigurations create (internal/kinds/vm).
type (
	NICRef           = vm.NICRef
	NICTemplate      = vm.NICTemplate
	PublicIPTemplate = vm.PublicIPTemplate
)

// NetworkNotFound is the error of a request naming a network resource of
// type typ (a top-level one) that does not exist.
func NetworkNotFound(typ, rg, name string) error {
	switch typ {
	case VirtualNetworkType:
		return vnet.NotFound(rg, name)
	case SecurityGroupType:
		return nsg.NotFound(rg, name)
	case NetworkInterfaceType:
		return nic.NotFound(rg, name)
	case LoadBalancerType:
		return loadbalancer.NotFound(rg, name)
	}
	return publicip.NotFound(rg, name)
}

// ChildNotFound is the error of a request naming a subnet or rule that
// does not exist.
func ChildNotFound(typ, parent, name string) error {
	if typ == SubnetType {
		return vnet.SubnetNotFound(parent, name)
	}
	return nsg.RuleNotFound(parent, name)
}

// placeAt is where a resource with this ID is: its subscription (folded,
// as every key), group and name.
func placeAt(id string) (resource.Meta, error) {
	parsed, err := armid.Parse(id)
	if err != nil {
		return resource.Meta{}, err
	}
	return resource.Meta{ID: parsed.String(), SubscriptionID: armid.Fold(parsed.SubscriptionID), ResourceGroup: parsed.ResourceGroup, Name: parsed.Name()}, nil
}

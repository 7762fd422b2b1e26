package engine

import (
	"encoding/json"
	"slices"

	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// At start every row is read with strings of its own, so a million VMs
// would each hold a copy of their subscription ID, group and location,
// their disks would hold a copy of their VM's ID (managedBy), and the
// VMs a copy of their disks' and interfaces' IDs, of their disks' names
// and of their own names (as their machines and, often, computers are
// named), which their IDs end with. Strings are immutable:
// pointing equal strings at one copy changes no value, only what memory
// the loaded state holds.

// shareMeta points a loaded row's subscription and group at the fleet's
// one copy of each, and its name at the end of its ID.
func (e *Engine) shareMeta(m *resource.Meta) {
	m.SubscriptionID = e.word(m.SubscriptionID)
	m.ResourceGroup = e.word(m.ResourceGroup)
	m.Name = tailOf(m.ID, m.Name)
}

// tailOf is name, as the last segment of id holds it when it does.
func tailOf(id, name string) string {
	if tail := len(id) - len(name); tail > 0 && id[tail-1] == '/' && id[tail:] == name {
		return id[tail:]
	}
	return name
}

// shareText is s, pointed at other's copy when equal.
func shareText(s *string, other string) {
	if *s == other {
		*s = other
	}
}

// shareResource does shareMeta for a loaded resource, and interns a
// disk's repeated words and shares its model and an interface's; the
// caller has the engine to itself.
func (e *Engine) shareResource(s resource.State) {
	switch r := s.(type) {
	case *Disk:
		e.shareMeta(&r.Meta)
		r.Spec.Location = e.word(r.Spec.Location)
		r.Spec.SKU = e.word(r.Spec.SKU)
		r.Spec.CreateOption = e.word(r.Spec.CreateOption)
		r.Spec.OSType = e.word(r.Spec.OSType)
		r.Spec.Model = e.model(r.Spec.Model)
		r.DeleteOption = e.word(r.DeleteOption)
	case *NetworkInterface:
		// Its words and configurations are shared as it is read
		// (nic.DecodeInterned).
		e.shareMeta(&r.Meta)
		r.Spec.Model = e.model(r.Spec.Model)
	}
}

// model is a loaded resource's model, the fleet's one copy of it when
// another resource's is the same (a seeded fleet's interfaces and disks
// are written alike). Models are never written in place.
func (e *Engine) model(m json.RawMessage) json.RawMessage {
	if len(m) == 0 || len(m) > jsonwire.MaxInternedLen {
		return m
	}
	if kept, ok := e.models[string(m)]; ok {
		return kept
	}
	if len(e.models) < jsonwire.MaxInterned {
		m = slices.Clip(m)
		e.models[string(m)] = m
	}
	return m
}

// shareVM does shareMeta for a loaded VM, and points the IDs the VM and
// its disks and interfaces name of each other at one copy: the one the
// resource itself holds. The resources are loaded before the VMs; the
// caller has the engine to itself.
func (e *Engine) shareVM(v *VM) {
	e.shareMeta(&v.Meta)
	shareText(&v.Machine.Name, v.Name)
	shareText(&v.Spec.ComputerName, v.Name)
	for i := range v.Spec.Disks {
		ref := &v.Spec.Disks[i]
		id := ref.ID
		if id == "" {
			id = diskID(v.SubscriptionID, v.ResourceGroup, ref.Name)
		}
		if d, _ := e.liveRes(DiskType, id).(*Disk); d != nil {
			shareBothWays(&ref.ID, d.ID, &d.ManagedBy, v.ID)
			shareText(&ref.Name, d.Name)
		}
	}
	for i := range v.Spec.NICs {
		ref := &v.Spec.NICs[i]
		if n, _ := e.liveRes(NetworkInterfaceType, ref.ID).(*NetworkInterface); n != nil {
			shareBothWays(&ref.ID, n.ID, &n.VirtualMachine, v.ID)
		}
	}
}

// shareBothWays points a VM's reference to a resource at the resource's
// ID, and the resource's reference back at the VM's ID, each when equal.
func shareBothWays(ref *string, id string, back *string, vmID string) {
	shareText(ref, id)
	shareText(back, vmID)
}

// word is s as the engine's interner keeps it: its one copy of a word the
// fleet repeats, else s.
func (e *Engine) word(s string) string {
	if s == "" {
		return s
	}
	return e.words.String(s)
}

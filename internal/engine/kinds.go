package engine

import (
	"sort"

	"github.com/azemu/azemu/internal/kinds/deployment"
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/loadbalancer"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/nsg"
	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scaleset"
	"github.com/azemu/azemu/internal/kinds/vm"
	"github.com/azemu/azemu/internal/kinds/vnet"
)

// The kinds' snapshots and specs under the names the ARM layer and the
// dashboard know them by; each package under internal/kinds decides its
// kind's rules.
type (
	// Disk is a managed disk; it bills from creation to deletion.
	Disk = disk.Disk
	// DiskSpec is what is kept of a disk's model.
	DiskSpec = disk.Spec
	// DiskRef is a disk a VM's storage profile names.
	DiskRef = disk.Ref
	// Extension is a VM extension, installing by an operation on its VM.
	Extension = extension.Extension
	// ExtensionSpec is what is kept of an extension's model.
	ExtensionSpec = extension.Spec
	// ScaleSet is a scale set; its instances are VMs with the set as their
	// parent.
	ScaleSet = scaleset.ScaleSet
	// ScaleSetSpec is what is kept of a scale set's model.
	ScaleSetSpec = scaleset.Spec
	// Group is a resource group.
	Group = group.Group
	// diskDetail is what billing needs of a disk at an event.
	diskDetail = disk.Detail
)

// The kinds' ARM types.
const (
	DiskType      = disk.Type
	ExtensionType = extension.Type
	ScaleSetType  = scaleset.Type
)

// kind is what the runtime needs of a resource kind: how its snapshots are
// kept, and its decisions.
type kind struct {
	// decode reads a snapshot back from its row in the resources table.
	decode func(id string, row resource.Row, version int64) (resource.State, error)
	// load, write and erase keep a kind that has a table of its own; a kind
	// without them lives in the resources table.
	load         func(t *tx, id string) resource.State
	write, erase func(*tx, resource.State)
	// adopt refuses a new or changed child of a resource of this kind (a
	// group being deleted takes no new resources); nil takes any.
	adopt func(parent resource.State) error
	// verbs are the kind's decisions, by verb: a client's command (VerbPut,
	// VerbDelete, VerbAct) and the follow-ups other kinds ask of it.
	verbs map[string]decision
	// absent are the follow-up verbs that take a target that is not there
	// (nil): those that create it, or have nothing to do without it.
	// Any other follow-up to a missing target is ResourceNotFound.
	absent map[string]bool
}

func takes(verbs ...string) map[string]bool {
	out := map[string]bool{}
	for _, v := range verbs {
		out[v] = true
	}
	return out
}

// A decision is one verb of a kind. It reads the fleet as the change sees
// it through t, and takes the target as it is (nil when there is none yet),
// the command (its Args are the verb's input, of a type the kind defines)
// and the Env. It returns the operation the command runs as ("" when none)
// and what it does as data, which the runtime lays into the change.
type decision func(t *tx, target resource.State, c resource.Command, env resource.Env) (opID string, eff resource.Effects, err error)

// kindTable is the one table a resource kind registers in, by ARM type. The
// runtime stores, loads, publishes and commands every kind listed here
// alike. (A function, not a variable: decisions run commands through it.)
func kindTable() map[string]kind {
	vms := kind{load: (*tx).loadVM, write: (*tx).writeVM, erase: (*tx).eraseVM, verbs: vmVerbs()}
	table := map[string]kind{
		disk.Type:       {decode: disk.Decode, verbs: diskVerbs()},
		extension.Type:  {decode: extension.Decode, verbs: extensionVerbs()},
		scaleset.Type:   {decode: scaleset.Decode, verbs: scaleSetVerbs()},
		deployment.Type: {decode: deployment.Decode, verbs: deploymentVerbs()},
		group.Type: {load: (*tx).loadGroup, write: (*tx).putGroup, erase: (*tx).removeGroup,
			adopt: groupAdopts, verbs: groupVerbs(), absent: takes(vm.VerbGone)},
		SubscriptionType:  {load: (*tx).loadSubscription, write: (*tx).putSubscription, verbs: subscriptionVerbs()},
		vmType:            vms,
		instanceType:      vms,
		vnet.Type:         {decode: vnet.Decode, verbs: vnetVerbs()},
		vnet.SubnetType:   {load: (*tx).loadChild, verbs: subnetVerbs()},
		nsg.Type:          {decode: nsg.Decode, verbs: nsgVerbs()},
		nsg.RuleType:      {load: (*tx).loadChild, verbs: ruleVerbs()},
		nic.Type:          {decode: nic.Decode, verbs: nicVerbs(), absent: takes(vm.VerbCreateNIC)},
		publicip.Type:     {decode: publicip.Decode, verbs: publicIPVerbs(), absent: takes(vm.VerbCreatePublicIP)},
		loadbalancer.Type: {decode: loadbalancer.Decode, verbs: loadBalancerVerbs()},
	}
	for _, part := range loadbalancer.Parts {
		table[loadbalancer.PartType(part)] = kind{load: (*tx).loadChild, verbs: balancerPartVerbs(part)}
	}
	return table
}

// storedKinds lists the types kept in the resources table, in order.
func (e *Engine) storedKinds() []string {
	var out []string
	for typ, k := range e.kinds {
		if k.decode != nil {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}

package engine

import (
	"sort"

	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scaleset"
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

// kind is what the runtime needs of a resource kind.
type kind struct {
	// decode reads a snapshot back from its row in the resources table.
	decode func(id string, row resource.Row, version int64) (resource.State, error)
	// write and erase keep a kind that has a table of its own; a kind
	// without them lives in the resources table.
	write, erase func(*tx, resource.State)
}

// kinds is the one table a resource kind registers in, by ARM type. The
// runtime stores, loads and publishes every kind listed here alike.
var kinds = map[string]kind{
	disk.Type:      {decode: disk.Decode},
	extension.Type: {decode: extension.Decode},
	scaleset.Type:  {decode: scaleset.Decode},
	group.Type:     {write: (*tx).putGroup, erase: (*tx).removeGroup},
}

// storedKinds lists the types kept in the resources table, in order.
func storedKinds() []string {
	var out []string
	for typ, k := range kinds {
		if k.decode != nil {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}

// routes maps the ARM type of a follow-up command's target to the kind
// that carries it out.
func routes() map[string]func(*tx, resource.Command) error {
	return map[string]func(*tx, resource.Command) error{
		"Microsoft.Compute/virtualMachines":                         (*tx).vmCommand,
		"Microsoft.Compute/virtualMachineScaleSets/virtualMachines": (*tx).vmCommand,
		disk.Type:      (*tx).diskCommand,
		extension.Type: (*tx).extensionCommand,
		ScaleSetType:   (*tx).scaleSetCommand,
	}
}

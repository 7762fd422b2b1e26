package engine

import (
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// kind is what the runtime needs of a resource kind kept in the store's
// resources table: how to read a snapshot back from its row.
type kind struct {
	decode func(id string, row resource.Row, version int64) (resource.State, error)
}

// kinds is the one table a resource kind registers in, by ARM type. The
// runtime stores, loads and publishes every kind listed here alike.
var kinds = map[string]kind{
	disk.Type:      {decode: disk.Decode},
	extension.Type: {decode: extension.Decode},
}

// commands routes a follow-up command to the kind that owns its target, by
// the target's ARM type.
var commands = map[string]func(*tx, resource.Command) error{
	"Microsoft.Compute/virtualMachines":                         (*tx).vmCommand,
	"Microsoft.Compute/virtualMachineScaleSets/virtualMachines": (*tx).vmCommand,
}

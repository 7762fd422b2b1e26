package engine

import (
	"context"
	"sort"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/vm"
)

// DefaultExtensionInstall is how long an extension installs when its
// request does not say (D).
const DefaultExtensionInstall = extension.DefaultInstall

func extensionVM(v *VM) extension.VM {
	return extension.VM{ID: v.ID, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup, Name: v.Name,
		Location: v.Spec.Location, Machine: v.Machine}
}

// ExtensionState is the extension's provisioningState: that of the
// operation installing it.
func (e *Engine) ExtensionState(ctx context.Context, x *Extension) string {
	op, err := e.Operation(ctx, x.OperationID)
	if err != nil {
		return "Succeeded" // its operation aged out long after it ended
	}
	switch op.Status {
	case StatusInProgress:
		if x.Version > 1 {
			return "Updating"
		}
		return "Creating"
	case StatusSucceeded:
		return "Succeeded"
	}
	return "Failed"
}

// Extensions lists a VM's extensions by name. It costs a lookup in the
// index by VM, whatever the fleet's size.
func (e *Engine) Extensions(vmID string) []*Extension {
	// The index's key (extension.Prefix), written on the stack: most VMs
	// have no extensions.
	var buf [256]byte
	key := append(armid.AppendFold(buf[:0], vmID), "/extensions/"...)
	e.mu.RLock()
	out := extensionList(e.extsByVM[string(key)])
	e.mu.RUnlock()
	return sortExtensions(out)
}

// GetVMWithExtensions is GetVM and the VM's Extensions in one read, what
// a VM's GET needs: the VM's key is written once, and both come from one
// moment under one read lock.
func (e *Engine) GetVMWithExtensions(sub, rg, name string) (*VM, []*Extension, error) {
	var buf [256]byte
	if key, ok := vmKey(buf[:0], sub, rg, name); ok {
		// The extension index's key is the VM's key (the fold of its ID)
		// and "/extensions/".
		n := len(key)
		key = append(key, "/extensions/"...)
		e.mu.RLock()
		v := e.vms[string(key[:n])]
		var out []*Extension
		if v != nil {
			out = extensionList(e.extsByVM[string(key)])
		}
		e.mu.RUnlock()
		if v != nil {
			return v, sortExtensions(out), nil
		}
	}
	v, err := find[*VM](e, armid.VirtualMachineID(sub, rg, name))
	if err != nil {
		return nil, nil, err
	}
	return v, e.Extensions(v.ID), nil
}

// extensionList copies a VM's extensions out of the index (under the
// read lock), nil when it has none.
func extensionList(byKey map[string]*Extension) []*Extension {
	if len(byKey) == 0 {
		return nil
	}
	out := make([]*Extension, 0, len(byKey))
	for _, x := range byKey {
		out = append(out, x)
	}
	return out
}

// sortExtensions orders a VM's extensions by name, as they are listed.
func sortExtensions(out []*Extension) []*Extension {
	if len(out) < 2 {
		return out
	}
	sort.Slice(out, func(i, j int) bool { return armid.Fold(out[i].Name) < armid.Fold(out[j].Name) })
	return out
}

// extensionPrefixOfKey is the extension.Prefix of the VM an extension's
// key belongs to: the key up to its last "/extensions/".
func extensionPrefixOfKey(key string) string {
	const sep = "/extensions/"
	if i := strings.LastIndex(key, sep); i >= 0 {
		return key[:i+len(sep)]
	}
	return key
}

// GetExtension returns one extension, or the ARM not-found error.
func (e *Engine) GetExtension(sub, rg, vm, name string) (*Extension, error) {
	v, err := e.GetVM(sub, rg, vm)
	if err != nil {
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if x, ok := e.res[ExtensionType][extension.Key(extension.ID(v.ID, name))]; ok {
		return x.(*Extension), nil
	}
	return nil, extension.NotFound(extensionVM(v), name)
}

// extensionsOf lists the IDs of a VM's extensions as this change sees
// them, in order.
func (t *tx) extensionsOf(vmID string) []string {
	if !t.holds(ExtensionType) {
		return nil
	}
	var ids []string
	t.eachExtensionOf(extension.Prefix(vmID), func(k string) {
		if x, ok := t.resource(ExtensionType, k).(*Extension); ok && x != nil {
			ids = append(ids, x.ID)
		}
	})
	sort.Strings(ids)
	return ids
}

// extensionVMOf is the VM whose extension has the given ID, as the
// extension rules see it; Do has checked it exists.
func (t *tx) extensionVMOf(id string) extension.VM {
	parsed, _ := armid.Parse(id)
	vm, _ := parsed.Parent()
	return extensionVM(t.get(vm).(*VM))
}

// loadVM is the VM with the given ID as this change sees it.
func (t *tx) loadVM(id string) resource.State {
	// Every command on a VM looks it up, twice or more: its key is folded
	// on the stack.
	var buf [256]byte
	if v := t.vmAt(armid.AppendFold(buf[:0], id)); v != nil {
		return v
	}
	return nil
}

// extensionVerbs are the extension kind's decisions
// (internal/kinds/extension).
func extensionVerbs() map[string]decision {
	return map[string]decision{
		// A put adds or changes an extension; a VM that is not running
		// refuses it. The command runs as the operation installing it.
		VerbPut: putting(func(t *tx, old *Extension, at place, spec ExtensionSpec, env resource.Env) (string, resource.Effects, error) {
			x, eff := extension.Put(t.extensionVMOf(at.id), old, at.name, spec, env)
			return x.OperationID, eff, nil
		}),
		// A delete removes the extension at once; the VM shows Updating
		// while its handler uninstalls it.
		VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			opID, eff := extension.Delete(t.extensionVMOf(c.Target), target.(*Extension), env)
			return opID, eff, nil
		},
		// Its group is deleted, or its VM removed: it goes with it.
		group.VerbRemove:       removeExtension,
		vm.VerbRemoveExtension: removeExtension,
	}
}

func removeExtension(t *tx, target resource.State, c resource.Command, _ resource.Env) (string, resource.Effects, error) {
	return "", extension.Remove(target.(*Extension)), nil
}

package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scaleset"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
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

// Extensions lists a VM's extensions by name.
func (e *Engine) Extensions(vmID string) []*Extension {
	e.mu.RLock()
	defer e.mu.RUnlock()
	prefix := extension.Prefix(vmID)
	var out []*Extension
	for k, x := range e.res[ExtensionType] {
		if strings.HasPrefix(k, prefix) {
			out = append(out, x.(*Extension))
		}
	}
	sort.Slice(out, func(i, j int) bool { return armid.Fold(out[i].Name) < armid.Fold(out[j].Name) })
	return out
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

// PutExtensionRequest asks to add or change a VM extension.
type PutExtensionRequest struct {
	SubscriptionID, ResourceGroup, VMName, Name string
	// Build returns the spec to keep, given the extension as it is (nil
	// when new).
	Build func(existing *Extension) (ExtensionSpec, error)
}

// PutExtension adds or changes an extension (see internal/kinds/extension).
// A VM that is not running refuses it.
func (e *Engine) PutExtension(ctx context.Context, r PutExtensionRequest) (*Extension, bool, store.Operation, error) {
	if err := e.checkOpen(); err != nil {
		return nil, false, store.Operation{}, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	v, err := e.extensionParent(r.SubscriptionID, r.ResourceGroup, r.VMName)
	if err != nil {
		return nil, false, store.Operation{}, err
	}
	key := extension.Key(extension.ID(v.ID, r.Name))
	old, _ := e.res[ExtensionType][key].(*Extension)
	spec, err := r.Build(old)
	if err != nil {
		return nil, false, store.Operation{}, err
	}
	t := e.begin(e.Now())
	x, eff := extension.Put(extensionVM(v), old, r.Name, spec, t.env())
	if err := t.run(eff); err != nil {
		return nil, false, store.Operation{}, err
	}
	if err := t.commit(ctx); err != nil {
		return nil, false, store.Operation{}, err
	}
	return t.res[key].(*Extension), old == nil, t.ops[armid.Fold(x.OperationID)], nil
}

// DeleteExtension removes an extension; the VM shows Updating while its
// handler uninstalls it. found is false when there was none.
func (e *Engine) DeleteExtension(ctx context.Context, sub, rg, vm, name string) (store.Operation, bool, error) {
	if err := e.checkOpen(); err != nil {
		return store.Operation{}, false, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	v, err := e.extensionParent(sub, rg, vm)
	if err != nil {
		return store.Operation{}, false, err
	}
	x, _ := e.res[ExtensionType][extension.Key(extension.ID(v.ID, name))].(*Extension)
	if x == nil {
		return store.Operation{}, false, nil
	}
	t := e.begin(e.Now())
	opID, eff := extension.Delete(extensionVM(v), x, t.env())
	if err := t.run(eff); err != nil {
		return store.Operation{}, true, err
	}
	if err := t.commit(ctx); err != nil {
		return store.Operation{}, true, err
	}
	return t.ops[armid.Fold(opID)], true, nil
}

// extensionParent is the VM an extension request names, or the ARM error.
func (e *Engine) extensionParent(sub, rg, name string) (*VM, error) {
	v := e.vms[armid.Fold(vmIDFor(sub, rg, name))]
	if v == nil {
		if _, ok := e.groups[groupKey(sub, rg)]; !ok {
			return nil, notFoundGroup(rg)
		}
		return nil, extension.ParentNotFound(name)
	}
	return v, nil
}

func vmIDFor(sub, rg, name string) string { return armid.VirtualMachineID(armid.Fold(sub), rg, name) }

// removeExtensionsOf deletes the extensions of a VM that is removed.
func (t *tx) removeExtensionsOf(vmID string) {
	prefix := extension.Prefix(vmID)
	var exts []*Extension
	for k := range t.e.res[ExtensionType] {
		if strings.HasPrefix(k, prefix) {
			if x, ok := t.resource(ExtensionType, k).(*Extension); ok && x != nil {
				exts = append(exts, x)
			}
		}
	}
	sort.Slice(exts, func(i, j int) bool { return exts[i].ID < exts[j].ID })
	t.apply(extension.RemoveAll(exts))
}

// vmVerbs are the VM kind's decisions: what other kinds ask of a VM,
// carried out through its lifecycle.
func vmVerbs() map[string]decision {
	return map[string]decision{
		group.VerbDelete: func(t *tx, target resource.State, c resource.Command, _ resource.Env) (string, resource.Effects, error) {
			return c.OperationID, resource.Effects{}, t.submit(target.(*VM), lifecycle.Request{Kind: lifecycle.Delete}, c.OperationID)
		},
		scaleset.VerbRun: taking(func(t *tx, target resource.State, c resource.Command, args scaleset.RunArgs, _ resource.Env) (string, resource.Effects, error) {
			v := target.(*VM)
			op, err := t.submitOp(v, args.Request, v.Model, v.Spec, c.OperationID, "")
			return op.ID, resource.Effects{}, err
		}),
		extension.VerbHold: taking(func(t *tx, target resource.State, c resource.Command, args extension.HoldArgs, _ resource.Env) (string, resource.Effects, error) {
			v := target.(*VM)
			held, ok := v.Machine.HoldOSComplete(args.Until)
			if !ok {
				return "", resource.Effects{}, fmt.Errorf("engine: %s cannot hold its create for %s", v.ID, c.OperationID)
			}
			nv := *v
			nv.Waiting = append(append([]string(nil), v.Waiting...), c.OperationID)
			t.putVM(&nv, held, v.Model, v.Spec, t.now, "", "")
			return c.OperationID, resource.Effects{}, nil
		}),
		extension.VerbInstall: taking(func(t *tx, target resource.State, c resource.Command, args extension.InstallArgs, _ resource.Env) (string, resource.Effects, error) {
			v := target.(*VM)
			op, err := t.submitOp(v, lifecycle.Request{Kind: lifecycle.Update, Extensions: args.Duration}, v.Model, v.Spec, c.OperationID, FaultOpExtension)
			return op.ID, resource.Effects{}, err
		}),
	}
}

// loadVM is the VM with the given ID as this change sees it.
func (t *tx) loadVM(id string) resource.State {
	if v := t.vm(armid.Fold(id)); v != nil {
		return v
	}
	return nil
}

// extensionVerbs are the extension kind's decisions
// (internal/kinds/extension).
func extensionVerbs() map[string]decision {
	return map[string]decision{
		group.VerbRemove: func(t *tx, target resource.State, c resource.Command, _ resource.Env) (string, resource.Effects, error) {
			return "", extension.RemoveAll([]*Extension{target.(*Extension)}), nil
		},
	}
}

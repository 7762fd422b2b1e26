package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scaleset"
	"github.com/azemu/azemu/internal/kinds/vm"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// vmVerbs are the VM kind's decisions (internal/kinds/vm): a client's put
// and actions, what other kinds ask of a VM, and its due steps.
func vmVerbs() map[string]decision {
	return map[string]decision{
		VerbPut: putting(putVMDecision),
		// An action runs a lifecycle operation (start, powerOff, delete,
		// ...); its operation may already be done (a no-op, a synchronous
		// change).
		VerbAct: taking(func(t *tx, target resource.State, c resource.Command, req lifecycle.Request, env resource.Env) (string, resource.Effects, error) {
			return t.submitVM(target.(*VM), req, env.NewOperationID(), "", env)
		}),
		// A group being deleted asks each of its VMs to delete.
		group.VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			opID := c.OperationID
			if opID == "" {
				opID = env.NewOperationID()
			}
			_, eff, err := t.submitVM(target.(*VM), lifecycle.Request{Kind: lifecycle.Delete}, opID, "", env)
			return c.OperationID, eff, err
		},
		scaleset.VerbRun: taking(func(t *tx, target resource.State, c resource.Command, args scaleset.RunArgs, env resource.Env) (string, resource.Effects, error) {
			return t.submitVM(target.(*VM), args.Request, c.OperationID, "", env)
		}),
		extension.VerbHold: taking(func(t *tx, target resource.State, c resource.Command, args extension.HoldArgs, env resource.Env) (string, resource.Effects, error) {
			v := target.(*VM)
			_, eff, err := vm.Hold(v, args.Until, c.OperationID, t.vmWorld(v, v.Spec), env)
			return c.OperationID, eff, err
		}),
		extension.VerbInstall: taking(func(t *tx, target resource.State, c resource.Command, args extension.InstallArgs, env resource.Env) (string, resource.Effects, error) {
			return t.submitVM(target.(*VM), lifecycle.Request{Kind: lifecycle.Update, Extensions: args.Duration}, c.OperationID, FaultOpExtension, env)
		}),
		vm.VerbAttachDisks: taking(func(t *tx, target resource.State, c resource.Command, args vm.AttachArgs, env resource.Env) (string, resource.Effects, error) {
			v := target.(*VM)
			o := v.DiskOwner()
			eff, err := disk.Attach(o, v.Spec.Disks, args.Previous, t.disksNamed(disk.Named(o, v.Spec.Disks, args.Previous)), env)
			return "", eff, err
		}),
		// The runtime calls a VM back at its plan's due time (c.At).
		vm.VerbDue: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			v := target.(*VM)
			_, d, eff := vm.Fire(v, c.At, t.vmWorld(v, v.Spec))
			return d.Operation, eff, nil
		},
	}
}

// VMPut is the input of a VM's put: the model to keep and what the engine
// needs of it.
type VMPut struct {
	Model json.RawMessage
	Spec  VMSpec
	// Extensions is how long the VM's extensions take to install on create.
	Extensions time.Duration
}

// putVMDecision creates or updates a VM; the command runs as the operation
// that makes the change.
func putVMDecision(t *tx, old *VM, at place, in VMPut, env resource.Env) (string, resource.Effects, error) {
	if err := vm.CheckScaleSet(old, in.Spec, t.scaleSet(scaleset.Key(in.Spec.ScaleSetID))); err != nil {
		return "", resource.Effects{}, err
	}
	if old == nil {
		id := armid.VirtualMachineID(at.sub, at.rg, at.name)
		return t.createVM(at.sub, at.rg, NewInstance{ID: id, Name: at.name, Model: in.Model, Spec: in.Spec}, in.Extensions, "", env)
	}
	fault, spent := t.vmFault("")
	_, d, eff, err := vm.Put(old, jsonshape.Of(in.Model), in.Spec, in.Extensions, fault, t.vmWorld(old, old.Spec, in.Spec), env)
	if err != nil {
		return "", resource.Effects{}, err
	}
	spent(d)
	return d.Operation, eff, nil
}

// createVM creates a VM (a client's, or an instance a scale set change
// asks for) as operation opID; "" draws a new one.
func (t *tx) createVM(sub, rg string, inst NewInstance, extensions time.Duration, opID string, env resource.Env) (string, resource.Effects, error) {
	if t.vm(armid.Fold(inst.ID)) != nil {
		return "", resource.Effects{}, &Error{Code: "Conflict", Message: fmt.Sprintf("The VM '%s' already exists.", inst.ID)}
	}
	fault, spent := t.vmFault("")
	meta := resource.Meta{ID: inst.ID, SubscriptionID: sub, ResourceGroup: rg, Name: inst.Name}
	_, d, eff, err := vm.Create(meta, jsonshape.Of(inst.Model), inst.Spec, extensions, opID, fault, t.vmWorld(nil, inst.Spec), env)
	if err != nil {
		return "", resource.Effects{}, err
	}
	spent(d)
	return d.Operation, eff, nil
}

// submitVM runs req on v as operation opID; faultOp names the operation
// for fault matching when it is not req.Kind (an extension install runs
// as an update).
func (t *tx) submitVM(v *VM, req lifecycle.Request, opID, faultOp string, env resource.Env) (string, resource.Effects, error) {
	fault, spent := t.vmFault(faultOp)
	_, d, eff, err := vm.Submit(v, req, v.Model, v.Spec, opID, fault, t.vmWorld(v, v.Spec), env)
	if err != nil {
		return "", resource.Effects{}, err
	}
	spent(d)
	return d.Operation, eff, nil
}

// vmFault is the fault a VM decision draws (faultFor), and what spends it
// once the decision shows that it applies.
func (t *tx) vmFault(faultOp string) (vm.Fault, func(vm.Decision)) {
	var consume func()
	fault := func(v *VM, spec VMSpec, req *lifecycle.Request) { consume = t.faultFor(v, spec, req, faultOp) }
	return fault, func(d vm.Decision) {
		if d.Faulted && consume != nil {
			consume()
		}
	}
}

// vmWorld is what the decisions of VM v (nil when new) read of the
// interfaces the profiles in specs name, of the public IPs their
// configurations create, and of the disks and extensions v has.
func (t *tx) vmWorld(v *VM, specs ...VMSpec) vm.World {
	var w vm.World
	if v != nil {
		// Every VM decision reads these, though only a removal uses them:
		// a VM without disks or extensions costs no allocation.
		o := v.DiskOwner()
		for _, ref := range v.Spec.Disks {
			k := disk.Key(disk.RefID(o, ref))
			if d, ok := t.resource(DiskType, k).(*Disk); ok && d != nil {
				if w.Disks == nil {
					w.Disks = make(map[string]*Disk, len(v.Spec.Disks))
				}
				w.Disks[k] = d
			}
		}
		w.Extensions = t.extensionsOf(v.ID)
	}
	for _, spec := range specs {
		for _, ref := range spec.NICs {
			if w.NICs == nil {
				w.NICs, w.PublicIPs = map[string]*nic.NIC{}, map[string]bool{}
			}
			key := armid.Key(ref.ID)
			if n, ok := t.resource(NetworkInterfaceType, key).(*NetworkInterface); ok && n != nil {
				w.NICs[key] = n
			}
			if ref.Create == nil {
				continue
			}
			for _, ip := range ref.Create.PublicIPs {
				if k := armid.Key(ip.ID); t.resource(PublicIPType, k) != nil {
					w.PublicIPs[k] = true
				}
			}
		}
	}
	return w
}

// writeVM records a VM's next snapshot in the change: one row per change,
// whose version follows the one before the change, and its next due time.
func (t *tx) writeVM(s resource.State) {
	v := s.(*VM)
	key := keyOf(v)
	v.Version = 1
	prev := t.before().vm(key)
	if prev != nil {
		v.Version = prev.Version + 1
	}
	doc, err := (&vmDoc{Machine: v.Machine, Spec: v.Spec, VMID: v.VMID, TimeCreated: v.TimeCreated, Waiting: v.Waiting}).encode()
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("engine: the state of %s cannot be written: %w", v.ID, err)
	}
	row := store.VM{ID: v.ID, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup, Name: v.Name,
		Location: v.Spec.Location, State: doc, Version: v.Version, CreatedAt: v.TimeCreated, UpdatedAt: t.now}
	// Most changes (a step, an action) leave the model as the client
	// wrote it: the row then carries none, and the store keeps its own.
	if prev != nil && prev.Model.Equal(v.Model) {
		row.ModelUnchanged = true
	} else {
		row.Model = v.Model
	}
	if due, ok := v.Machine.Due(); ok {
		row.DueAt = due
		t.dues = append(t.dues, dueItem{at: due, key: key})
	}
	set(&t.vmRows, key, row)
	set(&t.vms, key, v)
}

// keyOf is v's key: the one it carries from the snapshot it was made
// from (resource.Meta.Key), or its ID folded when it is new.
func keyOf(v *VM) string {
	if v.Key != "" {
		return v.Key
	}
	return armid.Fold(v.ID)
}

// eraseVM removes a VM's row in the change.
func (t *tx) eraseVM(s resource.State) {
	v := s.(*VM)
	key := keyOf(v)
	delete(t.vmRows, key)
	t.ch.DeletedVMs = append(t.ch.DeletedVMs, v.ID)
	set(&t.vms, key, nil)
}

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// ExtensionType is the ARM type of VM extensions.
const ExtensionType = "Microsoft.Compute/virtualMachines/extensions"

// DefaultExtensionInstall is how long an extension takes to install when
// its request does not say (D).
const DefaultExtensionInstall = 30 * time.Second

// Extension is a VM extension snapshot. Its provisioning state follows the
// operation that installs it, which runs on the VM.
type Extension struct {
	ID             string
	VMID           string // the VM's ARM ID
	SubscriptionID string
	ResourceGroup  string
	VMName         string
	Name           string
	Spec           ExtensionSpec
	OperationID    string
	Version        int64
	TimeCreated    time.Time
}

// ExtensionSpec is what the engine keeps of an extension's model.
type ExtensionSpec struct {
	Location           string          `json:"location"`
	Publisher          string          `json:"publisher"`
	Type               string          `json:"type"`
	TypeHandlerVersion string          `json:"typeHandlerVersion"`
	Install            time.Duration   `json:"install"`
	Model              json.RawMessage `json:"model,omitempty"` // the body as written, less protectedSettings
}

type extensionDoc struct {
	VMID        string        `json:"vmId"`
	VMName      string        `json:"vmName"`
	Spec        ExtensionSpec `json:"spec"`
	OperationID string        `json:"operationId"`
	TimeCreated time.Time     `json:"timeCreated"`
}

// ETag is the extension's entity tag.
func (x *Extension) ETag() string { return fmt.Sprintf("\"%d\"", x.Version) }

func extensionID(vmID, name string) string { return vmID + "/extensions/" + name }

func parentNotFound(vm string) *Error {
	return &Error{Code: "ParentResourceNotFound", Message: fmt.Sprintf(
		"Can not perform requested operation on nested resource. Parent resource '%s' not found.", vm)}
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
	prefix := store.Key(vmID) + "/extensions/"
	var out []*Extension
	for k, x := range e.exts {
		if strings.HasPrefix(k, prefix) {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
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
	if x, ok := e.exts[store.Key(extensionID(v.ID, name))]; ok {
		return x, nil
	}
	return nil, &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf(
		"The Resource 'Microsoft.Compute/virtualMachines/%s/extensions/%s' under resource group '%s' was not found.", v.Name, name, v.ResourceGroup)}
}

// PutExtensionRequest asks to add or change a VM extension.
type PutExtensionRequest struct {
	SubscriptionID, ResourceGroup, VMName, Name string
	// Build returns the spec to keep, given the extension as it is (nil
	// when new).
	Build func(existing *Extension) (ExtensionSpec, error)
}

// PutExtension adds or changes an extension. Added while the VM is created,
// it holds the VM in osProvisioningComplete until installed, and its
// operation ends with the create; on a running VM it runs as an update that
// shows Updating while it installs. A VM that is not running refuses it.
func (e *Engine) PutExtension(ctx context.Context, r PutExtensionRequest) (*Extension, bool, store.Operation, error) {
	if err := e.checkOpen(); err != nil {
		return nil, false, store.Operation{}, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	v := e.vms[store.Key(vmIDFor(r.SubscriptionID, r.ResourceGroup, r.VMName))]
	if v == nil {
		if _, ok := e.groups[groupKey(r.SubscriptionID, r.ResourceGroup)]; !ok {
			return nil, false, store.Operation{}, notFoundGroup(r.ResourceGroup)
		}
		return nil, false, store.Operation{}, parentNotFound(r.VMName)
	}
	key := store.Key(extensionID(v.ID, r.Name))
	old := e.exts[key]
	spec, err := r.Build(old)
	if err != nil {
		return nil, false, store.Operation{}, err
	}
	if spec.Install <= 0 {
		spec.Install = DefaultExtensionInstall
	}
	t := e.begin(e.Now())
	x := &Extension{ID: extensionID(v.ID, r.Name), VMID: v.ID, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup,
		VMName: v.Name, Name: r.Name, Spec: spec, TimeCreated: t.now}
	if old != nil {
		x.TimeCreated = old.TimeCreated
	}
	var op store.Operation
	if held, ok := v.Machine.HoldOSComplete(t.now.Add(lifecycle.Scale(spec.Install, e.cfg.Speed))); ok {
		// The VM is being created: the install ends with the create.
		op = t.newOp("extension", x.ID, v.Spec.Location)
		nv := *v
		nv.Waiting = append(append([]string(nil), v.Waiting...), op.ID)
		t.putVM(&nv, held, v.Model, v.Spec, t.now, "", "")
	} else {
		req := lifecycle.Request{Kind: lifecycle.Update, Extensions: spec.Install}
		op, err = t.submitOp(v, req, v.Model, v.Spec, e.cfg.NewID(), FaultOpExtension)
		if err != nil {
			return nil, false, store.Operation{}, err
		}
	}
	x.OperationID = op.ID
	t.putExtension(x)
	if err := t.commit(ctx); err != nil {
		return nil, false, store.Operation{}, err
	}
	return t.exts[key], old == nil, t.ops[store.Key(op.ID)], nil
}

// DeleteExtension removes an extension; the VM shows Updating while its
// handler uninstalls it. found is false when there was none.
func (e *Engine) DeleteExtension(ctx context.Context, sub, rg, vm, name string) (store.Operation, bool, error) {
	if err := e.checkOpen(); err != nil {
		return store.Operation{}, false, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	v := e.vms[store.Key(vmIDFor(sub, rg, vm))]
	if v == nil {
		if _, ok := e.groups[groupKey(sub, rg)]; !ok {
			return store.Operation{}, false, notFoundGroup(rg)
		}
		return store.Operation{}, false, parentNotFound(vm)
	}
	x := e.exts[store.Key(extensionID(v.ID, name))]
	if x == nil {
		return store.Operation{}, false, nil
	}
	t := e.begin(e.Now())
	op, err := t.submitOp(v, lifecycle.Request{Kind: lifecycle.Update, Extensions: 10 * time.Second}, v.Model, v.Spec, e.cfg.NewID(), FaultOpExtension)
	if err != nil {
		return store.Operation{}, true, err
	}
	t.removeExtension(x)
	if err := t.commit(ctx); err != nil {
		return store.Operation{}, true, err
	}
	return t.ops[store.Key(op.ID)], true, nil
}

func vmIDFor(sub, rg, name string) string {
	return "/subscriptions/" + strings.ToLower(sub) + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name
}

func (t *tx) putExtension(x *Extension) {
	key := store.Key(x.ID)
	next := *x
	next.Version = 1
	if committed, ok := t.e.exts[key]; ok {
		next.Version = committed.Version + 1
	}
	body, _ := json.Marshal(extensionDoc{VMID: x.VMID, VMName: x.VMName, Spec: x.Spec, OperationID: x.OperationID, TimeCreated: x.TimeCreated})
	t.resRows[key] = store.Resource{ID: x.ID, Type: ExtensionType, SubscriptionID: x.SubscriptionID, ResourceGroup: x.ResourceGroup,
		Name: x.Name, Location: x.Spec.Location, Body: body, Version: next.Version, CreatedAt: x.TimeCreated, UpdatedAt: t.now}
	t.exts[key] = &next
}

func (t *tx) removeExtension(x *Extension) {
	key := store.Key(x.ID)
	delete(t.resRows, key)
	t.ch.DeletedResources = append(t.ch.DeletedResources, x.ID)
	t.exts[key] = nil
}

// removeExtensionsOf deletes the extensions of a VM that is removed.
func (t *tx) removeExtensionsOf(vmID string) {
	prefix := store.Key(vmID) + "/extensions/"
	for k, x := range t.e.exts {
		if strings.HasPrefix(k, prefix) {
			if cur, ok := t.exts[k]; ok && cur == nil {
				continue
			}
			t.removeExtension(x)
		}
	}
}

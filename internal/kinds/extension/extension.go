// Package extension decides VM extensions. An extension installs by
// running on its VM: added while the VM is created, it holds the create in
// osProvisioningComplete until installed and its operation ends with the
// create; on a running VM it runs as an update. Either way the module asks
// the VM through a follow-up command, and the VM's rules may refuse it.
package extension

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
)

// Type is the ARM type of VM extensions.
const Type = "Microsoft.Compute/virtualMachines/extensions"

// DefaultInstall is how long an extension takes to install when its
// request does not say (D).
const DefaultInstall = 30 * time.Second

// uninstall is how long a handler takes to remove an extension (D).
const uninstall = 10 * time.Second

// Commands this module asks of a VM.
const (
	// VerbHold keeps a VM being created in osProvisioningComplete until
	// HoldArgs.Until; the command's operation ends with the create.
	VerbHold = "holdForExtension"
	// VerbInstall runs an update on the VM for InstallArgs.Duration, as
	// the command's operation; faults match it as operation "extension".
	VerbInstall = "installExtension"
)

// HoldArgs are VerbHold's parameters.
type HoldArgs struct{ Until time.Time }

// InstallArgs are VerbInstall's parameters.
type InstallArgs struct{ Duration time.Duration }

// Extension is a VM extension snapshot. Its provisioning state follows the
// operation that installs it.
type Extension struct {
	resource.Meta `json:"-"`
	VMID          string    `json:"vmId"` // the VM's ARM ID
	VMName        string    `json:"vmName"`
	Spec          Spec      `json:"spec"`
	OperationID   string    `json:"operationId"`
	TimeCreated   time.Time `json:"timeCreated"`
}

// Spec is what azemu keeps of an extension's model.
type Spec struct {
	Location           string          `json:"location"`
	Publisher          string          `json:"publisher"`
	Type               string          `json:"type"`
	TypeHandlerVersion string          `json:"typeHandlerVersion"`
	Install            time.Duration   `json:"install"`
	Model              json.RawMessage `json:"model,omitempty"` // the body as written, less protectedSettings
}

// ResourceType is Type.
func (x *Extension) ResourceType() string { return Type }

// Row is the extension as the store keeps it: the fields above, as JSON.
func (x *Extension) Row() resource.Row { return resource.RowOf(x, x.Spec.Location, x.TimeCreated) }

// Decode reads an extension back from its stored row.
var Decode = resource.Decode[Extension]

// ID is the ID of the extension named name of the VM with ID vmID.
func ID(vmID, name string) string { return armid.ChildID(vmID, "extensions", name) }

// Key is the case-insensitive map key of an extension ID.
func Key(id string) string { return armid.Fold(id) }

// Prefix is the key prefix of every extension of the VM with ID vmID.
func Prefix(vmID string) string { return armid.Fold(vmID) + "/extensions/" }

// VM is what the extension rules need of the parent VM.
type VM struct {
	ID, SubscriptionID, ResourceGroup, Name, Location string
	Machine                                           lifecycle.Machine
}

// NotFound is the error of a GET of an extension that does not exist.
func NotFound(vm VM, name string) error {
	return &resource.Error{Code: "ResourceNotFound", Message: fmt.Sprintf(
		"The Resource 'Microsoft.Compute/virtualMachines/%s/extensions/%s' under resource group '%s' was not found.", vm.Name, name, vm.ResourceGroup)}
}

// ParentNotFound is the error of a request for an extension of a VM that
// does not exist.
func ParentNotFound(vm string) error {
	return &resource.Error{Code: "ParentResourceNotFound", Message: fmt.Sprintf(
		"Can not perform requested operation on nested resource. Parent resource '%s' not found.", vm)}
}

// Put decides adding or changing an extension; old is the extension as it
// is (nil when new). The returned extension's OperationID is the operation
// that installs it.
func Put(vm VM, old *Extension, name string, spec Spec, env resource.Env) (*Extension, resource.Effects) {
	if spec.Install <= 0 {
		spec.Install = DefaultInstall
	}
	x := &Extension{Meta: resource.Meta{ID: ID(vm.ID, name), SubscriptionID: vm.SubscriptionID, ResourceGroup: vm.ResourceGroup, Name: name}, VMID: vm.ID,
		VMName: vm.Name, Spec: spec, TimeCreated: env.Now, OperationID: env.NewOperationID()}
	if old != nil {
		x.TimeCreated = old.TimeCreated
	}
	var eff resource.Effects
	until := env.Now.Add(lifecycle.Scale(spec.Install, env.Speed))
	if _, ok := vm.Machine.HoldOSComplete(until); ok {
		// The VM is being created: the install ends with the create.
		eff.Started = append(eff.Started, resource.Operation{ID: x.OperationID, Kind: "extension", TargetID: x.ID, Location: vm.Location})
		eff.Commands = append(eff.Commands, resource.Command{Target: vm.ID, Verb: VerbHold, OperationID: x.OperationID, Args: HoldArgs{Until: until}})
	} else {
		eff.Commands = append(eff.Commands, resource.Command{Target: vm.ID, Verb: VerbInstall, OperationID: x.OperationID, Args: InstallArgs{Duration: spec.Install}})
	}
	eff.Put = append(eff.Put, x)
	return x, eff
}

// Delete decides removing an extension: it goes at once, and the VM shows
// Updating while its handler uninstalls it. opID is that operation.
func Delete(vm VM, x *Extension, env resource.Env) (opID string, eff resource.Effects) {
	opID = env.NewOperationID()
	eff.Removed = append(eff.Removed, x)
	eff.Commands = append(eff.Commands, resource.Command{Target: vm.ID, Verb: VerbInstall, OperationID: opID, Args: InstallArgs{Duration: uninstall}})
	return opID, eff
}

// Remove decides an extension whose VM is removed, or whose group is
// deleted: it goes with it, and nothing is left to uninstall.
func Remove(x *Extension) resource.Effects {
	return resource.Effects{Removed: []resource.State{x}}
}

package engine

import (
	"encoding/json"

	"github.com/azemu/azemu/internal/armid"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
)

// Error is a refusal in ARM's terms: armerror's one error type, whose code
// gives its HTTP status.
type Error = armerror.Error

// Error codes the engine returns besides the lifecycle's.
const (
	CodeResourceNotFound             = "ResourceNotFound"
	CodeResourceGroupNotFound        = "ResourceGroupNotFound"
	CodeResourceGroupBeingDeleted    = "ResourceGroupBeingDeleted"
	CodePreconditionFailed           = "PreconditionFailed"
	CodeInvalidResourceLocation      = "InvalidResourceLocation"
	CodeInvalidResourceGroupLocation = "InvalidResourceGroupLocation"
	CodeNotManualClock               = "ClockNotManual"
	CodeShuttingDown                 = "ServiceUnavailable"
)

func notFoundGroup(rg string) error { return group.NotFound(rg) }

// VMSpec is what the engine needs to know of a VM's model; the ARM layer
// derives it from the request body.
type VMSpec struct {
	Location           string `json:"location"`
	VMSize             string `json:"vmSize"`
	GeneralizedImage   bool   `json:"generalizedImage,omitempty"`
	OSType             string `json:"osType,omitempty"` // Linux or Windows
	LicenseType        string `json:"licenseType,omitempty"`
	Priority           string `json:"priority,omitempty"` // Regular, Spot, Low
	EvictionPolicy     string `json:"evictionPolicy,omitempty"`
	HibernationEnabled bool   `json:"hibernationEnabled,omitempty"`
	ScaleSetID         string `json:"scaleSetId,omitempty"`
	// Disks are the OS and data disks the storage profile names.
	Disks []DiskRef `json:"disks,omitempty"`
	// NICs are the network interfaces the network profile names, or its
	// networkInterfaceConfigurations create.
	NICs []NICRef `json:"nics,omitempty"`
	// What the guest agent reports once the OS runs.
	ComputerName string `json:"computerName,omitempty"`
	OSName       string `json:"osName,omitempty"`
	OSVersion    string `json:"osVersion,omitempty"`
}

// Spot reports whether the VM is a Spot (or legacy low-priority) VM.
func (s VMSpec) Spot() bool { return s.Priority == "Spot" || s.Priority == "Low" }

// VM is a read-only snapshot of one VM; the engine never changes a VM value
// it has handed out.
type VM struct {
	// Meta is the VM's ID, subscription, group, name and version.
	resource.Meta
	// Model is the ARM body as the client last wrote it, normalised by the
	// ARM layer; read-only properties are added when it is rendered.
	Model       json.RawMessage
	Spec        VMSpec
	Machine     lifecycle.Machine
	VMID        string // properties.vmId
	TimeCreated time.Time
	// Waiting are operations that end with the VM's running plan: the
	// installs of extensions added while the VM is created.
	Waiting []string
}

// The ARM types of VMs: standalone (or a Flexible scale set's member), and
// a Uniform scale set's instance.
const (
	vmType       = "Microsoft.Compute/virtualMachines"
	instanceType = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
)

// ResourceType is the VM's ARM type.
func (v *VM) ResourceType() string {
	if id, err := armid.Parse(v.ID); err == nil {
		return id.Type()
	}
	return vmType
}

// Row is the VM's identity and model as a resource row; the engine keeps
// VMs in a table of their own (see putVM).
func (v *VM) Row() resource.Row {
	return resource.Row{SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup, Name: v.Name,
		Location: v.Spec.Location, Body: v.Model, CreatedAt: v.TimeCreated}
}

// vmDoc is the engine-owned state column of a stored VM.
type vmDoc struct {
	Machine     lifecycle.Machine `json:"machine"`
	Spec        VMSpec            `json:"spec"`
	VMID        string            `json:"vmId"`
	TimeCreated time.Time         `json:"timeCreated"`
	Waiting     []string          `json:"waiting,omitempty"`
}

// Operation statuses, as ARM's async operation resource shows them.
const (
	StatusInProgress = resource.StatusInProgress
	StatusSucceeded  = resource.StatusSucceeded
	StatusFailed     = resource.StatusFailed
	StatusCanceled   = resource.StatusCanceled
)

// OperationError is the error of a failed or canceled operation.
type OperationError = resource.OperationError

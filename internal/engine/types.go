package engine

import (
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/vm"
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
type VMSpec = vm.Spec

// VM is a read-only snapshot of one VM; the engine never changes a VM value
// it has handed out. Its rules are internal/kinds/vm's.
type VM = vm.VM

// eventDetail is what billing needs to price a VM at the time of an event.
type eventDetail = vm.Detail

// The ARM types of VMs: standalone (or a Flexible scale set's member), and
// a Uniform scale set's instance.
const (
	vmType       = vm.Type
	instanceType = vm.InstanceType
)

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

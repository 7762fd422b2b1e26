// Package autoscaler scales a Uniform virtual machine scale set to the
// length of a work queue, written against the Azure SDK for Go alone.
//
// It does what an autoscaler must do to survive Azure: it never stacks a
// change on one in progress, it repairs a scale-out that failed to
// allocate (AllocationFailed leaves Failed instances behind, which count
// towards the capacity until deleted), and it takes a throttled request
// (429) as a reason to wait for the next step rather than to fail.
package autoscaler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
)

// Autoscaler keeps one scale set sized to its queue.
type Autoscaler struct {
	Sets          *armcompute.VirtualMachineScaleSetsClient
	Instances     *armcompute.VirtualMachineScaleSetVMsClient
	ResourceGroup string
	ScaleSet      string
	PerInstance   int   // queue items one instance works through
	Min, Max      int64 // the bounds of the capacity
}

// Action is what one step did.
type Action string

// The actions of a step.
const (
	Steady    Action = "steady"    // the set has the capacity the queue needs
	Scaled    Action = "scaled"    // a capacity change was started
	Waiting   Action = "waiting"   // a change is in progress: nothing new is started
	Repairing Action = "repairing" // failed instances are being deleted
	Throttled Action = "throttled" // Azure asked to slow down: try again next step
)

// Want is the capacity a queue of n items needs.
func (a *Autoscaler) Want(n int) int64 {
	per := max(a.PerInstance, 1)
	want := int64((n + per - 1) / per)
	return min(max(want, a.Min), a.Max)
}

// Step looks at the set once and, at most, starts one change. Call it on a
// schedule; it never waits for Azure's operations to end.
func (a *Autoscaler) Step(ctx context.Context, queue int) (Action, error) {
	act, err := a.step(ctx, queue)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusTooManyRequests {
		return Throttled, nil
	}
	return act, err
}

func (a *Autoscaler) step(ctx context.Context, queue int) (Action, error) {
	set, err := a.Sets.Get(ctx, a.ResourceGroup, a.ScaleSet, nil)
	if err != nil {
		return "", fmt.Errorf("reading the scale set: %w", err)
	}
	switch state(set.Properties.ProvisioningState) {
	case "creating", "updating", "deleting":
		return Waiting, nil
	}
	var failed []*string
	pager := a.Instances.NewListPager(a.ResourceGroup, a.ScaleSet, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("listing instances: %w", err)
		}
		for _, vm := range page.Value {
			switch state(vm.Properties.ProvisioningState) {
			case "failed":
				failed = append(failed, vm.InstanceID)
			case "creating", "updating", "deleting":
				return Waiting, nil
			}
		}
	}
	if len(failed) > 0 {
		// An instance that failed to allocate holds no host but counts
		// towards the capacity: delete it, and scale out again next step.
		if _, err := a.Sets.BeginDeleteInstances(ctx, a.ResourceGroup, a.ScaleSet,
			armcompute.VirtualMachineScaleSetVMInstanceRequiredIDs{InstanceIDs: failed}, nil); err != nil {
			return "", fmt.Errorf("deleting failed instances: %w", err)
		}
		return Repairing, nil
	}
	want := a.Want(queue)
	if set.SKU != nil && set.SKU.Capacity != nil && *set.SKU.Capacity == want {
		return Steady, nil
	}
	if _, err := a.Sets.BeginUpdate(ctx, a.ResourceGroup, a.ScaleSet, armcompute.VirtualMachineScaleSetUpdate{
		SKU: &armcompute.SKU{Capacity: to.Ptr(want)}}, nil); err != nil {
		return "", fmt.Errorf("scaling to %d: %w", want, err)
	}
	return Scaled, nil
}

func state(s *string) string {
	if s == nil {
		return ""
	}
	return strings.ToLower(*s)
}

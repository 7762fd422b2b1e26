// Package scheduler deallocates virtual machines that have been idle for an
// hour: a small FinOps job of the kind teams run against Azure, written
// against the Azure SDK for Go alone.
//
// Its test runs it against azemu with a manual clock: four hours of a fleet
// pass in a second, and the test asserts, to the cent, the bill the job
// saved.
package scheduler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
)

// LastActiveTag is the tag in which a workload records when it last did
// work, as RFC 3339. A VM without it counts as active since it was created.
const LastActiveTag = "lastActive"

// Scheduler deallocates idle VMs of one subscription.
type Scheduler struct {
	VMs *armcompute.VirtualMachinesClient
	// IdleFor is how long a VM may do nothing before it is deallocated
	// (default one hour).
	IdleFor time.Duration
	// Now is the clock (default time.Now). A test gives it the emulator's.
	Now func() time.Time
}

// Run looks at every VM of the subscription once and starts a deallocation
// of each running VM idle for IdleFor or longer; it returns their IDs. It
// does not wait for the deallocations: Azure takes a minute or so, and the
// next run sees them deallocating or deallocated.
func (s *Scheduler) Run(ctx context.Context) ([]string, error) {
	idleFor, now := s.IdleFor, time.Now
	if idleFor == 0 {
		idleFor = time.Hour
	}
	if s.Now != nil {
		now = s.Now
	}
	var started []string
	// Two listings rather than a call per VM: the models (tags, creation
	// time), then statusOnly=true for every VM's power state, which Azure
	// answers with the VMs' identity and statuses alone.
	models, err := s.models(ctx)
	if err != nil {
		return nil, err
	}
	pager := s.VMs.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{StatusOnly: to.Ptr("true")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return started, fmt.Errorf("listing VMs: %w", err)
		}
		for _, vm := range page.Value {
			// Azure may leave the power state out of this listing now and
			// then; a VM whose state is unknown is left for the next run.
			if powerState(vm) != "running" {
				continue
			}
			model, ok := models[strings.ToLower(*vm.ID)]
			if !ok {
				continue // created since the first listing: the next run sees it
			}
			if since := lastActive(model); since.IsZero() || now().Sub(since) < idleFor {
				continue
			}
			id, err := arm.ParseResourceID(*vm.ID)
			if err != nil {
				return started, err
			}
			if _, err := s.VMs.BeginDeallocate(ctx, id.ResourceGroupName, *vm.Name, nil); err != nil {
				return started, fmt.Errorf("deallocating %s: %w", *vm.Name, err)
			}
			started = append(started, *vm.ID)
		}
	}
	return started, nil
}

// models lists the subscription's VMs by lower-cased ID.
func (s *Scheduler) models(ctx context.Context) (map[string]*armcompute.VirtualMachine, error) {
	byID := map[string]*armcompute.VirtualMachine{}
	for pager := s.VMs.NewListAllPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing VMs: %w", err)
		}
		for _, vm := range page.Value {
			byID[strings.ToLower(*vm.ID)] = vm
		}
	}
	return byID, nil
}

// powerState is the VM's power state from its instance view ("running",
// "stopped", ...), or "" when the view has none.
func powerState(vm *armcompute.VirtualMachine) string {
	if vm.Properties == nil || vm.Properties.InstanceView == nil {
		return ""
	}
	for _, s := range vm.Properties.InstanceView.Statuses {
		if s.Code != nil && strings.HasPrefix(*s.Code, "PowerState/") {
			return strings.TrimPrefix(*s.Code, "PowerState/")
		}
	}
	return ""
}

// lastActive is when the VM last did work: its tag, else its creation.
func lastActive(vm *armcompute.VirtualMachine) time.Time {
	if v, ok := vm.Tags[LastActiveTag]; ok && v != nil {
		if t, err := time.Parse(time.RFC3339, *v); err == nil {
			return t
		}
	}
	if vm.Properties != nil && vm.Properties.TimeCreated != nil {
		return *vm.Properties.TimeCreated
	}
	return time.Time{}
}

// Package finops finds virtual machines that are stopped but still
// allocated: shut down from the guest or with powerOff, they do no work yet
// Azure bills their compute until they are deallocated. Written against the
// Azure SDK for Go alone.
package finops

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
)

// Finding is a VM billed for compute while it is stopped.
type Finding struct {
	ID, Name, ResourceGroup, Size, Location string
}

// StoppedButAllocated lists the subscription's VMs whose power state is
// stopped (not deallocated).
//
// It reads every VM's status in one listing (statusOnly=true), then the
// sizes of those it found in a plain one, as statusOnly answers no model. Azure
// documents that this listing may now and then leave a VM's power state
// out; such a VM is asked about once more, through its own instance view,
// rather than taken for idle or for busy.
func StoppedButAllocated(ctx context.Context, vms *armcompute.VirtualMachinesClient) ([]Finding, error) {
	var found []Finding
	pager := vms.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{StatusOnly: to.Ptr("true")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing VMs: %w", err)
		}
		for _, vm := range page.Value {
			id, err := arm.ParseResourceID(*vm.ID)
			if err != nil {
				return nil, err
			}
			rg := id.ResourceGroupName
			var statuses []*armcompute.InstanceViewStatus
			if vm.Properties != nil && vm.Properties.InstanceView != nil {
				statuses = vm.Properties.InstanceView.Statuses
			}
			power, ok := powerState(statuses)
			if !ok {
				iv, err := vms.InstanceView(ctx, rg, *vm.Name, nil)
				if err != nil {
					return nil, fmt.Errorf("instance view of %s: %w", *vm.Name, err)
				}
				power, _ = powerState(iv.Statuses)
			}
			if power != "stopped" {
				continue
			}
			found = append(found, Finding{ID: *vm.ID, Name: *vm.Name, ResourceGroup: rg, Location: deref(vm.Location)})
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	// statusOnly answers no model: the sizes come from a plain listing.
	sizes, err := vmSizes(ctx, vms)
	if err != nil {
		return nil, err
	}
	for i := range found {
		found[i].Size = sizes[strings.ToLower(found[i].ID)]
	}
	return found, nil
}

// vmSizes maps each VM's lower-cased ID to its size.
func vmSizes(ctx context.Context, vms *armcompute.VirtualMachinesClient) (map[string]string, error) {
	sizes := map[string]string{}
	pager := vms.NewListAllPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing VM sizes: %w", err)
		}
		for _, vm := range page.Value {
			if p := vm.Properties; p != nil && p.HardwareProfile != nil && p.HardwareProfile.VMSize != nil {
				sizes[strings.ToLower(*vm.ID)] = string(*p.HardwareProfile.VMSize)
			}
		}
	}
	return sizes, nil
}

// powerState reads "running", "stopped", ... from instance view statuses;
// ok is false when they have none.
func powerState(statuses []*armcompute.InstanceViewStatus) (string, bool) {
	for _, s := range statuses {
		if s.Code != nil && strings.HasPrefix(*s.Code, "PowerState/") {
			return strings.TrimPrefix(*s.Code, "PowerState/"), true
		}
	}
	return "", false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

package autoscaler_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/azemu/azemu/azemutest"
	"github.com/azemu/azemu/examples/autoscaler"
)

const rg, set = "jobs", "workers"

func newAutoscaler(t *testing.T, srv *azemutest.Server) *autoscaler.Autoscaler {
	t.Helper()
	ctx := context.Background()
	opts := srv.ClientOptions()
	// The SDK retries a 429 by itself, after the Retry-After it is given.
	// Retries are off here so that the throttle reaches the autoscaler, as
	// a throttle that outlasts the SDK's retries would.
	opts.Retry.MaxRetries = -1
	groups, err := armresources.NewResourceGroupsClient(srv.SubscriptionID(), srv.Credential(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatal(err)
	}
	sets, err := armcompute.NewVirtualMachineScaleSetsClient(srv.SubscriptionID(), srv.Credential(), opts)
	if err != nil {
		t.Fatal(err)
	}
	instances, err := armcompute.NewVirtualMachineScaleSetVMsClient(srv.SubscriptionID(), srv.Credential(), opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sets.BeginCreateOrUpdate(ctx, rg, set, armcompute.VirtualMachineScaleSet{
		Location: to.Ptr("eastus"),
		SKU:      &armcompute.SKU{Name: to.Ptr("Standard_D2s_v3"), Tier: to.Ptr("Standard"), Capacity: to.Ptr[int64](1)},
		Properties: &armcompute.VirtualMachineScaleSetProperties{
			OrchestrationMode: to.Ptr(armcompute.OrchestrationModeUniform),
			VirtualMachineProfile: &armcompute.VirtualMachineScaleSetVMProfile{
				StorageProfile: &armcompute.VirtualMachineScaleSetStorageProfile{ImageReference: &armcompute.ImageReference{
					Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest")}},
				OSProfile: &armcompute.VirtualMachineScaleSetOSProfile{ComputerNamePrefix: to.Ptr("worker"), AdminUsername: to.Ptr("azureuser"),
					AdminPassword: to.Ptr("Passw0rd!example")},
				NetworkProfile: &armcompute.VirtualMachineScaleSetNetworkProfile{NetworkInterfaceConfigurations: []*armcompute.VirtualMachineScaleSetNetworkConfiguration{{
					Name: to.Ptr("nic"), Properties: &armcompute.VirtualMachineScaleSetNetworkConfigurationProperties{Primary: to.Ptr(true),
						IPConfigurations: []*armcompute.VirtualMachineScaleSetIPConfiguration{{Name: to.Ptr("ip")}}}}}},
			},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := azemutest.PollUntilDone(srv, p); err != nil {
		t.Fatal(err)
	}
	return &autoscaler.Autoscaler{Sets: sets, Instances: instances, ResourceGroup: rg, ScaleSet: set, PerInstance: 10, Min: 1, Max: 5}
}

// settle steps the autoscaler every 30 s of the manual clock until the set
// is steady, and returns what each step did.
func settle(t *testing.T, srv *azemutest.Server, a *autoscaler.Autoscaler, queue int) []autoscaler.Action {
	t.Helper()
	var actions []autoscaler.Action
	for range 40 {
		act, err := a.Step(context.Background(), queue)
		if err != nil {
			t.Fatalf("after %v: %v", actions, err)
		}
		actions = append(actions, act)
		if act == autoscaler.Steady {
			return actions
		}
		srv.Advance(30 * time.Second)
	}
	t.Fatalf("not steady after %v", actions)
	return nil
}

// instances are the set's instances, by ID, with their power states.
func instances(t *testing.T, a *autoscaler.Autoscaler) map[string]string {
	t.Helper()
	out := map[string]string{}
	pager := a.Instances.NewListPager(rg, set, &armcompute.VirtualMachineScaleSetVMsClientListOptions{Expand: to.Ptr("instanceView")})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, vm := range page.Value {
			power := ""
			for _, s := range vm.Properties.InstanceView.Statuses {
				if c := *s.Code; len(c) > 11 && c[:11] == "PowerState/" {
					power = c[11:]
				}
			}
			out[*vm.InstanceID] = power
		}
	}
	return out
}

// A queue grows: the scale-out meets AllocationFailed on one instance and a
// throttled request, and the set still ends with the instances the queue
// needs, all running. Then the queue shrinks and the set scales in.
func TestAutoscalerSurvivesAllocationFailureAndThrottling(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	a := newAutoscaler(t, srv)
	if acts := settle(t, srv, a, 0); !slices.Equal(acts, []autoscaler.Action{autoscaler.Steady}) {
		t.Fatalf("an empty queue: %v", acts)
	}

	// The next instance created fails to allocate, as in a region short of
	// capacity; the first step after the scale-out is throttled.
	srv.InjectFault(azemutest.Fault{Operation: "create", Resource: set + "_*", Error: "AllocationFailed", Count: 1})
	act, err := a.Step(context.Background(), 25)
	if err != nil || act != autoscaler.Scaled {
		t.Fatalf("queue of 25: %s %v", act, err)
	}
	srv.InjectFault(azemutest.Fault{Kind: azemutest.FaultThrottle, Operation: "GET", Count: 1})
	if act, err := a.Step(context.Background(), 25); err != nil || act != autoscaler.Throttled {
		t.Fatalf("a throttled step: %s %v", act, err)
	}
	acts := settle(t, srv, a, 25)
	if !slices.Contains(acts, autoscaler.Repairing) || !slices.Contains(acts, autoscaler.Scaled) {
		t.Fatalf("the scale-out's steps: %v", acts)
	}
	if f := srv.Faults(); len(f) != 0 {
		t.Fatalf("faults not spent: %+v", f)
	}
	// Instance 1 failed and was deleted; 3 replaced it.
	got := instances(t, a)
	if want := map[string]string{"0": "running", "2": "running", "3": "running"}; !maps.Equal(got, want) {
		t.Fatalf("instances %v, want %v", got, want)
	}
	setID := "/subscriptions/" + srv.SubscriptionID() + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachineScaleSets/" + set
	failed := srv.History(setID + "/virtualMachines/1")
	if len(failed) == 0 || failed[len(failed)-1].ProvisioningState != "Deleted" {
		t.Fatalf("the failed instance's history: %+v", failed)
	}
	for _, e := range failed {
		if e.Billed {
			t.Fatalf("the instance that never got a host was billed: %+v", failed)
		}
	}

	// The queue drains: scale in to one, the highest instance IDs first.
	if acts := settle(t, srv, a, 5); acts[0] != autoscaler.Scaled {
		t.Fatalf("scale-in: %v", acts)
	}
	if got, want := instances(t, a), map[string]string{"0": "running"}; !maps.Equal(got, want) {
		t.Fatalf("after the scale-in: %v, want %v", got, want)
	}
}

func TestWant(t *testing.T) {
	a := &autoscaler.Autoscaler{PerInstance: 10, Min: 1, Max: 5}
	for queue, want := range map[int]int64{0: 1, 1: 1, 10: 1, 11: 2, 25: 3, 50: 5, 500: 5} {
		if got := a.Want(queue); got != want {
			t.Errorf("Want(%d) = %d, want %d", queue, got, want)
		}
	}
}

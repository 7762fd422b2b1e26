package finops_test

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/azemu/azemu/azemutest"
	"github.com/azemu/azemu/examples/finops"
)

// prices: a D2s v3 in westeurope at 0.36 an hour.
var prices = []byte(`{"Items":[
 {"currencyCode":"USD","retailPrice":0.36,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"}
]}`)

// Four VMs: api runs, ci and report are powered off (stopped, still
// billed), old is deallocated. The check finds ci and report, even when
// the listing leaves some power states out; deallocating them stops their
// bill.
func TestFindsStoppedButAllocatedVMs(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t, azemutest.WithPrices(prices))
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "ops", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"api", "ci", "old", "report"}
	for _, name := range names {
		if _, err := vms.BeginCreateOrUpdate(ctx, "ops", name, armcompute.VirtualMachine{
			Location: to.Ptr("westeurope"),
			Properties: &armcompute.VirtualMachineProperties{
				HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypesStandardD2SV3)},
				StorageProfile: &armcompute.StorageProfile{ImageReference: &armcompute.ImageReference{
					Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest")}},
				OSProfile: &armcompute.OSProfile{ComputerName: to.Ptr(name), AdminUsername: to.Ptr("azureuser"), AdminPassword: to.Ptr("Passw0rd!example")},
				NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
					ID: to.Ptr("/subscriptions/" + srv.SubscriptionID() + "/resourceGroups/ops/providers/Microsoft.Network/networkInterfaces/" + name)}}},
			},
		}, nil); err != nil {
			t.Fatal(err)
		}
	}
	srv.Advance(2 * time.Minute)
	for _, name := range []string{"ci", "report"} {
		if _, err := vms.BeginPowerOff(ctx, "ops", name, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := vms.BeginDeallocate(ctx, "ops", "old", nil); err != nil {
		t.Fatal(err)
	}
	srv.Advance(time.Minute)
	t0 := srv.Now()
	srv.Advance(time.Hour)

	// The listing leaves out the power state of the first two VMs (api
	// and ci): the check asks their instance views instead.
	srv.InjectFault(azemutest.Fault{Kind: azemutest.FaultPowerStateUnavailable, Count: 2})
	found, err := finops.StoppedButAllocated(ctx, vms)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.Name)
		if f.Size != "Standard_D2s_v3" || f.Location != "westeurope" || f.ResourceGroup != "ops" {
			t.Errorf("finding %+v", f)
		}
	}
	if !slices.Equal(got, []string{"ci", "report"}) {
		t.Fatalf("found %v, want ci and report", got)
	}
	if f := srv.Faults(); len(f) != 0 {
		t.Fatalf("the listing did not meet the fault: %+v", f)
	}

	// What they cost doing nothing: an hour stopped each, billed at the
	// running rate. The deallocated VM cost nothing.
	bill := srv.Bill(t0, srv.Now())
	hour := big.NewRat(36, 100)
	for _, f := range found {
		lines := bill.Of(f.ID)
		if len(lines) != 1 || lines[0].SecondsByPowerState["stopped"] != 3600 || lines[0].Cost.Cmp(hour) != 0 {
			t.Fatalf("%s's hour stopped: %+v", f.Name, lines)
		}
	}
	if old := bill.Of(srv.VMID("ops", "old")); len(old) != 1 || old[0].Seconds != 0 {
		t.Fatalf("old, deallocated: %+v", old)
	}

	// The fix: deallocate what was found. Within a minute the next hour
	// bills only api.
	for _, f := range found {
		p, err := vms.BeginDeallocate(ctx, f.ResourceGroup, f.Name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := azemutest.PollUntilDone(srv, p); err != nil {
			t.Fatal(err)
		}
	}
	t1 := srv.Now()
	srv.Advance(time.Hour)
	if after, err := finops.StoppedButAllocated(ctx, vms); err != nil || len(after) != 0 {
		t.Fatalf("after the fix: %v %v", after, err)
	}
	if got := srv.Bill(t1, srv.Now()).Compute(); got.Cmp(hour) != 0 {
		t.Fatalf("the hour after the fix costs %s, want api's 0.36", got.FloatString(4))
	}
}

package scheduler_test

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/azemu/azemu/azemutest"
	"github.com/azemu/azemu/examples/scheduler"
)

// prices: a D2s v3 in eastus at 0.36 an hour and its P4 OS disk at 1.46 a
// month, round figures so that the savings come out exact.
var prices = []byte(`{"Items":[
 {"currencyCode":"USD","retailPrice":0.36,"armRegionName":"eastus","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":1.46,"armRegionName":"eastus","meterName":"P4 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P4 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
]}`)

// fleet is three VMs on one azemu: web, whose workload reports activity
// every quarter of an hour, and batch and dev, which do nothing after
// they are created.
type fleet struct {
	srv *azemutest.Server
	vms *armcompute.VirtualMachinesClient
}

func newFleet(t *testing.T) fleet {
	t.Helper()
	srv := azemutest.New(t, azemutest.WithPrices(prices))
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "app", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web", "batch", "dev"} {
		p, err := vms.BeginCreateOrUpdate(ctx, "app", name, armcompute.VirtualMachine{
			Location: to.Ptr("eastus"),
			Properties: &armcompute.VirtualMachineProperties{
				HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypesStandardD2SV3)},
				StorageProfile: &armcompute.StorageProfile{ImageReference: &armcompute.ImageReference{
					Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest")}},
				OSProfile: &armcompute.OSProfile{ComputerName: to.Ptr(name), AdminUsername: to.Ptr("azureuser"), AdminPassword: to.Ptr("Passw0rd!example")},
				NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
					ID: to.Ptr("/subscriptions/" + srv.SubscriptionID() + "/resourceGroups/app/providers/Microsoft.Network/networkInterfaces/" + name)}}},
			},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := azemutest.PollUntilDone(srv, p); err != nil {
			t.Fatal(err)
		}
	}
	return fleet{srv, vms}
}

// heartbeat is web's workload saying it is busy.
func (f fleet) heartbeat(t *testing.T) {
	t.Helper()
	_, err := f.vms.BeginUpdate(context.Background(), "app", "web", armcompute.VirtualMachineUpdate{
		Tags: map[string]*string{scheduler.LastActiveTag: to.Ptr(f.srv.Now().Format(time.RFC3339))}}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// Four hours of the same fleet on two servers, one with the scheduler
// running every 15 minutes: the bills differ by exactly what deallocating
// batch and dev after their idle hour saves.
func TestSchedulerDeallocatesIdleVMsAndSavesTheirCompute(t *testing.T) {
	t.Parallel()
	withJob, without := newFleet(t), newFleet(t)
	t0 := withJob.srv.Now()
	if !without.srv.Now().Equal(t0) {
		t.Fatalf("the two fleets start at %s and %s", t0, without.srv.Now())
	}
	job := &scheduler.Scheduler{VMs: withJob.vms, Now: withJob.srv.Now}
	ctx := context.Background()
	var deallocatedAt time.Time
	for tick := 1; tick <= 16; tick++ {
		for _, f := range []fleet{withJob, without} {
			f.srv.Advance(15 * time.Minute)
			f.heartbeat(t)
		}
		started, err := job.Run(ctx)
		if err != nil {
			t.Fatalf("tick %d: %v", tick, err)
		}
		switch {
		case len(started) == 0:
		case deallocatedAt.IsZero():
			deallocatedAt = withJob.srv.Now()
			want := []string{withJob.srv.VMID("app", "batch"), withJob.srv.VMID("app", "dev")}
			slices.Sort(started)
			if !slices.EqualFunc(started, want, strings.EqualFold) {
				t.Fatalf("tick %d deallocated %v, want %v", tick, started, want)
			}
		default:
			t.Fatalf("tick %d deallocated %v again", tick, started)
		}
	}
	end := withJob.srv.Now()
	// batch and dev were created 160 s and 80 s before t0 (a create takes
	// 80 s): the first tick that finds both idle for an hour is at t0 + 1 h.
	if want := t0.Add(time.Hour); !deallocatedAt.Equal(want) {
		t.Fatalf("deallocated at %s, want %s", deallocatedAt, want)
	}
	for _, name := range []string{"batch", "dev"} {
		h := withJob.srv.History(withJob.srv.VMID("app", name))
		if last := h[len(h)-1]; last.PowerState != "deallocated" || last.Billed {
			t.Fatalf("%s ends %+v", name, last)
		}
	}
	if h := withJob.srv.History(withJob.srv.VMID("app", "web")); h[len(h)-1].PowerState != "running" {
		t.Fatalf("web ends %+v", h[len(h)-1])
	}

	// What the job saved: batch and dev stop billing once their 10 s of
	// stopping are over, until the end; at 0.36 an hour, each second saves
	// 0.0001.
	saved := new(big.Rat).Sub(without.srv.Bill(t0, end).Total(), withJob.srv.Bill(t0, end).Total())
	seconds := int64(end.Sub(deallocatedAt.Add(10*time.Second)) / time.Second)
	want := new(big.Rat).SetFrac64(2*seconds*36, 100*3600)
	if saved.Cmp(want) != 0 {
		t.Fatalf("saved %s, want %s", saved.FloatString(4), want.FloatString(4))
	}
	if saved.FloatString(4) != "2.1580" {
		t.Fatalf("saved %s over %s", saved.FloatString(4), end.Sub(t0))
	}
}

package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/costmanagement/armcostmanagement/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// scaleSetClients are the SDK clients for scale sets on one server.
type scaleSetClients struct {
	sets *armcompute.VirtualMachineScaleSetsClient
	vms  *armcompute.VirtualMachineScaleSetVMsClient
}

func newScaleSetClients(t *testing.T, srv *server) scaleSetClients {
	t.Helper()
	sets, err := armcompute.NewVirtualMachineScaleSetsClient(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachineScaleSetVMsClient(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	return scaleSetClients{sets: sets, vms: vms}
}

func scaleSet(mode armcompute.OrchestrationMode, capacity int64) armcompute.VirtualMachineScaleSet {
	return armcompute.VirtualMachineScaleSet{
		Location: ptr("westeurope"),
		SKU:      &armcompute.SKU{Name: ptr("Standard_D2s_v3"), Tier: ptr("Standard"), Capacity: ptr(capacity)},
		Properties: &armcompute.VirtualMachineScaleSetProperties{
			OrchestrationMode: ptr(mode),
			VirtualMachineProfile: &armcompute.VirtualMachineScaleSetVMProfile{
				StorageProfile: &armcompute.VirtualMachineScaleSetStorageProfile{ImageReference: &armcompute.ImageReference{
					Publisher: ptr("Canonical"), Offer: ptr("ubuntu-24_04-lts"), SKU: ptr("server"), Version: ptr("latest")}},
				OSProfile: &armcompute.VirtualMachineScaleSetOSProfile{ComputerNamePrefix: ptr("web"), AdminUsername: ptr("azureuser"),
					AdminPassword: ptr("Passw0rd!e2e")},
				NetworkProfile: &armcompute.VirtualMachineScaleSetNetworkProfile{NetworkInterfaceConfigurations: []*armcompute.VirtualMachineScaleSetNetworkConfiguration{{
					Name: ptr("nic"), Properties: &armcompute.VirtualMachineScaleSetNetworkConfigurationProperties{Primary: ptr(true),
						IPConfigurations: []*armcompute.VirtualMachineScaleSetIPConfiguration{{Name: ptr("ip")}}}}}},
			},
		},
	}
}

// summary reads the set's statusesSummary through the SDK.
func (c scaleSetClients) summary(t *testing.T, rg, name string) map[string]int32 {
	t.Helper()
	iv, err := c.sets.GetInstanceView(context.Background(), rg, name, nil)
	if err != nil {
		t.Fatalf("instance view: %v", err)
	}
	out := map[string]int32{}
	for _, s := range iv.VirtualMachine.StatusesSummary {
		out[*s.Code] = *s.Count
	}
	return out
}

func (c scaleSetClients) instanceIDs(t *testing.T, rg, name string) string {
	t.Helper()
	var ids []string
	pager := c.vms.NewListPager(rg, name, &armcompute.VirtualMachineScaleSetVMsClientListOptions{Expand: ptr("instanceView")})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Value {
			if v.Properties == nil || v.Properties.InstanceView == nil || len(v.Properties.InstanceView.Statuses) == 0 {
				t.Fatalf("instance %s listed without its instance view", *v.InstanceID)
			}
			ids = append(ids, *v.InstanceID)
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func TestUniformScaleSetWithSDK(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	c := newScaleSetClients(t, srv)
	ctx := context.Background()
	const rg, name = "rg-e2e", "web"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}

	create, err := c.sets.BeginCreateOrUpdate(ctx, rg, name, scaleSet(armcompute.OrchestrationModeUniform, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(35 * time.Second)
	if got := c.summary(t, rg, name); got["ProvisioningState/creating/osProvisioningInProgress"] != 3 || got["PowerState/running"] != 3 {
		t.Fatalf("summary while creating: %v", got)
	}
	srv.advance(45 * time.Second)
	set := done(t, create)
	if *set.Properties.ProvisioningState != "Succeeded" || *set.SKU.Capacity != 3 {
		t.Fatalf("created set: %s capacity %d", *set.Properties.ProvisioningState, *set.SKU.Capacity)
	}
	if got := c.summary(t, rg, name); got["PowerState/running"] != 3 || got["ProvisioningState/succeeded"] != 3 {
		t.Fatalf("summary after create: %v", got)
	}
	inst, err := c.vms.Get(ctx, rg, name, "1", nil)
	if err != nil || *inst.InstanceID != "1" || *inst.Name != name+"_1" || *inst.Properties.LatestModelApplied != true {
		t.Fatalf("instance 1: %+v %v", inst, err)
	}

	// Deallocate two of three: transitional counts, then the end state.
	dealloc, err := c.sets.BeginDeallocate(ctx, rg, name, &armcompute.VirtualMachineScaleSetsClientBeginDeallocateOptions{
		VMInstanceIDs: &armcompute.VirtualMachineScaleSetVMInstanceIDs{InstanceIDs: []*string{ptr("0"), ptr("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.summary(t, rg, name); got["PowerState/stopping"] != 2 || got["ProvisioningState/updating"] != 2 || got["PowerState/running"] != 1 {
		t.Fatalf("summary while deallocating: %v", got)
	}
	srv.advance(10 * time.Second)
	if got := c.summary(t, rg, name); got["PowerState/deallocating"] != 2 {
		t.Fatalf("summary while deallocating: %v", got)
	}
	srv.advance(20 * time.Second)
	done(t, dealloc)
	if got := c.summary(t, rg, name); got["PowerState/deallocated"] != 2 || got["PowerState/running"] != 1 {
		t.Fatalf("summary after deallocate: %v", got)
	}

	// Every instance is metered like a VM, with the set as its parent.
	var usage struct {
		Value []struct {
			Name         string `json:"name"`
			Kind         string `json:"kind"`
			ResourceType string `json:"resourceType"`
			ParentID     string `json:"parentId"`
			Seconds      int64  `json:"seconds"`
		} `json:"value"`
	}
	var clk struct {
		Now time.Time `json:"now"`
	}
	srv.do(http.MethodGet, "/_azemu/clock", nil, &clk)
	from := clk.Now.Add(-time.Hour).Format(time.RFC3339)
	if code := srv.do(http.MethodGet, "/_azemu/billing/usage?from="+from+"&to="+clk.Now.Format(time.RFC3339), nil, &usage); code != http.StatusOK {
		t.Fatalf("usage: HTTP %d", code)
	}
	var metered []string
	for _, u := range usage.Value {
		if u.ResourceType != "Microsoft.Compute/virtualMachineScaleSets/virtualMachines" {
			continue
		}
		if !strings.EqualFold(u.ParentID, *set.ID) || u.Seconds == 0 {
			t.Fatalf("instance line item %+v, want parent %s", u, *set.ID)
		}
		metered = append(metered, u.Name)
	}
	sort.Strings(metered)
	if strings.Join(metered, ",") != "web_0,web_1,web_2" {
		t.Fatalf("metered instances %v, want web_0,web_1,web_2", metered)
	}

	// An instance that does not exist.
	_, err = c.vms.Get(ctx, rg, name, "9", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Fatalf("get of instance 9: %v", err)
	}

	// Scale to 5, then to 2: the highest instance IDs go.
	grow, err := c.sets.BeginUpdate(ctx, rg, name, armcompute.VirtualMachineScaleSetUpdate{SKU: &armcompute.SKU{Capacity: ptr[int64](5)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(80 * time.Second)
	done(t, grow)
	if got := c.instanceIDs(t, rg, name); got != "0,1,2,3,4" {
		t.Fatalf("instances after scale-out: %s", got)
	}
	shrink, err := c.sets.BeginUpdate(ctx, rg, name, armcompute.VirtualMachineScaleSetUpdate{SKU: &armcompute.SKU{Capacity: ptr[int64](2)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(20 * time.Second)
	done(t, shrink)
	if got := c.instanceIDs(t, rg, name); got != "0,1" {
		t.Fatalf("instances after scale-in: %s", got)
	}

	// The instance API: start instance 1 (deallocated above) and poll it.
	start, err := c.vms.BeginStart(ctx, rg, name, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(30 * time.Second)
	done(t, start)
	iv, err := c.vms.GetInstanceView(ctx, rg, name, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, s := range iv.Statuses {
		codes = append(codes, *s.Code)
	}
	if strings.Join(codes, ",") != "ProvisioningState/succeeded,PowerState/running" {
		t.Fatalf("instance 1 after start: %v", codes)
	}

	// Delete an instance through the batch API, then the set.
	del, err := c.sets.BeginDeleteInstances(ctx, rg, name, armcompute.VirtualMachineScaleSetVMInstanceRequiredIDs{InstanceIDs: []*string{ptr("0")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(20 * time.Second)
	done(t, del)
	if got := c.instanceIDs(t, rg, name); got != "1" {
		t.Fatalf("instances after delete: %s", got)
	}
	delSet, err := c.sets.BeginDelete(ctx, rg, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A batch action on a deleting set is refused.
	if _, err := c.sets.BeginStart(ctx, rg, name, nil); !errors.As(err, &re) || re.StatusCode != http.StatusConflict {
		t.Fatalf("start on a deleting set: %v", err)
	}
	srv.advance(20 * time.Second)
	done(t, delSet)
	if _, err := c.sets.Get(ctx, rg, name, nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestFlexibleScaleSetWithSDK(t *testing.T) {
	dir := t.TempDir()
	prices := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(prices, []byte(costPrices), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--prices", prices)
	start := srv.now()
	f := newFleet(t, srv)
	c := newScaleSetClients(t, srv)
	ctx := context.Background()
	const rg, name = "rg-e2e", "flex"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	create, err := c.sets.BeginCreateOrUpdate(ctx, rg, name, armcompute.VirtualMachineScaleSet{
		Location: ptr("westeurope"),
		Properties: &armcompute.VirtualMachineScaleSetProperties{OrchestrationMode: ptr(armcompute.OrchestrationModeFlexible),
			PlatformFaultDomainCount: ptr[int32](1)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	set := done(t, create)
	for _, vm := range []string{"m1", "m2", "m3"} {
		body := linuxVM("westeurope")
		body.Properties.VirtualMachineScaleSet = &armcompute.SubResource{ID: set.ID}
		if _, err := f.vms.BeginCreateOrUpdate(ctx, rg, vm, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.vms.BeginCreateOrUpdate(ctx, rg, "other", linuxVM("westeurope"), nil); err != nil {
		t.Fatal(err)
	}
	srv.advance(80 * time.Second)

	filter := "'virtualMachineScaleSet/id' eq '" + *set.ID + "'"
	var members []string
	pager := f.vms.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Value {
			if v.ManagedBy == nil || !strings.EqualFold(*v.ManagedBy, *set.ID) {
				t.Fatalf("member %s managedBy %v", *v.Name, v.ManagedBy)
			}
			members = append(members, *v.Name)
		}
	}
	sort.Strings(members)
	if strings.Join(members, ",") != "m1,m2,m3" {
		t.Fatalf("members %v, want m1,m2,m3", members)
	}
	if _, err := c.sets.GetInstanceView(ctx, rg, name, nil); err == nil {
		t.Fatal("a Flexible set served an instance view")
	}

	powerOff, err := c.sets.BeginPowerOff(ctx, rg, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(10 * time.Second)
	done(t, powerOff)
	for _, vm := range []string{"m1", "m2", "m3"} {
		f.expect(rg, vm, succeeded, pwStopped)
	}
	f.expect(rg, "other", succeeded, pwRunning)

	// Each member is billed as a VM of its own in the cost query: from
	// starting (+15 s) to now (+90 s), stopped included, at 0.36/h.
	qc, err := armcostmanagement.NewQueryClient(staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	got := costs(t, qc, start, start.Add(90*time.Second), nil)
	for _, vm := range []string{"m1", "m2", "m3"} {
		id := strings.ToLower("/subscriptions/" + subscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + vm)
		if c, ok := got[id]; !ok || c != exact(75, 10000) {
			t.Errorf("member %s cost %v (present %v), want %v", vm, c, ok, exact(75, 10000))
		}
	}
}

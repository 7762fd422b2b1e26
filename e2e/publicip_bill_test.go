package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/costmanagement/armcostmanagement/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// ipBillPrices is the test's own price sheet (--prices), in round figures
// so that every cost is exact: D2s v3 Linux 0.36/h, P10 7.30 a month
// (0.01/h), a Standard static IPv4 public IP 0.005/h.
const ipBillPrices = `{"Items":[
 {"currencyCode":"USD","retailPrice":0.36,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":7.3,"armRegionName":"westeurope","meterName":"P10 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P10 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":0.005,"armRegionName":"westeurope","meterName":"Standard IPv4 Static Public IP","productName":"IP Addresses","skuName":"Standard","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"}
]}`

// The seed's asterisk, through the Cost Management client: a VM with a
// Standard static public IP and a 128 GB disk runs 1 h, is deallocated
// 2 h, and is deleted with its IP and disk kept 1 h. Compute bills the
// hour it ran; the IP and the disk bill all 4 h.
func TestPublicIPAndDiskOutliveComputeInTheBill(t *testing.T) {
	dir := t.TempDir()
	prices := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(prices, []byte(ipBillPrices), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"), "--prices", prices)
	f := newFleet(t, srv)
	n := newNetwork(t, srv)
	qc, err := armcostmanagement.NewQueryClient(staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const rg, loc = "rg-ipbill", "westeurope"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr(loc)}, nil); err != nil {
		t.Fatal(err)
	}
	t0 := srv.now()

	vnet := finish(n.vnets.BeginCreateOrUpdate(ctx, rg, "net", armnetwork.VirtualNetwork{Location: ptr(loc),
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{ptr("10.7.0.0/16")}},
			Subnets:      []*armnetwork.Subnet{{Name: ptr("default"), Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: ptr("10.7.0.0/24")}}},
		}}, nil))(t)
	ip := finish(n.ips.BeginCreateOrUpdate(ctx, rg, "web-ip", armnetwork.PublicIPAddress{Location: ptr(loc),
		SKU: &armnetwork.PublicIPAddressSKU{Name: ptr(armnetwork.PublicIPAddressSKUNameStandard), Tier: ptr(armnetwork.PublicIPAddressSKUTierRegional)},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{PublicIPAllocationMethod: ptr(armnetwork.IPAllocationMethodStatic),
			PublicIPAddressVersion: ptr(armnetwork.IPVersionIPv4)}}, nil))(t)
	nic := finish(n.nics.BeginCreateOrUpdate(ctx, rg, "web-nic", armnetwork.Interface{Location: ptr(loc),
		Properties: &armnetwork.InterfacePropertiesFormat{IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{Name: ptr("ipconfig1"),
			Properties: &armnetwork.InterfaceIPConfigurationPropertiesFormat{Subnet: &armnetwork.Subnet{ID: vnet.Properties.Subnets[0].ID},
				PublicIPAddress: &armnetwork.PublicIPAddress{ID: ip.ID}}}}}}, nil))(t)

	// The VM: a 128 GB Premium OS disk, kept when the VM is deleted.
	vm := linuxVM(loc)
	vm.Properties.StorageProfile.OSDisk = &armcompute.OSDisk{CreateOption: ptr(armcompute.DiskCreateOptionTypesFromImage), DiskSizeGB: ptr[int32](128),
		ManagedDisk:  &armcompute.ManagedDiskParameters{StorageAccountType: ptr(armcompute.StorageAccountTypesPremiumLRS)},
		DeleteOption: ptr(armcompute.DiskDeleteOptionTypesDetach)}
	vm.Properties.NetworkProfile = &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{ID: nic.ID}}}
	create, err := f.vms.BeginCreateOrUpdate(ctx, rg, "web", vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Compute bills from starting, 15 s into the create, for 1 h: the
	// deallocate's 10 s of stopping bill too, its deallocating does not.
	srv.advance(15*time.Second + time.Hour - 10*time.Second)
	done(t, create)
	dealloc, err := f.vms.BeginDeallocate(ctx, rg, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(time.Minute)
	done(t, dealloc)
	f.expect(rg, "web", succeeded, pwDeallocated)
	// Deallocated until 3 h in; then deleted, its IP and disk kept.
	srv.advance(3*time.Hour - 5*time.Second - time.Hour - time.Minute)
	del, err := f.vms.BeginDelete(ctx, rg, "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(time.Minute)
	done(t, del)
	end := srv.advance(time.Hour - time.Minute)
	if want := t0.Add(4 * time.Hour); !end.Equal(want) {
		t.Fatalf("clock at %s, want %s", end, want)
	}
	if _, err := n.ips.Get(ctx, rg, "web-ip", nil); err != nil {
		t.Fatalf("the IP was not kept: %v", err)
	}

	// Grouped by resource: compute 1 h, the IP and the disk 4 h each, to
	// the exact amounts of the price sheet.
	got := costs(t, qc, t0, end, nil)
	vmID := strings.ToLower("/subscriptions/" + subscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/web")
	ipID := strings.ToLower(*ip.ID)
	diskID := ""
	for k := range got {
		if strings.Contains(k, "/providers/microsoft.compute/disks/web_osdisk") {
			diskID = k
		}
	}
	want := map[string]float64{
		vmID:   exact(36, 100), // 3600 s at 0.36/h
		ipID:   exact(2, 100),  // 4 h at 0.005/h
		diskID: exact(4, 100),  // 4 h of 7.30 a month over 730 h
	}
	if len(got) != 3 || diskID == "" {
		t.Fatalf("rows: %v", got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("%s: cost %v, want %v (all: %v)", k, got[k], w, got)
		}
	}
	// By resource type and meter category, the IP is Azure's Virtual Network.
	res, err := qc.Usage(ctx, "subscriptions/"+subscriptionID, armcostmanagement.QueryDefinition{
		Type: ptr(armcostmanagement.ExportTypeActualCost), Timeframe: ptr(armcostmanagement.TimeframeTypeCustom),
		TimePeriod: &armcostmanagement.QueryTimePeriod{From: ptr(t0), To: ptr(end)},
		Dataset: &armcostmanagement.QueryDataset{
			Aggregation: map[string]*armcostmanagement.QueryAggregation{"totalCost": {Name: ptr("Cost"), Function: ptr(armcostmanagement.FunctionTypeSum)}},
			Grouping: []*armcostmanagement.QueryGrouping{{Type: ptr(armcostmanagement.QueryColumnTypeDimension), Name: ptr("ResourceType")},
				{Type: ptr(armcostmanagement.QueryColumnTypeDimension), Name: ptr("MeterCategory")}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]float64{}
	for _, row := range res.Properties.Rows {
		byType[row[1].(string)+"|"+row[2].(string)] = row[0].(float64)
	}
	if byType["microsoft.network/publicipaddresses|Virtual Network"] != exact(2, 100) || byType["microsoft.compute/virtualmachines|Virtual Machines"] != exact(36, 100) ||
		byType["microsoft.compute/disks|Storage"] != exact(4, 100) {
		t.Fatalf("by type: %v", byType)
	}
	// azemu bill shows the IP in the network column of... no VM any more:
	// it outlived its VM, so it has a line of its own.
	out := runBill(t, srv, filepath.Join(dir, "data"), "--from", t0.Format(time.RFC3339), "--to", end.Format(time.RFC3339))
	if !strings.Contains(out, "public IP web-ip (no VM)") {
		t.Fatalf("azemu bill:\n%s", out)
	}
}

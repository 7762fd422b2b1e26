package armapi

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/billing"
)

// Public IPs reach every billing surface as Azure's cost data shows them:
// resource type microsoft.network/publicipaddresses, meter category and
// service Virtual Network, their meter name, Networking in FOCUS; the bill
// sums them apart from compute and disks, and one without a VM gets a line
// of its own.
func TestPublicIPOnTheBillingSurfaces(t *testing.T) {
	sheet, err := billing.ParsePriceSheet(strings.NewReader(`{"Items":[
 {"currencyCode":"USD","retailPrice":0.36,"armRegionName":"westeurope","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":0.005,"armRegionName":"westeurope","meterName":"Standard IPv4 Static Public IP","skuName":"Standard","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const rg = "/subscriptions/s1/resourceGroups/rg/providers/"
	vm, ip, spare := rg+"Microsoft.Compute/virtualMachines/web", rg+"Microsoft.Network/publicIPAddresses/web-ip", rg+"Microsoft.Network/publicIPAddresses/spare"
	ipAttrs := billing.Attrs{Location: "westeurope", IPSKU: "Standard", IPTier: "Regional", IPAllocation: "Static", IPVersion: "IPv4", ParentID: vm}
	m := billing.NewMeter(t0, t0.Add(2*time.Hour), billing.PerSecond)
	for _, e := range []billing.Event{
		{ResourceID: vm, At: t0, Kind: billing.VM, PowerState: "running", Attrs: billing.Attrs{Location: "westeurope", VMSize: "Standard_D2s_v3", OSType: "Linux"}},
		{ResourceID: ip, At: t0, Kind: billing.PublicIP, Attrs: ipAttrs},
		{ResourceID: vm, At: t0.Add(time.Hour), Kind: billing.VM, PowerState: "deallocated"},
		{ResourceID: spare, At: t0.Add(time.Hour), Kind: billing.PublicIP, Attrs: billing.Attrs{Location: "westeurope", IPSKU: "Basic", IPAllocation: "Static"}},
	} {
		if err := m.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	items := billing.Rate(m.Usage(), sheet)
	var got []billedItem
	for _, li := range items {
		got = append(got, newBilledItem(li))
	}
	if len(got) != 3 {
		t.Fatalf("%d items", len(got))
	}
	web, spareIP, webIP := got[0], got[1], got[2] // by ID: Microsoft.Compute/... before Microsoft.Network/...
	if webIP.Kind != billing.PublicIP || spareIP.Kind != billing.PublicIP || web.Kind != billing.VM {
		t.Fatalf("order: %v %v %v", spareIP.ResourceID, webIP.ResourceID, web.ResourceID)
	}
	for dim, want := range map[string]string{"ResourceType": "microsoft.network/publicipaddresses", "MeterCategory": "Virtual Network",
		"ServiceName": "Virtual Network", "Meter": "Standard IPv4 Static Public IP", "ResourceId": strings.ToLower(ip), "ResourceLocation": "westeurope"} {
		if v := webIP.dim(dim); v != want {
			t.Errorf("%s = %q, want %q", dim, v, want)
		}
	}
	if webIP.ARMType != "Microsoft.Network/publicIPAddresses" || webIP.ServiceCategory != "Networking" || webIP.Name != "web-ip" {
		t.Errorf("web-ip: %+v", webIP)
	}
	// Unpriced: the meter name is still Azure's.
	if spareIP.Priced || spareIP.MeterName != "Basic IPv4 Static Public IP" {
		t.Errorf("spare: %+v", spareIP)
	}
	u := newUsageItem(webIP)
	if u.Kind != "PublicIP" || u.IPSKU != "Standard" || u.IPAllocation != "Static" || u.Seconds != 7200 || u.Quantity != "2" ||
		*u.Cost != "0.01" || u.SecondsByPowerState != nil || u.DiskSKU != "" {
		t.Errorf("usage item: %+v", u)
	}
	v := newBillView(billing.BillByVM(items))
	if len(v.VMs) != 1 || len(v.Orphans) != 0 || len(v.OrphanIPs) != 1 || v.OrphanIPs[0].Name != "spare" || !v.OrphanIPs[0].Cost.Unpriced ||
		v.OrphanIPs[0].Meter != "Basic IPv4 Static Public IP" {
		t.Fatalf("bill: %+v", v)
	}
	if w := v.VMs[0]; w.Network.Cost.Cmp(big.NewRat(1, 100)) != 0 || w.Compute.Cost.Cmp(big.NewRat(36, 100)) != 0 ||
		w.Total.Cost.Cmp(big.NewRat(37, 100)) != 0 {
		t.Errorf("web: %+v", w)
	}
	if !v.Network.Unpriced || v.Network.Cost.Cmp(big.NewRat(1, 100)) != 0 || v.Disks.Cost != nil {
		t.Errorf("network %+v, disks %+v", v.Network, v.Disks)
	}
}

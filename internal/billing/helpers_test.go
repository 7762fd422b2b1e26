package billing

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"

func vmID(name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/RG1/providers/Microsoft.Compute/virtualMachines/" + name
}

func diskID(name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/RG1/providers/Microsoft.Compute/disks/" + name
}

var linuxD2 = Attrs{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Linux", Priority: "Regular"}

func vmEv(id string, at time.Time, ps string, a Attrs) Event {
	return Event{ResourceID: id, At: at, Kind: VM, PowerState: ps, Attrs: a}
}

func vmDel(id string, at time.Time) Event {
	return Event{ResourceID: id, At: at, Kind: VM, Deleted: true}
}

func diskEv(id string, at time.Time, sku string, size int) Event {
	return Event{ResourceID: id, At: at, Kind: Disk, Attrs: Attrs{Location: "eastus", DiskSKU: sku, DiskSizeGB: size}}
}

func ipID(name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/RG1/providers/Microsoft.Network/publicIPAddresses/" + name
}

var standardIP = Attrs{Location: "eastus", IPSKU: "Standard", IPTier: "Regional", IPAllocation: "Static", IPVersion: "IPv4"}

func diskDel(id string, at time.Time) Event {
	return Event{ResourceID: id, At: at, Kind: Disk, Deleted: true}
}

func meter(t testing.TB, from, to time.Time, g Granularity, evs ...Event) []Usage {
	t.Helper()
	m := NewMeter(from, to, g)
	for i, e := range evs {
		if err := m.Add(e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	return m.Usage()
}

// testSheet prices the test keys; it mirrors the Retail Prices API shape.
const testSheet = `{"Items":[
 {"currencyCode":"USD","retailPrice":0.096,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","skuName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","effectiveStartDate":"2017-12-15T00:00:00Z","meterId":"lin"},
 {"currencyCode":"USD","retailPrice":0.188,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","skuName":"D2s v3","productName":"Virtual Machines DSv3 Series Windows","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"win"},
 {"currencyCode":"USD","retailPrice":0.018816,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3 Spot","skuName":"D2s v3 Spot","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"spot"},
 {"currencyCode":"USD","retailPrice":0.036848,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3 Spot","skuName":"D2s v3 Spot","productName":"Virtual Machines DSv3 Series Windows","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"winspot"},
 {"currencyCode":"USD","retailPrice":0.0192,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3 Low Priority","skuName":"D2s v3 Low Priority","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"low"},
 {"currencyCode":"USD","retailPrice":0.192,"armRegionName":"eastus","armSkuName":"Standard_D4s_v3","meterName":"D4s v3","skuName":"D4s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"d4"},
 {"currencyCode":"USD","retailPrice":19.71,"armRegionName":"eastus","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"p10"},
 {"currencyCode":"USD","retailPrice":5.28,"armRegionName":"eastus","meterName":"P4 LRS Disk","skuName":"P4 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"p4"},
 {"currencyCode":"USD","retailPrice":9.6,"armRegionName":"eastus","meterName":"E10 LRS Disk","skuName":"E10 LRS","productName":"Standard SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"e10"},
 {"currencyCode":"USD","retailPrice":1.54,"armRegionName":"eastus","meterName":"S4 LRS Disk","skuName":"S4 LRS","productName":"Standard HDD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"s4"},
 {"currencyCode":"USD","retailPrice":0.005,"armRegionName":"eastus","meterName":"Standard IPv4 Static Public IP","skuName":"Standard","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"ipstd"},
 {"currencyCode":"USD","retailPrice":0.0036,"armRegionName":"eastus","meterName":"Basic IPv4 Static Public IP","skuName":"Basic","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"ipbs"},
 {"currencyCode":"USD","retailPrice":0.004,"armRegionName":"eastus","meterName":"Basic IPv4 Dynamic Public IP","skuName":"Basic","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"ipbd"},
 {"currencyCode":"USD","retailPrice":0.01,"armRegionName":"Global","meterName":"Global IPv4 Static Public IP","skuName":"Global","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"ipglobal"}
]}`

func mustSheet(t testing.TB, s string) *PriceSheet {
	t.Helper()
	p, err := ParsePriceSheet(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// find returns the usage line of id on key, failing if there is none.
func find(t testing.TB, us []Usage, id string, k MeterKey) Usage {
	t.Helper()
	for _, u := range us {
		if strings.EqualFold(u.ResourceID, id) && u.MeterKey == k {
			return u
		}
	}
	t.Fatalf("no usage for %s on %v in %s", id, k, dump(us))
	return Usage{}
}

func dump(us []Usage) string {
	var b strings.Builder
	for _, u := range us {
		fmt.Fprintf(&b, "\n  %s %v %ds %v", u.ResourceID, u.MeterKey, u.Seconds, u.ByPowerState)
	}
	return b.String()
}

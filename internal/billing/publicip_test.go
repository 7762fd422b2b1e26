package billing

import (
	"go/ast"
	"go/parser"
	"go/token"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPublicIPMeterName(t *testing.T) {
	tests := []struct {
		a    Attrs
		want string
	}{
		{standardIP, "Standard IPv4 Static Public IP"},
		{Attrs{IPSKU: "standard"}, "Standard IPv4 Static Public IP"}, // ARM's defaults: Regional, IPv4; Standard is static
		{Attrs{IPSKU: "Basic"}, "Basic IPv4 Dynamic Public IP"},      // Basic defaults to dynamic
		{Attrs{IPSKU: "Basic", IPAllocation: "static"}, "Basic IPv4 Static Public IP"},
		{Attrs{IPSKU: "Basic", IPAllocation: "Dynamic", IPVersion: "ipv6"}, "Basic IPv6 Dynamic Public IP"},
		{Attrs{IPSKU: "Standard", IPVersion: "IPv6"}, "Standard IPv6 Static Public IP"},
		{Attrs{IPSKU: "Standard", IPTier: "global"}, "Global IPv4 Static Public IP"},
		{Attrs{IPSKU: "Standard", IPTier: "Regional", IPAllocation: "Dynamic"}, "Standard IPv4 Dynamic Public IP"}, // ARM refuses it; no row prices it
		{Attrs{IPSKU: "Premium", IPAllocation: "Static"}, "Premium IPv4 Static Public IP"},
		{Attrs{IPSKU: "Standard", IPTier: "Metro"}, "Metro Standard IPv4 Static Public IP"},
	}
	for _, tt := range tests {
		if got := PublicIPMeterName(tt.a); got != tt.want {
			t.Errorf("PublicIPMeterName(%+v) = %q, want %q", tt.a, got, tt.want)
		}
	}
	k, err := KeyFor(PublicIP, Attrs{Location: "West Europe", IPSKU: "Standard"})
	if want := (MeterKey{Location: "westeurope", SKU: "Standard IPv4 Static Public IP", Unit: UnitHour}); err != nil || k != want {
		t.Errorf("KeyFor = %v, %v; want %v", k, err, want)
	}
}

// Public IP rows are read by meter name; other rates of the product, other
// services and other price types are not, and a meter published once under
// "Global" prices every region that has no row of its own.
func TestPublicIPLookup(t *testing.T) {
	p := mustSheet(t, `{"Items":[
 {"currencyCode":"USD","retailPrice":0.005,"armRegionName":"eastus","meterName":"Standard IPv4 Static Public IP","skuName":"Standard","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":0.0045,"armRegionName":"eastus","meterName":"Standard IPv4 Static Public IP","skuName":"Standard","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"DevTestConsumption"},
 {"currencyCode":"USD","retailPrice":0.006,"armRegionName":"eastus","meterName":"Standard IPv4 Public IP Prefix","skuName":"Standard","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":0.007,"armRegionName":"eastus","meterName":"Basic IPv4 Static Public IP","skuName":"Basic","productName":"IP Addresses","serviceName":"Other","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":0.01,"armRegionName":"Global","meterName":"Global IPv4 Static Public IP","skuName":"Global","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":0.012,"armRegionName":"westeurope","meterName":"Global IPv4 Static Public IP","skuName":"Global","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"}
]}`)
	if p.Len() != 3 {
		t.Errorf("%d keys priced, want 3 (the prefix, the other service and DevTest are not public IP rows)", p.Len())
	}
	for _, c := range []struct {
		a    Attrs
		want string // "" for unpriced
	}{
		{standardIP, "0.005"},
		{Attrs{Location: "westus2", IPSKU: "Standard"}, ""},
		{Attrs{Location: "eastus", IPSKU: "Basic", IPAllocation: "Static"}, ""},
		{Attrs{Location: "westus2", IPSKU: "Standard", IPTier: "Global"}, "0.01"},
		{Attrs{Location: "westeurope", IPSKU: "Standard", IPTier: "Global"}, "0.012"},
	} {
		rate, pr, ok := HourlyRate(p, PublicIP, c.a)
		if got := map[bool]string{true: pr.Exact}[ok]; got != c.want {
			t.Errorf("%+v: priced %q, want %q", c.a, got, c.want)
		}
		if ok && rate.Cmp(rat(c.want)) != 0 {
			t.Errorf("%+v: %v per hour, want %s", c.a, rate, c.want)
		}
	}
	// A VM key never reads a public IP row, nor the reverse.
	if _, ok := p.Lookup(MeterKey{Location: "eastus", SKU: "Standard IPv4 Static Public IP", OS: OSLinux, Unit: UnitHour}); ok {
		t.Error("a VM key priced by a public IP row")
	}
	if _, ok := p.Lookup(MeterKey{Location: "eastus", SKU: "Standard IPv4 Static Public IP", Spot: true, Unit: UnitHour}); ok {
		t.Error("a Spot public IP priced")
	}
}

// The seed's asterisk: a deallocated VM stops compute charges, but its
// public IP goes on billing in every state, and after the VM is deleted
// until the IP is. One VM running 1 h, deallocated 2 h, deleted with the IP
// kept 1 h: compute 1 h, the IP 4 h, exactly.
func TestPublicIPBillsInEveryVMState(t *testing.T) {
	sheet := mustSheet(t, testSheet)
	vm, ip := vmID("web"), ipID("web-ip")
	ipAttrs := standardIP
	ipAttrs.ParentID = vm
	evs := []Event{
		vmEv(vm, t0, "running", linuxD2),
		{ResourceID: ip, At: t0, Kind: PublicIP, Attrs: ipAttrs},
		vmEv(vm, t0.Add(time.Hour), "deallocating", Attrs{}),
		vmEv(vm, t0.Add(time.Hour+30*time.Second), "deallocated", Attrs{}),
		vmDel(vm, t0.Add(3*time.Hour)),
		{ResourceID: ip, At: t0.Add(3 * time.Hour), Kind: PublicIP, Attrs: standardIP}, // detached
		{ResourceID: ip, At: t0.Add(4 * time.Hour), Kind: PublicIP, Deleted: true},
	}
	items := Rate(meter(t, t0, t0.Add(5*time.Hour), PerSecond, evs...), sheet)
	var ipSeconds int64
	ipCost := new(big.Rat)
	for _, li := range items {
		if li.Kind != PublicIP {
			continue
		}
		if !li.Priced || li.ByPowerState != nil {
			t.Fatalf("IP line %+v", li)
		}
		ipSeconds += li.Seconds
		ipCost.Add(ipCost, li.Cost)
	}
	if ipSeconds != 4*3600 || ipCost.Cmp(rat("0.02")) != 0 {
		t.Errorf("IP billed %d s for %v, want 4 h for 0.02", ipSeconds, ipCost)
	}
	// A line carries the latest attributes on its meter: at the window's
	// end the IP is detached, so the bill shows it on its own, in Network.
	b := BillByVM(items)
	if len(b.VMs) != 1 || len(b.Orphans) != 1 || b.Network.Cost.Cmp(rat("0.02")) != 0 || b.VMs[0].Network.Cost != nil {
		t.Fatalf("bill: %+v", b)
	}
	// While attached, it is part of its VM's bill.
	attached := Rate(meter(t, t0, t0.Add(3*time.Hour), PerSecond, evs[:5]...), sheet)
	b = BillByVM(attached)
	if len(b.VMs) != 1 || len(b.Orphans) != 0 || b.VMs[0].Network.Cost.Cmp(rat("0.015")) != 0 ||
		b.Network.Cost.Cmp(rat("0.015")) != 0 || b.VMs[0].Compute.Cost.Cmp(rat("0.096")) != 0 {
		t.Errorf("bill by VM: %+v", b)
	}
	if want := new(big.Rat).Add(rat("0.015"), rat("0.096")); b.Total.Cost.Cmp(want) != 0 || b.VMs[0].Total.Cost.Cmp(want) != 0 {
		t.Errorf("totals %v, %v; want %v", b.Total.Cost, b.VMs[0].Total.Cost, want)
	}
	// Running agrees: the IP bills while the VM is deallocated.
	r := NewRunning(evs[1], NewRates(sheet))
	soFar, perHour := r.At(t0.Add(2 * time.Hour))
	if !r.Billed() || soFar.Value().Rat().Cmp(rat("0.01")) != 0 || perHour.Value().Rat().Cmp(rat("0.005")) != 0 {
		t.Errorf("running IP: %v so far, %v per hour", soFar.Value(), perHour.Value())
	}
}

// An IP that outlives its VM is an orphan of the bill, in Network.
func TestPublicIPOrphan(t *testing.T) {
	sheet := mustSheet(t, testSheet)
	items := Rate(meter(t, t0, t0.Add(2*time.Hour), PerSecond,
		Event{ResourceID: ipID("left"), At: t0, Kind: PublicIP, Attrs: Attrs{Location: "eastus", IPSKU: "Basic", IPAllocation: "Dynamic"}},
	), sheet)
	b := BillByVM(items)
	if len(b.Orphans) != 1 || b.Network.Cost.Cmp(rat("0.008")) != 0 || b.Disks.Cost != nil || b.Total.Cost.Cmp(rat("0.008")) != 0 {
		t.Errorf("bill: %+v", b)
	}
}

// Money is never a float: no float32 or float64 in the package's code.
func TestNoFloatMoney(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && (id.Name == "float64" || id.Name == "float32") {
				t.Errorf("%s: %s", fset.Position(id.Pos()), id.Name)
			}
			return true
		})
	}
}

// A Basic dynamic IP whose address is released while its VM is
// deallocated bills nothing then, and bills again once it has an address.
func TestReleasedDynamicIPDoesNotBill(t *testing.T) {
	sheet := mustSheet(t, testSheet)
	ip := ipID("dyn")
	dyn := Attrs{Location: "eastus", IPSKU: "Basic", IPAllocation: "Dynamic"}
	released := dyn
	released.IPReleased = true
	evs := []Event{
		{ResourceID: ip, At: t0, Kind: PublicIP, Attrs: dyn},
		{ResourceID: ip, At: t0.Add(time.Hour), Kind: PublicIP, Attrs: released},
		{ResourceID: ip, At: t0.Add(3 * time.Hour), Kind: PublicIP, Attrs: dyn},
	}
	items := Rate(meter(t, t0, t0.Add(4*time.Hour), PerSecond, evs...), sheet)
	if len(items) != 1 || items[0].Seconds != 2*3600 || items[0].Cost.Cmp(rat("0.008")) != 0 {
		t.Fatalf("items %+v", items)
	}
	rates := NewRates(sheet)
	r := NewRunning(evs[0], rates)
	r.Apply(evs[1], rates)
	if soFar, perHour := r.At(t0.Add(2 * time.Hour)); r.Billed() || soFar.Value().Rat().Cmp(rat("0.004")) != 0 || perHour.Value().Rat().Sign() != 0 {
		t.Errorf("released: billed %v, %v so far, %v per hour", r.Billed(), soFar.Value(), perHour.Value())
	}
}

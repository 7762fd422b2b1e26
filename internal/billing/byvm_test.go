package billing

import (
	"math/big"
	"testing"
	"time"
)

// A priced VM with its disk, a resized VM, an unpriced VM deallocated
// throughout, an unpriced VM that ran, and a disk without a VM: the bill by
// VM sums them exactly and says which sums are lower bounds.
func TestBillByVM(t *testing.T) {
	sheet := mustSheet(t, testSheet)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const web = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
	vm := func(size string) Attrs {
		return Attrs{Location: "eastus", VMSize: size, OSType: "Linux", ResourceGroup: "rg", SubscriptionID: "s1"}
	}
	disk := Attrs{Location: "eastus", DiskSKU: "Premium_LRS", DiskSizeGB: 128, ParentID: web}
	m := NewMeter(t0, t0.Add(2*time.Hour), PerSecond)
	for _, e := range []Event{
		{ResourceID: web, At: t0, Kind: VM, PowerState: "running", Attrs: vm("Standard_D2s_v3")},
		{ResourceID: web + "-os", At: t0, Kind: Disk, Attrs: disk},
		{ResourceID: web, At: t0.Add(time.Hour), Kind: VM, PowerState: "stopped"},
		{ResourceID: web, At: t0.Add(90 * time.Minute), Kind: VM, PowerState: "deallocated"},
		{ResourceID: "/x/virtualMachines/off", At: t0, Kind: VM, PowerState: "deallocated", Attrs: vm("Standard_Nope")},
		{ResourceID: "/x/disks/left", At: t0, Kind: Disk, Attrs: Attrs{Location: "eastus", DiskSKU: "Premium_LRS", DiskSizeGB: 128}},
	} {
		if err := m.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	b := BillByVM(Rate(m.Usage(), sheet))
	if len(b.VMs) != 2 || len(b.Orphans) != 1 {
		t.Fatalf("bill: %+v", b)
	}
	w := b.VMs[0]
	if w.ResourceID != web || w.Hours != (Hours{Running: 3600, Stopped: 1800, Unbilled: 1800}) || w.Compute.Unpriced || w.Disks.Unpriced {
		t.Fatalf("web: %+v", w)
	}
	compute := CostOver(rat("0.096"), 5400)
	if w.Compute.Cost.Cmp(compute) != 0 {
		t.Errorf("web compute %v, want %v", w.Compute.Cost, compute)
	}
	var left Amount
	left.AddItem(b.Orphans[0])
	sum := new(big.Rat).Add(w.Compute.Cost, w.Disks.Cost)
	all := new(big.Rat).Add(sum, left.Cost)
	if w.Total.Cost.Cmp(sum) != 0 || b.Total.Cost.Cmp(all) != 0 || b.Disks.Cost.Cmp(new(big.Rat).Add(w.Disks.Cost, left.Cost)) != 0 {
		t.Errorf("totals: web %v, bill %v, disks %v", w.Total.Cost, b.Total.Cost, b.Disks.Cost)
	}
	// Deallocated throughout and unpriced: it cost nothing, knowably.
	if off := b.VMs[1]; off.Compute.Unpriced || off.Compute.Value().Rat().Sign() != 0 || off.Hours.Unbilled != 7200 {
		t.Errorf("off: %+v", off)
	}
}

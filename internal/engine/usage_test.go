package engine

import (
	"context"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/lifecycle"
)

// The meter over the engine's own history: running, stopped (billed),
// deallocated (not), running again, deleted with its OS disk left behind.
func TestMeterOverEngineHistory(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	ctx := context.Background()
	if err := r.createVMWithDisks("rg", "vm1", DiskRef{Name: "vm1_os", CreateOption: "FromImage", SizeGB: 30, SKU: "Premium_LRS", OS: true}); err != nil {
		t.Fatal(err)
	}
	act := func(k lifecycle.Kind) {
		t.Helper()
		if _, err := act(ctx, r.eng, testSub, "rg", "vm1", lifecycle.Request{Kind: k}); err != nil {
			t.Fatal(err)
		}
	}
	r.advance(time.Hour) // billed from +15s (starting)
	act(lifecycle.PowerOff)
	r.advance(time.Hour) // stopping, then stopped: still billed
	act(lifecycle.Deallocate)
	r.advance(time.Hour) // deallocating, deallocated: not billed
	act(lifecycle.Start)
	r.advance(30 * time.Minute) // 10 s allocating (not billed), then stopped, starting, running
	act(lifecycle.Delete)
	r.advance(30 * time.Minute)

	usage := func(from, to time.Duration) map[string]billing.Usage {
		ms, err := r.eng.Meters(ctx, []billing.Window{{From: t0.Add(from), To: t0.Add(to)}}, billing.PerSecond, "")
		if err != nil {
			t.Fatal(err)
		}
		m := ms.Meter(0)
		out := map[string]billing.Usage{}
		for _, u := range m.Usage() {
			out[u.Kind.String()] = u
		}
		return out
	}
	whole := usage(0, 4*time.Hour)
	vm, disk := whole["VM"], whole["Disk"]
	// [15s, 2h) then [3h+10s, 3h30m).
	if want := int64(7200 - 15 + 1800 - 10); vm.Seconds != want {
		t.Errorf("VM billed seconds: %d, want %d (by state %v)", vm.Seconds, want, vm.ByPowerState)
	}
	// Deallocating 15 s from stopped, then deallocated until the start's
	// allocation step ends; the delete deallocates for 20 s.
	if vm.ByPowerState["deallocated"] != 3600-15+10 || vm.ByPowerState["deallocating"] != 15+20 {
		t.Errorf("unbilled seconds by state: %v", vm.ByPowerState)
	}
	if disk.Seconds != 4*3600 {
		t.Errorf("disk billed seconds: %d, want the whole window, past the VM's deletion", disk.Seconds)
	}
	if vm.MeterKey.SKU != "Standard_D2s_v3" || vm.MeterKey.OS != "Linux" || disk.MeterKey.SKU != "P4" {
		t.Errorf("meter keys: %+v %+v", vm.MeterKey, disk.MeterKey)
	}
	// Windows split anywhere add up to the whole.
	a, b := usage(0, 2*time.Hour+17*time.Second), usage(2*time.Hour+17*time.Second, 4*time.Hour)
	if a["VM"].Seconds+b["VM"].Seconds != vm.Seconds || a["Disk"].Seconds+b["Disk"].Seconds != disk.Seconds {
		t.Errorf("split windows: %d+%d vs %d", a["VM"].Seconds, b["VM"].Seconds, vm.Seconds)
	}
}

func TestIsPublicIP(t *testing.T) {
	const rg = "/subscriptions/s/resourceGroups/rg/providers/"
	for id, want := range map[string]bool{
		rg + "Microsoft.Network/publicIPAddresses/ip": true,
		rg + "Microsoft.Compute/virtualMachineScaleSets/web/virtualMachines/0/networkInterfaces/nic/ipConfigurations/ip/publicIPAddresses/pip": true,
		rg + "Microsoft.Compute/virtualMachines/publicIPAddresses":                                                                             false,
		rg + "Microsoft.Compute/virtualMachineScaleSets/publicIPAddresses/virtualMachines/0":                                                   false,
		rg + "Microsoft.Compute/disks/d": false,
	} {
		if got := isPublicIP(id); got != want {
			t.Errorf("isPublicIP(%s) = %v, want %v", id, got, want)
		}
	}
}

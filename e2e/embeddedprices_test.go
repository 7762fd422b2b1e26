package e2e

import (
	"context"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/azemu/azemu/internal/billing"
)

// With no --prices, the embedded sheet prices a Windows VM by its image, a
// Spot VM by its priority and their OS disks by tier, in a region where the
// sheet's sources publish those rates; each price says where it came from.
func TestEmbeddedSheetPricesWindowsSpotAndDisks(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg, region = "rg-sheet", "northeurope"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr(region)}, nil); err != nil {
		t.Fatal(err)
	}
	win := linuxVM(region)
	win.Properties.OSProfile.ComputerName = ptr("win")
	win.Properties.StorageProfile.ImageReference = &armcompute.ImageReference{
		Publisher: ptr("MicrosoftWindowsServer"), Offer: ptr("WindowsServer"), SKU: ptr("2016-Datacenter"), Version: ptr("latest")}
	spot := linuxVM(region)
	spot.Properties.OSProfile.ComputerName = ptr("spot")
	spot.Properties.Priority = ptr(armcompute.VirtualMachinePriorityTypesSpot)
	spot.Properties.EvictionPolicy = ptr(armcompute.VirtualMachineEvictionPolicyTypesDeallocate)
	var polls []func()
	for name, vm := range map[string]armcompute.VirtualMachine{"win": win, "spot": spot} {
		p, err := f.vms.BeginCreateOrUpdate(ctx, rg, name, vm, nil)
		if err != nil {
			t.Fatal(err)
		}
		polls = append(polls, func() { done(t, p) })
	}
	t0 := srv.now()
	srv.advance(80 * time.Second)
	for _, p := range polls {
		p()
	}
	end := srv.advance(time.Hour)

	var usage struct {
		Value []struct {
			Name            string          `json:"name"`
			Kind            string          `json:"kind"`
			ParentID        string          `json:"parentId"`
			Priced          bool            `json:"priced"`
			UnitPriceNumber *billing.Number `json:"unitPriceNumber"`
			PriceSource     string          `json:"priceSource"`
			PriceCapturedAt string          `json:"priceCapturedAt"`
		} `json:"value"`
	}
	window := "?from=" + t0.Format(time.RFC3339) + "&to=" + end.Format(time.RFC3339)
	if code := srv.do(http.MethodGet, "/_azemu/billing/usage"+window, nil, &usage); code != http.StatusOK {
		t.Fatalf("usage: HTTP %d", code)
	}
	// The sheet's figures for D2s_v3 in northeurope, as the published
	// snapshot of the Retail Prices API gives them.
	want := map[string]string{"win": "0.199", "spot": "0.019774"}
	vms, disks := 0, 0
	for _, l := range usage.Value {
		switch l.Kind {
		case "VM":
			vms++
			w, _ := new(big.Rat).SetString(want[l.Name])
			if !l.Priced || l.UnitPriceNumber == nil || l.UnitPriceNumber.Rat().Cmp(w) != 0 {
				t.Errorf("%s: priced %v at %v, want %s", l.Name, l.Priced, l.UnitPriceNumber, want[l.Name])
			}
			if !strings.HasPrefix(l.PriceSource, "Azure Retail Prices API") || l.PriceCapturedAt == "" {
				t.Errorf("%s: source %q captured %q", l.Name, l.PriceSource, l.PriceCapturedAt)
			}
		case "Disk":
			disks++
			if !l.Priced || l.UnitPriceNumber == nil || l.UnitPriceNumber.Rat().Sign() <= 0 || l.PriceCapturedAt == "" {
				t.Errorf("disk of %s: priced %v at %v (captured %q)", l.ParentID, l.Priced, l.UnitPriceNumber, l.PriceCapturedAt)
			}
		}
	}
	if vms != 2 || disks != 2 {
		t.Fatalf("%d VM and %d disk line items, want 2 and 2: %+v", vms, disks, usage.Value)
	}
}

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// An extension installing for 30 s, added as OS provisioning completes,
// keeps the VM in osProvisioningComplete for those 30 s; a VM from an
// attached specialized disk never shows the OS provisioning sub-states.
func TestExtensionsAndOSProvisioning(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg = "rg-e2e"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	exts, err := armcompute.NewVirtualMachineExtensionsClient(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	disks, err := armcompute.NewDisksClient(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}

	if _, err := f.vms.BeginCreateOrUpdate(ctx, rg, "gen", linuxVM("westeurope"), nil); err != nil {
		t.Fatal(err)
	}
	srv.advance(75 * time.Second)
	f.expect(rg, "gen", osComplete, pwRunning)
	install, err := exts.BeginCreateOrUpdate(ctx, rg, "gen", "script", armcompute.VirtualMachineExtension{
		Location: ptr("westeurope"),
		Tags:     map[string]*string{"azemu-install-seconds": ptr("30")},
		Properties: &armcompute.VirtualMachineExtensionProperties{
			Publisher: ptr("Microsoft.Azure.Extensions"), Type: ptr("CustomScript"), TypeHandlerVersion: ptr("2.1"),
			Settings:          map[string]any{"commandToExecute": "echo hello"},
			ProtectedSettings: map[string]any{"secret": "never returned"},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(29 * time.Second)
	f.expect(rg, "gen", osComplete, pwRunning)
	srv.advance(1 * time.Second)
	f.expect(rg, "gen", succeeded, pwRunning)
	got := done(t, install)
	if *got.Properties.ProvisioningState != "Succeeded" || got.Properties.ProtectedSettings != nil {
		t.Fatalf("extension: %+v", got.Properties)
	}
	iv, err := f.vms.InstanceView(ctx, rg, "gen", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(iv.Extensions) != 1 || *iv.Extensions[0].Statuses[0].Code != "ProvisioningState/succeeded" ||
		iv.VMAgent == nil || *iv.VMAgent.Statuses[0].DisplayStatus != "Ready" || *iv.ComputerName != "vm1" || *iv.OSName != "ubuntu" {
		t.Fatalf("instance view: %+v", iv)
	}

	// Specialized: attach an existing disk as the OS disk.
	dp, err := disks.BeginCreateOrUpdate(ctx, rg, "osdisk", armcompute.Disk{
		Location: ptr("westeurope"),
		SKU:      &armcompute.DiskSKU{Name: ptr(armcompute.DiskStorageAccountTypesPremiumLRS)},
		Properties: &armcompute.DiskProperties{DiskSizeGB: ptr[int32](64), OSType: ptr(armcompute.OperatingSystemTypesLinux),
			CreationData: &armcompute.CreationData{CreateOption: ptr(armcompute.DiskCreateOptionEmpty)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	disk := done(t, dp)
	spec := linuxVM("westeurope")
	spec.Properties.OSProfile = nil
	spec.Properties.StorageProfile = &armcompute.StorageProfile{OSDisk: &armcompute.OSDisk{
		CreateOption: ptr(armcompute.DiskCreateOptionTypesAttach), OSType: ptr(armcompute.OperatingSystemTypesLinux),
		ManagedDisk: &armcompute.ManagedDiskParameters{ID: disk.ID}}}
	if _, err := f.vms.BeginCreateOrUpdate(ctx, rg, "spec", spec, nil); err != nil {
		t.Fatal(err)
	}
	f.expect(rg, "spec", creating)
	srv.advance(15 * time.Second)
	f.expect(rg, "spec", creating, pwStarting)
	srv.advance(20 * time.Second)
	f.expect(rg, "spec", succeeded, pwRunning)
	d, err := disks.Get(ctx, rg, "osdisk", nil)
	if err != nil || d.ManagedBy == nil || *d.Properties.DiskState != armcompute.DiskStateAttached {
		t.Fatalf("attached disk: %+v %v", d, err)
	}
	srv.stop()
}

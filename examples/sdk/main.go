// Command sdk is the README's Go example: it drives a running azemu with the
// official Azure SDK for Go, exactly as it would drive Azure.
//
//	SSL_CERT_FILE=~/.azemu/tls/ca.pem go run ./examples/sdk
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

func main() {
	endpoint := "https://127.0.0.1:8443"
	if e := os.Getenv("AZEMU_URL"); e != "" {
		endpoint = e
	}
	const sub = "00000000-0000-0000-0000-000000000001"
	// azemu is both the authority and Resource Manager.
	azemu := policy.ClientOptions{Cloud: cloud.Configuration{
		ActiveDirectoryAuthorityHost: endpoint + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: endpoint, Audience: "https://management.core.windows.net/"},
		},
	}}
	// The stock credential; tenant "adfs" is azemu's ADFS-style authority.
	// The open mode gives any client ID and secret a token.
	cred, err := azidentity.NewClientSecretCredential("adfs", "example-app", "example-secret",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azemu})
	if err != nil {
		log.Fatal(err)
	}
	opts := &arm.ClientOptions{ClientOptions: azemu}
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(sub, cred, opts)
	if err != nil {
		log.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(sub, cred, opts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "demo", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		log.Fatal(err)
	}
	nic := "/subscriptions/" + sub + "/resourceGroups/demo/providers/Microsoft.Network/networkInterfaces/api-nic"
	poller, err := vms.BeginCreateOrUpdate(ctx, "demo", "api", armcompute.VirtualMachine{
		Location: to.Ptr("eastus"),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypesStandardD2SV3)},
			StorageProfile: &armcompute.StorageProfile{
				ImageReference: &armcompute.ImageReference{
					Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest")},
				OSDisk: &armcompute.OSDisk{CreateOption: to.Ptr(armcompute.DiskCreateOptionTypesFromImage), DiskSizeGB: to.Ptr[int32](128)},
			},
			OSProfile:      &armcompute.OSProfile{ComputerName: to.Ptr("api"), AdminUsername: to.Ptr("azureuser"), AdminPassword: to.Ptr("Example-Passw0rd")},
			NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{ID: to.Ptr(nic)}}},
		},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		log.Fatal(err)
	}
	printStatuses(ctx, vms, "created")

	dealloc, err := vms.BeginDeallocate(ctx, "demo", "api", nil)
	if err != nil {
		log.Fatal(err)
	}
	printStatuses(ctx, vms, "deallocating")
	if _, err := dealloc.PollUntilDone(ctx, nil); err != nil {
		log.Fatal(err)
	}
	printStatuses(ctx, vms, "deallocated")
}

func printStatuses(ctx context.Context, vms *armcompute.VirtualMachinesClient, when string) {
	iv, err := vms.InstanceView(ctx, "demo", "api", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%-13s", when)
	for _, s := range iv.Statuses {
		fmt.Printf("  %s", *s.Code)
	}
	fmt.Println()
}

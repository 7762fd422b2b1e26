package e2e

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// networkedSet is a scale set whose profile gives each instance an
// interface in subnet, with a public IP.
func networkedSet(mode armcompute.OrchestrationMode, capacity int64, subnet string) armcompute.VirtualMachineScaleSet {
	set := scaleSet(mode, capacity)
	set.Properties.VirtualMachineProfile.NetworkProfile = &armcompute.VirtualMachineScaleSetNetworkProfile{
		NetworkInterfaceConfigurations: []*armcompute.VirtualMachineScaleSetNetworkConfiguration{{
			Name: ptr("nic"), Properties: &armcompute.VirtualMachineScaleSetNetworkConfigurationProperties{Primary: ptr(true),
				IPConfigurations: []*armcompute.VirtualMachineScaleSetIPConfiguration{{Name: ptr("ip"),
					Properties: &armcompute.VirtualMachineScaleSetIPConfigurationProperties{Subnet: &armcompute.APIEntityReference{ID: ptr(subnet)},
						PublicIPAddressConfiguration: &armcompute.VirtualMachineScaleSetPublicIPAddressConfiguration{Name: ptr("pip"),
							Properties: &armcompute.VirtualMachineScaleSetPublicIPAddressConfigurationProperties{IdleTimeoutInMinutes: ptr[int32](10)}}}}}}}},
	}
	if mode == armcompute.OrchestrationModeFlexible {
		set.Properties.VirtualMachineProfile.NetworkProfile.NetworkAPIVersion = ptr(armcompute.NetworkAPIVersionTwoThousandTwenty1101)
	}
	return set
}

// A Uniform scale set's instances get their interfaces and public IPs from
// the set's networkInterfaceConfigurations, named under each instance and
// read through armnetwork's scale set operations, with private addresses
// from the subnet; they are not top-level resources of the group, and go
// when their instance does. A Flexible set's members get top-level
// interfaces, as VMs do, which go with the set.
func TestScaleSetInterfaces(t *testing.T) {
	t.Parallel()
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	c := newScaleSetClients(t, srv)
	n := newNetwork(t, srv)
	ctx := context.Background()
	const rg = "rg-vmss-net"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	vnet := finish(n.vnets.BeginCreateOrUpdate(ctx, rg, "vnet", armnetwork.VirtualNetwork{Location: ptr("westeurope"),
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{ptr("10.2.0.0/16")}},
			Subnets: []*armnetwork.Subnet{{Name: ptr("default"), Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: ptr("10.2.0.0/24")}}}}}, nil))(t)
	subnet := *vnet.Properties.Subnets[0].ID

	create, err := c.sets.BeginCreateOrUpdate(ctx, rg, "web", networkedSet(armcompute.OrchestrationModeUniform, 2, subnet), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(90 * time.Second)
	done(t, create)

	// The set's interfaces: one per instance, under it, each with its own
	// address in the subnet and a public IP holding an address while the
	// instance runs.
	setNICs := names(t, n.nics.NewListVirtualMachineScaleSetNetworkInterfacesPager(rg, "web", nil), func(p armnetwork.InterfacesClientListVirtualMachineScaleSetNetworkInterfacesResponse) []string {
		var out []string
		for _, nic := range p.Value {
			out = append(out, *nic.ID+" "+*nic.Properties.IPConfigurations[0].Properties.PrivateIPAddress+" "+*nic.Properties.VirtualMachine.ID)
		}
		return out
	})
	sort.Strings(setNICs)
	set := "/subscriptions/" + subscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachineScaleSets/web"
	want := []string{
		set + "/virtualMachines/0/networkInterfaces/nic 10.2.0.4 " + set + "/virtualMachines/0",
		set + "/virtualMachines/1/networkInterfaces/nic 10.2.0.5 " + set + "/virtualMachines/1",
	}
	if strings.Join(setNICs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the set's interfaces:\n%s\nwant\n%s", strings.Join(setNICs, "\n"), strings.Join(want, "\n"))
	}
	nic1, err := n.nics.GetVirtualMachineScaleSetNetworkInterface(ctx, rg, "web", "1", "nic", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *nic1.Properties.Primary != true || *nic1.Properties.MacAddress == "" || *nic1.Properties.IPConfigurations[0].Properties.Subnet.ID != subnet {
		t.Errorf("instance 1's interface: %+v", nic1.Properties)
	}
	cfg, err := n.nics.GetVirtualMachineScaleSetIPConfiguration(ctx, rg, "web", "1", "nic", "ip", nil)
	if err != nil || *cfg.Properties.PrivateIPAddress != "10.2.0.5" {
		t.Fatalf("instance 1's IP configuration: %+v %v", cfg, err)
	}
	ip, err := n.ips.GetVirtualMachineScaleSetPublicIPAddress(ctx, rg, "web", "1", "nic", "ip", "pip", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ip.Properties.IPAddress == nil || *ip.Properties.IdleTimeoutInMinutes != 10 ||
		*ip.Properties.IPConfiguration.ID != set+"/virtualMachines/1/networkInterfaces/nic/ipConfigurations/ip" {
		t.Errorf("instance 1's public IP: %+v", ip.Properties)
	}
	countIPs := func() int {
		return len(names(t, n.ips.NewListVirtualMachineScaleSetPublicIPAddressesPager(rg, "web", nil), func(p armnetwork.PublicIPAddressesClientListVirtualMachineScaleSetPublicIPAddressesResponse) []string {
			var out []string
			for _, ip := range p.Value {
				out = append(out, *ip.Name)
			}
			return out
		}))
	}
	if got := countIPs(); got != 2 {
		t.Errorf("%d public IPs in the set, want 2", got)
	}
	// Each instance's public IP is billed, under the instance.
	var usage struct {
		Value []struct {
			ResourceID, Kind, ParentID string
			Seconds                    int64
		} `json:"value"`
	}
	if code := srv.do(http.MethodGet, "/_azemu/billing/usage?subscription="+subscriptionID+"&resourceGroup="+rg, nil, &usage); code != http.StatusOK {
		t.Fatalf("usage: HTTP %d", code)
	}
	billedIPs := 0
	for _, u := range usage.Value {
		if u.Kind == "PublicIP" && strings.HasPrefix(u.ResourceID, set+"/virtualMachines/") && u.Seconds > 0 {
			billedIPs++
		}
	}
	if billedIPs != 2 {
		t.Errorf("%d instance public IPs billed, want 2: %+v", billedIPs, usage.Value)
	}
	// Not top-level resources of the group; the subnet knows them.
	if got := names(t, n.nics.NewListPager(rg, nil), func(p armnetwork.InterfacesClientListResponse) []string {
		var out []string
		for _, nic := range p.Value {
			out = append(out, *nic.Name)
		}
		return out
	}); len(got) != 0 {
		t.Errorf("the group's interfaces: %v", got)
	}
	sn, err := n.subnets.Get(ctx, rg, "vnet", "default", nil)
	if err != nil || len(sn.Properties.IPConfigurations) != 2 {
		t.Fatalf("the subnet: %+v %v", sn.Properties, err)
	}
	// An instance that does not exist, or an interface it does not have.
	_, err = n.nics.GetVirtualMachineScaleSetNetworkInterface(ctx, rg, "web", "7", "nic", nil)
	refused(t, "an unknown instance's interface", err, http.StatusNotFound, "ResourceNotFound")
	_, err = n.nics.GetVirtualMachineScaleSetNetworkInterface(ctx, rg, "web", "0", "other", nil)
	refused(t, "an unknown interface", err, http.StatusNotFound, "ResourceNotFound")

	// Deleting instance 1 releases its interface and IP, and its address.
	del, err := c.vms.BeginDelete(ctx, rg, "web", "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(time.Minute)
	done(t, del)
	_, err = n.nics.GetVirtualMachineScaleSetNetworkInterface(ctx, rg, "web", "1", "nic", nil)
	refused(t, "a deleted instance's interface", err, http.StatusNotFound, "ResourceNotFound")
	if got := countIPs(); got != 1 {
		t.Errorf("%d public IPs after the delete, want 1", got)
	}
	// A new instance takes the lowest free address again.
	grow, err := c.sets.BeginCreateOrUpdate(ctx, rg, "web", networkedSet(armcompute.OrchestrationModeUniform, 2, subnet), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(90 * time.Second)
	done(t, grow)
	nic2, err := n.nics.GetVirtualMachineScaleSetNetworkInterface(ctx, rg, "web", "2", "nic", nil)
	if err != nil || *nic2.Properties.IPConfigurations[0].Properties.PrivateIPAddress != "10.2.0.5" {
		t.Fatalf("instance 2's interface: %+v %v", nic2, err)
	}
	// The network cannot go while the set's interfaces use it.
	_, err = n.vnets.BeginDelete(ctx, rg, "vnet", nil)
	refused(t, "deleting the set's network", err, http.StatusBadRequest, "InUseSubnetCannotBeDeleted")

	// Flexible: each member has a top-level interface <member>-nic, which
	// goes with the set.
	flex, err := c.sets.BeginCreateOrUpdate(ctx, rg, "flex", networkedSet(armcompute.OrchestrationModeFlexible, 1, subnet), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(90 * time.Second)
	done(t, flex)
	var member string
	if got := names(t, n.nics.NewListPager(rg, nil), func(p armnetwork.InterfacesClientListResponse) []string {
		var out []string
		for _, nic := range p.Value {
			out = append(out, *nic.Name)
			member = *nic.Properties.VirtualMachine.ID
		}
		return out
	}); len(got) != 1 || !strings.HasPrefix(got[0], "flex_") || !strings.HasSuffix(got[0], "-nic") ||
		!strings.HasSuffix(member, "/virtualMachines/"+strings.TrimSuffix(got[0], "-nic")) {
		t.Fatalf("the flexible set's interfaces: %v (member %s)", got, member)
	}
	memberName := member[strings.LastIndex(member, "/")+1:]
	if ip, err := n.ips.Get(ctx, rg, memberName+"-pip", nil); err != nil || !strings.EqualFold(*ip.Properties.IPConfiguration.ID,
		"/subscriptions/"+subscriptionID+"/resourceGroups/"+rg+"/providers/Microsoft.Network/networkInterfaces/"+memberName+"-nic/ipConfigurations/ip") {
		t.Fatalf("the member's public IP: %+v %v", ip, err)
	}
	for _, name := range []string{"flex", "web"} {
		p, err := c.sets.BeginDelete(ctx, rg, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv.advance(2 * time.Minute)
		done(t, p)
	}
	sn, err = n.subnets.Get(ctx, rg, "vnet", "default", nil)
	if err != nil || len(sn.Properties.IPConfigurations) != 0 {
		t.Fatalf("the subnet after the sets went: %+v %v", sn.Properties.IPConfigurations, err)
	}
	finish(n.vnets.BeginDelete(ctx, rg, "vnet", nil))(t)
	if got := names(t, n.ips.NewListPager(rg, nil), func(p armnetwork.PublicIPAddressesClientListResponse) []string {
		var out []string
		for _, ip := range p.Value {
			out = append(out, *ip.Name)
		}
		return out
	}); len(got) != 0 {
		t.Errorf("public IPs left: %v", got)
	}
}

package e2e

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// network bundles the armnetwork clients for one server.
type network struct {
	vnets    *armnetwork.VirtualNetworksClient
	subnets  *armnetwork.SubnetsClient
	nsgs     *armnetwork.SecurityGroupsClient
	rules    *armnetwork.SecurityRulesClient
	defaults *armnetwork.DefaultSecurityRulesClient
	nics     *armnetwork.InterfacesClient
	configs  *armnetwork.InterfaceIPConfigurationsClient
	ips      *armnetwork.PublicIPAddressesClient
}

func newNetwork(t *testing.T, srv *server) *network {
	t.Helper()
	f, err := armnetwork.NewClientFactory(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	return &network{vnets: f.NewVirtualNetworksClient(), subnets: f.NewSubnetsClient(), nsgs: f.NewSecurityGroupsClient(),
		rules: f.NewSecurityRulesClient(), defaults: f.NewDefaultSecurityRulesClient(), nics: f.NewInterfacesClient(),
		configs: f.NewInterfaceIPConfigurationsClient(), ips: f.NewPublicIPAddressesClient()}
}

// finish waits for a network operation's poller: finish(client.BeginX(...))(t).
// Network's changes are done when answered, so no clock needs to move.
func finish[T any](p *runtime.Poller[T], err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		return done(t, p)
	}
}

// refused checks that err is Azure's answer with the status and code.
func refused(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%s: got %v, want HTTP %d %s", what, err, status, code)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("%s: got HTTP %d %s, want HTTP %d %s", what, re.StatusCode, re.ErrorCode, status, code)
	}
}

// beginRefused checks that a Begin call is refused at once.
func beginRefused[T any](t *testing.T, what string, _ *runtime.Poller[T], err error, code string) {
	t.Helper()
	refused(t, what, err, http.StatusBadRequest, code)
}

func names[T any](t *testing.T, pager *runtime.Pager[T], value func(T) []string) []string {
	t.Helper()
	var out []string
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, value(page)...)
	}
	sort.Strings(out)
	return out
}

func nameList[T any](items []*T, name func(*T) *string) []string {
	var out []string
	for _, it := range items {
		out = append(out, *name(it))
	}
	return out
}

// TestNetworkWithSDK drives every network operation azemu serves through
// armnetwork, and each refusal Azure answers them with: networks and
// subnets, security groups and their rules, public IPs and interfaces, a
// VM that uses an interface, and a Basic Dynamic IP that loses its address
// while its VM is deallocated.
func TestNetworkWithSDK(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	n := newNetwork(t, srv)
	ctx := context.Background()
	const rg, loc = "rg-net", "westeurope"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr(loc)}, nil); err != nil {
		t.Fatal(err)
	}

	// A network with a subnet inline, then one as a child.
	vnet := finish(n.vnets.BeginCreateOrUpdate(ctx, rg, "net", armnetwork.VirtualNetwork{Location: ptr(loc),
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{ptr("10.1.0.0/16")}},
			Subnets:      []*armnetwork.Subnet{{Name: ptr("default"), Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: ptr("10.1.0.0/24")}}},
		}}, nil))(t)
	if *vnet.Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded || len(vnet.Properties.Subnets) != 1 {
		t.Fatalf("network: %+v", vnet.Properties)
	}
	subnet := finish(n.subnets.BeginCreateOrUpdate(ctx, rg, "net", "app", armnetwork.Subnet{
		Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: ptr("10.1.1.0/24")}}, nil))(t)
	if *subnet.Properties.AddressPrefix != "10.1.1.0/24" {
		t.Fatalf("subnet: %+v", subnet.Properties)
	}
	p1, err := n.subnets.BeginCreateOrUpdate(ctx, rg, "net", "clash", armnetwork.Subnet{Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: ptr("10.1.1.128/25")}}, nil)
	beginRefused(t, "an overlapping subnet", p1, err, "NetcfgSubnetRangesOverlap")
	p1, err = n.subnets.BeginCreateOrUpdate(ctx, rg, "net", "outside", armnetwork.Subnet{Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: ptr("10.9.0.0/24")}}, nil)
	beginRefused(t, "a subnet outside the address space", p1, err, "NetcfgSubnetRangeOutsideVnet")
	missingNSG := "/subscriptions/" + subscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Network/networkSecurityGroups/missing"
	p1, err = n.subnets.BeginCreateOrUpdate(ctx, rg, "net", "guarded", armnetwork.Subnet{Properties: &armnetwork.SubnetPropertiesFormat{
		AddressPrefix: ptr("10.1.5.0/24"), NetworkSecurityGroup: &armnetwork.SecurityGroup{ID: ptr(missingNSG)}}}, nil)
	beginRefused(t, "a subnet naming a security group that does not exist", p1, err, "InvalidResourceReference")
	if !strings.Contains(err.Error(), "Resource "+missingNSG+" referenced by resource ") {
		t.Errorf("the refusal: %v", err)
	}
	if got := names(t, n.subnets.NewListPager(rg, "net", nil), func(p armnetwork.SubnetsClientListResponse) []string {
		return nameList(p.Value, func(s *armnetwork.Subnet) *string { return s.Name })
	}); strings.Join(got, ",") != "app,default" {
		t.Fatalf("subnets: %v", got)
	}
	if _, err := n.subnets.Get(ctx, rg, "net", "default", nil); err != nil {
		t.Fatal(err)
	}

	// A security group with a rule, and one more as a child.
	finish(n.nsgs.BeginCreateOrUpdate(ctx, rg, "web", armnetwork.SecurityGroup{Location: ptr(loc),
		Properties: &armnetwork.SecurityGroupPropertiesFormat{SecurityRules: []*armnetwork.SecurityRule{{Name: ptr("ssh"),
			Properties: &armnetwork.SecurityRulePropertiesFormat{Priority: ptr[int32](300), Direction: ptr(armnetwork.SecurityRuleDirectionInbound),
				Access: ptr(armnetwork.SecurityRuleAccessAllow), Protocol: ptr(armnetwork.SecurityRuleProtocolTCP), DestinationPortRange: ptr("22")}}}}}, nil))(t)
	finish(n.rules.BeginCreateOrUpdate(ctx, rg, "web", "https", armnetwork.SecurityRule{Properties: &armnetwork.SecurityRulePropertiesFormat{
		Priority: ptr[int32](310), Direction: ptr(armnetwork.SecurityRuleDirectionInbound), Access: ptr(armnetwork.SecurityRuleAccessAllow),
		Protocol: ptr(armnetwork.SecurityRuleProtocolTCP), DestinationPortRange: ptr("443")}}, nil))(t)
	p2, err := n.rules.BeginCreateOrUpdate(ctx, rg, "web", "clash", armnetwork.SecurityRule{Properties: &armnetwork.SecurityRulePropertiesFormat{
		Priority: ptr[int32](310), Direction: ptr(armnetwork.SecurityRuleDirectionInbound), Access: ptr(armnetwork.SecurityRuleAccessDeny),
		Protocol: ptr(armnetwork.SecurityRuleProtocolAsterisk)}}, nil)
	beginRefused(t, "a rule with a taken priority", p2, err, "SecurityRuleConflict")
	p2, err = n.rules.BeginCreateOrUpdate(ctx, rg, "web", "low", armnetwork.SecurityRule{Properties: &armnetwork.SecurityRulePropertiesFormat{
		Priority: ptr[int32](50), Direction: ptr(armnetwork.SecurityRuleDirectionInbound), Access: ptr(armnetwork.SecurityRuleAccessDeny),
		Protocol: ptr(armnetwork.SecurityRuleProtocolAsterisk)}}, nil)
	beginRefused(t, "a rule below priority 100", p2, err, "SecurityRuleInvalidPriority")
	if got := names(t, n.rules.NewListPager(rg, "web", nil), func(p armnetwork.SecurityRulesClientListResponse) []string {
		return nameList(p.Value, func(r *armnetwork.SecurityRule) *string { return r.Name })
	}); strings.Join(got, ",") != "https,ssh" {
		t.Fatalf("rules: %v", got)
	}
	rule, err := n.rules.Get(ctx, rg, "web", "https", nil)
	if err != nil || *rule.Properties.Priority != 310 || *rule.Properties.DestinationPortRange != "443" {
		t.Fatalf("rule: %v %+v", err, rule)
	}
	if got := names(t, n.defaults.NewListPager(rg, "web", nil), func(p armnetwork.DefaultSecurityRulesClientListResponse) []string {
		return nameList(p.Value, func(r *armnetwork.SecurityRule) *string { return r.Name })
	}); len(got) != 6 {
		t.Fatalf("default rules: %v", got)
	}
	if d, err := n.defaults.Get(ctx, rg, "web", "DenyAllInBound", nil); err != nil || *d.Properties.Priority != 65500 {
		t.Fatalf("DenyAllInBound: %v", err)
	}
	finish(n.rules.BeginDelete(ctx, rg, "web", "https", nil))(t)

	// Public IPs: Standard is Static only.
	p3, err := n.ips.BeginCreateOrUpdate(ctx, rg, "bad", armnetwork.PublicIPAddress{Location: ptr(loc),
		SKU:        &armnetwork.PublicIPAddressSKU{Name: ptr(armnetwork.PublicIPAddressSKUNameStandard)},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{PublicIPAllocationMethod: ptr(armnetwork.IPAllocationMethodDynamic)}}, nil)
	beginRefused(t, "a Standard Dynamic IP", p3, err, "StandardSkuPublicIPAddressesCannotHaveDynamicAllocation")
	pip := finish(n.ips.BeginCreateOrUpdate(ctx, rg, "pip", armnetwork.PublicIPAddress{Location: ptr(loc),
		SKU:        &armnetwork.PublicIPAddressSKU{Name: ptr(armnetwork.PublicIPAddressSKUNameStandard)},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{PublicIPAllocationMethod: ptr(armnetwork.IPAllocationMethodStatic)}}, nil))(t)
	static := *pip.Properties.IPAddress
	if !strings.HasPrefix(static, "203.0.113.") {
		t.Fatalf("a Static IP's address %q, want one of 203.0.113.0/24", static)
	}
	dyn := finish(n.ips.BeginCreateOrUpdate(ctx, rg, "dyn", armnetwork.PublicIPAddress{Location: ptr(loc),
		SKU:        &armnetwork.PublicIPAddressSKU{Name: ptr(armnetwork.PublicIPAddressSKUNameBasic)},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{PublicIPAllocationMethod: ptr(armnetwork.IPAllocationMethodDynamic)}}, nil))(t)
	if dyn.Properties.IPAddress != nil {
		t.Fatalf("a Dynamic IP no VM uses has address %q", *dyn.Properties.IPAddress)
	}

	// Interfaces: addresses from the subnet, refused ones with Azure's codes.
	subnetID := *vnet.ID + "/subnets/default"
	nicBody := func(cfg armnetwork.InterfaceIPConfigurationPropertiesFormat) armnetwork.Interface {
		cfg.Subnet = &armnetwork.Subnet{ID: ptr(subnetID)}
		return armnetwork.Interface{Location: ptr(loc), Properties: &armnetwork.InterfacePropertiesFormat{
			IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{Name: ptr("ipconfig1"), Properties: &cfg}}}}
	}
	web := nicBody(armnetwork.InterfaceIPConfigurationPropertiesFormat{PublicIPAddress: &armnetwork.PublicIPAddress{ID: pip.ID}})
	web.Properties.NetworkSecurityGroup = &armnetwork.SecurityGroup{ID: ptr(strings.Replace(*vnet.ID, "virtualNetworks/net", "networkSecurityGroups/web", 1))}
	nic := finish(n.nics.BeginCreateOrUpdate(ctx, rg, "web-nic", web, nil))(t)
	if got := *nic.Properties.IPConfigurations[0].Properties.PrivateIPAddress; got != "10.1.0.4" {
		t.Fatalf("the first interface's address %s, want 10.1.0.4", got)
	}
	fixed := finish(n.nics.BeginCreateOrUpdate(ctx, rg, "fixed-nic", nicBody(armnetwork.InterfaceIPConfigurationPropertiesFormat{
		PrivateIPAllocationMethod: ptr(armnetwork.IPAllocationMethodStatic), PrivateIPAddress: ptr("10.1.0.10"),
		PublicIPAddress: &armnetwork.PublicIPAddress{ID: dyn.ID}}), nil))(t)
	if got := *fixed.Properties.IPConfigurations[0].Properties.PrivateIPAddress; got != "10.1.0.10" {
		t.Fatalf("a Static address %s, want 10.1.0.10", got)
	}
	for _, c := range []struct {
		what, code string
		cfg        armnetwork.InterfaceIPConfigurationPropertiesFormat
	}{
		{"a taken address", "PrivateIPAddressIsAllocated", armnetwork.InterfaceIPConfigurationPropertiesFormat{
			PrivateIPAllocationMethod: ptr(armnetwork.IPAllocationMethodStatic), PrivateIPAddress: ptr("10.1.0.10")}},
		{"an address outside the subnet", "PrivateIPAddressNotInSubnet", armnetwork.InterfaceIPConfigurationPropertiesFormat{
			PrivateIPAllocationMethod: ptr(armnetwork.IPAllocationMethodStatic), PrivateIPAddress: ptr("10.1.1.10")}},
		{"a reserved address", "PrivateIPAddressInReservedRange", armnetwork.InterfaceIPConfigurationPropertiesFormat{
			PrivateIPAllocationMethod: ptr(armnetwork.IPAllocationMethodStatic), PrivateIPAddress: ptr("10.1.0.2")}},
		{"a public IP another interface holds", "PublicIPAddressInUse", armnetwork.InterfaceIPConfigurationPropertiesFormat{
			PublicIPAddress: &armnetwork.PublicIPAddress{ID: pip.ID}}},
		{"a public IP that does not exist", "InvalidResourceReference", armnetwork.InterfaceIPConfigurationPropertiesFormat{
			PublicIPAddress: &armnetwork.PublicIPAddress{ID: ptr(*pip.ID + "-missing")}}},
	} {
		p, err := n.nics.BeginCreateOrUpdate(ctx, rg, "bad-nic", nicBody(c.cfg), nil)
		beginRefused(t, c.what, p, err, c.code)
	}
	if cfg, err := n.configs.Get(ctx, rg, "web-nic", "ipconfig1", nil); err != nil || *cfg.Properties.PrivateIPAddress != "10.1.0.4" {
		t.Fatalf("ipconfig1: %v", err)
	}
	if got := names(t, n.configs.NewListPager(rg, "web-nic", nil), func(p armnetwork.InterfaceIPConfigurationsClientListResponse) []string {
		return nameList(p.Value, func(c *armnetwork.InterfaceIPConfiguration) *string { return c.Name })
	}); strings.Join(got, ",") != "ipconfig1" {
		t.Fatalf("ip configurations: %v", got)
	}

	// A VM that names both interfaces links them; the primary one is first.
	body := linuxVM(loc)
	body.Properties.NetworkProfile = &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{
		{ID: nic.ID, Properties: &armcompute.NetworkInterfaceReferenceProperties{Primary: ptr(true)}},
		{ID: fixed.ID, Properties: &armcompute.NetworkInterfaceReferenceProperties{Primary: ptr(false)}}}}
	create, err := f.vms.BeginCreateOrUpdate(ctx, rg, "vm1", body, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(90 * time.Second)
	done(t, create)
	got, err := n.nics.Get(ctx, rg, "web-nic", nil)
	if err != nil || got.Properties.VirtualMachine == nil || !strings.HasSuffix(*got.Properties.VirtualMachine.ID, "/virtualMachines/vm1") || !*got.Properties.Primary {
		t.Fatalf("the interface's virtualMachine: %v %+v", err, got.Properties)
	}
	if dyn, _ := n.ips.Get(ctx, rg, "dyn", nil); dyn.Properties.IPAddress == nil {
		t.Fatal("a Dynamic IP whose VM runs has no address")
	}
	second := linuxVM(loc)
	second.Properties.NetworkProfile = &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{ID: nic.ID}}}
	_, err = f.vms.BeginCreateOrUpdate(ctx, rg, "vm2", second, nil)
	refused(t, "a second VM naming the interface", err, http.StatusBadRequest, "NicInUse")
	_, err = n.nics.BeginDelete(ctx, rg, "web-nic", nil)
	refused(t, "deleting an interface in use", err, http.StatusBadRequest, "NicInUse")
	_, err = n.ips.BeginDelete(ctx, rg, "pip", nil)
	refused(t, "deleting an associated IP", err, http.StatusBadRequest, "PublicIPAddressCannotBeDeleted")
	_, err = n.nsgs.BeginDelete(ctx, rg, "web", nil)
	refused(t, "deleting a group in use", err, http.StatusBadRequest, "InUseNetworkSecurityGroupCannotBeDeleted")
	_, err = n.subnets.BeginDelete(ctx, rg, "net", "default", nil)
	refused(t, "deleting a subnet in use", err, http.StatusBadRequest, "InUseSubnetCannotBeDeleted")
	_, err = n.vnets.BeginDelete(ctx, rg, "net", nil)
	refused(t, "deleting a network in use", err, http.StatusBadRequest, "InUseSubnetCannotBeDeleted")

	// Deallocated, the Dynamic IP gives its address up; started, it gets one.
	dealloc, err := f.vms.BeginDeallocate(ctx, rg, "vm1", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(2 * time.Minute)
	done(t, dealloc)
	if dyn, _ := n.ips.Get(ctx, rg, "dyn", nil); dyn.Properties.IPAddress != nil {
		t.Fatalf("a deallocated VM's Dynamic IP keeps %s", *dyn.Properties.IPAddress)
	}
	if pip, _ := n.ips.Get(ctx, rg, "pip", nil); pip.Properties.IPAddress == nil || *pip.Properties.IPAddress != static {
		t.Fatal("a deallocated VM's Static IP changed")
	}
	start, err := f.vms.BeginStart(ctx, rg, "vm1", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(2 * time.Minute)
	done(t, start)
	if dyn, _ := n.ips.Get(ctx, rg, "dyn", nil); dyn.Properties.IPAddress == nil {
		t.Fatal("a started VM's Dynamic IP has no address")
	}

	// Tags, lists across the subscription.
	for _, tag := range []func() error{
		func() error {
			_, err := n.vnets.UpdateTags(ctx, rg, "net", armnetwork.TagsObject{Tags: map[string]*string{"env": ptr("dev")}}, nil)
			return err
		},
		func() error {
			_, err := n.nsgs.UpdateTags(ctx, rg, "web", armnetwork.TagsObject{Tags: map[string]*string{"env": ptr("dev")}}, nil)
			return err
		},
		func() error {
			_, err := n.nics.UpdateTags(ctx, rg, "web-nic", armnetwork.TagsObject{Tags: map[string]*string{"env": ptr("dev")}}, nil)
			return err
		},
		func() error {
			_, err := n.ips.UpdateTags(ctx, rg, "pip", armnetwork.TagsObject{Tags: map[string]*string{"env": ptr("dev")}}, nil)
			return err
		},
	} {
		if err := tag(); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := n.vnets.Get(ctx, rg, "net", nil); v.Tags["env"] == nil || len(v.Properties.Subnets) != 2 {
		t.Fatalf("after UpdateTags: %+v", v)
	}
	lists := map[string][]string{
		"vnets": names(t, n.vnets.NewListAllPager(nil), func(p armnetwork.VirtualNetworksClientListAllResponse) []string {
			return nameList(p.Value, func(v *armnetwork.VirtualNetwork) *string { return v.Name })
		}),
		"nsgs": names(t, n.nsgs.NewListAllPager(nil), func(p armnetwork.SecurityGroupsClientListAllResponse) []string {
			return nameList(p.Value, func(v *armnetwork.SecurityGroup) *string { return v.Name })
		}),
		"nics": names(t, n.nics.NewListAllPager(nil), func(p armnetwork.InterfacesClientListAllResponse) []string {
			return nameList(p.Value, func(v *armnetwork.Interface) *string { return v.Name })
		}),
		"ips": names(t, n.ips.NewListAllPager(nil), func(p armnetwork.PublicIPAddressesClientListAllResponse) []string {
			return nameList(p.Value, func(v *armnetwork.PublicIPAddress) *string { return v.Name })
		}),
		"group vnets": names(t, n.vnets.NewListPager(rg, nil), func(p armnetwork.VirtualNetworksClientListResponse) []string {
			return nameList(p.Value, func(v *armnetwork.VirtualNetwork) *string { return v.Name })
		}),
		"group nsgs": names(t, n.nsgs.NewListPager(rg, nil), func(p armnetwork.SecurityGroupsClientListResponse) []string {
			return nameList(p.Value, func(v *armnetwork.SecurityGroup) *string { return v.Name })
		}),
		"group nics": names(t, n.nics.NewListPager(rg, nil), func(p armnetwork.InterfacesClientListResponse) []string {
			return nameList(p.Value, func(v *armnetwork.Interface) *string { return v.Name })
		}),
		"group ips": names(t, n.ips.NewListPager(rg, nil), func(p armnetwork.PublicIPAddressesClientListResponse) []string {
			return nameList(p.Value, func(v *armnetwork.PublicIPAddress) *string { return v.Name })
		}),
	}
	want := map[string]string{"vnets": "net", "nsgs": "web", "nics": "fixed-nic,web-nic", "ips": "dyn,pip"}
	for k, v := range want {
		if got := strings.Join(lists[k], ","); got != v || strings.Join(lists["group "+k], ",") != v {
			t.Errorf("%s: %s and in the group %v, want %s", k, got, lists["group "+k], v)
		}
	}

	// The VM's deletion lets its interfaces go (deleteOption Detach); then
	// each deletes, the subnet last.
	del, err := f.vms.BeginDelete(ctx, rg, "vm1", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(2 * time.Minute)
	done(t, del)
	if got, _ := n.nics.Get(ctx, rg, "web-nic", nil); got.Properties.VirtualMachine != nil {
		t.Fatal("the deleted VM's interface still names it")
	}
	finish(n.nics.BeginDelete(ctx, rg, "web-nic", nil))(t)
	finish(n.nics.BeginDelete(ctx, rg, "fixed-nic", nil))(t)
	finish(n.ips.BeginDelete(ctx, rg, "pip", nil))(t)
	finish(n.ips.BeginDelete(ctx, rg, "dyn", nil))(t)
	finish(n.nsgs.BeginDelete(ctx, rg, "web", nil))(t)
	finish(n.subnets.BeginDelete(ctx, rg, "net", "app", nil))(t)
	finish(n.vnets.BeginDelete(ctx, rg, "net", nil))(t)
	_, err = n.vnets.Get(ctx, rg, "net", nil)
	refused(t, "a deleted network", err, http.StatusNotFound, "ResourceNotFound")
}

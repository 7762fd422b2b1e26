package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// TestLoadBalancerWithSDK drives load balancers through armnetwork: a
// Standard balancer in front of a public IP, with a pool, a probe, a rule
// and an inbound NAT pool, listed by group and subscription; the IP it
// holds cannot be deleted, a missing IP or a Basic one is refused, and
// deleting the balancer frees the IP.
func TestLoadBalancerWithSDK(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	n := newNetwork(t, srv)
	fac, err := armnetwork.NewClientFactory(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	lbs := fac.NewLoadBalancersClient()
	ctx := context.Background()
	const rg, loc = "rg-lb", "westeurope"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr(loc)}, nil); err != nil {
		t.Fatal(err)
	}
	ip := finish(n.ips.BeginCreateOrUpdate(ctx, rg, "lb-ip", armnetwork.PublicIPAddress{Location: ptr(loc),
		SKU:        &armnetwork.PublicIPAddressSKU{Name: ptr(armnetwork.PublicIPAddressSKUNameStandard)},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{PublicIPAllocationMethod: ptr(armnetwork.IPAllocationMethodStatic)}}, nil))(t)
	basic := finish(n.ips.BeginCreateOrUpdate(ctx, rg, "basic-ip", armnetwork.PublicIPAddress{Location: ptr(loc)}, nil))(t)

	lbID := "/subscriptions/" + subscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Network/loadBalancers/web"
	model := func(ipID string) armnetwork.LoadBalancer {
		return armnetwork.LoadBalancer{Location: ptr(loc),
			SKU: &armnetwork.LoadBalancerSKU{Name: ptr(armnetwork.LoadBalancerSKUNameStandard)},
			Properties: &armnetwork.LoadBalancerPropertiesFormat{
				FrontendIPConfigurations: []*armnetwork.FrontendIPConfiguration{{Name: ptr("front"),
					Properties: &armnetwork.FrontendIPConfigurationPropertiesFormat{PublicIPAddress: &armnetwork.PublicIPAddress{ID: ptr(ipID)}}}},
				BackendAddressPools: []*armnetwork.BackendAddressPool{{Name: ptr("pool")}},
				Probes: []*armnetwork.Probe{{Name: ptr("http"), Properties: &armnetwork.ProbePropertiesFormat{
					Protocol: ptr(armnetwork.ProbeProtocolTCP), Port: ptr[int32](80)}}},
				LoadBalancingRules: []*armnetwork.LoadBalancingRule{{Name: ptr("web"), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
					Protocol: ptr(armnetwork.TransportProtocolTCP), FrontendPort: ptr[int32](80), BackendPort: ptr[int32](80),
					FrontendIPConfiguration: &armnetwork.SubResource{ID: ptr(lbID + "/frontendIPConfigurations/front")},
					BackendAddressPool:      &armnetwork.SubResource{ID: ptr(lbID + "/backendAddressPools/pool")},
					Probe:                   &armnetwork.SubResource{ID: ptr(lbID + "/probes/http")}}}},
				InboundNatPools: []*armnetwork.InboundNatPool{{Name: ptr("ssh"), Properties: &armnetwork.InboundNatPoolPropertiesFormat{
					Protocol: ptr(armnetwork.TransportProtocolTCP), FrontendPortRangeStart: ptr[int32](50000), FrontendPortRangeEnd: ptr[int32](50119),
					BackendPort:             ptr[int32](22),
					FrontendIPConfiguration: &armnetwork.SubResource{ID: ptr(lbID + "/frontendIPConfigurations/front")}}}},
			}}
	}

	missing := strings.Replace(*ip.ID, "lb-ip", "no-ip", 1)
	p, err := lbs.BeginCreateOrUpdate(ctx, rg, "web", model(missing), nil)
	beginRefused(t, "a balancer naming a missing IP", p, err, "InvalidResourceReference")
	p, err = lbs.BeginCreateOrUpdate(ctx, rg, "web", model(*basic.ID), nil)
	beginRefused(t, "a Standard balancer naming a Basic IP", p, err, "PublicIPAndLBSkuDoNotMatch")

	lb := finish(lbs.BeginCreateOrUpdate(ctx, rg, "web", model(*ip.ID), nil))(t)
	if *lb.Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded || lb.Etag == nil || *lb.SKU.Name != armnetwork.LoadBalancerSKUNameStandard {
		t.Fatalf("balancer: %+v", lb)
	}
	front := lb.Properties.FrontendIPConfigurations[0]
	if *front.ID != lbID+"/frontendIPConfigurations/front" || *front.Properties.PublicIPAddress.ID != *ip.ID {
		t.Fatalf("frontend: id %s, public IP %s", *front.ID, *front.Properties.PublicIPAddress.ID)
	}
	for _, sub := range []struct{ got, want string }{
		{*lb.Properties.BackendAddressPools[0].ID, lbID + "/backendAddressPools/pool"},
		{*lb.Properties.Probes[0].ID, lbID + "/probes/http"},
		{*lb.Properties.LoadBalancingRules[0].ID, lbID + "/loadBalancingRules/web"},
		{*lb.Properties.InboundNatPools[0].ID, lbID + "/inboundNatPools/ssh"},
		{*lb.Properties.LoadBalancingRules[0].Properties.BackendAddressPool.ID, lbID + "/backendAddressPools/pool"},
	} {
		if sub.got != sub.want {
			t.Errorf("sub-resource %s, want %s", sub.got, sub.want)
		}
	}
	if got := *lb.Properties.InboundNatPools[0].Properties.FrontendPortRangeEnd; got != 50119 {
		t.Errorf("NAT pool's frontend port range ends at %d", got)
	}

	got, err := lbs.Get(ctx, rg, "web", nil)
	if err != nil || *got.Etag != *lb.Etag || len(got.Properties.FrontendIPConfigurations) != 1 {
		t.Fatalf("get: %v %+v", err, got)
	}
	held, err := n.ips.Get(ctx, rg, "lb-ip", nil)
	if err != nil || held.Properties.IPConfiguration == nil || *held.Properties.IPConfiguration.ID != *front.ID {
		t.Fatalf("the IP's ipConfiguration: %v %+v", err, held.Properties)
	}
	byName := func(l armnetwork.LoadBalancerListResult) []string {
		return nameList(l.Value, func(b *armnetwork.LoadBalancer) *string { return b.Name })
	}
	if got := names(t, lbs.NewListPager(rg, nil), func(r armnetwork.LoadBalancersClientListResponse) []string { return byName(r.LoadBalancerListResult) }); strings.Join(got, ",") != "web" {
		t.Fatalf("list in the group: %v", got)
	}
	if got := names(t, lbs.NewListAllPager(nil), func(r armnetwork.LoadBalancersClientListAllResponse) []string {
		return byName(r.LoadBalancerListResult)
	}); strings.Join(got, ",") != "web" {
		t.Fatalf("list in the subscription: %v", got)
	}

	// A NAT rule and a pool of their own: each changes the balancer.
	natRules := fac.NewInboundNatRulesClient()
	rule := finish(natRules.BeginCreateOrUpdate(ctx, rg, "web", "rdp", armnetwork.InboundNatRule{Properties: &armnetwork.InboundNatRulePropertiesFormat{
		Protocol: ptr(armnetwork.TransportProtocolTCP), FrontendPort: ptr[int32](3389), BackendPort: ptr[int32](3389),
		FrontendIPConfiguration: &armnetwork.SubResource{ID: front.ID}}}, nil))(t)
	if *rule.ID != lbID+"/inboundNatRules/rdp" || *rule.Properties.FrontendPort != 3389 {
		t.Fatalf("NAT rule: %+v", rule)
	}
	pools := fac.NewLoadBalancerBackendAddressPoolsClient()
	finish(pools.BeginCreateOrUpdate(ctx, rg, "web", "spare", armnetwork.BackendAddressPool{}, nil))(t)
	if got, err := lbs.Get(ctx, rg, "web", nil); err != nil || len(got.Properties.InboundNatRules) != 1 || len(got.Properties.BackendAddressPools) != 2 || *got.Etag == *lb.Etag {
		t.Fatalf("the balancer after its children's PUTs: %v %+v", err, got)
	}
	finish(pools.BeginDelete(ctx, rg, "web", "spare", nil))(t)
	if _, err := pools.Get(ctx, rg, "web", "spare", nil); err == nil {
		t.Fatal("the deleted pool is still there")
	}

	pd, err := n.ips.BeginDelete(ctx, rg, "lb-ip", nil)
	beginRefused(t, "deleting the balancer's IP", pd, err, "PublicIPAddressCannotBeDeleted")

	finish(lbs.BeginDelete(ctx, rg, "web", nil))(t)
	if _, err := lbs.Get(ctx, rg, "web", nil); err == nil {
		t.Fatal("the balancer is still there")
	} else {
		refused(t, "get after delete", err, http.StatusNotFound, "ResourceNotFound")
	}
	freed, err := n.ips.Get(ctx, rg, "lb-ip", nil)
	if err != nil || freed.Properties.IPConfiguration != nil {
		t.Fatalf("after the balancer's deletion the IP is %v %+v", err, freed.Properties.IPConfiguration)
	}
	finish(n.ips.BeginDelete(ctx, rg, "lb-ip", nil))(t)
}

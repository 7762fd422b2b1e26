package armapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func netPath(rg, typ, name string) string {
	return groupPath(rg) + "/providers/Microsoft.Network/" + typ + "/" + name
}

// netFixture creates a network with a subnet, a security group, a
// Standard public IP and an interface using all three.
func (e *env) netFixture(rg string) {
	e.t.Helper()
	e.createGroup(rg)
	e.must(http.StatusCreated, http.MethodPut, netPath(rg, "virtualNetworks", "net"), map[string]any{"location": "westeurope",
		"properties": map[string]any{"addressSpace": map[string]any{"addressPrefixes": []any{"10.0.0.0/16"}},
			"subnets": []any{map[string]any{"name": "default", "properties": map[string]any{"addressPrefix": "10.0.0.0/24"}}}}})
	e.must(http.StatusCreated, http.MethodPut, netPath(rg, "networkSecurityGroups", "web"), map[string]any{"location": "westeurope",
		"properties": map[string]any{"securityRules": []any{map[string]any{"name": "ssh", "properties": map[string]any{
			"priority": 300, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "destinationPortRange": "22"}}}}})
	e.must(http.StatusCreated, http.MethodPut, netPath(rg, "publicIPAddresses", "pip"), map[string]any{"location": "westeurope",
		"sku": map[string]any{"name": "Standard"}, "properties": map[string]any{"publicIPAllocationMethod": "Static"}})
	e.must(http.StatusCreated, http.MethodPut, netPath(rg, "networkInterfaces", "web-nic"), map[string]any{"location": "westeurope",
		"properties": map[string]any{"networkSecurityGroup": map[string]any{"id": netPath(rg, "networkSecurityGroups", "web")},
			"ipConfigurations": []any{map[string]any{"name": "ipconfig1", "properties": map[string]any{
				"subnet":          map[string]any{"id": netPath(rg, "virtualNetworks", "net") + "/subnets/default"},
				"publicIPAddress": map[string]any{"id": netPath(rg, "publicIPAddresses", "pip")}}}}}})
}

func TestNetworkInterfaceLinksToItsVM(t *testing.T) {
	e := newEnv(t)
	e.netFixture("rg")
	nic := e.must(http.StatusOK, http.MethodGet, netPath("rg", "networkInterfaces", "web-nic"), nil).JSON(t)
	if got := dig(nic, "properties", "ipConfigurations").([]any)[0].(map[string]any)["properties"].(map[string]any)["privateIPAddress"]; got != "10.0.0.4" {
		t.Fatalf("private address %v, want 10.0.0.4 (the first four are Azure's)", got)
	}
	pip := e.must(http.StatusOK, http.MethodGet, netPath("rg", "publicIPAddresses", "pip"), nil).JSON(t)
	if addr, _ := dig(pip, "properties", "ipAddress").(string); !strings.HasPrefix(addr, "203.0.113.") {
		t.Fatalf("public address %q, want one of 203.0.113.0/24", addr)
	}
	if got := dig(pip, "properties", "ipConfiguration", "id"); !strings.EqualFold(got.(string), netPath("rg", "networkInterfaces", "web-nic")+"/ipConfigurations/ipconfig1") {
		t.Fatalf("ipConfiguration %v", got)
	}
	e.createVM("rg", "web", linuxVM("rg", "web", "westeurope"))
	nic = e.must(http.StatusOK, http.MethodGet, netPath("rg", "networkInterfaces", "web-nic"), nil).JSON(t)
	if got := dig(nic, "properties", "virtualMachine", "id"); got != vmID("rg", "web") {
		t.Fatalf("virtualMachine.id %v, want %s", got, vmID("rg", "web"))
	}
	if mac, _ := dig(nic, "properties", "macAddress").(string); !strings.HasPrefix(mac, "00-0D-3A-") {
		t.Fatalf("macAddress %q", mac)
	}
	other := linuxVM("rg", "other", "westeurope")
	other["properties"].(map[string]any)["networkProfile"] = map[string]any{"networkInterfaces": []any{map[string]any{"id": nicID("rg", "web")}}}
	armError(t, e.do(http.MethodPut, vmPath("rg", "other"), other), http.StatusBadRequest, "NicInUse", "")
	armError(t, e.do(http.MethodDelete, netPath("rg", "networkInterfaces", "web-nic"), nil), http.StatusBadRequest, "NicInUse", "")
	armError(t, e.do(http.MethodDelete, netPath("rg", "publicIPAddresses", "pip"), nil), http.StatusBadRequest, "PublicIPAddressCannotBeDeleted", "")
	armError(t, e.do(http.MethodDelete, netPath("rg", "networkSecurityGroups", "web"), nil), http.StatusBadRequest, "InUseNetworkSecurityGroupCannotBeDeleted", "")
	armError(t, e.do(http.MethodDelete, netPath("rg", "virtualNetworks", "net")+"/subnets/default", nil), http.StatusBadRequest, "InUseSubnetCannotBeDeleted", "")

	e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "web"), nil)
	e.advance(2 * time.Minute)
	nic = e.must(http.StatusOK, http.MethodGet, netPath("rg", "networkInterfaces", "web-nic"), nil).JSON(t)
	if got := dig(nic, "properties", "virtualMachine"); got != nil {
		t.Fatalf("after the VM's deletion (deleteOption Detach) virtualMachine is %v", got)
	}
	e.must(http.StatusAccepted, http.MethodDelete, netPath("rg", "networkInterfaces", "web-nic"), nil)
	e.must(http.StatusNoContent, http.MethodDelete, netPath("rg", "networkInterfaces", "web-nic"), nil)
	e.must(http.StatusAccepted, http.MethodDelete, netPath("rg", "publicIPAddresses", "pip"), nil)
}

func TestNetworkInterfaceConfigurationsCreateAndDelete(t *testing.T) {
	e := newEnv(t)
	e.netFixture("rg")
	body := linuxVM("rg", "app", "westeurope")
	body["properties"].(map[string]any)["networkProfile"] = map[string]any{"networkApiVersion": "2020-11-01",
		"networkInterfaceConfigurations": []any{map[string]any{"name": "nic", "properties": map[string]any{"primary": true, "deleteOption": "Delete",
			"ipConfigurations": []any{map[string]any{"name": "ipconfig1", "properties": map[string]any{
				"subnet": map[string]any{"id": netPath("rg", "virtualNetworks", "net") + "/subnets/default"},
				"publicIPAddressConfiguration": map[string]any{"name": "pip", "sku": map[string]any{"name": "Standard"},
					"properties": map[string]any{"deleteOption": "Delete"}}}}}}}}}
	e.createVM("rg", "app", body)
	vm := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "app"), nil).JSON(t)
	refs := dig(vm, "properties", "networkProfile", "networkInterfaces").([]any)
	if len(refs) != 1 || !strings.HasSuffix(refs[0].(map[string]any)["id"].(string), "/networkInterfaces/app-nic") {
		t.Fatalf("networkInterfaces %v", refs)
	}
	nic := e.must(http.StatusOK, http.MethodGet, netPath("rg", "networkInterfaces", "app-nic"), nil).JSON(t)
	if got := dig(nic, "properties", "ipConfigurations").([]any)[0].(map[string]any)["properties"].(map[string]any)["privateIPAddress"]; got != "10.0.0.5" {
		t.Fatalf("private address %v, want the next free one", got)
	}
	e.must(http.StatusOK, http.MethodGet, netPath("rg", "publicIPAddresses", "app-pip"), nil)
	e.must(http.StatusAccepted, http.MethodDelete, vmPath("rg", "app"), nil)
	e.advance(2 * time.Minute)
	armError(t, e.do(http.MethodGet, netPath("rg", "networkInterfaces", "app-nic"), nil), http.StatusNotFound, "ResourceNotFound", "")
	armError(t, e.do(http.MethodGet, netPath("rg", "publicIPAddresses", "app-pip"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestNetworkResourcesListedAndDeletedWithTheirGroup(t *testing.T) {
	e := newEnv(t)
	e.netFixture("rg")
	e.createVM("rg", "web", linuxVM("rg", "web", "westeurope"))
	// Children: a subnet and a rule of their own, and a PATCH of tags.
	e.must(http.StatusCreated, http.MethodPut, netPath("rg", "virtualNetworks", "net")+"/subnets/app", map[string]any{"properties": map[string]any{"addressPrefix": "10.0.1.0/24"}})
	armError(t, e.do(http.MethodPut, netPath("rg", "virtualNetworks", "net")+"/subnets/clash", map[string]any{"properties": map[string]any{"addressPrefix": "10.0.1.128/25"}}),
		http.StatusBadRequest, "NetcfgSubnetRangesOverlap", "")
	e.must(http.StatusCreated, http.MethodPut, netPath("rg", "networkSecurityGroups", "web")+"/securityRules/https",
		map[string]any{"properties": map[string]any{"priority": 310, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "destinationPortRange": "443"}})
	armError(t, e.do(http.MethodPut, netPath("rg", "networkSecurityGroups", "web")+"/securityRules/clash",
		map[string]any{"properties": map[string]any{"priority": 310, "direction": "Inbound", "access": "Deny", "protocol": "*"}}), http.StatusBadRequest, "SecurityRuleConflict", "")
	tagged := e.must(http.StatusOK, http.MethodPatch, netPath("rg", "publicIPAddresses", "pip"), map[string]any{"tags": map[string]any{"env": "dev"}}).JSON(t)
	if dig(tagged, "tags", "env") != "dev" || dig(tagged, "properties", "ipAddress") == nil {
		t.Fatalf("after a PATCH of tags: %v", tagged)
	}
	list := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/resources", nil).JSON(t)
	types := map[string]int{}
	for _, v := range list["value"].([]any) {
		types[v.(map[string]any)["type"].(string)]++
	}
	for _, typ := range []string{"Microsoft.Network/virtualNetworks", "Microsoft.Network/networkSecurityGroups", "Microsoft.Network/networkInterfaces", "Microsoft.Network/publicIPAddresses"} {
		if types[typ] != 1 {
			t.Errorf("Resources - List shows %d of %s, want 1 (%v)", types[typ], typ, types)
		}
	}
	all := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Network/networkInterfaces", nil).JSON(t)
	if n := len(all["value"].([]any)); n != 1 {
		t.Fatalf("the subscription's interfaces: %d, want 1", n)
	}
	e.must(http.StatusAccepted, http.MethodDelete, groupPath("rg"), nil)
	e.advance(5 * time.Minute)
	e.must(http.StatusNotFound, http.MethodGet, groupPath("rg"), nil)
	for _, typ := range []string{"virtualNetworks", "networkSecurityGroups", "networkInterfaces", "publicIPAddresses"} {
		all := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Network/"+typ, nil).JSON(t)
		if n := len(all["value"].([]any)); n != 0 {
			t.Errorf("after the group's deletion %d %s are left", n, typ)
		}
	}
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// newAzCLI274 finds Debian 13's azure-cli (2.74 with python3-azure
// 20250603), whose network commands Debian 12's SDK cannot run: the
// command AZEMU_AZ names (.ci/run sets it to .ci/az-trixie, which runs az
// in a Debian 13 root), else an az on PATH of at least that version.
// Without one the test is skipped, or fails under CI.
func newAzCLI274(t *testing.T, srv *server) *azCLI {
	t.Helper()
	bin := os.Getenv("AZEMU_AZ")
	if bin == "" {
		if path, err := exec.LookPath("az"); err == nil && azVersionAtLeast(path, 2, 74) {
			bin = path
		}
	}
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Azure CLI 2.74: set AZEMU_AZ; .ci/run installs Debian 13's azure-cli with .ci/trixie-az")
		}
		t.Skip("no Azure CLI 2.74: set AZEMU_AZ (.ci/trixie-az installs Debian 13's azure-cli; .ci/az-trixie runs it)")
	}
	return azCLIAt(t, srv, bin)
}

// azVersionAtLeast says whether the az at path reports azure-cli
// major.minor or later.
func azVersionAtLeast(path string, major, minor int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version", "--query", `"azure-cli"`, "-o", "tsv").Output()
	if err != nil {
		return false
	}
	var gotMajor, gotMinor int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "%d.%d", &gotMajor, &gotMinor); err != nil {
		return false
	}
	return gotMajor > major || gotMajor == major && gotMinor >= minor
}

// azLogin registers the server as a cloud from its Resource Manager URL,
// with the latest profile, and signs in as a service principal. MSAL would
// ask login.microsoftonline.com to vouch for an authority it does not
// know; core.instance_discovery=false (the CLI's setting for Azure Stack)
// has it read the server's own OpenID configuration instead.
func (a *azCLI) login(srv *server) {
	a.t.Helper()
	a.run("cloud", "register", "-n", "azemu", "--endpoint-resource-manager", srv.base, "-o", "none")
	a.run("cloud", "set", "-n", "azemu", "-o", "none")
	a.run("config", "set", "core.instance_discovery=false", "-o", "none")
	a.run("login", "--service-principal", "-u", "cli-app", "-p", "cli-secret", "--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47", "-o", "none")
}

// TestAzureCLINetwork runs Debian 13's Azure CLI (2.74) through the way
// most people make a VM: az vm create with no network arguments (a
// template deployment of a vnet, NSG, public IP, NIC and the VM), then the
// commands that print what a VM's network is (vm list -d, vm show -d,
// vm list-ip-addresses), a deallocation and start, az vmss create and the
// network lists, checking each address against the resources themselves.
func TestAzureCLINetwork(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--clock", "real", "--speed", "1000")
	az := newAzCLI274(t, srv)
	start := time.Now()
	defer func() { t.Logf("the Azure CLI network test took %v", time.Since(start).Round(time.Second)) }()
	az.login(srv)
	var account struct{ ID, EnvironmentName string }
	az.json(&account, "account", "show")
	if account.ID != defaultSubscription || account.EnvironmentName != "azemu" {
		t.Fatalf("az account show: %+v", account)
	}
	az.run("group", "create", "-n", "net-rg", "-l", "westeurope", "-o", "none")

	// az vm create prints the VM's power state and addresses, which it
	// reads back from the VM, its NIC and its public IP.
	var created struct {
		ID, PowerState, PrivateIPAddress, PublicIPAddress, MACAddress string
	}
	az.json(&created, "vm", "create", "-g", "net-rg", "-n", "web", "--image", "Ubuntu2204", "--size", "Standard_D2s_v3",
		"--admin-username", "azureuser", "--authentication-type", "password", "--admin-password", "Example-Passw0rd!")
	vmID := "/subscriptions/" + defaultSubscription + "/resourceGroups/net-rg/providers/Microsoft.Compute/virtualMachines/web"
	if created.ID != vmID || created.PowerState != "VM running" {
		t.Fatalf("az vm create: %+v", created)
	}
	// What the resources say, through the REST API.
	var vm struct {
		Properties struct {
			NetworkProfile struct{ NetworkInterfaces []struct{ ID string } }
		}
	}
	srv.do(http.MethodGet, vmID+"?api-version=2024-07-01", nil, &vm)
	if len(vm.Properties.NetworkProfile.NetworkInterfaces) != 1 {
		t.Fatalf("the VM's NICs: %+v", vm.Properties.NetworkProfile)
	}
	nicID := vm.Properties.NetworkProfile.NetworkInterfaces[0].ID
	var nic struct {
		Properties struct {
			MACAddress       string
			VirtualMachine   struct{ ID string }
			IPConfigurations []struct {
				Properties struct {
					PrivateIPAddress string
					Subnet           struct{ ID string }
					PublicIPAddress  struct{ ID string }
				}
			}
		}
	}
	if code := srv.do(http.MethodGet, nicID+"?api-version=2024-05-01", nil, &nic); code != http.StatusOK || len(nic.Properties.IPConfigurations) != 1 {
		t.Fatalf("the VM's NIC %s: HTTP %d %+v", nicID, code, nic)
	}
	ipConfig := nic.Properties.IPConfigurations[0].Properties
	var publicIP struct {
		SKU        struct{ Name string }
		Properties struct{ IPAddress, PublicIPAllocationMethod string }
	}
	if code := srv.do(http.MethodGet, ipConfig.PublicIPAddress.ID+"?api-version=2024-05-01", nil, &publicIP); code != http.StatusOK {
		t.Fatalf("the NIC's public IP %q: HTTP %d", ipConfig.PublicIPAddress.ID, code)
	}
	private, public := ipConfig.PrivateIPAddress, publicIP.Properties.IPAddress
	if !strings.EqualFold(nic.Properties.VirtualMachine.ID, vmID) || private == "" || public == "" ||
		created.PrivateIPAddress != private || created.PublicIPAddress != public || created.MACAddress != nic.Properties.MACAddress {
		t.Fatalf("az vm create printed %+v; the NIC has %s, %s, %s, linked to %q", created, private, public, nic.Properties.MACAddress, nic.Properties.VirtualMachine.ID)
	}
	// The CLI's defaults: a Standard static public IP, a /16 network with a
	// /24 subnet the private address comes from.
	if publicIP.SKU.Name != "Standard" || publicIP.Properties.PublicIPAllocationMethod != "Static" {
		t.Fatalf("the public IP: %+v", publicIP)
	}
	var subnet struct {
		Properties struct{ AddressPrefix string }
	}
	srv.do(http.MethodGet, ipConfig.Subnet.ID+"?api-version=2024-05-01", nil, &subnet)
	if prefix, err := netip.ParsePrefix(subnet.Properties.AddressPrefix); err != nil || !prefix.Contains(netip.MustParseAddr(private)) {
		t.Fatalf("the private address %s is not in the subnet's %q", private, subnet.Properties.AddressPrefix)
	}

	// The details: power state and addresses, listed and shown.
	type details struct {
		Name, PowerState, PrivateIps, PublicIps, MacAddresses string
	}
	showDetails := func() details {
		t.Helper()
		var d details
		az.json(&d, "vm", "show", "-d", "-g", "net-rg", "-n", "web")
		return d
	}
	want := details{Name: "web", PowerState: "VM running", PrivateIps: private, PublicIps: public, MacAddresses: nic.Properties.MACAddress}
	var listed []details
	az.json(&listed, "vm", "list", "-d", "-g", "net-rg")
	if len(listed) != 1 || listed[0] != want {
		t.Fatalf("az vm list -d: %+v, want %+v", listed, want)
	}
	if got := showDetails(); got != want {
		t.Fatalf("az vm show -d: %+v, want %+v", got, want)
	}
	var addresses []struct {
		VirtualMachine struct {
			Name    string
			Network struct {
				PrivateIPAddresses []string
				PublicIPAddresses  []struct{ ID, IPAddress, IPAllocationMethod string }
			}
		}
	}
	az.json(&addresses, "vm", "list-ip-addresses", "-g", "net-rg", "-n", "web")
	if len(addresses) != 1 || addresses[0].VirtualMachine.Name != "web" || !same(addresses[0].VirtualMachine.Network.PrivateIPAddresses, private) ||
		len(addresses[0].VirtualMachine.Network.PublicIPAddresses) != 1 {
		t.Fatalf("az vm list-ip-addresses: %+v", addresses)
	}
	if got := addresses[0].VirtualMachine.Network.PublicIPAddresses[0]; got.IPAddress != public || !strings.EqualFold(got.ID, ipConfig.PublicIPAddress.ID) || got.IPAllocationMethod != "Static" {
		t.Fatalf("az vm list-ip-addresses: the public address %+v, want %s", got, public)
	}

	// Deallocated, the VM keeps its NIC's private address and its static
	// public one; started again, it has the same.
	az.run("vm", "deallocate", "-g", "net-rg", "-n", "web")
	want.PowerState = "VM deallocated"
	if got := showDetails(); got != want {
		t.Fatalf("az vm show -d after deallocate: %+v, want %+v", got, want)
	}
	az.run("vm", "start", "-g", "net-rg", "-n", "web")
	want.PowerState = "VM running"
	if got := showDetails(); got != want {
		t.Fatalf("az vm show -d after start: %+v, want %+v", got, want)
	}

	// A scale set of two in the same network (the CLI finds it), behind
	// the load balancer az vmss create puts in front of it.
	var set struct {
		Vmss struct {
			OrchestrationMode, ProvisioningState string
		}
	}
	az.json(&set, "vmss", "create", "-g", "net-rg", "-n", "pool", "--image", "Ubuntu2204", "--instance-count", "2", "--vm-sku", "Standard_D2s_v3",
		"--admin-username", "azureuser", "--authentication-type", "password", "--admin-password", "Example-Passw0rd!")
	if set.Vmss.ProvisioningState != "Succeeded" || set.Vmss.OrchestrationMode != "Flexible" {
		t.Fatalf("az vmss create: %+v", set)
	}
	if got := az.str("vmss", "show", "-g", "net-rg", "-n", "pool", "--query", "to_string(sku.capacity)"); got != "2" {
		t.Fatalf("az vmss show: capacity %s", got)
	}
	// The template's balancer, poolLB, fronts the set with its own public
	// IP, which names the frontend back.
	var lb struct {
		ID, ProvisioningState    string
		FrontendIPConfigurations []struct {
			ID              string
			PublicIPAddress struct{ ID string }
		}
		BackendAddressPools []struct{ ID string }
	}
	az.json(&lb, "network", "lb", "show", "-g", "net-rg", "-n", "poolLB")
	if lb.ProvisioningState != "Succeeded" || len(lb.FrontendIPConfigurations) != 1 || len(lb.BackendAddressPools) != 1 ||
		!strings.HasPrefix(lb.BackendAddressPools[0].ID, lb.ID+"/backendAddressPools/") {
		t.Fatalf("az network lb show: %+v", lb)
	}
	front := lb.FrontendIPConfigurations[0]
	if got := az.str("network", "public-ip", "show", "--ids", front.PublicIPAddress.ID, "--query", "ipConfiguration.id"); !strings.EqualFold(got, front.ID) {
		t.Fatalf("az network public-ip show: the balancer's IP names %q, want its frontend %s", got, front.ID)
	}
	if got := az.strs("network", "lb", "list", "-g", "net-rg", "--query", "[].name"); !same(got, "poolLB") {
		t.Fatalf("az network lb list: %v", got)
	}
	az.json(&listed, "vm", "list", "-d", "-g", "net-rg")
	if len(listed) != 3 {
		t.Fatalf("az vm list -d: %+v", listed)
	}
	privates := map[string]bool{}
	for _, d := range listed {
		privates[d.PrivateIps] = true
		if d.PowerState != "VM running" {
			t.Errorf("az vm list -d: %s is %q", d.Name, d.PowerState)
		}
		if d.Name == "web" {
			if d != want {
				t.Errorf("az vm list -d: %+v, want %+v", d, want)
			}
			continue
		}
		if !strings.HasPrefix(d.Name, "pool_") || d.PublicIps != "" {
			t.Errorf("az vm list -d: the instance %+v", d)
		}
		if prefix, _ := netip.ParsePrefix(subnet.Properties.AddressPrefix); !prefix.Contains(netip.MustParseAddr(d.PrivateIps)) {
			t.Errorf("az vm list -d: %s's address %s is not in the subnet's %s", d.Name, d.PrivateIps, subnet.Properties.AddressPrefix)
		}
	}
	if len(privates) != 3 {
		t.Fatalf("az vm list -d: the private addresses are not distinct: %+v", listed)
	}

	// The network lists: one network, the VM's NIC and one per instance
	// (each in the balancer's pool), the VM's and the balancer's public
	// IPs, the VM's and the set's NSGs.
	if got := az.strs("network", "vnet", "list", "-g", "net-rg", "--query", "[].name"); !same(got, "webVNET") {
		t.Fatalf("az network vnet list: %v", got)
	}
	if got := az.strs("network", "vnet", "list", "-g", "net-rg", "--query", "[].subnets[].name"); !same(got, "webSubnet") {
		t.Fatalf("az network vnet list: subnets %v", got)
	}
	nics := az.strs("network", "nic", "list", "-g", "net-rg", "--query", "[].ipConfigurations[0].privateIPAddress")
	if len(nics) != 3 || !containsCode(nics, private) {
		t.Fatalf("az network nic list: %v", nics)
	}
	if got := az.strs("network", "nic", "list", "-g", "net-rg", "--query", "[].ipConfigurations[0].loadBalancerBackendAddressPools[0].id"); !same(got, lb.BackendAddressPools[0].ID, lb.BackendAddressPools[0].ID) {
		t.Fatalf("az network nic list: the instances' pools %v, want %s", got, lb.BackendAddressPools[0].ID)
	}
	for _, ip := range nics {
		if !privates[ip] {
			t.Fatalf("az network nic list: %s is no VM's address (%v)", ip, privates)
		}
	}
	lbAddress := az.str("network", "public-ip", "show", "--ids", front.PublicIPAddress.ID, "--query", "ipAddress")
	if got := az.strs("network", "public-ip", "list", "-g", "net-rg", "--query", "[].ipAddress"); !same(got, public, lbAddress) || lbAddress == public {
		t.Fatalf("az network public-ip list: %v, want the VM's %s and the balancer's %s", got, public, lbAddress)
	}
	if got := az.strs("network", "nsg", "list", "-g", "net-rg", "--query", "[].name"); !same(got, "poolNSG", "webNSG") {
		t.Fatalf("az network nsg list: %v", got)
	}
	if got := az.strs("network", "nsg", "list", "-g", "net-rg", "--query", "[?name=='webNSG'].securityRules[].name"); !same(got, "default-allow-ssh") {
		t.Fatalf("az network nsg list: rules %v", got)
	}

	// The VM goes; what it was made with stays, as on Azure (the CLI's
	// template sets no deleteOption), until the group goes.
	az.run("vm", "delete", "-g", "net-rg", "-n", "web", "--yes")
	if got := az.strs("vm", "list", "-g", "net-rg", "--query", "[].name"); len(got) != 2 {
		t.Fatalf("az vm list after vm delete: %v", got)
	}
	if got := az.strs("network", "public-ip", "list", "-g", "net-rg", "--query", "[].ipConfiguration.id"); len(got) != 2 {
		t.Fatalf("az network public-ip list after vm delete: %v", got)
	}
	az.run("group", "delete", "-n", "net-rg", "--yes")
	var left struct{ Value []struct{ ID string } }
	srv.do(http.MethodGet, "/subscriptions/"+defaultSubscription+"/resources?api-version=2019-10-01", nil, &left)
	if len(left.Value) != 0 {
		t.Fatalf("after group delete: resources left %v", left.Value)
	}
}

// TestAzureCLIOnASeededFleet runs the commands that read a VM's network
// (az vm list -d, az vm show -d) on a fleet azemu seed made: each VM's
// interface is a resource on its group's subnet, so they print every VM's
// power state and private address as they do for one az vm create made.
func TestAzureCLIOnASeededFleet(t *testing.T) {
	dir := t.TempDir()
	seed := exec.Command(azemuBin, "seed", "--data-dir", dir, "--vms", "6", "--group-size", "3", "--seed", "7",
		"--clock-start", "2026-01-01T00:00:00Z")
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("azemu seed: %v\n%s", err, out)
	}
	srv := startServer(t, dir)
	az := newAzCLI274(t, srv)
	az.login(srv)
	type details struct {
		Name, PowerState, PrivateIps string
	}
	var listed []details
	az.json(&listed, "vm", "list", "-d", "-g", "seed-rg-00001")
	if len(listed) != 3 {
		t.Fatalf("az vm list -d: %+v, want the group's 3 VMs", listed)
	}
	privates := map[string]bool{}
	for _, d := range listed {
		addr, err := netip.ParseAddr(d.PrivateIps)
		if err != nil || !netip.MustParsePrefix("10.0.0.0/16").Contains(addr) || privates[d.PrivateIps] {
			t.Errorf("az vm list -d: %s has the private address %q, want its own in the group's subnet", d.Name, d.PrivateIps)
		}
		privates[d.PrivateIps] = true
		switch d.PowerState {
		case "VM running", "VM stopped", "VM deallocated":
		default:
			t.Errorf("az vm list -d: %s is %q", d.Name, d.PowerState)
		}
		var shown details
		az.json(&shown, "vm", "show", "-d", "-g", "seed-rg-00001", "-n", d.Name)
		if shown != d {
			t.Errorf("az vm show -d: %+v, az vm list -d: %+v", shown, d)
		}
	}
}

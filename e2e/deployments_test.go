package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/azemu/azemu/azemutest"
)

// fleetTemplate deploys a security group, a virtual network whose subnet
// names it, and a network interface per VM (a copy loop for the web VMs),
// then a database VM, then a copy loop of web VMs that wait for it, each
// with its own data disk and interface created first, and an extension on
// the database VM (a nested resource type). Its outputs read the deployed
// resources back with reference(): a VM's vmId and size, a disk's size and
// an interface's private address.
const fleetTemplate = `{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "webCount": {"type": "int", "defaultValue": 2, "minValue": 1, "maxValue": 5},
    "prefix": {"type": "string", "defaultValue": "web"},
    "size": {"type": "string", "defaultValue": "Standard_D2s_v3", "allowedValues": ["Standard_B1s", "Standard_D2s_v3"]},
    "adminPassword": {"type": "securestring"},
    "serial": {"type": "string", "defaultValue": "Parallel"},
    "subnetPrefix": {"type": "string", "defaultValue": "10.1.0.0/24"}
  },
  "variables": {
    "image": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
    "dbName": "[concat(parameters('prefix'), '-db')]",
    "vnetName": "[concat(parameters('prefix'), '-vnet')]",
    "subnetId": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnetName'), 'default')]"
  },
  "resources": [
    {
      "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2024-05-01", "name": "[concat(parameters('prefix'), '-nsg')]",
      "location": "[resourceGroup().location]",
      "properties": {"securityRules": [{"name": "ssh", "properties": {"priority": 1000, "direction": "Inbound", "access": "Allow",
        "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}}]}
    },
    {
      "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-05-01", "name": "[variables('vnetName')]",
      "location": "[resourceGroup().location]",
      "dependsOn": ["[resourceId('Microsoft.Network/networkSecurityGroups', concat(parameters('prefix'), '-nsg'))]"],
      "properties": {
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "[parameters('subnetPrefix')]",
          "networkSecurityGroup": {"id": "[resourceId('Microsoft.Network/networkSecurityGroups', concat(parameters('prefix'), '-nsg'))]"}}}]
      }
    },
    {
      "type": "Microsoft.Network/networkInterfaces", "apiVersion": "2024-05-01", "name": "[concat(variables('dbName'), '-nic')]",
      "location": "[resourceGroup().location]",
      "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', variables('vnetName'))]"],
      "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": "[variables('subnetId')]"}, "privateIPAllocationMethod": "Dynamic"}}]}
    },
    {
      "type": "Microsoft.Network/networkInterfaces", "apiVersion": "2024-05-01",
      "name": "[format('{0}-{1}-nic', parameters('prefix'), copyIndex())]", "location": "[resourceGroup().location]",
      "copy": {"name": "nicLoop", "count": "[parameters('webCount')]", "mode": "[parameters('serial')]", "batchSize": 1},
      "dependsOn": ["[variables('vnetName')]"],
      "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": "[variables('subnetId')]"}, "privateIPAllocationMethod": "Dynamic"}}]}
    },
    {
      "type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-07-01", "name": "[variables('dbName')]",
      "location": "[resourceGroup().location]",
      "dependsOn": ["[resourceId('Microsoft.Network/networkInterfaces', concat(variables('dbName'), '-nic'))]"],
      "properties": {
        "hardwareProfile": {"vmSize": "[parameters('size')]"},
        "storageProfile": {"imageReference": "[variables('image')]", "osDisk": {"createOption": "FromImage"}},
        "osProfile": {"computerName": "db", "adminUsername": "azureuser", "adminPassword": "[parameters('adminPassword')]"},
        "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', concat(variables('dbName'), '-nic'))]"}]}
      }
    },
    {
      "type": "Microsoft.Compute/virtualMachines/extensions", "apiVersion": "2024-07-01",
      "name": "[concat(variables('dbName'), '/setup')]", "location": "[resourceGroup().location]",
      "dependsOn": ["[resourceId('Microsoft.Compute/virtualMachines', variables('dbName'))]"],
      "properties": {"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "typeHandlerVersion": "2.1",
        "settings": {"commandToExecute": "echo ready"}}
    },
    {
      "type": "Microsoft.Compute/disks", "apiVersion": "2024-03-02",
      "name": "[format('{0}-{1}-data', parameters('prefix'), copyIndex())]", "location": "[resourceGroup().location]",
      "copy": {"name": "diskLoop", "count": "[parameters('webCount')]"},
      "sku": {"name": "Premium_LRS"},
      "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 64}
    },
    {
      "type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-07-01",
      "name": "[format('{0}-{1}', parameters('prefix'), copyIndex())]", "location": "[resourceGroup().location]",
      "copy": {"name": "webLoop", "count": "[parameters('webCount')]", "mode": "[parameters('serial')]", "batchSize": 1},
      "dependsOn": [
        "[resourceId('Microsoft.Compute/virtualMachines', variables('dbName'))]",
        "[resourceId('Microsoft.Compute/disks', format('{0}-{1}-data', parameters('prefix'), copyIndex()))]",
        "[resourceId('Microsoft.Network/networkInterfaces', format('{0}-{1}-nic', parameters('prefix'), copyIndex()))]"
      ],
      "tags": {"tier": "web", "index": "[string(copyIndex())]"},
      "properties": {
        "hardwareProfile": {"vmSize": "[parameters('size')]"},
        "storageProfile": {
          "imageReference": "[variables('image')]", "osDisk": {"createOption": "FromImage"},
          "dataDisks": [{"lun": 0, "createOption": "Attach",
            "managedDisk": {"id": "[resourceId('Microsoft.Compute/disks', format('{0}-{1}-data', parameters('prefix'), copyIndex()))]"}}]
        },
        "osProfile": {"computerName": "[concat('web', copyIndex())]", "adminUsername": "azureuser", "adminPassword": "[parameters('adminPassword')]"},
        "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', format('{0}-{1}-nic', parameters('prefix'), copyIndex()))]"}]}
      }
    }
  ],
  "outputs": {
    "dbVmId": {"type": "string", "value": "[reference(resourceId('Microsoft.Compute/virtualMachines', variables('dbName'))).vmId]"},
    "dbSize": {"type": "string", "value": "[reference(resourceId('Microsoft.Compute/virtualMachines', variables('dbName')), '2024-07-01', 'Full').properties.hardwareProfile.vmSize]"},
    "diskGB": {"type": "int", "value": "[reference(resourceId('Microsoft.Compute/disks', concat(parameters('prefix'), '-0-data'))).diskSizeGB]"},
    "web0PrivateIP": {"type": "string", "value": "[reference(resourceId('Microsoft.Network/networkInterfaces', concat(parameters('prefix'), '-0-nic'))).ipConfigurations[0].properties.privateIPAddress]"},
    "dbNicVm": {"type": "string", "value": "[reference(resourceId('Microsoft.Network/networkInterfaces', concat(variables('dbName'), '-nic')), '2024-05-01', 'Full').properties.virtualMachine.id]"},
    "webIds": {"type": "array", "copy": {"count": "[parameters('webCount')]",
      "input": "[resourceId('Microsoft.Compute/virtualMachines', format('{0}-{1}', parameters('prefix'), copyIndex()))]"}}
  }
}`

type deployClients struct {
	deployments *armresources.DeploymentsClient
	operations  *armresources.DeploymentOperationsClient
	groups      *armresources.ResourceGroupsClient
	vms         *armcompute.VirtualMachinesClient
	nics        *armnetwork.InterfacesClient
	vnets       *armnetwork.VirtualNetworksClient
}

func newDeployClients(t *testing.T, srv *azemutest.Server) deployClients {
	t.Helper()
	rc, err := armresources.NewClientFactory(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	nf, err := armnetwork.NewClientFactory(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return deployClients{rc.NewDeploymentsClient(), rc.NewDeploymentOperationsClient(), rc.NewResourceGroupsClient(), vms,
		nf.NewInterfacesClient(), nf.NewVirtualNetworksClient()}
}

func (c deployClients) deploy(t *testing.T, srv *azemutest.Server, rg, name string, params map[string]any) (armresources.DeploymentsClientCreateOrUpdateResponse, error) {
	t.Helper()
	var tmpl map[string]any
	if err := json.Unmarshal([]byte(fleetTemplate), &tmpl); err != nil {
		t.Fatal(err)
	}
	values := map[string]any{}
	for k, v := range params {
		values[k] = map[string]any{"value": v}
	}
	p, err := c.deployments.BeginCreateOrUpdate(context.Background(), rg, name, armresources.Deployment{Properties: &armresources.DeploymentProperties{
		Mode: to.Ptr(armresources.DeploymentModeIncremental), Template: tmpl, Parameters: values}}, nil)
	if err != nil {
		t.Fatalf("deploying %s: %v", name, err)
	}
	return azemutest.PollUntilDone(srv, p)
}

func (c deployClients) operationsOf(t *testing.T, rg, name string) map[string]*armresources.DeploymentOperation {
	t.Helper()
	out := map[string]*armresources.DeploymentOperation{}
	pager := c.operations.NewListPager(rg, name, nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range page.Value {
			out[*op.Properties.TargetResource.ResourceName] = op
		}
	}
	return out
}

// A template deployment through the Go SDK: parameters (given and
// defaulted, one secure), variables, a security group, a network, copy
// loops of three interfaces and three VMs each after the database VM, its
// own disk and its own interface, a nested extension, and outputs read
// with reference(). Each dependant starts at the very instant its
// dependencies ended, as the VMs' history and the operations list show.
func TestDeploymentCreatesInDependencyOrder(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	c := newDeployClients(t, srv)
	ctx := context.Background()
	if _, err := c.groups.CreateOrUpdate(ctx, "fleet", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	t0 := srv.Now()
	res, err := c.deploy(t, srv, "fleet", "main", map[string]any{"webCount": 3, "adminPassword": "Example-Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	props := res.Properties
	if *props.ProvisioningState != armresources.ProvisioningStateSucceeded {
		t.Fatalf("deployment ended %s: %+v", *props.ProvisioningState, props.Error)
	}
	// The parameters as Azure shows them: a secure one without its value.
	params := props.Parameters.(map[string]any)
	if p := params["adminPassword"].(map[string]any); p["type"] != "SecureString" || p["value"] != nil {
		t.Errorf("adminPassword shown as %v", p)
	}
	if p := params["webCount"].(map[string]any); p["value"] != float64(3) || p["type"] != "Int" {
		t.Errorf("webCount shown as %v", p)
	}
	// The outputs, read back from what was deployed.
	outputs := props.Outputs.(map[string]any)
	dbVM, err := c.vms.Get(ctx, "fleet", "web-db", nil)
	if err != nil {
		t.Fatal(err)
	}
	output := func(name string) any { return outputs[name].(map[string]any)["value"] }
	if output("dbVmId") != *dbVM.Properties.VMID || output("dbSize") != "Standard_D2s_v3" || output("diskGB") != float64(64) {
		t.Errorf("outputs %v; the db VM's vmId is %s", outputs, *dbVM.Properties.VMID)
	}
	if ids := output("webIds").([]any); len(ids) != 3 || ids[2] != srv.VMID("fleet", "web-2") {
		t.Errorf("webIds %v", ids)
	}
	if len(props.OutputResources) != 14 {
		t.Errorf("%d output resources, want 14 (4 VMs, 3 disks, 1 extension, 4 interfaces, a network and a security group)", len(props.OutputResources))
	}
	// Each VM got its own interface, with its own address in the subnet,
	// linked both ways; the output read the address back.
	addresses := map[string]string{}
	for _, vm := range []string{"web-db", "web-0", "web-1", "web-2"} {
		n, err := c.nics.Get(ctx, "fleet", vm+"-nic", nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := n.Properties.IPConfigurations
		if len(cfg) != 1 || n.Properties.VirtualMachine == nil || !strings.EqualFold(*n.Properties.VirtualMachine.ID, srv.VMID("fleet", vm)) {
			t.Fatalf("%s-nic: %+v", vm, n.Properties)
		}
		a := *cfg[0].Properties.PrivateIPAddress
		if !strings.HasPrefix(a, "10.1.0.") || addresses[a] != "" {
			t.Errorf("%s-nic has %s; addresses so far %v", vm, a, addresses)
		}
		addresses[a] = vm
		if vm == "web-0" && output("web0PrivateIP") != a {
			t.Errorf("output web0PrivateIP %v, the interface has %s", output("web0PrivateIP"), a)
		}
	}
	if got := output("dbNicVm"); !strings.EqualFold(fmt.Sprint(got), srv.VMID("fleet", "web-db")) {
		t.Errorf("output dbNicVm %v", got)
	}
	vnet, err := c.vnets.Get(ctx, "fleet", "web-vnet", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sn := vnet.Properties.Subnets; len(sn) != 1 || len(sn[0].Properties.IPConfigurations) != 4 ||
		!strings.HasSuffix(*sn[0].Properties.NetworkSecurityGroup.ID, "/networkSecurityGroups/web-nsg") {
		t.Errorf("the subnet: %+v", sn)
	}
	// Creation order: nothing starts before what it depends on has ended.
	ops := c.operationsOf(t, "fleet", "main")
	if len(ops) != 14 {
		t.Fatalf("%d operations, want 14: %v", len(ops), keysOf(ops))
	}
	started := func(name string) time.Time {
		op := ops[name]
		if op == nil {
			t.Fatalf("no operation of %s", name)
		}
		return op.Properties.Timestamp.Add(-parseDuration(t, *op.Properties.Duration))
	}
	ended := func(name string) time.Time {
		op := ops[name]
		if op == nil || *op.Properties.ProvisioningState != "Succeeded" {
			t.Fatalf("operation of %s: %+v", name, op)
		}
		return *op.Properties.Timestamp
	}
	dbHistory := srv.History(srv.VMID("fleet", "web-db"))
	dbDone := time.Time{}
	for _, h := range dbHistory {
		if h.ProvisioningState == "Succeeded" && h.PowerState == "running" {
			dbDone = h.Time
			break
		}
	}
	if dbDone.IsZero() || !dbHistory[0].Time.Equal(t0) {
		t.Fatalf("the db VM's history: %+v", dbHistory)
	}
	if !ended("web-db").Equal(dbDone) {
		t.Errorf("the db VM's operation ended %s, its provisioning %s", ended("web-db"), dbDone)
	}
	for i := range 3 {
		h := srv.History(srv.VMID("fleet", fmt.Sprintf("web-%d", i)))
		if len(h) == 0 || !h[0].Time.Equal(dbDone) {
			t.Errorf("web-%d was created at %v; the db VM it depends on was done at %s", i, h, dbDone)
		}
		if disk := ended(fmt.Sprintf("web-%d-data", i)); disk.After(h[0].Time) {
			t.Errorf("web-%d created at %s, before its disk was done at %s", i, h[0].Time, disk)
		}
	}
	// The network before the interfaces, each interface before its VM.
	if ended("web-nsg").After(started("web-vnet")) {
		t.Errorf("the network started at %s, before its security group ended at %s", started("web-vnet"), ended("web-nsg"))
	}
	for _, vm := range []string{"web-db", "web-0", "web-1", "web-2"} {
		if nicDone := ended(vm + "-nic"); nicDone.After(srv.History(srv.VMID("fleet", vm))[0].Time) || started(vm+"-nic").Before(ended("web-vnet")) {
			t.Errorf("%s-nic ran %s to %s; the network ended %s, its VM was created %s", vm, started(vm+"-nic"), nicDone,
				ended("web-vnet"), srv.History(srv.VMID("fleet", vm))[0].Time)
		}
	}
	if ext := ops["web-db/setup"]; ext == nil || (*ext.Properties.Timestamp).Before(dbDone) {
		t.Errorf("the extension's operation %+v; its VM was done at %s", ext, dbDone)
	}
	// The deployment's dependencies name what each resource waited for.
	deps := map[string]int{}
	for _, d := range props.Dependencies {
		deps[*d.ResourceName] = len(d.DependsOn)
	}
	if deps["web-1"] != 3 || deps["web-db/setup"] != 1 || deps["web-db"] != 1 || deps["web-1-nic"] != 1 || deps["web-vnet"] != 1 {
		t.Errorf("dependencies %v", deps)
	}
	// The disks are attached to their VMs; the VMs name their NICs.
	web1, err := c.vms.Get(ctx, "fleet", "web-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := web1.Properties.StorageProfile.DataDisks; len(d) != 1 || !strings.HasSuffix(*d[0].ManagedDisk.ID, "/web-1-data") || *web1.Tags["index"] != "1" {
		t.Errorf("web-1: data disks %v, tags %v", d, web1.Tags)
	}
	// Listed, gettable, exportable; deleting the record leaves the resources.
	list := c.deployments.NewListByResourceGroupPager("fleet", nil)
	page, err := list.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Name != "main" {
		t.Fatalf("list: %v %v", page.Value, err)
	}
	exported, err := c.deployments.ExportTemplate(ctx, "fleet", "main", nil)
	if err != nil || exported.Template.(map[string]any)["contentVersion"] != "1.0.0.0" {
		t.Fatalf("export: %v %v", exported, err)
	}
	dp, err := c.deployments.BeginDelete(ctx, "fleet", "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := azemutest.PollUntilDone(srv, dp); err != nil {
		t.Fatal(err)
	}
	if _, err := c.deployments.Get(ctx, "fleet", "main", nil); !isCode(err, "DeploymentNotFound") {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := c.vms.Get(ctx, "fleet", "web-2", nil); err != nil {
		t.Fatalf("the deployment's VM went with its record: %v", err)
	}
}

// A serial copy loop whose third VM fails: the first two are created one
// after the other, the third fails as its allocation does, and the
// deployment fails with Azure's DeploymentFailed carrying that error; the
// operations list says which resource failed.
func TestDeploymentFailsOnItsThirdResource(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	c := newDeployClients(t, srv)
	ctx := context.Background()
	if _, err := c.groups.CreateOrUpdate(ctx, "fleet", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(azemutest.Fault{Operation: "create", Resource: "web-2", Error: "AllocationFailed", Count: 1})
	_, err := c.deploy(t, srv, "fleet", "serial", map[string]any{"webCount": 3, "adminPassword": "Example-Passw0rd", "serial": "Serial"})
	if !isCode(err, "DeploymentFailed") {
		t.Fatalf("deployment: %v, want DeploymentFailed", err)
	}
	d, err := c.deployments.Get(ctx, "fleet", "serial", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *d.Properties.ProvisioningState != armresources.ProvisioningStateFailed || *d.Properties.Error.Code != "DeploymentFailed" ||
		len(d.Properties.Error.Details) != 1 || *d.Properties.Error.Details[0].Code != "AllocationFailed" {
		t.Fatalf("deployment: %s %+v", *d.Properties.ProvisioningState, d.Properties.Error)
	}
	ops := c.operationsOf(t, "fleet", "serial")
	for name, want := range map[string]string{"web-0": "Succeeded", "web-1": "Succeeded", "web-2": "Failed"} {
		if op := ops[name]; op == nil || *op.Properties.ProvisioningState != want {
			t.Errorf("operation of %s: %+v, want %s", name, op, want)
		}
	}
	if msg := ops["web-2"].Properties.StatusMessage; msg == nil || msg.Error == nil || *msg.Error.Code != "AllocationFailed" {
		t.Errorf("web-2's status message %+v", msg)
	}
	// Serial: each web VM was created only once the one before was done.
	h0, h1 := srv.History(srv.VMID("fleet", "web-0")), srv.History(srv.VMID("fleet", "web-1"))
	if !h1[0].Time.After(h0[0].Time) || !h1[0].Time.Equal(*ops["web-0"].Properties.Timestamp) {
		t.Errorf("web-1 created at %s; web-0 created at %s and done at %s", h1[0].Time, h0[0].Time, *ops["web-0"].Properties.Timestamp)
	}
	// The third interface of a serial loop finds its subnet full: a /29
	// holds three addresses Azure hands out, and the database VM's
	// interface and the first two took them. The deployment fails with
	// Network's refusal; the third VM is never asked for.
	if _, err := c.groups.CreateOrUpdate(ctx, "tight", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.deploy(t, srv, "tight", "full", map[string]any{"webCount": 3, "adminPassword": "Example-Passw0rd", "serial": "Serial",
		"subnetPrefix": "10.1.0.0/29"})
	if !isCode(err, "DeploymentFailed") {
		t.Fatalf("deployment into a small subnet: %v, want DeploymentFailed", err)
	}
	d, err = c.deployments.Get(ctx, "tight", "full", nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := d.Properties.Error; len(e.Details) != 1 || *e.Details[0].Code != "SubnetIsFull" ||
		!strings.Contains(*e.Details[0].Message, "does not have enough capacity for 1 IP addresses") {
		t.Fatalf("deployment error %+v", e)
	}
	ops = c.operationsOf(t, "tight", "full")
	for name, want := range map[string]string{"web-0-nic": "Succeeded", "web-1-nic": "Succeeded", "web-2-nic": "Failed"} {
		if op := ops[name]; op == nil || *op.Properties.ProvisioningState != want {
			t.Errorf("operation of %s: %+v, want %s", name, op, want)
		}
	}
	if op := ops["web-2"]; op != nil {
		t.Errorf("web-2 was started after its interface failed: %+v", op)
	}
	if _, err := c.nics.Get(ctx, "tight", "web-2-nic", nil); !isCode(err, "ResourceNotFound") {
		t.Errorf("the refused interface: %v", err)
	}

	// A template naming a type azemu does not serve, or a function it
	// does not know, is refused before anything is deployed.
	for _, tc := range []struct{ template, want string }{
		{`{"contentVersion": "1.0.0.0", "resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "st", "location": "westeurope"}]}`,
			"The resource type 'Microsoft.Storage/storageAccounts' of the template resource 'st' is not supported by azemu"},
		{`{"contentVersion": "1.0.0.0", "resources": [], "outputs": {"x": {"type": "string", "value": "[bogus()]"}}}`, ""},
		{`{"contentVersion": "1.0.0.0", "resources": [{"type": "Microsoft.Compute/disks", "apiVersion": "2024-03-02", "name": "[nope('d')]", "location": "westeurope"}]}`,
			"The template function 'nope' is not valid"},
	} {
		var tmpl map[string]any
		if err := json.Unmarshal([]byte(tc.template), &tmpl); err != nil {
			t.Fatal(err)
		}
		_, err := c.deployments.BeginCreateOrUpdate(ctx, "fleet", "refused", armresources.Deployment{Properties: &armresources.DeploymentProperties{
			Mode: to.Ptr(armresources.DeploymentModeIncremental), Template: tmpl}}, nil)
		if tc.want == "" {
			// An output is evaluated once the resources are deployed: the
			// run fails then, with the error naming the function.
			if err != nil {
				t.Fatal(err)
			}
			d, err := c.deployments.Get(ctx, "fleet", "refused", nil)
			if err != nil || *d.Properties.ProvisioningState != armresources.ProvisioningStateFailed ||
				!strings.Contains(*d.Properties.Error.Message, "The template function 'bogus' is not valid") {
				t.Fatalf("a bad output: %+v %v", d.Properties, err)
			}
			continue
		}
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.ErrorCode != "InvalidTemplate" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deploying %s: %v", tc.template, err)
		}
	}
}

func isCode(err error, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A deployment running when the process is killed goes on after the
// restart: the resources it already sent are not sent again, those that
// waited start when their dependency ends, and it ends Succeeded with its
// outputs. (docs/architecture.md, "Template deployments".)
func TestDeploymentResumesAfterKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServer(t, dir)
	rg := "/subscriptions/" + subscriptionID + "/resourcegroups/fleet"
	if code := srv.do(http.MethodPut, rg+"?api-version=2021-04-01", map[string]string{"location": "westeurope"}, nil); code != http.StatusCreated {
		t.Fatalf("group: HTTP %d", code)
	}
	var tmpl map[string]any
	if err := json.Unmarshal([]byte(fleetTemplate), &tmpl); err != nil {
		t.Fatal(err)
	}
	dep := rg + "/providers/Microsoft.Resources/deployments/main?api-version=2021-04-01"
	body := map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl,
		"parameters": map[string]any{"adminPassword": map[string]any{"value": "Example-Passw0rd"}}}}
	var got struct {
		Properties struct {
			ProvisioningState string         `json:"provisioningState"`
			Outputs           map[string]any `json:"outputs"`
		} `json:"properties"`
	}
	if code := srv.do(http.MethodPut, dep, body, &got); code != http.StatusCreated || got.Properties.ProvisioningState != "Accepted" {
		t.Fatalf("deploy: HTTP %d %+v", code, got)
	}
	start := srv.now()
	srv.advance(30 * time.Second) // the db VM is provisioning; the web VMs wait for it
	srv.kill()

	srv = startServer(t, dir)
	if code := srv.do(http.MethodGet, dep, nil, &got); code != http.StatusOK || got.Properties.ProvisioningState != "Running" {
		t.Fatalf("after the restart: HTTP %d %+v", code, got)
	}
	srv.advance(5 * time.Minute)
	if code := srv.do(http.MethodGet, dep, nil, &got); code != http.StatusOK || got.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("5 minutes later: HTTP %d %+v", code, got)
	}
	if v := got.Properties.Outputs["diskGB"].(map[string]any)["value"]; v != float64(64) {
		t.Errorf("outputs %v", got.Properties.Outputs)
	}
	db := srv.history("/subscriptions/" + subscriptionID + "/resourceGroups/fleet/providers/Microsoft.Compute/virtualMachines/web-db")
	var dbDone time.Time
	creates := 0
	for _, h := range db {
		if h.Code == "ProvisioningState/creating" && h.PowerState == "" {
			creates++
		}
		if h.Code == "ProvisioningState/succeeded" && dbDone.IsZero() {
			dbDone = h.Time
		}
	}
	if creates != 1 || !db[0].Time.Equal(start) || dbDone.IsZero() {
		t.Fatalf("the db VM's history (created %d times): %+v", creates, db)
	}
	for _, name := range []string{"web-0", "web-1"} {
		h := srv.history("/subscriptions/" + subscriptionID + "/resourceGroups/fleet/providers/Microsoft.Compute/virtualMachines/" + name)
		if len(h) == 0 || !h[0].Time.Equal(dbDone) {
			t.Errorf("%s: history %+v; the db VM was done at %s", name, h, dbDone)
		}
	}
	srv.stop()
}

// Under the real clock a deployment completes on its own: each VM's
// provisioning ends as time passes, and the resources that waited for it
// start then.
func TestDeploymentOnTheRealClock(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t, azemutest.WithRealClock(2000))
	c := newDeployClients(t, srv)
	ctx := context.Background()
	if _, err := c.groups.CreateOrUpdate(ctx, "fleet", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.deploy(t, srv, "fleet", "main", map[string]any{"webCount": 1, "adminPassword": "Example-Passw0rd"})
	if err != nil || *res.Properties.ProvisioningState != armresources.ProvisioningStateSucceeded {
		t.Fatalf("deployment: %v %+v", err, res.Properties)
	}
	vm, err := c.vms.Get(ctx, "fleet", "web-0", nil)
	if err != nil || *vm.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("web-0: %v %v", err, vm.Properties)
	}
}

// parseDuration reads an ISO 8601 duration as deployments write them
// (PT1H2M3.5S).
func parseDuration(t *testing.T, iso string) time.Duration {
	t.Helper()
	rest, ok := strings.CutPrefix(iso, "PT")
	if !ok {
		t.Fatalf("duration %q", iso)
	}
	var total time.Duration
	for rest != "" {
		i := strings.IndexAny(rest, "HMS")
		if i < 0 {
			t.Fatalf("duration %q", iso)
		}
		unit := map[byte]string{'H': "h", 'M': "m", 'S': "s"}[rest[i]]
		d, err := time.ParseDuration(rest[:i] + unit)
		if err != nil {
			t.Fatalf("duration %q: %v", iso, err)
		}
		total += d
		rest = rest[i+1:]
	}
	return total
}

// What If says what a deployment would change without changing anything:
// every resource Create before the first deployment, NoChange when the same
// template is deployed again, and Modify, with the property, when a
// parameter changes a value.
func TestDeploymentWhatIf(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	c := newDeployClients(t, srv)
	ctx := context.Background()
	if _, err := c.groups.CreateOrUpdate(ctx, "fleet", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal([]byte(fleetTemplate), &tmpl); err != nil {
		t.Fatal(err)
	}
	whatIf := func(params map[string]any) map[string]*armresources.WhatIfChange {
		t.Helper()
		values := map[string]any{}
		for k, v := range params {
			values[k] = map[string]any{"value": v}
		}
		p, err := c.deployments.BeginWhatIf(ctx, "fleet", "main", armresources.DeploymentWhatIf{Properties: &armresources.DeploymentWhatIfProperties{
			Mode: to.Ptr(armresources.DeploymentModeIncremental), Template: tmpl, Parameters: values}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := azemutest.PollUntilDone(srv, p)
		if err != nil {
			t.Fatal(err)
		}
		if *res.Status != "Succeeded" {
			t.Fatalf("what-if: %s %+v", *res.Status, res.Error)
		}
		out := map[string]*armresources.WhatIfChange{}
		for _, ch := range res.Properties.Changes {
			out[(*ch.ResourceID)[strings.LastIndex(*ch.ResourceID, "/")+1:]] = ch
		}
		return out
	}
	params := map[string]any{"webCount": 2, "adminPassword": "Example-Passw0rd"}
	before := whatIf(params)
	if len(before) != 11 {
		t.Fatalf("%d changes, want 11: %v", len(before), keysOf(before))
	}
	for name, ch := range before {
		if *ch.ChangeType != armresources.ChangeTypeCreate {
			t.Errorf("%s: %s before anything is deployed", name, *ch.ChangeType)
		}
	}
	if after := before["web-1"].After.(map[string]any); after["type"] != "Microsoft.Compute/virtualMachines" ||
		after["properties"].(map[string]any)["hardwareProfile"].(map[string]any)["vmSize"] != "Standard_D2s_v3" {
		t.Errorf("web-1 would be created as %v", after)
	}
	if got := c.vmNames(t, "fleet"); len(got) != 0 {
		t.Fatalf("what-if created VMs: %v", got)
	}
	if _, err := c.deploy(t, srv, "fleet", "main", params); err != nil {
		t.Fatal(err)
	}
	again := whatIf(params)
	if len(again) != 11 {
		t.Fatalf("%d changes on redeploying, want 11", len(again))
	}
	for name, ch := range again {
		if *ch.ChangeType != armresources.ChangeTypeNoChange {
			t.Errorf("%s: %s on redeploying the same template; delta %s", name, *ch.ChangeType, deltaOf(ch))
		}
	}
	params["size"] = "Standard_B1s"
	changed := whatIf(params)
	for name, ch := range changed {
		want := armresources.ChangeTypeNoChange
		if strings.HasPrefix(name, "web-") && !strings.Contains(name, "-nic") && !strings.Contains(name, "-data") && name != "web-vnet" && name != "web-nsg" && name != "setup" {
			want = armresources.ChangeTypeModify
		}
		if *ch.ChangeType != want {
			t.Errorf("%s: %s, want %s; delta %s", name, *ch.ChangeType, want, deltaOf(ch))
		}
	}
	if d := changed["web-0"].Delta; len(d) != 1 || *d[0].Path != "properties.hardwareProfile.vmSize" ||
		d[0].Before != "Standard_D2s_v3" || d[0].After != "Standard_B1s" || *d[0].PropertyChangeType != armresources.PropertyChangeTypeModify {
		t.Errorf("web-0's delta: %s", deltaOf(changed["web-0"]))
	}
	if vm, err := c.vms.Get(ctx, "fleet", "web-0", nil); err != nil || *vm.Properties.HardwareProfile.VMSize != "Standard_D2s_v3" {
		t.Fatalf("what-if changed web-0: %v", err)
	}
}

func deltaOf(ch *armresources.WhatIfChange) string {
	var out []string
	for _, d := range ch.Delta {
		out = append(out, fmt.Sprintf("%s %s %v -> %v", *d.PropertyChangeType, *d.Path, d.Before, d.After))
	}
	return strings.Join(out, "; ")
}

func (c deployClients) vmNames(t *testing.T, rg string) []string {
	t.Helper()
	var out []string
	pager := c.vms.NewListPager(rg, nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, vm := range page.Value {
			out = append(out, *vm.Name)
		}
	}
	return out
}

// Drives a VM and a scale set through their lifecycle with the stock
// @azure/arm-compute (the package named on the command line: the current
// major, or "arm-compute-22" for 22.x) and @azure/arm-resources, configured
// only as a user would: the endpoint, a ClientSecretCredential and the CA
// (NODE_EXTRA_CA_CERTS). Every long-running operation goes through the
// SDK's poller. It prints what it saw as one JSON object; the Go test
// (e2e/sdks_test.go) decides whether that is right.
// Usage: node lifecycle.mjs <azemu URL> <package> <subscription>
import { ClientSecretCredential } from "@azure/identity";
import { ResourceManagementClient } from "@azure/arm-resources";

const [base, pkg, subscription] = process.argv.slice(2);
const { ComputeManagementClient } = await import(pkg);
const scope = "https://management.core.windows.net//.default";
const credential = new ClientSecretCredential("adfs", "js-e2e", "js-secret", { authorityHost: base });
// 22.x reads credentialScopes, the current major credentials.scopes.
const options = { endpoint: base, credentialScopes: [scope], credentials: { scopes: [scope] } };
const compute = new ComputeManagementClient(credential, subscription, options);
const groups = new ResourceManagementClient(credential, subscription, options).resourceGroups;
const poll = { updateIntervalInMs: 100 };
const rg = "rg-js";
const nic = `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.Network/networkInterfaces/web-nic`;
const image = { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" };

const codes = (statuses) => (statuses ?? []).map((s) => s.code);
const vmCodes = async () => codes((await compute.virtualMachines.instanceView(rg, "web")).statuses);
const setSummary = async () => {
  const iv = await compute.virtualMachineScaleSets.getInstanceView(rg, "set");
  const out = {};
  for (const s of iv.virtualMachine?.statusesSummary ?? []) out[s.code] = s.count;
  return out;
};
// A refusal is a RestError with its status and code; a failed operation is
// the poller's error, whose message carries the code.
const failure = (err) => ({ status: err.statusCode ?? 0, code: err.code ?? "", message: err.message });

const out = { vm: {}, scaleSet: {} };
await groups.createOrUpdate(rg, { location: "eastus" });

const vm = await compute.virtualMachines.beginCreateOrUpdateAndWait(rg, "web", {
  location: "eastus",
  hardwareProfile: { vmSize: "Standard_D2s_v3" },
  storageProfile: { imageReference: image, osDisk: { createOption: "FromImage" } },
  osProfile: { computerName: "web", adminUsername: "azureuser", adminPassword: "Passw0rd!e2e" },
  networkProfile: { networkInterfaces: [{ id: nic }] },
}, poll);
out.vm.provisioningState = vm.provisioningState;
out.vm.created = await vmCodes();

const vmss = {
  location: "eastus",
  sku: { name: "Standard_D2s_v3", tier: "Standard", capacity: 2 },
  upgradePolicy: { mode: "Manual" },
  orchestrationMode: "Uniform",
  virtualMachineProfile: {
    storageProfile: { imageReference: image },
    osProfile: { computerNamePrefix: "set", adminUsername: "azureuser", adminPassword: "Passw0rd!e2e" },
    networkProfile: { networkInterfaceConfigurations: [{ name: "nic", primary: true, ipConfigurations: [{ name: "ip" }] }] },
  },
};
const set = await compute.virtualMachineScaleSets.beginCreateOrUpdateAndWait(rg, "set", vmss, poll);
out.scaleSet.provisioningState = set.provisioningState;
out.scaleSet.created = await setSummary();
out.scaleSet.instances = [];
for await (const inst of compute.virtualMachineScaleSetVMs.list(rg, "set")) out.scaleSet.instances.push(inst.instanceId);

out.statusOnly = {};
for await (const v of compute.virtualMachines.listAll({ statusOnly: "true" })) {
  out.statusOnly[v.name] = codes(v.instanceView?.statuses);
}

const vms = compute.virtualMachines;
await vms.beginPowerOffAndWait(rg, "web", poll);
out.vm.poweredOff = await vmCodes();
await vms.beginStartAndWait(rg, "web", poll);
out.vm.started = await vmCodes();
await vms.beginRestartAndWait(rg, "web", poll);
out.vm.restarted = await vmCodes();
await vms.beginDeallocateAndWait(rg, "web", poll);
out.vm.deallocated = await vmCodes();
try {
  await vms.beginRestartAndWait(rg, "web", poll);
  out.refused = { status: 0 };
} catch (err) {
  out.refused = failure(err);
}
await vms.beginStartAndWait(rg, "web", poll);
out.vm.startedAgain = await vmCodes();
// The test registered a fault that fails the next redeploy.
try {
  await vms.beginRedeployAndWait(rg, "web", poll);
  out.failed = { status: 0 };
} catch (err) {
  out.failed = failure(err);
}
out.vm.afterFailure = await vmCodes();

const sets = compute.virtualMachineScaleSets;
await sets.beginPowerOffAndWait(rg, "set", poll);
out.scaleSet.poweredOff = await setSummary();
await sets.beginStartAndWait(rg, "set", poll);
out.scaleSet.started = await setSummary();
await sets.beginRestartAndWait(rg, "set", poll);
out.scaleSet.restarted = await setSummary();
await sets.beginDeallocateAndWait(rg, "set", poll);
out.scaleSet.deallocated = await setSummary();

await vms.beginDeleteAndWait(rg, "web", poll);
await sets.beginDeleteAndWait(rg, "set", poll);
out.remaining = [];
for await (const v of vms.listAll()) out.remaining.push(v.name);
console.log(JSON.stringify(out));

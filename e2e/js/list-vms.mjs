// Signs in to azemu with the stock ClientSecretCredential and lists the
// VMs of a subscription, configured only as a user would: the authority
// host, the tenant, a client ID and secret, and the CA (NODE_EXTRA_CA_CERTS).
// Usage: node list-vms.mjs <azemu URL> <tenant> <client ID> <secret> <subscription>
import { ClientSecretCredential } from "@azure/identity";
import { ComputeManagementClient } from "@azure/arm-compute";

const [base, tenant, clientId, secret, subscription] = process.argv.slice(2);
const scope = "https://management.core.windows.net//.default";
const credential = new ClientSecretCredential(tenant, clientId, secret, { authorityHost: base });
const token = await credential.getToken(scope);
// 22.x reads credentialScopes, the current major credentials.scopes.
const client = new ComputeManagementClient(credential, subscription,
  { endpoint: base, credentialScopes: [scope], credentials: { scopes: [scope] } });
const names = [];
for await (const vm of client.virtualMachines.listAll()) {
  names.push(vm.name);
}
console.log(JSON.stringify({ tokenExpires: token.expiresOnTimestamp, vms: names }));

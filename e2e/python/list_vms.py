"""Signs in to azemu with the stock ClientSecretCredential of azure-identity
and lists the VMs of a subscription, configured only as a user would: the
authority, the tenant, a client ID and secret, and the CA
(REQUESTS_CA_BUNDLE).

Usage: python3 list_vms.py <azemu URL> <tenant> <client ID> <secret> <subscription>
"""
import json
import sys

from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient

base, tenant, client_id, secret, subscription = sys.argv[1:6]
scope = "https://management.core.windows.net//.default"
credential = ClientSecretCredential(tenant, client_id, secret, authority=base)
token = credential.get_token(scope)
client = ComputeManagementClient(credential, subscription, base_url=base, credential_scopes=[scope])
names = [vm.name for vm in client.virtual_machines.list_all()]
print(json.dumps({"tokenExpires": token.expires_on, "vms": names}))

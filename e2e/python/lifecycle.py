"""Drives a VM and a scale set through their lifecycle with Debian's
python3-azure (azure-mgmt-compute 29, azure-mgmt-resource), configured only
as a user would: the endpoint, a ClientSecretCredential and the CA
(REQUESTS_CA_BUNDLE). Every long-running operation goes through the SDK's
poller. It prints what it saw as one JSON object; the Go test
(e2e/sdks_test.go) decides whether that is right.

Usage: python3 lifecycle.py <azemu URL> <subscription>
"""
import json
import sys

from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource import ResourceManagementClient

base, subscription = sys.argv[1:3]
scope = "https://management.core.windows.net//.default"
credential = ClientSecretCredential("adfs", "py-e2e", "py-secret", authority=base)
compute = ComputeManagementClient(credential, subscription, base_url=base, credential_scopes=[scope])
resources = ResourceManagementClient(credential, subscription, base_url=base, credential_scopes=[scope])
rg = "rg-py"
nic = f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Network/networkInterfaces/web-nic"
image = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
vms = compute.virtual_machines
sets = compute.virtual_machine_scale_sets


def codes(statuses):
    return [s.code for s in statuses or []]


def vm_codes():
    return codes(vms.instance_view(rg, "web").statuses)


def set_summary():
    iv = sets.get_instance_view(rg, "set")
    return {s.code: s.count for s in iv.virtual_machine.statuses_summary}


def failure(err):
    # A refusal is an HttpResponseError with its status and code; a failed
    # operation is the poller's, with the operation's error.
    code = err.error.code if err.error else ""
    return {"status": err.status_code or 0, "code": code, "message": str(err)}


out = {"vm": {}, "scaleSet": {}}
resources.resource_groups.create_or_update(rg, {"location": "eastus"})

vm = vms.begin_create_or_update(rg, "web", {
    "location": "eastus",
    "hardware_profile": {"vm_size": "Standard_D2s_v3"},
    "storage_profile": {"image_reference": image, "os_disk": {"create_option": "FromImage"}},
    "os_profile": {"computer_name": "web", "admin_username": "azureuser", "admin_password": "Passw0rd!e2e"},
    "network_profile": {"network_interfaces": [{"id": nic}]},
}).result()
out["vm"]["provisioningState"] = vm.provisioning_state
out["vm"]["created"] = vm_codes()

scale_set = sets.begin_create_or_update(rg, "set", {
    "location": "eastus",
    "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2},
    "upgrade_policy": {"mode": "Manual"},
    "orchestration_mode": "Uniform",
    "virtual_machine_profile": {
        "storage_profile": {"image_reference": image},
        "os_profile": {"computer_name_prefix": "set", "admin_username": "azureuser", "admin_password": "Passw0rd!e2e"},
        "network_profile": {"network_interface_configurations": [
            {"name": "nic", "primary": True, "ip_configurations": [{"name": "ip"}]}]},
    },
}).result()
out["scaleSet"]["provisioningState"] = scale_set.provisioning_state
out["scaleSet"]["created"] = set_summary()
out["scaleSet"]["instances"] = [i.instance_id for i in compute.virtual_machine_scale_set_vms.list(rg, "set")]

out["statusOnly"] = {v.name: codes(v.instance_view.statuses if v.instance_view else None)
                     for v in vms.list_all(status_only="true")}

vms.begin_power_off(rg, "web").result()
out["vm"]["poweredOff"] = vm_codes()
vms.begin_start(rg, "web").result()
out["vm"]["started"] = vm_codes()
vms.begin_restart(rg, "web").result()
out["vm"]["restarted"] = vm_codes()
vms.begin_deallocate(rg, "web").result()
out["vm"]["deallocated"] = vm_codes()
try:
    vms.begin_restart(rg, "web").result()
    out["refused"] = {"status": 0}
except HttpResponseError as err:
    out["refused"] = failure(err)
vms.begin_start(rg, "web").result()
out["vm"]["startedAgain"] = vm_codes()
# The test registered a fault that fails the next redeploy.
try:
    vms.begin_redeploy(rg, "web").result()
    out["failed"] = {"status": 0}
except HttpResponseError as err:
    out["failed"] = failure(err)
out["vm"]["afterFailure"] = vm_codes()

sets.begin_power_off(rg, "set").result()
out["scaleSet"]["poweredOff"] = set_summary()
sets.begin_start(rg, "set").result()
out["scaleSet"]["started"] = set_summary()
sets.begin_restart(rg, "set").result()
out["scaleSet"]["restarted"] = set_summary()
sets.begin_deallocate(rg, "set").result()
out["scaleSet"]["deallocated"] = set_summary()

vms.begin_delete(rg, "web").result()
sets.begin_delete(rg, "set").result()
out["remaining"] = [v.name for v in vms.list_all()]
print(json.dumps(out))

package armapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func setPath(rg, name string) string {
	return groupPath(rg) + "/providers/Microsoft.Compute/virtualMachineScaleSets/" + name
}

func uniformSet(rg string, capacity int) map[string]any {
	return map[string]any{
		"location": "westeurope",
		"sku":      map[string]any{"name": "Standard_D2s_v3", "capacity": capacity},
		"properties": map[string]any{
			"orchestrationMode": "Uniform",
			"virtualMachineProfile": map[string]any{
				"storageProfile": map[string]any{"imageReference": map[string]any{
					"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
				"osProfile": map[string]any{"computerNamePrefix": "web", "adminUsername": "azureuser", "adminPassword": "Passw0rd!x"},
				"networkProfile": map[string]any{"networkInterfaceConfigurations": []any{map[string]any{
					"name": "nic", "properties": map[string]any{"primary": true}}}},
			},
		},
	}
}

// summary reads the set's statusesSummary as code -> count.
func (e *env) summary(rg, name string) map[string]int {
	e.t.Helper()
	iv := e.must(http.StatusOK, http.MethodGet, setPath(rg, name)+"/instanceView", nil).JSON(e.t)
	out := map[string]int{}
	for _, c := range dig(iv, "virtualMachine", "statusesSummary").([]any) {
		m := c.(map[string]any)
		out[m["code"].(string)] = int(m["count"].(float64))
	}
	return out
}

func TestUniformScaleSetLifecycle(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	r := e.must(http.StatusCreated, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 3))
	if got := dig(r.JSON(t), "properties", "provisioningState"); got != "Creating" {
		t.Fatalf("provisioningState %v, want Creating", got)
	}
	if strings.Contains(string(r.Body), "Passw0rd") {
		t.Fatal("the admin password is returned")
	}
	putOp := r.Header.Get("Azure-AsyncOperation")
	list := e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss")+"/virtualMachines", nil).JSON(t)["value"].([]any)
	if len(list) != 3 {
		t.Fatalf("%d instances, want 3", len(list))
	}
	inst := list[2].(map[string]any)
	if inst["instanceId"] != "2" || inst["name"] != "ss_2" || inst["type"] != "Microsoft.Compute/virtualMachineScaleSets/virtualMachines" {
		t.Fatalf("instance 2 rendered as %v %v %v", inst["instanceId"], inst["name"], inst["type"])
	}
	if got := dig(inst, "properties", "osProfile", "computerName"); got != "web000002" {
		t.Fatalf("computerName %v, want web000002", got)
	}
	// Plain VM lists do not show Uniform instances.
	all := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines", nil).JSON(t)["value"].([]any)
	if len(all) != 0 {
		t.Fatalf("listAll shows %d VMs, want none", len(all))
	}
	e.advance(2 * time.Minute)
	if st := e.opStatus(putOp)["status"]; st != "Succeeded" {
		t.Fatalf("PUT operation %v, want Succeeded", st)
	}
	if got := e.summary("rg", "ss"); got["PowerState/running"] != 3 || got["ProvisioningState/succeeded"] != 3 {
		t.Fatalf("summary %v, want 3 running and succeeded", got)
	}

	r = e.must(http.StatusAccepted, http.MethodPost, setPath("rg", "ss")+"/deallocate", map[string]any{"instanceIds": []string{"0", "1"}})
	batch := r.Header.Get("Azure-AsyncOperation")
	e.advance(5 * time.Second)
	if got := e.summary("rg", "ss"); got["PowerState/stopping"] != 2 || got["ProvisioningState/updating"] != 2 || got["PowerState/running"] != 1 {
		t.Fatalf("summary while deallocating %v", got)
	}
	if st := e.opStatus(batch)["status"]; st != "InProgress" {
		t.Fatalf("batch %v while it runs", st)
	}
	e.advance(time.Minute)
	if got := e.summary("rg", "ss"); got["PowerState/deallocated"] != 2 || got["PowerState/running"] != 1 {
		t.Fatalf("summary after deallocate %v", got)
	}
	if st := e.opStatus(batch)["status"]; st != "Succeeded" {
		t.Fatalf("batch %v, want Succeeded", st)
	}

	// Refusals: an unknown instance, a delete without instanceIds.
	armError(t, e.do(http.MethodPost, setPath("rg", "ss")+"/start", map[string]any{"instanceIds": []string{"7"}}), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodPost, setPath("rg", "ss")+"/delete", map[string]any{}), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodGet, setPath("rg", "ss")+"/virtualMachines/7", nil), http.StatusNotFound, "ResourceNotFound", "")
	armError(t, e.do(http.MethodPost, setPath("rg", "ss")+"/virtualMachines/7/start", nil), http.StatusNotFound, "ResourceNotFound", "")

	// Instance API: powerOff with Azure's path casing.
	r = e.must(http.StatusAccepted, http.MethodPost, setPath("rg", "ss")+"/virtualMachines/2/poweroff", nil)
	e.advance(time.Minute)
	iv := e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss")+"/virtualMachines/2/instanceView", nil).JSON(t)
	if !strings.Contains(fmt.Sprint(iv["statuses"]), "PowerState/stopped") {
		t.Fatalf("instance 2 after powerOff: %v", iv["statuses"])
	}

	// Scale out to 5 then in to 2: the highest IDs go.
	patch := map[string]any{"sku": map[string]any{"capacity": 5}}
	e.must(http.StatusOK, http.MethodPatch, setPath("rg", "ss"), patch)
	e.advance(2 * time.Minute)
	if n := len(e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss")+"/virtualMachines", nil).JSON(t)["value"].([]any)); n != 5 {
		t.Fatalf("%d instances after scale-out, want 5", n)
	}
	patch = map[string]any{"sku": map[string]any{"capacity": 2}}
	r = e.must(http.StatusOK, http.MethodPatch, setPath("rg", "ss"), patch)
	if c := dig(r.JSON(t), "sku", "capacity"); c != float64(2) {
		t.Fatalf("capacity %v, want 2", c)
	}
	e.advance(time.Minute)
	var ids []string
	for _, v := range e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss")+"/virtualMachines", nil).JSON(t)["value"].([]any) {
		ids = append(ids, v.(map[string]any)["instanceId"].(string))
	}
	if strings.Join(ids, ",") != "0,1" {
		t.Fatalf("instances after scale-in %v, want 0,1", ids)
	}

	// Delete the set: its instances go, then the set, and a batch on a
	// deleting set is refused.
	r = e.must(http.StatusAccepted, http.MethodDelete, setPath("rg", "ss"), nil)
	del := r.Header.Get("Azure-AsyncOperation")
	armError(t, e.do(http.MethodPost, setPath("rg", "ss")+"/start", nil), http.StatusConflict, "OperationNotAllowed", "")
	e.advance(time.Minute)
	if st := e.opStatus(del)["status"]; st != "Succeeded" {
		t.Fatalf("delete %v, want Succeeded", st)
	}
	armError(t, e.do(http.MethodGet, setPath("rg", "ss"), nil), http.StatusNotFound, "ResourceNotFound", "")
}

func TestScaleSetValidation(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := uniformSet("rg", 1)
	delete(body["properties"].(map[string]any), "virtualMachineProfile")
	armError(t, e.do(http.MethodPut, setPath("rg", "ss"), body), http.StatusBadRequest, "InvalidParameter", "Required parameter 'virtualMachineProfile' is missing (null).")
	body = uniformSet("rg", 1)
	delete(dig(body, "properties", "virtualMachineProfile", "osProfile").(map[string]any), "adminPassword")
	armError(t, e.do(http.MethodPut, setPath("rg", "ss"), body), http.StatusBadRequest, "InvalidParameter", "Required parameter 'adminPassword' is missing (null).")
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "ss"), uniformSet("rg", 0))
	change := uniformSet("rg", 0)
	change["properties"].(map[string]any)["orchestrationMode"] = "Flexible"
	armError(t, e.do(http.MethodPut, setPath("rg", "ss"), change), http.StatusConflict, "PropertyChangeNotAllowed", "")
	// An empty set's PUT ends at once.
	if got := dig(e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss"), nil).JSON(t), "properties", "provisioningState"); got != "Succeeded" {
		t.Fatalf("provisioningState %v, want Succeeded", got)
	}
	list := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachineScaleSets", nil).JSON(t)["value"].([]any)
	if len(list) != 1 {
		t.Fatalf("listAll shows %d sets, want 1", len(list))
	}
	for loc, want := range map[string]int{"westeurope": 1, "eastus": 0} {
		list = e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/locations/"+loc+"/virtualMachineScaleSets", nil).JSON(t)["value"].([]any)
		if len(list) != want {
			t.Fatalf("%d sets in %s, want %d", len(list), loc, want)
		}
	}
}

func TestFlexibleScaleSet(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "flex"), map[string]any{
		"location":   "westeurope",
		"properties": map[string]any{"orchestrationMode": "Flexible", "platformFaultDomainCount": 1},
	})
	setID := setPath("rg", "flex")
	for i := 0; i < 2; i++ {
		e.createVM("rg", fmt.Sprintf("m%d", i), with(linuxVM("rg", fmt.Sprintf("m%d", i), "westeurope"), "properties.virtualMachineScaleSet", map[string]any{"id": setID}))
	}
	e.createVM("rg", "loner", linuxVM("rg", "loner", "westeurope"))
	vm := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "m0"), nil).JSON(t)
	if vm["managedBy"] != setID {
		t.Fatalf("managedBy %v, want %s", vm["managedBy"], setID)
	}
	armError(t, e.do(http.MethodGet, setPath("rg", "flex")+"/instanceView", nil), http.StatusBadRequest, "OperationNotAllowed", "")
	e.advance(2 * time.Minute)
	r := e.must(http.StatusAccepted, http.MethodPost, setPath("rg", "flex")+"/powerOff", nil)
	e.advance(time.Minute)
	if st := e.opStatus(r.Header.Get("Azure-AsyncOperation"))["status"]; st != "Succeeded" {
		t.Fatalf("powerOff %v", st)
	}
	for name, want := range map[string]string{"m0": "stopped", "m1": "stopped", "loner": "running"} {
		if _, power := e.state("rg", name); !strings.Contains(strings.ToLower(power), want) {
			t.Fatalf("%s power %q, want %s", name, power, want)
		}
	}
	// A Uniform set takes no VMs.
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "uni"), uniformSet("rg", 0))
	armError(t, e.do(http.MethodPut, vmPath("rg", "x"), with(linuxVM("rg", "x", "westeurope"), "properties.virtualMachineScaleSet", map[string]any{"id": setPath("rg", "uni")})),
		http.StatusBadRequest, "InvalidParameter", "")
}

func TestFlexibleCapacityCreatesMembers(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := uniformSet("rg", 2)
	body["properties"].(map[string]any)["orchestrationMode"] = "Flexible"
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "flex"), body)
	filter := "$filter=" + strings.ReplaceAll("'virtualMachineScaleSet/id' eq '"+setPath("rg", "flex")+"'", " ", "%20")
	list := e.must(http.StatusOK, http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Compute/virtualMachines?"+filter, nil).JSON(t)["value"].([]any)
	if len(list) != 2 {
		t.Fatalf("%d members, want 2", len(list))
	}
	name := list[0].(map[string]any)["name"].(string)
	if !strings.HasPrefix(name, "flex_") || len(name) != len("flex_")+8 {
		t.Fatalf("member name %q, want flex_<8 hex>", name)
	}
	// Deleting the group takes the set and its members.
	e.must(http.StatusAccepted, http.MethodDelete, groupPath("rg"), nil)
	e.advance(time.Minute)
	armError(t, e.do(http.MethodGet, setPath("rg", "flex"), nil), http.StatusNotFound, "ResourceGroupNotFound", "")
}

// The set's instance view counts each profile extension's instances by
// status: transitioning while they are created, then succeeded.
func TestScaleSetExtensionsSummary(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	body := uniformSet("rg", 2)
	dig(body, "properties", "virtualMachineProfile").(map[string]any)["extensionProfile"] = map[string]any{
		"extensions": []any{map[string]any{"name": "health", "properties": map[string]any{
			"publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux", "typeHandlerVersion": "1.0"}}}}
	e.must(http.StatusCreated, http.MethodPut, setPath("rg", "ss"), body)
	summary := func() string {
		iv := e.must(http.StatusOK, http.MethodGet, setPath("rg", "ss")+"/instanceView", nil).JSON(t)
		exts := iv["extensions"].([]any)
		if len(exts) != 1 || exts[0].(map[string]any)["name"] != "health" {
			t.Fatalf("extensions %v", iv["extensions"])
		}
		return fmt.Sprint(exts[0].(map[string]any)["statusesSummary"])
	}
	if got := summary(); got != "[map[code:ProvisioningState/transitioning count:2]]" {
		t.Fatalf("while creating: %s", got)
	}
	e.advance(2 * time.Minute)
	if got := summary(); got != "[map[code:ProvisioningState/succeeded count:2]]" {
		t.Fatalf("after the create: %s", got)
	}
}

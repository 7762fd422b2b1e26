package armapi_test

import (
	"net/http"
	"testing"
	"time"
)

func extPath(rg, vm, name string) string { return vmPath(rg, vm) + "/extensions/" + name }

func customScript(seconds string) map[string]any {
	return map[string]any{"location": "westeurope", "tags": map[string]any{"azemu-install-seconds": seconds},
		"properties": map[string]any{"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "typeHandlerVersion": "2.1",
			"settings": map[string]any{"commandToExecute": "echo hi"}, "protectedSettings": map[string]any{"secret": "s3cret"}}}
}

func TestExtensionsAPI(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	r := e.must(http.StatusCreated, http.MethodPut, extPath("rg", "vm1", "script"), customScript("20"))
	if r.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatal("no Azure-AsyncOperation on an extension PUT")
	}
	x := r.JSON(t)
	if props(x)["provisioningState"] != "Creating" || hasKeyFold(x, "protectedSettings") || x["type"] != "Microsoft.Compute/virtualMachines/extensions" {
		t.Fatalf("PUT: %v", x)
	}
	if prov, _ := e.state("rg", "vm1"); prov != "ProvisioningState/updating" {
		t.Fatalf("VM while installing: %s", prov)
	}
	e.advance(20 * time.Second)
	x = e.must(http.StatusOK, http.MethodGet, extPath("rg", "vm1", "SCRIPT")+"?$expand=instanceView", nil).JSON(t)
	if props(x)["provisioningState"] != "Succeeded" || dig(x, "properties", "instanceView", "statuses") == nil {
		t.Fatalf("GET: %v", x)
	}
	iv := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"/instanceView", nil).JSON(t)
	if exts, _ := iv["extensions"].([]any); len(exts) != 1 {
		t.Fatalf("instance view extensions: %v", iv["extensions"])
	}
	if v := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"/extensions", nil).JSON(t)["value"].([]any); len(v) != 1 {
		t.Fatalf("list: %v", v)
	}
	// Validation, a missing parent, a stopped VM.
	bad := customScript("20")
	delete(props(bad), "publisher")
	armError(t, e.do(http.MethodPut, extPath("rg", "vm1", "x"), bad), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodPut, extPath("rg", "vm1", "x"), customScript("0")), http.StatusBadRequest, "InvalidParameter", "")
	armError(t, e.do(http.MethodPut, extPath("rg", "nope", "x"), customScript("5")), http.StatusNotFound, "ParentResourceNotFound", "")
	armError(t, e.do(http.MethodGet, extPath("rg", "vm1", "nope"), nil), http.StatusNotFound, "ResourceNotFound", "")
	e.act("rg", "vm1", "powerOff")
	e.advance(time.Minute)
	armError(t, e.do(http.MethodPut, extPath("rg", "vm1", "late"), customScript("5")), http.StatusConflict, "OperationNotAllowed",
		"Cannot modify extensions in the VM when the VM is not running.")
	e.act("rg", "vm1", "start")
	e.advance(time.Minute)
	e.must(http.StatusAccepted, http.MethodDelete, extPath("rg", "vm1", "script"), nil)
	e.must(http.StatusNoContent, http.MethodDelete, extPath("rg", "vm1", "script"), nil)
	e.advance(time.Minute)
	if v := e.must(http.StatusOK, http.MethodGet, vmPath("rg", "vm1")+"/extensions", nil).JSON(t)["value"].([]any); len(v) != 0 {
		t.Fatalf("list after delete: %v", v)
	}
}

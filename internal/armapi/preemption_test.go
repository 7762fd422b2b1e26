package armapi_test

import (
	"net/http"
	"testing"
	"time"
)

// Operations that take the VM's current state as their own (migrate,
// runCommand, guest shutdown) may arrive while a power operation or a
// reimage is half-way. Taking over the half-way plan would leave the VM
// half-way for good, so they are refused (409); either way the VM must end
// in a settled state.

// settled requires provisioning Succeeded and a power state that is not a
// transition.
func settled(t *testing.T, e *env, rg, name string) {
	t.Helper()
	prov, pw := e.state(rg, name)
	switch pw {
	case "PowerState/running", "PowerState/stopped", "PowerState/deallocated":
	default:
		t.Fatalf("VM left in %s %s", prov, pw)
	}
	if prov != "ProvisioningState/succeeded" {
		t.Fatalf("VM left in %s %s", prov, pw)
	}
}

func TestMigrateDuringStartSettles(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.act("rg", "vm1", "powerOff")
	e.advance(10 * time.Second)
	e.act("rg", "vm1", "start")
	r := e.do(http.MethodPost, "/_azemu/vms"+vmID("rg", "vm1")+"/migrate", nil)
	if r.Status != http.StatusAccepted && r.Status != http.StatusConflict {
		t.Fatal(r)
	}
	e.advance(5 * time.Minute)
	settled(t, e, "rg", "vm1")
}

func TestRunCommandDuringReimageSettles(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.act("rg", "vm1", "reimage")
	e.advance(30 * time.Second) // into OS provisioning: power running
	r := e.do(http.MethodPost, vmPath("rg", "vm1")+"/runCommand", map[string]any{"commandId": "RunShellScript", "script": []string{"ls"}})
	if r.Status != http.StatusAccepted && r.Status != http.StatusConflict {
		t.Fatal(r)
	}
	e.advance(5 * time.Minute)
	settled(t, e, "rg", "vm1")
}

func TestGuestShutdownDuringReimageSettles(t *testing.T) {
	e := newEnv(t)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	e.act("rg", "vm1", "reimage")
	e.advance(30 * time.Second)
	r := e.do(http.MethodPost, "/_azemu/vms"+vmID("rg", "vm1")+"/guestShutdown", nil)
	if r.Status != http.StatusAccepted && r.Status != http.StatusConflict {
		t.Fatal(r)
	}
	e.advance(5 * time.Minute)
	settled(t, e, "rg", "vm1")
}

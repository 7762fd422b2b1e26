package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/lifecycle"
)

func (r *rig) putExtension(vm, name string, install time.Duration) (*Extension, string, error) {
	r.t.Helper()
	res, err := r.eng.Do(context.Background(), Command{ID: extension.ID(vmID("rg", vm), name), Verb: VerbPut,
		Input: ExtensionSpec{Location: "westus", Publisher: "Microsoft.Azure.Extensions", Type: "CustomScript", TypeHandlerVersion: "2.1", Install: install}})
	x, _ := res.State.(*Extension)
	return x, res.Operation.ID, err
}

// An extension added during the create keeps the VM in
// osProvisioningComplete until it is installed, across a restart.
func TestExtensionHoldsTheCreate(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", true) // 15 + 20 + 40 + 5 s
	r.advance(60 * time.Second)
	x, op, err := r.putExtension("vm1", "script", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.eng.ExtensionState(context.Background(), x); got != "Creating" {
		t.Fatalf("extension state %s", got)
	}
	r.restart(r.clk.Now())
	r.advance(25 * time.Second) // +85 s: the create alone would have ended at +80 s
	if st := r.state("rg", "vm1"); st.ProvisioningCode() != "ProvisioningState/creating/osProvisioningComplete" {
		t.Fatalf("at +85s: %s", st.ProvisioningCode())
	}
	r.advance(5 * time.Second) // +90 s: installed
	if st := r.state("rg", "vm1"); st.Provisioning != lifecycle.Succeeded {
		t.Fatalf("at +90s: %s", st.ProvisioningCode())
	}
	if status, _ := r.op(op); status != StatusSucceeded {
		t.Fatalf("extension op %s", status)
	}
	x, err = r.eng.GetExtension(testSub, "rg", "vm1", "SCRIPT")
	if err != nil || r.eng.ExtensionState(context.Background(), x) != "Succeeded" {
		t.Fatalf("extension after the create: %v %v", x, err)
	}
}

func TestExtensionOnRunningAndStoppedVMs(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", false)
	r.advance(time.Minute)
	_, op, err := r.putExtension("vm1", "agent", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.state("rg", "vm1"); st.Provisioning != lifecycle.Updating {
		t.Fatalf("while installing: %s", st.ProvisioningCode())
	}
	r.advance(20 * time.Second)
	if status, _ := r.op(op); status != StatusSucceeded || r.state("rg", "vm1").Provisioning != lifecycle.Succeeded {
		t.Fatalf("after install: op %s", status)
	}
	// A failing extension fails the VM's update, and the extension.
	if _, err := r.eng.AddFault(context.Background(), Fault{Operation: "extension", Error: "VMExtensionProvisioningError", Count: one()}); err != nil {
		t.Fatal(err)
	}
	x, op, err := r.putExtension("vm1", "broken", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r.advance(10 * time.Second)
	if status, code := r.op(op); status != StatusFailed || code != "VMExtensionProvisioningError" {
		t.Fatalf("failing extension: %s %s", status, code)
	}
	if got := r.eng.ExtensionState(context.Background(), x); got != "Failed" {
		t.Fatalf("failing extension state %s", got)
	}
	if got := r.state("rg", "vm1").ProvisioningCode(); got != "ProvisioningState/failed/VMExtensionProvisioningError" {
		t.Fatalf("VM after a failing extension: %s", got)
	}
	// A stopped VM refuses extension changes.
	r.act("vm1", lifecycle.PowerOff)
	r.advance(time.Minute)
	_, _, err = r.putExtension("vm1", "late", 0)
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != "OperationNotAllowed" {
		t.Fatalf("extension on a stopped VM: %v", err)
	}
	if _, _, err := r.putExtension("nope", "x", 0); !errors.As(err, &ee) || ee.Code != "ParentResourceNotFound" {
		t.Fatalf("extension on a missing VM: %v", err)
	}
	// Deleting the VM deletes its extensions.
	r.act("vm1", lifecycle.Delete)
	r.advance(time.Minute)
	if n := len(r.eng.Extensions(vmID("rg", "vm1"))); n != 0 {
		t.Fatalf("%d extensions outlived their VM", n)
	}
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	if _, err := r.eng.Do(context.Background(), AddFault{Fault: Fault{Operation: "extension", Error: "VMExtensionProvisioningError", Count: one()}}); err != nil {
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

// indexedExtensions checks that the index by VM holds exactly what a scan
// of every extension finds, and returns the names of vm's extensions, in
// the order Extensions lists them.
func (r *rig) indexedExtensions(vm string) []string {
	r.t.Helper()
	r.eng.mu.RLock()
	scanned := map[string]int{}
	for k := range r.eng.res[ExtensionType] {
		scanned[extensionPrefixOfKey(k)]++
	}
	indexed := map[string]int{}
	for prefix, byKey := range r.eng.extsByVM {
		for k, x := range byKey {
			if r.eng.res[ExtensionType][k] != x {
				r.t.Errorf("the index holds %s, which is not the extension published under that key", k)
			}
		}
		indexed[prefix] = len(byKey)
	}
	r.eng.mu.RUnlock()
	if len(scanned) != len(indexed) {
		r.t.Errorf("index by VM: %v, a scan: %v", indexed, scanned)
	}
	for prefix, n := range scanned {
		if indexed[prefix] != n {
			r.t.Errorf("index by VM: %v, a scan: %v", indexed, scanned)
		}
	}
	var names []string
	for _, x := range r.eng.Extensions(vmID("rg", vm)) {
		names = append(names, x.Name)
	}
	// A VM's GET reads the VM and its extensions in one call, which must
	// give what the two calls give, however the request spells the names.
	for _, spelt := range [][2]string{{"rg", vm}, {"RG", strings.ToUpper(vm)}} {
		got, exts, err := r.eng.GetVMWithExtensions(testSub, spelt[0], spelt[1])
		want, wantErr := r.eng.GetVM(testSub, spelt[0], spelt[1])
		if got != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			r.t.Errorf("GetVMWithExtensions(%s, %s) = %p, %v; GetVM gives %p, %v", spelt[0], spelt[1], got, err, want, wantErr)
		}
		var gotNames []string
		for _, x := range exts {
			gotNames = append(gotNames, x.Name)
		}
		if !slices.Equal(gotNames, names) {
			r.t.Errorf("GetVMWithExtensions(%s, %s) lists %v, Extensions %v", spelt[0], spelt[1], gotNames, names)
		}
	}
	return names
}

// The index of extensions by VM follows puts, deletes, the VM's removal and
// a restart.
func TestExtensionIndexFollowsChanges(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	r.createVM("rg", "vm1", false)
	r.createVM("rg", "vm2", false)
	r.advance(time.Minute)
	for _, p := range []struct{ vm, name string }{{"vm1", "b"}, {"vm1", "A"}, {"vm2", "c"}, {"vm1", "c"}} {
		if _, _, err := r.putExtension(p.vm, p.name, time.Second); err != nil {
			t.Fatal(err)
		}
		r.advance(time.Second)
	}
	if got := fmt.Sprint(r.indexedExtensions("vm1")); got != "[A b c]" {
		t.Fatalf("vm1's extensions: %s", got)
	}
	res, err := r.eng.Do(context.Background(), Command{ID: extension.ID(vmID("rg", "vm1"), "B"), Verb: VerbDelete})
	if err != nil || !res.Found {
		t.Fatalf("delete: %+v %v", res, err)
	}
	r.advance(time.Minute)
	if got := fmt.Sprint(r.indexedExtensions("vm1")); got != "[A c]" {
		t.Fatalf("vm1's extensions after a delete: %s", got)
	}
	r.restart(r.clk.Now())
	if got := fmt.Sprint(r.indexedExtensions("vm1")); got != "[A c]" {
		t.Fatalf("vm1's extensions after a restart: %s", got)
	}
	r.act("vm1", lifecycle.Delete)
	r.advance(time.Minute)
	if got := r.indexedExtensions("vm1"); got != nil {
		t.Fatalf("vm1's extensions after its delete: %s", got)
	}
	if got := fmt.Sprint(r.indexedExtensions("vm2")); got != "[c]" {
		t.Fatalf("vm2's extensions: %s", got)
	}
	r.eng.mu.RLock()
	defer r.eng.mu.RUnlock()
	if len(r.eng.extsByVM) != 1 {
		t.Fatalf("the index keeps %d VMs, want vm2 alone", len(r.eng.extsByVM))
	}
}

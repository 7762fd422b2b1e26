package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/lifecycle"
)

func (r *rig) createVMWithDisks(rg, name string, disks ...DiskRef) error {
	r.t.Helper()
	_, _, _, err := putVM(context.Background(), r.eng, testSub, rg, name, func(*VM) (json.RawMessage, VMSpec, error) {
		return json.RawMessage(`{}`), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux", Disks: disks}, nil
	})
	return err
}

func (r *rig) disk(rg, name string) *Disk {
	r.t.Helper()
	d, err := r.eng.GetDisk(testSub, rg, name)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

func diskEvents(r *rig, rg, name string) string {
	var out []string
	for _, e := range r.history(diskID(testSub, rg, name)) {
		var d diskDetail
		_ = json.Unmarshal(e.Detail, &d)
		out = append(out, fmt.Sprintf("%s %s %s/%d attached=%v", e.At.Sub(t0), e.OperationKind, d.SKU, d.SizeGB, d.ManagedBy != ""))
	}
	return fmt.Sprint(out)
}

// A VM's disks are resources of their own: created with it, attached to
// it, and at its deletion deleted or left behind by their deleteOption.
func TestVMDisksFollowDeleteOption(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	err := r.createVMWithDisks("rg", "vm1",
		DiskRef{Name: "vm1_os", CreateOption: "FromImage", SizeGB: 30, SKU: "Premium_LRS", OS: true},
		DiskRef{Name: "vm1_data", CreateOption: "Empty", SizeGB: 128, SKU: "StandardSSD_LRS", DeleteOption: "Delete"})
	if err != nil {
		t.Fatal(err)
	}
	os, data := r.disk("rg", "vm1_os"), r.disk("rg", "vm1_data")
	if os.ManagedBy != vmID("rg", "vm1") || os.State() != "Attached" || os.Spec.OSType != "Linux" || data.Spec.SizeGB != 128 {
		t.Fatalf("disks after create: %+v %+v", os, data)
	}
	if _, err := r.eng.Do(context.Background(), Command{ID: diskID(testSub, "rg", "vm1_os"), Verb: VerbDelete}); err == nil {
		t.Fatal("deleting an attached disk succeeded")
	}
	r.advance(time.Minute)
	if _, err := act(context.Background(), r.eng, testSub, "rg", "vm1", lifecycle.Request{Kind: lifecycle.Delete}); err != nil {
		t.Fatal(err)
	}
	r.advance(20 * time.Second)
	if d := r.disk("rg", "vm1_os"); d.ManagedBy != "" || d.State() != "Unattached" {
		t.Fatalf("OS disk after VM delete: %+v", d)
	}
	if _, err := r.eng.GetDisk(testSub, "rg", "vm1_data"); err == nil {
		t.Fatal("a disk with deleteOption Delete outlived its VM")
	}
	if got, want := diskEvents(r, "rg", "vm1_os"), "[0s create Premium_LRS/30 attached=true 1m20s detach Premium_LRS/30 attached=false]"; got != want {
		t.Fatalf("OS disk history:\n got  %s\n want %s", got, want)
	}
	if got, want := diskEvents(r, "rg", "vm1_data"), "[0s create StandardSSD_LRS/128 attached=true 1m20s delete StandardSSD_LRS/128 attached=false]"; got != want {
		t.Fatalf("data disk history:\n got  %s\n want %s", got, want)
	}

	// The orphan can be attached to another VM, but not to two.
	if err := r.createVMWithDisks("rg", "vm2", DiskRef{Name: "vm1_os", CreateOption: "Attach", OS: true}); err != nil {
		t.Fatal(err)
	}
	err = r.createVMWithDisks("rg", "vm3", DiskRef{Name: "vm1_os", CreateOption: "Attach", OS: true})
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != "OperationNotAllowed" {
		t.Fatalf("attaching an attached disk: %v", err)
	}
	if _, err := r.eng.GetVM(testSub, "rg", "vm3"); err == nil {
		t.Fatal("a VM whose disk could not attach was created")
	}
	err = r.createVMWithDisks("rg", "vm4", DiskRef{Name: "missing", CreateOption: "Attach", OS: true})
	if !errors.As(err, &ee) || ee.Code != "NotFound" {
		t.Fatalf("attaching a missing disk: %v", err)
	}

	// Deleting the group deletes what is left in it, disks included.
	if _, err := deleteGroup(context.Background(), r.eng, testSub, "rg"); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Minute)
	if st := r.eng.Stats(); st.Disks != 0 || st.VMs != 0 {
		t.Fatalf("after group delete: %+v", st)
	}
}

func TestStandaloneDisk(t *testing.T) {
	r := newRig(t)
	r.group("rg")
	ctx := context.Background()
	id := diskID(testSub, "rg", "d1")
	put := func(size int) (*Disk, bool, error) {
		res, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut,
			Input: DiskSpec{Location: "westus", SKU: "Standard_LRS", SizeGB: size, CreateOption: "Empty"}})
		d, _ := res.State.(*Disk)
		return d, res.Created, err
	}
	d, created, err := put(64)
	if err != nil || !created || d.Version != 1 || d.State() != "Unattached" {
		t.Fatalf("create: %+v %v %v", d, created, err)
	}
	d, created, err = put(128)
	if err != nil || created || d.Spec.SizeGB != 128 || d.Version != 2 {
		t.Fatalf("grow: %+v %v %v", d, created, err)
	}
	var ee *Error
	if _, _, err := put(32); !errors.As(err, &ee) || ee.Code != "InvalidParameter" {
		t.Fatalf("shrink: %v", err)
	}
	if res, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbDelete}); !res.Found || res.State != nil || err != nil {
		t.Fatalf("delete: %+v %v", res, err)
	}
	if res, _ := r.eng.Do(ctx, Command{ID: id, Verb: VerbDelete}); res.Found {
		t.Fatal("second delete found the disk")
	}
	if got, want := diskEvents(r, "rg", "d1"), "[0s create Standard_LRS/64 attached=false 0s update Standard_LRS/128 attached=false 0s delete Standard_LRS/128 attached=false]"; got != want {
		t.Fatalf("history:\n got  %s\n want %s", got, want)
	}
	// Disks survive a restart.
	if _, _, err := put(10); err != nil {
		t.Fatal(err)
	}
	r.restart(r.clk.Now())
	if d := r.disk("rg", "d1"); d.Spec.SizeGB != 10 || d.Version != 1 {
		t.Fatalf("after reload: %+v", d)
	}
}

// Do checks what ARM checks before any kind decides: the target's group,
// the entity tag conditions, and the verbs its kind takes.
func TestDoChecksBeforeTheKindDecides(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	spec := DiskSpec{Location: "westus", SKU: "Standard_LRS", SizeGB: 64, CreateOption: "Empty"}
	code := func(err error) string {
		var ee *Error
		if errors.As(err, &ee) {
			return ee.Code
		}
		return fmt.Sprint(err)
	}
	id := diskID(testSub, "rg", "d1")
	if _, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut, Input: spec}); code(err) != CodeResourceGroupNotFound {
		t.Fatalf("put in a missing group: %v", err)
	}
	r.group("rg")
	if _, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut, Input: spec, IfMatch: "*"}); code(err) != CodePreconditionFailed {
		t.Fatalf("If-Match on a missing disk: %v", err)
	}
	if _, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbAct, Input: spec}); err == nil {
		t.Fatal("a disk took an action it does not know")
	}
	if _, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut, Input: "not a spec"}); err == nil {
		t.Fatal("a disk took an input of the wrong type")
	}
	res, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut, Input: spec})
	if err != nil || !res.Created {
		t.Fatalf("create: %+v %v", res, err)
	}
	if _, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut, Input: spec, IfNoneMatch: "*"}); code(err) != CodePreconditionFailed {
		t.Fatalf("If-None-Match * on an existing disk: %v", err)
	}
	if _, err := r.eng.Do(ctx, Command{ID: id, Verb: VerbPut, Input: spec, IfMatch: `"1"`}); err != nil {
		t.Fatalf("If-Match of the current etag: %v", err)
	}
	if _, err := deleteGroup(ctx, r.eng, testSub, "rg"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Do(ctx, Command{ID: diskID(testSub, "rg", "d2"), Verb: VerbPut, Input: spec}); err == nil {
		t.Fatal("a disk was created in a deleted group")
	}
}

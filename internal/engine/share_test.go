package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

// copyingStore reads every string of a VM or resource row as a copy of
// its own, as a database does, so that whatever the loaded state shares it
// shares by the engine's doing.
type copyingStore struct{ store.Store }

// reopenCopying opens an engine at now on mem, whose rows it loads with
// strings and documents of their own (copyingStore), closed when t ends.
func reopenCopying(t *testing.T, mem store.Store, now time.Time) *Engine {
	t.Helper()
	eng, err := New(context.Background(), Config{Store: copyingStore{mem}, Manual: clock.NewManual(now)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	return eng
}

func (c copyingStore) Load(ctx context.Context) (store.Snapshot, error) {
	snap, err := c.Store.Load(ctx)
	for i := range snap.VMs {
		r := &snap.VMs[i]
		r.ID, r.SubscriptionID, r.ResourceGroup, r.Name = strings.Clone(r.ID), strings.Clone(r.SubscriptionID), strings.Clone(r.ResourceGroup), strings.Clone(r.Name)
		r.Model, r.State = jsonshape.Of(r.Model.Bytes()), append(json.RawMessage(nil), r.State...)
	}
	for i := range snap.Resources {
		r := &snap.Resources[i]
		r.ID, r.SubscriptionID, r.ResourceGroup, r.Name = strings.Clone(r.ID), strings.Clone(r.SubscriptionID), strings.Clone(r.ResourceGroup), strings.Clone(r.Name)
		r.Body = append(json.RawMessage(nil), r.Body...)
	}
	return snap, err
}

// readable is what a client can read of a VM and its disks (the running
// transition's pointer aside).
func readable(v *VM, disks ...*Disk) string {
	vm := *v
	vm.Machine.Run = nil
	out := fmt.Sprintf("%+v", vm)
	for _, d := range disks {
		out += fmt.Sprintf("\n%+v", *d)
	}
	return out
}

func sameText(a, b string) bool { return a == b && unsafe.StringData(a) == unsafe.StringData(b) }

// endOf reports whether s is the end of whole, in whole's memory.
func endOf(s, whole string) bool {
	return len(s) <= len(whole) && sameText(s, whole[len(whole)-len(s):])
}

// engineWithGroup is an engine on a memstore of its own, with group rg.
func engineWithGroup(t *testing.T) (store.Store, *Engine) {
	t.Helper()
	ctx := context.Background()
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	eng, err := New(ctx, Config{Store: mem, Manual: clock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := putGroup(ctx, eng, testSub, "rg", "westus"); err != nil {
		t.Fatal(err)
	}
	return mem, eng
}

// The loaded fleet holds one copy of each string its VMs and disks repeat
// of each other: the subscription, the group, a disk's ID and name in its
// VM's profile, the VM's ID in its disk's managedBy, and each one's name
// (in a VM, its machine's and computer's too) at the end of its ID. And loading so changes
// nothing anyone can read.
func TestLoadSharesRepeatedStrings(t *testing.T) {
	ctx := context.Background()
	mem, eng := engineWithGroup(t)
	names := []string{"vm0", "vm1"}
	for _, name := range names {
		if _, _, _, err := putVM(ctx, eng, testSub, "rg", name, func(*VM) (json.RawMessage, VMSpec, error) {
			return json.RawMessage(`{}`), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux", ComputerName: name,
				Disks: []DiskRef{{Name: name + "_os", CreateOption: "FromImage", SizeGB: 30, OS: true, SKU: "Premium_LRS"},
					{Name: name + "_data", ID: diskID(testSub, "rg", name+"_data"), CreateOption: "Empty", SizeGB: 10}}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]string{}
	for _, name := range names {
		v, _ := eng.GetVM(testSub, "rg", name)
		d, _ := eng.GetDisk(testSub, "rg", name+"_os")
		data, _ := eng.GetDisk(testSub, "rg", name+"_data")
		before[name] = readable(v, d, data)
	}
	eng.Close()

	eng = reopenCopying(t, mem, t0)
	var vms []*VM
	var disks []*Disk
	for _, name := range names {
		v, err := eng.GetVM(testSub, "rg", name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := eng.GetDisk(testSub, "rg", name+"_os")
		if err != nil {
			t.Fatal(err)
		}
		data, err := eng.GetDisk(testSub, "rg", name+"_data")
		if err != nil {
			t.Fatal(err)
		}
		if got := readable(v, d, data); got != before[name] {
			t.Errorf("%s after a restart:\n%s\nbefore:\n%s", name, got, before[name])
		}
		if len(v.Spec.Disks) != 2 || v.Spec.Disks[1].ID == "" || d.ManagedBy == "" {
			t.Fatalf("%s: the VM names no disk ID, or its disk no VM: %+v, managedBy %q", name, v.Spec.Disks, d.ManagedBy)
		}
		if !sameText(v.Spec.Disks[1].ID, data.ID) {
			t.Errorf("%s: the VM's disk ID is a copy of the disk's", name)
		}
		if !sameText(d.ManagedBy, v.ID) {
			t.Errorf("%s: the disk's managedBy is a copy of the VM's ID", name)
		}
		if !sameText(v.Spec.Disks[1].Name, data.Name) || !sameText(v.Spec.Disks[0].Name, d.Name) {
			t.Errorf("%s: the VM's disk names are copies of the disks'", name)
		}
		if !endOf(v.Name, v.ID) || !sameText(v.Machine.Name, v.Name) || !sameText(v.Spec.ComputerName, v.Name) {
			t.Errorf("%s: the VM's name, or its machine's or computer's, is a copy of its ID's end", name)
		}
		if !endOf(d.Name, d.ID) || !endOf(data.Name, data.ID) {
			t.Errorf("%s: a disk's name is a copy of its ID's end", name)
		}
		vms, disks = append(vms, v), append(disks, d)
	}
	for _, pair := range [][2]string{
		{vms[0].SubscriptionID, vms[1].SubscriptionID}, {vms[0].ResourceGroup, vms[1].ResourceGroup},
		{vms[0].SubscriptionID, disks[1].SubscriptionID}, {vms[0].ResourceGroup, disks[1].ResourceGroup},
		{disks[0].Spec.Location, disks[1].Spec.Location}, {disks[0].Spec.SKU, disks[1].Spec.SKU},
		{disks[0].Spec.CreateOption, disks[1].Spec.CreateOption},
	} {
		if !sameText(pair[0], pair[1]) {
			t.Errorf("%q is held twice", pair[0])
		}
	}
}

// KeyOf hands out the key and ID the fleet keeps for a live VM or disk,
// found by any spelling of the ID, and the key's memory stays the same
// while the VM changes and across a restart: whoever keys by the ID (the
// dashboard's ledger) holds no copy of its own.
func TestKeyOfSharesTheFleetsKeys(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	clk := clock.NewManual(t0)
	eng, err := New(ctx, Config{Store: mem, Manual: clk})
	if err != nil {
		t.Fatal(err)
	}
	const rg = "Rg-Ünïcode-İ"
	if err := putGroup(ctx, eng, testSub, rg, "westus"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := putVM(ctx, eng, testSub, rg, "Vm0", func(*VM) (json.RawMessage, VMSpec, error) {
		return json.RawMessage(`{}`), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux",
			Disks: []DiskRef{{Name: "Vm0_os", CreateOption: "FromImage", SizeGB: 30, OS: true, SKU: "Premium_LRS"}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, eng *Engine, wantKey string) (*VM, *Disk) {
		t.Helper()
		v, err := eng.GetVM(testSub, rg, "Vm0")
		if err != nil {
			t.Fatal(err)
		}
		d, err := eng.GetDisk(testSub, rg, "Vm0_os")
		if err != nil {
			t.Fatal(err)
		}
		if v.Key != armid.Fold(v.ID) || d.Key != armid.Fold(d.ID) {
			t.Fatalf("%s: keys %q and %q, want the IDs folded", when, v.Key, d.Key)
		}
		if wantKey != "" && !sameText(v.Key, wantKey) {
			t.Errorf("%s: the VM's key is a new copy", when)
		}
		for _, m := range []*resource.Meta{&v.Meta, &d.Meta} {
			key, id := eng.KeyOf(m.ID)
			if !sameText(key, m.Key) || !sameText(id, m.ID) {
				t.Errorf("%s: KeyOf(%q) = %q, %q: copies of the fleet's", when, m.ID, key, id)
			}
			other := strings.ToUpper(m.ID)
			key, id = eng.KeyOf(other)
			if !sameText(key, m.Key) || id != other {
				t.Errorf("%s: KeyOf(%q) = %q, %q; want the fleet's key and the ID as asked", when, other, key, id)
			}
		}
		return v, d
	}
	v, _ := check("creating", eng, "")
	if _, err := eng.Do(ctx, AdvanceClock{By: time.Hour}); err != nil {
		t.Fatal(err)
	}
	check("created", eng, v.Key)
	if _, err := act(ctx, eng, testSub, rg, "Vm0", lifecycle.Request{Kind: lifecycle.PowerOff}); err != nil {
		t.Fatal(err)
	}
	check("changed", eng, v.Key)
	gone := armid.VirtualMachineID(testSub, rg, "Gone")
	if key, id := eng.KeyOf(gone); key != armid.Fold(gone) || id != gone {
		t.Errorf("KeyOf(%q) = %q, %q; want the ID folded, and the ID", gone, key, id)
	}
	eng.Close()

	eng = reopenCopying(t, mem, clk.Now())
	check("loaded", eng, "")
}

// Loaded interfaces of one subnet hold one copy of its ID, of their
// configurations' words and of a model they have alike, and keep their
// configurations at their size; and loading so changes nothing anyone can
// read.
func TestLoadSharesInterfacesWords(t *testing.T) {
	ctx := context.Background()
	mem, eng := engineWithGroup(t)
	if _, err := eng.Do(ctx, Command{ID: netID("virtualNetworks", "net"), Verb: VerbPut, Input: VirtualNetworkPut{
		Spec:    VirtualNetworkSpec{Location: "westus", AddressPrefixes: []string{"10.0.0.0/24"}},
		Subnets: []Subnet{{Name: "default", AddressPrefix: "10.0.0.0/24"}}}}); err != nil {
		t.Fatal(err)
	}
	names := []string{"a", "b"}
	before := map[string]string{}
	for _, name := range names {
		cmd := nicCmd(name, "")
		spec := cmd.Input.(NetworkInterfaceSpec)
		spec.Model = json.RawMessage(`{"tags":{"env":"test"}}`)
		cmd.Input = spec
		if _, err := eng.Do(ctx, cmd); err != nil {
			t.Fatal(err)
		}
		s, _ := eng.Resource(NetworkInterfaceType, netID("networkInterfaces", name))
		before[name] = fmt.Sprintf("%+v", *s.(*NetworkInterface))
	}
	eng.Close()

	eng = reopenCopying(t, mem, t0)
	var nics []*NetworkInterface
	for _, name := range names {
		s, ok := eng.Resource(NetworkInterfaceType, netID("networkInterfaces", name))
		if !ok {
			t.Fatalf("no interface %s after a restart", name)
		}
		n := s.(*NetworkInterface)
		if got := fmt.Sprintf("%+v", *n); got != before[name] {
			t.Errorf("%s after a restart:\n%s\nbefore:\n%s", name, got, before[name])
		}
		if len(n.IPConfigs) != 1 || cap(n.IPConfigs) != 1 || cap(n.Spec.IPConfigs) != 1 {
			t.Fatalf("%s: configurations of length %d, room for %d and %d", name, len(n.IPConfigs), cap(n.IPConfigs), cap(n.Spec.IPConfigs))
		}
		if !sameText(n.IPConfigs[0].Subnet, n.Spec.IPConfigs[0].Subnet) {
			t.Errorf("%s: its configuration's subnet is held twice", name)
		}
		nics = append(nics, n)
	}
	a, b := nics[0], nics[1]
	for _, pair := range [][2]string{
		{a.IPConfigs[0].Subnet, b.IPConfigs[0].Subnet}, {a.IPConfigs[0].Name, b.IPConfigs[0].Name},
		{a.IPConfigs[0].Allocation, b.IPConfigs[0].Allocation}, {a.IPConfigs[0].Version, b.IPConfigs[0].Version},
		{a.Spec.Location, b.Spec.Location},
	} {
		if !sameText(pair[0], pair[1]) {
			t.Errorf("%q is held twice", pair[0])
		}
	}
	if len(a.Spec.Model) == 0 || unsafe.SliceData(a.Spec.Model) != unsafe.SliceData(b.Spec.Model) {
		t.Errorf("the interfaces' model %s is held twice", a.Spec.Model)
	}
}

package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

func TestPackKey(t *testing.T) {
	const scope = "/subscriptions/" + sub + "/resourcegroups/rg-é/providers/"
	for _, c := range []struct{ key, want string }{
		{scope + "microsoft.compute/virtualmachines/vm1", sub + "/rg-é/\x01vm1"},
		{scope + "microsoft.compute/disks/vm1_osdisk", sub + "/rg-é/\x02vm1_osdisk"},
		{scope + "microsoft.network/networkinterfaces/nic", sub + "/rg-é/\x03nic"},
		{scope + "microsoft.compute/virtualmachines/vm1/extensions/ext", sub + "/rg-é//microsoft.compute/virtualmachines/vm1/extensions/ext"},
		{scope + "microsoft.compute/virtualmachinescalesets/ss/virtualmachines/0", sub + "/rg-é//microsoft.compute/virtualmachinescalesets/ss/virtualmachines/0"},
		{scope + "microsoft.compute/virtualmachines/", sub + "/rg-é//microsoft.compute/virtualmachines/"},
		{scope + "microsoft.foo/bars/b", sub + "/rg-é//microsoft.foo/bars/b"},
		{"/subscriptions/s/resourcegroups/rg/providers/", "//subscriptions/s/resourcegroups/rg/providers/"},
		{"/subscriptions//resourcegroups/rg/providers/x", "//subscriptions//resourcegroups/rg/providers/x"},
		{"/subscriptions/s/resourcegroups//providers/x", "//subscriptions/s/resourcegroups//providers/x"},
		{"/subscriptions/s/providers/x", "//subscriptions/s/providers/x"},
		{"vm1", "/vm1"},
		{"", "/"},
	} {
		if got := packKey(c.key); got != c.want {
			t.Errorf("packKey(%q) = %q, want %q", c.key, got, c.want)
		}
	}
}

// FuzzPackKey: distinct keys pack distinctly.
func FuzzPackKey(f *testing.F) {
	const scope = "/subscriptions/s/resourcegroups/rg/providers/"
	f.Add(scope+"microsoft.compute/virtualmachines/a", scope+"microsoft.compute/disks/a")
	f.Add(scope+"microsoft.compute/virtualmachines/a", "/"+scope+"microsoft.compute/virtualmachines/a")
	f.Add(scope+"x/y", "s/rg//x/y")
	f.Add("s/rg/\x01a", scope+"microsoft.compute/virtualmachines/a")
	f.Fuzz(func(t *testing.T, a, b string) {
		if a != b && packKey(a) == packKey(b) {
			t.Errorf("%q and %q both pack as %q", a, b, packKey(a))
		}
	})
}

// TestKeyedRowsMigration opens a database written before the rows were
// numbered and their keys packed (0008_keyed_rows.sql): every VM and
// resource loads as it did, in the same order, and Apply finds each by its
// ID in any casing.
func TestKeyedRowsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 7)
	ctx := context.Background()
	scopeOfID := func(sub, group string) string {
		return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/"
	}
	vmAt := func(id, sub, group, name string) store.VM {
		scope := scopeOfID(sub, group)
		return store.VM{ID: id, SubscriptionID: sub, ResourceGroup: group, Name: name, Location: "westus",
			Model: jsonshape.Of([]byte(`{"nic":"` + scope + `Microsoft.Network/networkInterfaces/` + name + `"}`)),
			State: json.RawMessage(`{"disk":"` + scope + `Microsoft.Compute/disks/` + name + `"}`), Version: 3,
			DueAt: time.Unix(3, 0).UTC(), CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC()}
	}
	vms := []store.VM{
		vmAt(vmID("plain"), sub, "rg", "plain"),
		vmAt(scopeOfID(sub, "RG-Mixed")+"Microsoft.Compute/virtualMachines/MyVM", sub, "RG-Mixed", "MyVM"),
		vmAt(scopeOfID(sub, "rg-ÉTÉ")+"Microsoft.Compute/virtualMachines/VM-Ü", sub, "rg-ÉTÉ", "VM-Ü"),
		// Scale sets' instances, two of one name: their IDs are kept.
		vmAt(scopeOfID(sub, "rg")+"Microsoft.Compute/virtualMachineScaleSets/ss1/virtualMachines/0", sub, "rg", "ss1_0"),
		vmAt(scopeOfID(sub, "rg")+"Microsoft.Compute/virtualMachineScaleSets/ss2/virtualMachines/0", sub, "rg", "ss2_0"),
		// An ID that is not an ARM ID of its columns at all.
		vmAt("odd-id", sub, "rg", "odd"),
	}
	vms[1].DueAt, vms[2].State = time.Time{}, nil
	var resources []store.Resource
	for i, r := range []struct{ id, typ, name string }{
		{scopeOfID(sub, "rg") + "Microsoft.Compute/disks/plain_OsDisk", "Microsoft.Compute/disks", "plain_OsDisk"},
		{scopeOfID(sub, "RG-Mixed") + "Microsoft.Network/networkInterfaces/Nic", "Microsoft.Network/networkInterfaces", "Nic"},
		{vmID("plain") + "/extensions/Ext", "Microsoft.Compute/virtualMachines/extensions", "Ext"},
		{scopeOfID(sub, "rg") + "Microsoft.Foo/bars/b", "Microsoft.Foo/bars", "b"},
		{"/odd/resource", "Microsoft.Foo/bars", "odd"},
	} {
		res := store.Resource{ID: r.id, Type: r.typ, SubscriptionID: sub, ResourceGroup: "rg", Name: r.name, Location: "westus",
			Body: json.RawMessage(`{"managedBy":"` + vmID("plain") + `"}`), Version: int64(i + 1),
			CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC()}
		if i == 1 {
			res.Body = nil
		}
		resources = append(resources, res)
	}
	for i, vm := range vms {
		scope := scopeOf(vm.SubscriptionID, vm.ResourceGroup)
		if _, err := db.Exec(`INSERT INTO vms (vm_key, id, subscription_id, resource_group, name, location, state, version, due_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.Key(vm.ID), vmIDArg(vm), vm.SubscriptionID, vm.ResourceGroup, vm.Name,
			vm.Location, packDocument(vm.State, scope), vm.Version, timeArg(t, vm.DueAt), timeArg(t, vm.CreatedAt), timeArg(t, vm.UpdatedAt)); err != nil {
			t.Fatal(err)
		}
		if i == len(vms)-1 {
			continue // a VM without a model's row
		}
		if _, err := db.Exec(`INSERT INTO vm_models (vm_key, model) VALUES (?, ?)`, store.Key(vm.ID), packDocument(vm.Model.Bytes(), scope)); err != nil {
			t.Fatal(err)
		}
	}
	// A model whose VM is gone, which Load never read.
	if _, err := db.Exec(`INSERT INTO vm_models (vm_key, model) VALUES ('/gone', '{}')`); err != nil {
		t.Fatal(err)
	}
	for _, r := range resources {
		if _, err := db.Exec(`INSERT INTO resources (res_key, id, type, subscription_id, resource_group, name, location, body, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.Key(r.ID), resourceIDArg(r), r.Type, r.SubscriptionID, r.ResourceGroup, r.Name,
			r.Location, packDocument(r.Body, scopeOf(r.SubscriptionID, r.ResourceGroup)), r.Version, timeArg(t, r.CreatedAt), timeArg(t, r.UpdatedAt)); err != nil {
			t.Fatal(err)
		}
	}
	// What 0007's Load read, in its order.
	var want store.Snapshot
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want.VMs, err = loadRows(ctx, tx, "vms", `SELECT v.id, v.subscription_id, v.resource_group, v.name, v.location, NULL, m.model, v.state,
		   v.version, v.due_at, v.created_at, v.updated_at
		 FROM vms v LEFT JOIN vm_models m ON m.vm_key = v.vm_key ORDER BY v.vm_key`, nil, newVMScanner(nil, nil).scan); err != nil {
		t.Fatal(err)
	}
	if want.Resources, err = loadRows(ctx, tx, "resources", `SELECT id, type, subscription_id, resource_group, name, location, body, version, created_at, updated_at
		 FROM resources ORDER BY res_key`, nil, newResourceScanner(nil).scan); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if len(want.VMs) != len(vms) || len(want.Resources) != len(resources) {
		t.Fatalf("0007 loads %d VMs and %d resources, want %d and %d", len(want.VMs), len(want.Resources), len(vms), len(resources))
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.VMs, want.VMs) || !reflect.DeepEqual(snap.Resources, want.Resources) {
		t.Fatalf("after the migration:\n got %+v\n%+v\nwant %+v\n%+v", snap.VMs, snap.Resources, want.VMs, want.Resources)
	}
	var tables int
	if err := s.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'migrating%' OR name = 'vms_due_at'`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("%d tables of the migration left (%v)", tables, err)
	}
	var models int
	if err := s.r.QueryRow(`SELECT count(*) FROM vm_models`).Scan(&models); err != nil || models != len(vms)-1 {
		t.Errorf("%d models kept (%v), want %d", models, err, len(vms)-1)
	}

	// Apply finds every migrated row by its ID in another casing, and a
	// first version of any of them conflicts.
	var next store.Change
	for _, vm := range snap.VMs {
		first := vm
		first.ID, first.Version = strings.ToUpper(vm.ID), 1
		if err := s.Apply(ctx, store.Change{VMs: []store.VM{first}}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a first version of %s: %v, want a conflict", first.ID, err)
		}
		vm.Version++
		if !vm.Model.IsNil() { // a VM without a model's row is only ever updated
			vm.Model = jsonshape.Of([]byte(`{"v":` + strconv.FormatInt(vm.Version, 10) + `}`))
		}
		next.VMs = append(next.VMs, vm)
	}
	for _, r := range snap.Resources {
		first := r
		first.ID, first.Version = strings.ToUpper(r.ID), 1
		if err := s.Apply(ctx, store.Change{Resources: []store.Resource{first}}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a first version of %s: %v, want a conflict", first.ID, err)
		}
		r.Version++
		next.Resources = append(next.Resources, r)
	}
	if err := s.Apply(ctx, next); err != nil {
		t.Fatalf("the next version of each: %v", err)
	}
	after, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after.VMs, next.VMs) || !reflect.DeepEqual(after.Resources, next.Resources) {
		t.Fatalf("after the next versions:\n got %+v\n%+v\nwant %+v\n%+v", after.VMs, after.Resources, next.VMs, next.Resources)
	}
	var gone store.Change
	for _, vm := range next.VMs {
		gone.DeletedVMs = append(gone.DeletedVMs, strings.ToLower(vm.ID))
	}
	for _, r := range next.Resources {
		gone.DeletedResources = append(gone.DeletedResources, strings.ToLower(r.ID))
	}
	if err := s.Apply(ctx, gone); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.r.QueryRow(`SELECT (SELECT count(*) FROM vms) + (SELECT count(*) FROM vm_models) + (SELECT count(*) FROM vm_keys) +
		(SELECT count(*) FROM resources) + (SELECT count(*) FROM res_keys)`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d rows left after deleting everything (%v)", left, err)
	}
}

func timeArg(t *testing.T, at time.Time) any {
	t.Helper()
	v, err := store.TimeArg(at)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFailedKeyedRowsMigrationKeepsTheOldSchema: 0008's script and its Go
// step are one transaction, so a migration that fails after both have run
// leaves the 0007 schema and rows, which the next Open migrates.
func TestFailedKeyedRowsMigrationKeepsTheOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 7)
	vm := store.VM{ID: vmID("vm"), SubscriptionID: sub, ResourceGroup: "rg", Name: "vm", Location: "westus",
		Model: jsonshape.Of([]byte(`{}`)), State: json.RawMessage(`{}`), Version: 2, CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(1, 0).UTC()}
	if _, err := db.Exec(`INSERT INTO vms (vm_key, subscription_id, resource_group, name, location, state, version, created_at, updated_at)
		VALUES (?, ?, 'rg', 'vm', 'westus', '{}', 2, ?, ?)`, store.Key(vm.ID), sub, int64(1e9), int64(1e9)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO vm_models (vm_key, model) VALUES (?, '{}')`, store.Key(vm.ID)); err != nil {
		t.Fatal(err)
	}
	failMigrationAt(t, db, 8)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM vms JOIN vm_models USING (vm_key)`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows of the VM left (%v)", n, err)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.VMs, []store.VM{vm}) {
		t.Errorf("after the migration: %+v, want %+v", snap.VMs, vm)
	}
}

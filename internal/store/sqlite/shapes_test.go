package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

// shapedModel is a model as a template writes it for VM i: what differs
// between two is a name, a computer name and a disk's GUID; sized picks one
// of two shapes.
func shapedModel(i int, sized bool) string {
	scope := scopeOf(sub, "rg")
	size := 30
	if sized {
		size = 127
	}
	return fmt.Sprintf(`{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},`+
		`"networkProfile":{"networkInterfaces":[{"id":"%[1]sMicrosoft.Network/networkInterfaces/vm%[2]d-nic"}]},`+
		`"osProfile":{"adminUsername":"azureuser","computerName":"vm%[2]d"},"storageProfile":{"osDisk":{"diskSizeGB":%[3]d,`+
		`"managedDisk":{"id":"%[1]sMicrosoft.Compute/disks/vm%[2]d_OsDisk_1_%032[4]x"},"name":"vm%[2]d_OsDisk_1_%032[4]x"}}},"tags":{"n":"%[2]d"}}`,
		scope, i, size, uint64(i)*0x9e3779b97f4a7c15)
}

// modelVM is VM i's row at version with model.
func modelVM(i int, version int64, model string) store.VM {
	name := fmt.Sprintf("vm%d", i)
	vm := store.VM{ID: vmID(name), SubscriptionID: sub, ResourceGroup: "rg", Name: name, Location: "westus",
		State: []byte(`{"s":1}`), Version: version, CreatedAt: t0, UpdatedAt: t0}
	if model != "nil" {
		vm.Model = jsonshape.Of([]byte(model))
	}
	return vm
}

// testModels are models of every kind the table keeps: two shapes, one
// with every default, and ones kept whole (a NUL, a string left open) or
// none.
func testModels() []string {
	var models []string
	for i := range 12 {
		models = append(models, shapedModel(i, i%3 == 0))
	}
	return append(models, shapedModel(0, true), "{\"a\":\"\x00\"}", `{"a":"open`, "nil", `{"v":"`+scopeOf(sub, "rg")+`x"}`)
}

func loadModels(t *testing.T, s *Store) []string {
	t.Helper()
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, vm := range snap.VMs {
		if vm.Model.IsNil() {
			got = append(got, "nil")
		} else {
			got = append(got, vm.Model.String())
		}
	}
	return got
}

func count(t *testing.T, db interface {
	QueryRow(string, ...any) *sql.Row
}, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// A fleet's models are kept as their shapes, each once, and their own
// parts: they read back byte for byte, after updates and after the file is
// opened again, where a new model of a known shape refers to the shape
// kept, not to another of the same skeleton.
func TestModelsKeptByShape(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	models := testModels()
	c := store.Change{Subscriptions: []store.Subscription{{ID: sub, CreatedAt: t0}}}
	for i, m := range models {
		c.VMs = append(c.VMs, modelVM(i, 1, m))
	}
	if err := s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := loadModels(t, s); !reflect.DeepEqual(got, models) {
		t.Fatalf("models read back:\n%q\nwant\n%q", got, models)
	}
	if n := count(t, s.r, `SELECT count(*) FROM vm_shapes`); n != 3 {
		t.Errorf("%d shapes kept, want 3 (two of the fleet's, one of the others')", n)
	}
	if n := count(t, s.r, `SELECT count(*) FROM vm_models WHERE shape IS NULL AND model IS NOT NULL`); n != 2 {
		t.Errorf("%d models kept whole, want 2", n)
	}
	if n := count(t, s.r, `SELECT max(length(model)) FROM vm_models WHERE shape IS NOT NULL`); n > 200 {
		t.Errorf("a shaped model keeps %d bytes of its own", n)
	}
	// An update to another model, of the other shape.
	models[1] = shapedModel(1, true)
	if err := s.Apply(ctx, store.Change{VMs: []store.VM{modelVM(1, 2, models[1])}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := loadModels(t, s); !reflect.DeepEqual(got, models) {
		t.Fatalf("models read back after an update and a reopen:\n%q\nwant\n%q", got, models)
	}
	// VMs of the fleet's shapes, and of a new one, made after the reopen.
	models = append(models, shapedModel(50, false), shapedModel(51, true), `{"new":"shape"}`)
	c = store.Change{}
	for i := len(models) - 3; i < len(models); i++ {
		c.VMs = append(c.VMs, modelVM(i, 1, models[i]))
	}
	if err := s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := loadModels(t, s); !reflect.DeepEqual(got, models) {
		t.Fatalf("models read back:\n%q\nwant\n%q", got, models)
	}
	if n := count(t, s.r, `SELECT count(*) FROM vm_shapes`); n != 4 {
		t.Errorf("%d shapes kept, want 4: the new models of known shapes refer to them", n)
	}
	// A reset forgets the shapes with the rows.
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, store.Change{Subscriptions: []store.Subscription{{ID: sub, CreatedAt: t0}}, VMs: []store.VM{modelVM(0, 1, models[0])}}); err != nil {
		t.Fatal(err)
	}
	if got := loadModels(t, s); !reflect.DeepEqual(got, models[:1]) {
		t.Fatalf("after a reset: %q, want %q", got, models[:1])
	}
}

// A corrupt model row or shape fails the load with an error that names
// the VM or the shape; it never panics, and never loads another model.
func TestCorruptModelRows(t *testing.T) {
	for _, tc := range []struct {
		name, corrupt, want string
	}{
		{"a truncated own part", `UPDATE vm_models SET model = substr(model, 1, length(model) - 3) WHERE length(model) > 3`, "/virtualMachines/vm"},
		{"an own part past the shape", `UPDATE vm_models SET model = x'ff000000ff'`, "/virtualMachines/vm0"},
		{"a shape not kept", `UPDATE vm_models SET shape = 99 WHERE ref = 2`, "shape 99 is not kept"},
		{"a corrupt shape", `UPDATE vm_shapes SET shape = '{"a":"open' WHERE ref = 1`, "shape 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTemp(t)
			defer s.Close()
			c := store.Change{Subscriptions: []store.Subscription{{ID: sub, CreatedAt: t0}}}
			for i := range 3 {
				c.VMs = append(c.VMs, modelVM(i, 1, shapedModel(i, false)))
			}
			if err := s.Apply(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			if _, err := s.w.Exec(tc.corrupt); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error naming %q", err, tc.want)
			}
			if strings.Contains(tc.want, "/") && !errors.Is(err, jsonshape.ErrCorrupt) {
				t.Errorf("Load = %v, want jsonshape.ErrCorrupt", err)
			}
		})
	}
}

// TestShapedModelsMigration opens a file at 0012, whose models were kept
// whole: every model loads as it did, split into shapes kept once; a model
// row whose VM is gone is dropped; and the next versions write over them.
func TestShapedModelsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 12)
	models := testModels()
	// Enough rows for several of the migration's chunks.
	for i := len(models); i < 9000; i++ {
		models = append(models, shapedModel(i, i%2 == 0))
	}
	insertOldModels(t, db, models)
	if _, err := db.Exec(`INSERT INTO vm_models (ref, model) VALUES (99999, '{}')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	start := time.Now()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrated %d models in %v", len(models), time.Since(start))
	defer s.Close()
	if got := loadModels(t, s); !reflect.DeepEqual(got, models) {
		for i := range got {
			if i < len(models) && got[i] != models[i] {
				t.Fatalf("model %d after the migration: %q, want %q", i, got[i], models[i])
			}
		}
		t.Fatalf("%d models after the migration, want %d", len(got), len(models))
	}
	if n := count(t, s.r, `SELECT count(*) FROM vm_shapes`); n != 3 {
		t.Errorf("%d shapes kept, want 3: each once, across the migration's chunks", n)
	}
	if n := count(t, s.r, `SELECT count(*) FROM vm_models`); n != len(models)-1 {
		t.Errorf("%d model rows, want %d: the one without a VM dropped", n, len(models)-1)
	}
	if n := count(t, s.r, `SELECT count(*) FROM sqlite_schema WHERE name = 'migrating_vm_models'`); n != 0 {
		t.Error("the old models' table is left")
	}
	// The next versions, with their models as they were, and one changed.
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	next := store.Change{VMs: snap.VMs[:3]}
	for i := range next.VMs {
		next.VMs[i].Version++
	}
	next.VMs[2].Model = jsonshape.Of([]byte(shapedModel(2, true)))
	if err := s.Apply(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	models[2] = shapedModel(2, true)
	if got := loadModels(t, s); !reflect.DeepEqual(got[:3], models[:3]) {
		t.Fatalf("after the next versions: %q, want %q", got[:3], models[:3])
	}
}

// insertOldModels writes a VM row for each of models, and its model row as
// 0005 to 0012 kept it: whole, packed (documents.go).
func insertOldModels(t *testing.T, db *sql.DB, models []string) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	scope := scopeOf(sub, "rg")
	for i, m := range models {
		vm := modelVM(i, 1, m)
		res, err := tx.Exec(`INSERT INTO vms (subscription_id, resource_group, name, location, state, version, created_at, updated_at)
			VALUES (?, 'rg', ?, 'westus', ?, 1, ?, ?)`, sub, vm.Name, documentArg(vm.State, scope), t0.UnixNano(), t0.UnixNano())
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := res.LastInsertId()
		if _, err := tx.Exec(`INSERT INTO vm_keys (vm_key, ref) VALUES (?, ?)`, packKey(store.Key(vm.ID)), ref); err != nil {
			t.Fatal(err)
		}
		if m == "nil" {
			continue // a VM without a model
		}
		if _, err := tx.Exec(`INSERT INTO vm_models (ref, model) VALUES (?, ?)`, ref, packDocument([]byte(m), scope)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestFailedShapedModelsMigrationKeepsTheOldSchema: a migration that fails
// after 0013's script and step have run leaves the 0012 schema and rows,
// which the next Open migrates.
func TestFailedShapedModelsMigrationKeepsTheOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azemu.db")
	db := openAtVersion(t, path, 12)
	models := testModels()
	insertOldModels(t, db, models)
	failMigrationAt(t, db, 13)
	if n := count(t, db, `SELECT count(*) FROM vm_models`); n != len(models)-1 {
		t.Fatalf("%d model rows left, want %d", n, len(models)-1)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := loadModels(t, s); !reflect.DeepEqual(got, models) {
		t.Fatalf("models after the migration:\n%q\nwant\n%q", got, models)
	}
}

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// vmRowStore records the VM rows of every Apply that commits.
type vmRowStore struct {
	store.Store
	mu   sync.Mutex
	rows []store.VM
}

func (s *vmRowStore) Apply(ctx context.Context, cs ...store.Change) error {
	if err := s.Store.Apply(ctx, cs...); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		s.rows = append(s.rows, c.VMs...)
	}
	return nil
}

// since returns the rows recorded after the first n.
func (s *vmRowStore) since(n int) []store.VM {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.VM(nil), s.rows[n:]...)
}

// A VM's row says its model is unchanged exactly when it is the model of
// the version before: on a step and an action, not on a create or on a
// put of another model. It then carries no model, and the store leaves
// the one it holds alone.
func TestVMRowTellsAnUnchangedModel(t *testing.T) {
	r := newRig(t)
	var rows *vmRowStore
	r.tweak = func(c *Config) {
		rows = &vmRowStore{Store: c.Store}
		c.Store = rows
	}
	r.restart(t0)
	r.group("rg")
	put := func(model string) {
		t.Helper()
		if _, _, _, err := putVM(context.Background(), r.eng, testSub, "rg", "vm", func(*VM) (json.RawMessage, VMSpec, error) {
			return json.RawMessage(model), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux"}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name      string
		do        func()
		unchanged bool
	}{
		{"create", func() { put(`{"properties":{"a":1}}`) }, false},
		{"the create's steps", func() { r.advance(time.Hour) }, true},
		{"an action", func() { r.act("vm", lifecycle.PowerOff) }, true},
		{"the action's steps", func() { r.advance(time.Hour) }, true},
		{"a put of another model", func() { put(`{"properties":{"a":2}}`) }, false},
		{"its steps", func() { r.advance(time.Hour) }, true},
		{"a put of the same model", func() { put(`{"properties":{"a":2}}`) }, true},
	}
	for _, step := range steps {
		n := len(rows.since(0))
		step.do()
		got := rows.since(n)
		if len(got) == 0 {
			t.Fatalf("%s: wrote no VM row", step.name)
		}
		for _, row := range got {
			if row.ModelUnchanged != step.unchanged {
				t.Errorf("%s: version %d says ModelUnchanged %v, want %v", step.name, row.Version, row.ModelUnchanged, step.unchanged)
			}
			// The model is carried exactly when it changed.
			if got := !row.Model.IsNil(); got == step.unchanged {
				t.Errorf("%s: version %d carries a model: %v, want %v", step.name, row.Version, got, !step.unchanged)
			}
		}
	}
	r.restart(t0.Add(2 * time.Hour))
	v, err := r.eng.GetVM(testSub, "rg", "vm")
	if err != nil {
		t.Fatal(err)
	}
	if v.Model.String() != `{"properties":{"a":2}}` {
		t.Errorf("after a restart the model is %s, want the one put last", v.Model)
	}
}

// A fleet's models share one shape in memory (jsonshape), each keeping the
// strings of its own, and in SQLite, which keeps each shape once and each
// model's own strings: what every VM's GET, its row and a restart (of the
// store too) read is still exactly the model put, byte for byte, whatever
// its shape.
func TestModelsAreKeptExactly(t *testing.T) {
	t.Run("memstore", func(t *testing.T) { testModelsAreKeptExactly(t, false) })
	t.Run("sqlite", func(t *testing.T) { testModelsAreKeptExactly(t, true) })
}

func testModelsAreKeptExactly(t *testing.T, onSQLite bool) {
	r := newRig(t)
	var rows *vmRowStore
	path := filepath.Join(t.TempDir(), "azemu.db")
	var db *sqlite.Store
	t.Cleanup(func() {
		if db != nil {
			db.Close()
		}
	})
	r.tweak = func(c *Config) {
		if onSQLite {
			// Each start opens the file afresh, as a restarted server does.
			if db != nil {
				db.Close()
			}
			var err error
			if db, err = sqlite.Open(path); err != nil {
				t.Fatal(err)
			}
			c.Store = db
		}
		rows = &vmRowStore{Store: c.Store}
		c.Store = rows
	}
	r.restart(t0)
	r.group("rg")
	model := func(i int) string {
		disk := fmt.Sprintf("vm-%04d_OsDisk_1_%032x", i, uint64(i)*0x9e3779b97f4a7c15)
		m := fmt.Sprintf(`{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},`+
			`"osProfile":{"adminUsername":"azureuser","computerName":"vm%04d"},"storageProfile":{"osDisk":{"diskSizeGB":30,`+
			`"managedDisk":{"id":"/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/disks/%s"},"name":"%s"}}},"tags":{"n":"%d"}}`,
			i, testSub, disk, disk, i%3)
		switch i % 7 {
		case 3: // another shape
			m = strings.Replace(m, `"diskSizeGB":30`, `"diskSizeGB":64`, 1)
		case 5: // escapes, and a value emptied
			m = strings.Replace(m, `"azureuser"`, `"a\"zure\\user\u003c"`, 1)
			m = strings.Replace(m, `"n":"2"`, `"n":""`, 1)
		}
		return m
	}
	const n = 40
	for i := range n {
		name := fmt.Sprintf("vm-%04d", i)
		before := len(rows.since(0))
		if _, _, _, err := putVM(context.Background(), r.eng, testSub, "rg", name, func(*VM) (json.RawMessage, VMSpec, error) {
			return json.RawMessage(model(i)), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, row := range rows.since(before) {
			if row.Model.String() != model(i) {
				t.Fatalf("%s's row holds the model %s, want %s", name, row.Model, model(i))
			}
		}
	}
	check := func(when string) {
		t.Helper()
		for i := range n {
			v, err := r.eng.GetVM(testSub, "rg", fmt.Sprintf("vm-%04d", i))
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Model.String(); got != model(i) {
				t.Fatalf("%s, %s's model is %s, want %s", when, v.Name, got, model(i))
			}
		}
	}
	check("once put")
	r.advance(time.Hour)
	check("after its steps")
	r.restart(t0.Add(2 * time.Hour))
	check("after a restart")
	// A put of another model of a shape, after a restart, and one that
	// cannot be split (a NUL, escaped as JSON never leaves it raw: kept
	// whole).
	for _, i := range []int{1, 2} {
		name := fmt.Sprintf("vm-%04d", i)
		m := model(i + 100)
		if i == 2 {
			m = strings.Replace(model(i), `"azureuser"`, "\"azure\x00user\"", 1)
		}
		if _, _, _, err := putVM(context.Background(), r.eng, testSub, "rg", name, func(*VM) (json.RawMessage, VMSpec, error) {
			return json.RawMessage(m), VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		r.advance(time.Hour)
		r.restart(r.clk.Now())
		v, err := r.eng.GetVM(testSub, "rg", name)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Model.String(); got != m {
			t.Fatalf("after a put and a restart, %s's model is %q, want %q", name, got, m)
		}
	}
}

package engine

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
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
// put of another model. The store may then leave the model it holds alone.
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
		}
	}
	r.restart(t0.Add(2 * time.Hour))
	v, err := r.eng.GetVM(testSub, "rg", "vm")
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Model) != `{"properties":{"a":2}}` {
		t.Errorf("after a restart the model is %s, want the one put last", v.Model)
	}
}

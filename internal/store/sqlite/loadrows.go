package sqlite

import (
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/store"
)

// A load reads every VM and resource row, a million of each in a large
// fleet, so its scanners keep their destinations from row to row rather
// than let each row's escape to the heap, and share the strings many rows
// hold alike: a group's scope and the subscription and group names in it,
// locations and types. A row's ID, when its id column is NULL, is built
// from the shared scope in one allocation, and its name is the ID's tail.

// rowScopes shares the scope of each subscription and group a load meets,
// with the two names as parts of it.
type rowScopes struct {
	key   []byte
	known map[string]rowScope
}

// rowScope is a group's scope (scopeOf) and its subscription and group
// names, which are parts of it.
type rowScope struct{ scope, sub, group string }

func (s *rowScopes) of(sub, group []byte) rowScope {
	// The key is the subscription's length, then both names: no two
	// pairs of names share it.
	s.key = append(binary.AppendUvarint(s.key[:0], uint64(len(sub))), sub...)
	s.key = append(s.key, group...)
	if sc, ok := s.known[string(s.key)]; ok {
		return sc
	}
	scope := scopeOf(string(sub), string(group))
	subAt := len("/subscriptions/")
	groupAt := subAt + len(sub) + len("/resourceGroups/")
	sc := rowScope{scope: scope, sub: scope[subAt : subAt+len(sub)], group: scope[groupAt : groupAt+len(group)]}
	if s.known == nil {
		s.known = map[string]rowScope{}
	}
	s.known[string(s.key)] = sc
	return sc
}

// rowWords shares the short words many rows hold alike (locations, types).
type rowWords map[string]string

func (w rowWords) of(b []byte) string {
	if s, ok := w[string(b)]; ok {
		return s
	}
	s := string(b)
	w[s] = s
	return s
}

// vmScanner reads a VM's row and its model's (shape, model), its model
// made from shapes (shapes.go), its destinations and its state's room
// reused from row to row.
type vmScanner struct {
	shapes map[int64]jsonshape.Shape
	scopes rowScopes
	words  rowWords

	id                         sql.NullString
	sub, group, name, location sql.RawBytes
	shape                      sql.NullInt64
	model                      sql.RawBytes // read before the next row, not copied
	state                      reusedDocument
	version                    int64
	due, created, updated      sql.NullInt64
	dest                       []any
}

func newVMScanner(shapes map[int64]jsonshape.Shape) *vmScanner {
	s := &vmScanner{shapes: shapes, words: rowWords{}}
	s.dest = []any{&s.id, &s.sub, &s.group, &s.name, &s.location, &s.shape, &s.model, &s.state,
		&s.version, &s.due, &s.created, &s.updated}
	return s
}

func (s *vmScanner) scan(row scanner) (store.VM, error) {
	if err := row.Scan(s.dest...); err != nil {
		return store.VM{}, err
	}
	sc := s.scopes.of(s.sub, s.group)
	vm := store.VM{SubscriptionID: sc.sub, ResourceGroup: sc.group, Location: s.words.of(s.location),
		Version: s.version, DueAt: timeOf(s.due), CreatedAt: timeOf(s.created), UpdatedAt: timeOf(s.updated)}
	switch {
	case s.id.Valid:
		vm.ID, vm.Name = s.id.String, string(s.name)
	case sc.sub == "" || sc.group == "":
		vm.Name = string(s.name)
		vm.ID = store.VMID(vm.SubscriptionID, vm.ResourceGroup, vm.Name)
	default:
		// store.VMID's, from the shared scope
		vm.ID = sc.scope + "Microsoft.Compute/virtualMachines/" + string(s.name)
		vm.Name = vm.ID[len(vm.ID)-len(s.name):]
	}
	var err error
	if vm.Model, err = modelOf(s.shapes, s.shape, s.model, sc.scope); err != nil {
		return store.VM{}, fmt.Errorf("VM %s: %w", vm.ID, err)
	}
	vm.State = s.state.unpack(sc.scope)
	return vm, nil
}

// resourceScanner reads a resource's row, its destinations and its body's
// room reused from row to row.
type resourceScanner struct {
	scopes rowScopes
	words  rowWords

	id                              sql.NullString
	typ, sub, group, name, location sql.RawBytes
	body                            reusedDocument
	version                         int64
	created, updated                sql.NullInt64
	dest                            []any
}

func newResourceScanner() *resourceScanner {
	s := &resourceScanner{words: rowWords{}}
	s.dest = []any{&s.id, &s.typ, &s.sub, &s.group, &s.name, &s.location, &s.body,
		&s.version, &s.created, &s.updated}
	return s
}

func (s *resourceScanner) scan(row scanner) (store.Resource, error) {
	if err := row.Scan(s.dest...); err != nil {
		return store.Resource{}, err
	}
	sc := s.scopes.of(s.sub, s.group)
	r := store.Resource{Type: s.words.of(s.typ), SubscriptionID: sc.sub, ResourceGroup: sc.group,
		Location: s.words.of(s.location), Version: s.version,
		CreatedAt: timeOf(s.created), UpdatedAt: timeOf(s.updated)}
	if s.id.Valid {
		r.ID, r.Name = s.id.String, string(s.name)
	} else {
		// topLevelID's, from the shared scope
		r.ID = sc.scope + r.Type + "/" + string(s.name)
		r.Name = r.ID[len(r.ID)-len(s.name):]
	}
	r.Body = s.body.unpack(sc.scope)
	return r, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"sync"

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

func newVMScanner(shapes map[int64]jsonshape.Shape, chunks *chunkPool) *vmScanner {
	s := &vmScanner{shapes: shapes, words: rowWords{}}
	s.state.pool = chunks
	s.dest = []any{&s.id, &s.sub, &s.group, &s.name, &s.location, &s.shape, &s.model, &s.state,
		&s.version, &s.due, &s.created, &s.updated}
	return s
}

func (s *vmScanner) handOver() [][]byte { return s.state.handOver() }

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

func newResourceScanner(chunks *chunkPool) *resourceScanner {
	s := &resourceScanner{words: rowWords{}}
	s.body.pool = chunks
	s.dest = []any{&s.id, &s.typ, &s.sub, &s.group, &s.name, &s.location, &s.body,
		&s.version, &s.created, &s.updated}
	return s
}

func (s *resourceScanner) handOver() [][]byte { return s.body.handOver() }

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

// A load's batches are the callee's to keep; the engine, which keeps
// neither the slices nor the documents once it has laid a batch in, hands
// them back (store.BatchRecycler), and the load reads its next rows into
// them: a start then allocates for the batches in flight, not for every
// row's document.

// batchReader reads a table's rows for loadBatches.
type batchReader[T any] interface {
	scan(scanner) (T, error)
	// handOver returns the chunks the documents of the rows scanned since
	// the last call are in.
	handOver() [][]byte
}

// loadBatches reads the rows q selects, each made by r, and hands them to
// fn in batches of store.LoadBatch, each a slice of mem's; what names the
// rows in an error of the read's own.
func loadBatches[T any](ctx context.Context, tx *sql.Tx, what, q string, r batchReader[T], mem *batchMemory[T], fn func([]T) error) error {
	v := store.Visit(fn)
	var batch []T // taken at its first row
	pass := func() error {
		full := batch
		batch = nil
		mem.handOver(full, r.handOver())
		return v.Pass(full)
	}
	err := query(ctx, tx, q, nil, func(rows *sql.Rows) error {
		row, err := r.scan(rows)
		if err != nil {
			return err
		}
		if batch == nil {
			batch = mem.batch()
		}
		if batch = append(batch, row); len(batch) < store.LoadBatch {
			return nil
		}
		return pass()
	})
	if err == nil && len(batch) > 0 {
		err = pass()
	}
	return v.Result("sqlite: load "+what, err)
}

// loadMemory is the memory a load reads its batches into, made afresh or
// handed back.
type loadMemory struct {
	chunks    chunkPool
	resources batchMemory[store.Resource]
	vms       batchMemory[store.VM]
}

// chunkPool holds the chunks documents are unpacked into (reusedDocument)
// once handed back. Its lock is also its loadMemory's batches'.
type chunkPool struct {
	mu   sync.Mutex
	free [][]byte
}

// get is a chunk of at least n bytes, at its full length; p may be nil.
func (p *chunkPool) get(n int) []byte {
	if p != nil && n <= documentChunk {
		p.mu.Lock()
		defer p.mu.Unlock()
		if k := len(p.free); k > 0 {
			c := p.free[k-1]
			p.free = p.free[:k-1]
			return c
		}
	}
	return make([]byte, max(n, documentChunk))
}

// batchMemory is a load's batches of one table: those handed back, free,
// and the chunks of each handed over.
type batchMemory[T any] struct {
	chunks *chunkPool
	free   [][]T
	held   map[*T][][]byte // by the batch's first row
}

// batch is an empty batch to read rows into.
func (m *batchMemory[T]) batch() []T {
	m.chunks.mu.Lock()
	defer m.chunks.mu.Unlock()
	if k := len(m.free); k > 0 {
		b := m.free[k-1]
		m.free = m.free[:k-1]
		return b
	}
	return make([]T, 0, store.LoadBatch)
}

// handOver notes that the documents of batch b are in chunks.
func (m *batchMemory[T]) handOver(b []T, chunks [][]byte) {
	if len(chunks) == 0 {
		return
	}
	m.chunks.mu.Lock()
	defer m.chunks.mu.Unlock()
	if m.held == nil {
		m.held = map[*T][][]byte{}
	}
	m.held[&b[0]] = chunks
}

// recycle takes back batch b and its chunks. A batch this load did not
// hand over (of another load) is taken without chunks.
func (m *batchMemory[T]) recycle(b []T) {
	if len(b) == 0 || cap(b) != store.LoadBatch {
		return
	}
	m.chunks.mu.Lock()
	defer m.chunks.mu.Unlock()
	for _, c := range m.held[&b[0]] {
		if len(c) == documentChunk {
			m.chunks.free = append(m.chunks.free, c)
		}
	}
	delete(m.held, &b[0])
	m.free = append(m.free, b[:0])
}

// startLoad makes the memory of a load, which its callee's batches handed
// back go to until endLoad.
func (s *Store) startLoad() *loadMemory {
	m := &loadMemory{}
	m.resources.chunks, m.vms.chunks = &m.chunks, &m.chunks
	s.loadingMu.Lock()
	s.loading = m
	s.loadingMu.Unlock()
	return m
}

// endLoad leaves m, with what it holds, to the collector.
func (s *Store) endLoad(m *loadMemory) {
	s.loadingMu.Lock()
	if s.loading == m {
		s.loading = nil
	}
	s.loadingMu.Unlock()
}

func (s *Store) loadingMemory() *loadMemory {
	s.loadingMu.Lock()
	defer s.loadingMu.Unlock()
	return s.loading
}

var _ store.BatchRecycler = (*Store)(nil)

// RecycleResources implements store.BatchRecycler.
func (s *Store) RecycleResources(b []store.Resource) {
	if m := s.loadingMemory(); m != nil {
		m.resources.recycle(b)
	}
}

// RecycleVMs implements store.BatchRecycler.
func (s *Store) RecycleVMs(b []store.VM) {
	if m := s.loadingMemory(); m != nil {
		m.vms.recycle(b)
	}
}

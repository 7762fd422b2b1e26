package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/azemu/azemu/internal/jsonshape"
)

// A VM's model is kept as the engine holds it, a jsonshape.Doc
// (0013_vm_shapes.sql): its shape's text once in vm_shapes, found by a
// hash of it, and in vm_models the VM's shape and own part (the strings
// that differ from the shape's defaults), or, when it has no shape, the
// whole model, packed (documents.go). A fleet made by one template has a
// handful of shapes, about 1 KB each, and keeps under 200 bytes a VM.
//
// Shapes no model refers to any more are kept: each is written once, when
// the first model of its skeleton is, and a fleet's models have few
// skeletons, so they cost less than finding them would (a scan of every
// model, and the references transactions learnt forgotten).

// shapeRefsMax bounds the shape references remembered; past it they are
// forgotten and learnt again.
const shapeRefsMax = 1 << 12

// shapeHash is the hash a shape's text is found by: a small integer
// index, rather than a second copy of the text. Two texts may share it,
// so a lookup compares the text too.
func shapeHash(text string) int64 { return int64(crc32.Checksum([]byte(text), castagnoli)) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// knownShapes are the references of the shapes committed transactions
// wrote, and Load read, by text. Each holds a model of its shape, so that
// the engine's shape (jsonshape's table holds it only while a model does)
// outlives the VMs that had it: a VM made later of the same skeleton then
// has the same shape, and its model the same row, not another of other
// defaults.
type knownShapes struct {
	mu   sync.Mutex
	refs map[string]knownShape
	// era counts the resets, which delete every shape: a transaction that
	// began before one may have learnt a reference to a row gone since.
	era int64
}

type knownShape struct {
	ref int64
	pin jsonshape.Doc // a model of the shape
}

func (k *knownShapes) forget() {
	k.mu.Lock()
	k.refs, k.era = nil, k.era+1
	k.mu.Unlock()
}

// learn remembers shapes learnt in era.
func (k *knownShapes) learn(era int64, learnt map[string]knownShape) {
	if len(learnt) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.era != era {
		return
	}
	if k.refs == nil || len(k.refs)+len(learnt) > shapeRefsMax {
		k.refs = make(map[string]knownShape, len(learnt))
	}
	for text, known := range learnt {
		k.refs[text] = known
	}
}

func (k *knownShapes) ref(text string) (int64, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	known, ok := k.refs[text]
	return known.ref, ok
}

// shapeWriter finds or adds the shapes of one transaction's models.
type shapeWriter struct {
	s   *Store
	tx  *sql.Tx
	era int64
	new map[string]knownShape // learnt in this transaction
}

func (s *Store) shapeWriter(tx *sql.Tx) *shapeWriter {
	s.shapes.mu.Lock()
	defer s.shapes.mu.Unlock()
	return &shapeWriter{s: s, tx: tx, era: s.shapes.era}
}

// keep remembers what w learnt, once its transaction has committed.
func (w *shapeWriter) keep() { w.s.shapes.learn(w.era, w.new) }

// A shape is found by its hash and text, and added when it is not there.
const (
	sqlFindVMShape = `SELECT ref FROM vm_shapes WHERE hash = ? AND shape = ?`
	sqlAddVMShape  = `INSERT INTO vm_shapes (hash, shape) VALUES (?, ?)`
)

var shapeStatements = []string{sqlFindVMShape, sqlAddVMShape}

// ref is the reference of the shape of model, whose text is text: known,
// found or added.
func (w *shapeWriter) ref(ctx context.Context, model jsonshape.Doc, text string) (int64, error) {
	if known, ok := w.new[text]; ok {
		return known.ref, nil
	}
	if ref, ok := w.s.shapes.ref(text); ok {
		return ref, nil
	}
	hash := shapeHash(text)
	var ref int64
	err := w.tx.StmtContext(ctx, w.s.stmts[sqlFindVMShape]).QueryRowContext(ctx, hash, text).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		var res sql.Result
		if res, err = w.s.exec(ctx, w.tx, sqlAddVMShape, hash, text); err == nil {
			ref, err = res.LastInsertId()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("shape: %w", err)
	}
	if w.new == nil {
		w.new = map[string]knownShape{}
	}
	w.new[text] = knownShape{ref: ref, pin: model}
	return ref, nil
}

// refs is w.ref in ctx, for modelArgs.
func (w *shapeWriter) refs(ctx context.Context) func(jsonshape.Doc, string) (int64, error) {
	return func(model jsonshape.Doc, text string) (int64, error) { return w.ref(ctx, model, text) }
}

// modelArgs are the shape and model columns of a VM's model: its shape's
// reference (found by ref) and its own part, or NULL and the whole model,
// packed. An own part that keeps every default is NULL.
func modelArgs(model jsonshape.Doc, scope string, ref func(model jsonshape.Doc, shape string) (int64, error)) (shape, own any, err error) {
	text, part, ok := model.Parts()
	if !ok {
		if model.IsNil() {
			return nil, nil, nil
		}
		return nil, []byte(packDocument([]byte(part), scope).(string)), nil
	}
	r, err := ref(model, text)
	if err != nil {
		return nil, nil, err
	}
	if part == "" {
		return r, nil, nil
	}
	return r, []byte(part), nil
}

// loadShapes reads every shape, by reference, and remembers them (as of
// era, taken before the read) for the writes to come.
func (s *Store) loadShapes(ctx context.Context, tx *sql.Tx, era int64) (map[int64]jsonshape.Shape, error) {
	shapes := map[int64]jsonshape.Shape{}
	learnt := map[string]knownShape{}
	err := query(ctx, tx, `SELECT ref, shape FROM vm_shapes`, nil, func(rows *sql.Rows) error {
		var ref int64
		var text string
		if err := rows.Scan(&ref, &text); err != nil {
			return err
		}
		sh, err := jsonshape.ParseShape(text)
		if err != nil {
			return fmt.Errorf("shape %d: %w", ref, err)
		}
		shapes[ref] = sh
		if pin, err := sh.Doc(""); err == nil {
			learnt[text] = knownShape{ref: ref, pin: pin}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: load vm shapes: %w", err)
	}
	s.shapes.learn(era, learnt)
	return shapes, nil
}

// modelOf reads a VM's model from its shape and model columns.
func modelOf(shapes map[int64]jsonshape.Shape, shape sql.NullInt64, model []byte, scope string) (jsonshape.Doc, error) {
	if !shape.Valid {
		if model == nil {
			return jsonshape.Doc{}, nil
		}
		return jsonshape.Of(unpackDocument(sql.NullString{String: string(model), Valid: true}, scope)), nil
	}
	sh, ok := shapes[shape.Int64]
	if !ok {
		return jsonshape.Doc{}, fmt.Errorf("the model's shape %d is not kept", shape.Int64)
	}
	d, err := sh.Doc(string(model))
	if err != nil {
		return jsonshape.Doc{}, fmt.Errorf("the model (shape %d): %w", shape.Int64, err)
	}
	return d, nil
}

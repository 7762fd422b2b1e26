package engine

import (
	"encoding/json"
	"sync"

	"github.com/azemu/azemu/internal/jsonwire"
)

// A VM's state document is written by every change of the VM, inside the
// serial write path, and read for every VM at start: it is written and
// read by hand (internal/jsonwire), in exactly the form encoding/json
// gives it, so that stored rows, old and new, SQLite's and PostgreSQL's,
// read back as they always have.

// docBuffers holds the scratch buffers documents are written in; each
// document is copied out at its own size, so that a row does not hold a
// buffer larger than itself.
var docBuffers = sync.Pool{New: func() any { return new([]byte) }}

// encode writes the document as json.Marshal does, errors included.
func (doc *vmDoc) encode() ([]byte, error) {
	buf := docBuffers.Get().(*[]byte)
	w := jsonwire.NewWriter((*buf)[:0])
	doc.Machine.WriteJSON(w.Open().Member("machine"))
	doc.Spec.WriteJSON(w.Member("spec"))
	w.Str("vmId", doc.VMID).Time("timeCreated", doc.TimeCreated).Strings("waiting", doc.Waiting).Close()
	data, err := w.Bytes()
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), data...)
	if cap(data) <= 64<<10 {
		*buf = data
		docBuffers.Put(buf)
	}
	return out, nil
}

// decodeVMState reads a stored document into v's state (machine, spec,
// vmId, timeCreated, waiting) as json.Unmarshal reads it into a vmDoc: by
// hand when it has the shape encode writes, interning the fleet's
// repeated words in words (nil: none), and with encoding/json otherwise
// (a document written by an older version, or by hand).
func decodeVMState(data []byte, words *jsonwire.Interner, v *VM) error {
	if readVMState(data, words, v) {
		return nil
	}
	var doc vmDoc
	err := json.Unmarshal(data, &doc)
	v.Machine, v.Spec, v.VMID, v.TimeCreated, v.Waiting = doc.Machine, doc.Spec, doc.VMID, doc.TimeCreated, doc.Waiting
	return err
}

// readVMState reads the document by hand, and reports whether it had the
// shape encode writes; when it did not, v's state is left half read.
func readVMState(data []byte, words *jsonwire.Interner, v *VM) bool {
	d := jsonwire.NewDecoder(data, words)
	if d.Open().Member("machine") {
		v.Machine.ReadJSON(d)
	}
	if d.Member("spec") {
		v.Spec.ReadJSON(d)
	}
	d.Str("vmId", &v.VMID).Time("timeCreated", &v.TimeCreated).Strings("waiting", &v.Waiting).Close()
	return d.OK()
}

package engine

import (
	"encoding/json"

	"github.com/azemu/azemu/internal/jsonwire"
)

// A VM's state document is written by every change of the VM, inside the
// serial write path, and read for every VM at start: it is written and
// read by hand (internal/jsonwire), in exactly the form encoding/json
// gives it, so that stored rows, old and new, SQLite's and PostgreSQL's,
// read back as they always have.

// encode writes the document as json.Marshal does, errors included.
func (doc *vmDoc) encode() ([]byte, error) {
	w := jsonwire.NewWriter(make([]byte, 0, 1024))
	doc.Machine.WriteJSON(w.Open().Member("machine"))
	doc.Spec.WriteJSON(w.Member("spec"))
	w.Str("vmId", doc.VMID).Time("timeCreated", doc.TimeCreated).Strings("waiting", doc.Waiting).Close()
	return w.Bytes()
}

// decodeVMDoc reads a stored document as json.Unmarshal does: by hand
// when it has the shape encode writes, interning the fleet's repeated
// words in words (nil: none), and with encoding/json otherwise (a
// document written by an older version, or by hand).
func decodeVMDoc(data []byte, words *jsonwire.Interner) (vmDoc, error) {
	var doc vmDoc
	d := jsonwire.NewDecoder(data, words)
	doc.read(d)
	if d.OK() {
		return doc, nil
	}
	doc = vmDoc{}
	err := json.Unmarshal(data, &doc)
	return doc, err
}

func (doc *vmDoc) read(d *jsonwire.Decoder) {
	if d.Open().Member("machine") {
		doc.Machine.ReadJSON(d)
	}
	if d.Member("spec") {
		doc.Spec.ReadJSON(d)
	}
	d.Str("vmId", &doc.VMID).Time("timeCreated", &doc.TimeCreated).Strings("waiting", &doc.Waiting).Close()
}

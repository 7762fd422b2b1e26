package disk

import (
	"encoding/json"
	"fmt"

	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// A Ref is stored in its VM's state document, which every change of the
// VM writes and every start reads: these write and read it by hand, as
// encoding/json does, interning the words a fleet repeats.

// WriteJSON writes r as json.Marshal does.
func (r *Ref) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("name", r.Name).OmitEmpty("id", r.ID).Str("createOption", r.CreateOption).OmitZero("sizeGB", int64(r.SizeGB))
	w.OmitEmpty("sku", r.SKU).OmitEmpty("deleteOption", r.DeleteOption).Flag("os", r.OS).Close()
}

// ReadJSON reads r as json.Unmarshal does; the decoder gives up on any
// shape but WriteJSON's.
func (r *Ref) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Str("name", &r.Name).Str("id", &r.ID).Word("createOption", &r.CreateOption).Int("sizeGB", &r.SizeGB)
	d.Word("sku", &r.SKU).Word("deleteOption", &r.DeleteOption).Bool("os", &r.OS).Close()
}

// A disk's own document is read for every disk at start, a million of
// them in a large fleet: it is read by hand too, when it has the shape
// json.Marshal gives it (RowOf), and with encoding/json otherwise.

// DecodeInterned is Decode, reading the document by hand when it has
// json.Marshal's shape and interning the words a fleet repeats (location,
// SKU, options, OS) in words (nil: none).
func DecodeInterned(id string, row resource.Row, version int64, words *jsonwire.Interner) (resource.State, error) {
	d := new(Disk)
	if !d.read(row.Body, words) {
		*d = Disk{}
		if err := json.Unmarshal(row.Body, d); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
	}
	d.Meta = row.Meta(id, version)
	return d, nil
}

// read reads data into d by hand, and reports whether it had the shape
// json.Marshal writes; when it did not, d is left half read.
func (d *Disk) read(data []byte, words *jsonwire.Interner) bool {
	dec := jsonwire.NewDecoder(data, words)
	if dec.Open().Member("spec") {
		s := &d.Spec
		dec.Open().Word("location", &s.Location).Word("sku", &s.SKU).Int("sizeGB", &s.SizeGB).Word("createOption", &s.CreateOption)
		dec.Word("osType", &s.OSType).RawMessage("model", &s.Model).Close()
	}
	dec.Str("managedBy", &d.ManagedBy).Word("deleteOption", &d.DeleteOption).Str("uniqueId", &d.UniqueID).Time("timeCreated", &d.TimeCreated).Close()
	return dec.OK()
}

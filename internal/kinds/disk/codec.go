package disk

import "github.com/azemu/azemu/internal/jsonwire"

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

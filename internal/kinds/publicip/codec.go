package publicip

import "github.com/azemu/azemu/internal/jsonwire"

// A Spec is stored in the state document of a VM whose network interface
// configurations create the public IP: these write and read it by hand,
// as encoding/json does, interning the words a fleet repeats.

// WriteJSON writes s as json.Marshal does.
func (s *Spec) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("location", s.Location).Str("sku", s.SKU).Str("tier", s.Tier).Str("allocation", s.Allocation)
	w.Str("version", s.Version).Int("idleTimeoutInMinutes", int64(s.IdleTimeout)).OmitEmpty("deleteOption", s.DeleteOption)
	w.RawMessage("model", s.Model).Close()
}

// ReadJSON reads s as json.Unmarshal does; the decoder gives up on any
// shape but WriteJSON's.
func (s *Spec) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Word("location", &s.Location).Word("sku", &s.SKU).Word("tier", &s.Tier).Word("allocation", &s.Allocation)
	d.Word("version", &s.Version).Int("idleTimeoutInMinutes", &s.IdleTimeout).Word("deleteOption", &s.DeleteOption)
	d.RawMessage("model", &s.Model).Close()
}

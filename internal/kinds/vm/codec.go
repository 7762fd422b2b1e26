package vm

import (
	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/disk"
)

// A Spec is stored in the VM's state document, which every change of the
// VM writes and every start reads: these write and read it by hand, as
// encoding/json does. The words a fleet repeats (location, size, OS,
// image, options, its scale set) are read interned.

// WriteJSON writes s as json.Marshal does.
func (s *Spec) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("location", s.Location).Str("vmSize", s.VMSize).Flag("generalizedImage", s.GeneralizedImage)
	w.OmitEmpty("osType", s.OSType).OmitEmpty("licenseType", s.LicenseType).OmitEmpty("priority", s.Priority)
	w.OmitEmpty("evictionPolicy", s.EvictionPolicy).Flag("hibernationEnabled", s.HibernationEnabled).OmitEmpty("scaleSetId", s.ScaleSetID)
	jsonwire.WriteArray(w, "disks", s.Disks, true, (*disk.Ref).WriteJSON)
	jsonwire.WriteArray(w, "nics", s.NICs, true, (*NICRef).WriteJSON)
	w.OmitEmpty("computerName", s.ComputerName).OmitEmpty("osName", s.OSName).OmitEmpty("osVersion", s.OSVersion).Close()
}

// ReadJSON reads s as json.Unmarshal does; the decoder gives up on any
// shape but WriteJSON's.
func (s *Spec) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Word("location", &s.Location).Word("vmSize", &s.VMSize).Bool("generalizedImage", &s.GeneralizedImage)
	d.Word("osType", &s.OSType).Word("licenseType", &s.LicenseType).Word("priority", &s.Priority)
	d.Word("evictionPolicy", &s.EvictionPolicy).Bool("hibernationEnabled", &s.HibernationEnabled).Word("scaleSetId", &s.ScaleSetID)
	jsonwire.ReadArray(d, "disks", &s.Disks, (*disk.Ref).ReadJSON)
	jsonwire.ReadArray(d, "nics", &s.NICs, (*NICRef).ReadJSON)
	d.Str("computerName", &s.ComputerName).Word("osName", &s.OSName).Word("osVersion", &s.OSVersion).Close()
}

// WriteJSON writes r as json.Marshal does.
func (r *NICRef) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("id", r.ID).Flag("primary", r.Primary).OmitEmpty("deleteOption", r.DeleteOption)
	jsonwire.WritePointer(w, "create", r.Create, (*NICTemplate).WriteJSON)
	w.Close()
}

// ReadJSON reads r as json.Unmarshal does.
func (r *NICRef) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Str("id", &r.ID).Bool("primary", &r.Primary).Word("deleteOption", &r.DeleteOption)
	jsonwire.ReadPointer(d, "create", &r.Create, (*NICTemplate).ReadJSON)
	d.Close()
}

// WriteJSON writes t as json.Marshal does.
func (t *NICTemplate) WriteJSON(w *jsonwire.Writer) {
	t.Spec.WriteJSON(w.Open().Member("spec"))
	jsonwire.WriteArray(w, "publicIPs", t.PublicIPs, true, (*PublicIPTemplate).WriteJSON)
	w.Close()
}

// ReadJSON reads t as json.Unmarshal does.
func (t *NICTemplate) ReadJSON(d *jsonwire.Decoder) {
	if d.Open().Member("spec") {
		t.Spec.ReadJSON(d)
	}
	jsonwire.ReadArray(d, "publicIPs", &t.PublicIPs, (*PublicIPTemplate).ReadJSON)
	d.Close()
}

// WriteJSON writes p as json.Marshal does.
func (p *PublicIPTemplate) WriteJSON(w *jsonwire.Writer) {
	p.Spec.WriteJSON(w.Open().Str("id", p.ID).Member("spec"))
	w.Close()
}

// ReadJSON reads p as json.Unmarshal does.
func (p *PublicIPTemplate) ReadJSON(d *jsonwire.Decoder) {
	if d.Open().Str("id", &p.ID).Member("spec") {
		p.Spec.ReadJSON(d)
	}
	d.Close()
}

// appendJSON appends d as json.Marshal writes it: every VM event carries
// one, so every change of a VM writes it.
func (d *Detail) appendJSON(buf []byte) []byte {
	w := jsonwire.NewWriter(buf)
	w.Open().OmitEmpty("vmSize", d.VMSize).OmitEmpty("location", d.Location).OmitEmpty("osType", d.OSType)
	w.OmitEmpty("licenseType", d.LicenseType).OmitEmpty("priority", d.Priority).OmitEmpty("scaleSetId", d.ScaleSetID).Close()
	out, _ := w.Bytes() // strings cannot fail
	return out
}

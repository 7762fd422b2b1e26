package lifecycle

import (
	"github.com/azemu/azemu/internal/jsonwire"
)

// The machine's stored form is what encoding/json writes of it; these
// write and read it by hand, because every state change of a VM writes it
// and every start reads the whole fleet's. ReadJSON reads the shape
// WriteJSON writes, and the decoder gives up on anything else. Tests and
// fuzz targets hold both to encoding/json.

// WriteJSON writes m as json.Marshal does.
func (m *Machine) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("name", m.Name)
	m.State.WriteJSON(w.Member("state"))
	jsonwire.WritePointer(w, "run", m.Run, (*Run).WriteJSON)
	w.Close()
}

// ReadJSON reads m as json.Unmarshal does.
func (m *Machine) ReadJSON(d *jsonwire.Decoder) {
	if d.Open().Str("name", &m.Name).Member("state") {
		m.State.ReadJSON(d)
	}
	jsonwire.ReadPointer(d, "run", &m.Run, (*Run).ReadJSON)
	d.Close()
}

// WriteJSON writes s as json.Marshal does.
func (s *State) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("provisioning", string(s.Provisioning)).OmitEmpty("os", string(s.OS)).OmitEmpty("power", string(s.Power))
	jsonwire.WritePointer(w, "failure", s.Failure, (*Failure).WriteJSON)
	w.Flag("generalized", s.Generalized).Flag("hibernated", s.Hibernated).Time("provisionedAt", s.ProvisionedAt).Close()
}

// ReadJSON reads s as json.Unmarshal does.
func (s *State) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Word("provisioning", (*string)(&s.Provisioning)).Word("os", (*string)(&s.OS)).Word("power", (*string)(&s.Power))
	jsonwire.ReadPointer(d, "failure", &s.Failure, (*Failure).ReadJSON)
	d.Bool("generalized", &s.Generalized).Bool("hibernated", &s.Hibernated).Time("provisionedAt", &s.ProvisionedAt).Close()
}

// WriteJSON writes f as json.Marshal does.
func (f *Failure) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("code", f.Code).Str("message", f.Message).Close()
}

// ReadJSON reads f as json.Unmarshal does.
func (f *Failure) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Word("code", &f.Code).Str("message", &f.Message).Close()
}

// WriteJSON writes r as json.Marshal does.
func (r *Run) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("operationId", r.OperationID)
	r.Plan.WriteJSON(w.Member("plan"))
	w.Int("step", int64(r.Step)).Time("stepStarted", r.StepStarted).Float("speed", r.Speed)
	jsonwire.WritePointer(w, "failure", r.Failure, (*Failure).WriteJSON)
	w.OmitZero("failAt", int64(r.FailAt)).OmitZeroTime("holdUntil", r.HoldUntil).Close()
}

// ReadJSON reads r as json.Unmarshal does.
func (r *Run) ReadJSON(d *jsonwire.Decoder) {
	if d.Open().Str("operationId", &r.OperationID).Member("plan") {
		r.Plan.ReadJSON(d)
	}
	d.Int("step", &r.Step).Time("stepStarted", &r.StepStarted).Float("speed", &r.Speed)
	jsonwire.ReadPointer(d, "failure", &r.Failure, (*Failure).ReadJSON)
	d.Int("failAt", &r.FailAt).Time("holdUntil", &r.HoldUntil).Close()
}

// WriteJSON writes p as json.Marshal does.
func (p *Plan) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("kind", string(p.Kind))
	jsonwire.WriteArray(w, "steps", p.Steps, true, (*Step).WriteJSON)
	p.End.WriteJSON(w.Member("end"))
	w.Flag("removes", p.Removes).Close()
}

// ReadJSON reads p as json.Unmarshal does.
func (p *Plan) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Word("kind", (*string)(&p.Kind))
	jsonwire.ReadArray(d, "steps", &p.Steps, (*Step).ReadJSON)
	if d.Member("end") {
		p.End.ReadJSON(d)
	}
	d.Bool("removes", &p.Removes).Close()
}

// WriteJSON writes s as json.Marshal does.
func (s *Step) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("provisioning", string(s.Provisioning)).OmitEmpty("os", string(s.OS)).OmitEmpty("power", string(s.Power))
	w.Int("duration", int64(s.Duration)).Close()
}

// ReadJSON reads s as json.Unmarshal does.
func (s *Step) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Word("provisioning", (*string)(&s.Provisioning)).Word("os", (*string)(&s.OS)).Word("power", (*string)(&s.Power))
	d.Int64("duration", (*int64)(&s.Duration)).Close()
}

package armapi

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// A VM's instance view is its state's statuses and agent report, and a
// few fields of its spec. The parts that come from the state are the
// same for every VM in that state but for one time, so they are written
// once per state (stateFragments) with a hole where the time goes, and a
// VM's instance view is those parts with its time and spec fields put in:
// no Status values, no slices, no reflection per answer.
// vmrender_internal_test.go compares it with instanceView written by
// appendInstanceView.

// appendComputeTime writes t as Compute writes a time (lifecycle.TimeLayout),
// in UTC: 2006-01-02T15:04:05.0000000+00:00.
func appendComputeTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, lifecycle.TimeLayout)
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/100, 7)
	return append(b, "+00:00"...)
}

// appendDigits writes n, 0 <= n < 10^width, in width decimal digits.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	for range width {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// stateShape is what of a VM's state its statuses and agent report show,
// but their time: whether they have one (the provisioning status's).
type stateShape struct {
	provisioning            lifecycle.Provisioning
	os                      lifecycle.OSProvisioning
	power                   lifecycle.Power
	generalized, hibernated bool
	timed                   bool
}

// timedJSON is JSON with a hole for one time: before, the time, after;
// after is nil when there is no hole.
type timedJSON struct{ before, after []byte }

func (f timedJSON) appendAt(b []byte, t time.Time) []byte {
	b = append(b, f.before...)
	if f.after == nil {
		return b
	}
	return append(appendComputeTime(b, t), f.after...)
}

// splitAt makes JSON written with the time at (or none) a timedJSON;
// false when the time is not found in it exactly once.
func splitAt(b []byte, at time.Time, timed bool) (timedJSON, bool) {
	if !timed {
		return timedJSON{before: b}, true
	}
	mark := appendComputeTime(nil, at)
	i := bytes.Index(b, mark)
	if i < 0 || bytes.Count(b, mark) != 1 {
		return timedJSON{}, false
	}
	return timedJSON{before: b[:i], after: append([]byte{}, b[i+len(mark):]...)}, true
}

// stateFragments is what a state shape shows, written once.
type stateFragments struct {
	statuses timedJSON // the instance view's statuses
	agent    timedJSON // its vmAgent; before is nil when it has none
}

var (
	fragments     sync.Map // stateShape -> *stateFragments
	fragmentCount atomic.Int64
)

// maxFragments bounds the shapes kept: a lifecycle has a few dozen.
const maxFragments = 1024

// fragmentsOf is the fragments of st's shape; nil for a state they do
// not cover (a failure, whose code and message are the VM's own).
func fragmentsOf(st *lifecycle.State) *stateFragments {
	if st.Failure != nil {
		return nil
	}
	k := stateShape{st.Provisioning, st.OS, st.Power, st.Generalized, st.Hibernated, !st.ProvisionedAt.IsZero()}
	if f, ok := fragments.Load(k); ok {
		return f.(*stateFragments)
	}
	if fragmentCount.Load() >= maxFragments {
		return nil
	}
	f := newFragments(k)
	if f == nil {
		return nil
	}
	if _, loaded := fragments.LoadOrStore(k, f); !loaded {
		fragmentCount.Add(1)
	}
	return f
}

// newFragments writes a shape's fragments from instanceView of a VM in
// that state at a marked time, with nothing of its own.
func newFragments(k stateShape) *stateFragments {
	at := time.Date(2001, 2, 3, 4, 5, 6, 7890100, time.UTC)
	st := lifecycle.State{Provisioning: k.provisioning, OS: k.os, Power: k.power, Generalized: k.generalized, Hibernated: k.hibernated}
	if k.timed {
		st.ProvisionedAt = at
	}
	iv := instanceView(&engine.VM{Machine: lifecycle.Machine{State: st}})
	var f stateFragments
	var ok bool
	if f.statuses, ok = splitAt(appendStatuses(nil, iv.Statuses), at, k.timed); !ok {
		return nil
	}
	if iv.VMAgent != nil {
		if f.agent, ok = splitAt(appendAgent(nil, iv.VMAgent), at, k.timed); !ok {
			return nil
		}
	}
	return &f
}

// appendStateInstanceView writes the instance view of v, a VM without
// extensions, as appendInstanceView writes instanceView(v).
func appendStateInstanceView(b []byte, v *engine.VM) []byte {
	st := &v.Machine.State
	f := fragmentsOf(st)
	if f == nil {
		iv := instanceView(v)
		return appendInstanceView(b, &iv)
	}
	o := object{b: append(b, '{')}
	if st.Power.Allocated() {
		o.key(`"platformUpdateDomain":0`)
		o.key(`"platformFaultDomain":0`)
	}
	if st.Power == lifecycle.Running {
		// What the agent reports once the guest runs.
		for _, x := range [...]struct{ k, v string }{
			{`"computerName":`, v.Spec.ComputerName}, {`"osName":`, v.Spec.OSName}, {`"osVersion":`, v.Spec.OSVersion},
		} {
			if x.v != "" {
				o.str(x.k, x.v, false)
			}
		}
	}
	if v.Spec.GeneralizedImage || v.Spec.OSType != "" {
		o.key(`"hyperVGeneration":"V2"`)
	}
	if f.agent.before != nil {
		o.key(`"vmAgent":`)
		o.b = f.agent.appendAt(o.b, st.ProvisionedAt)
	}
	if len(v.Spec.Disks) > 0 {
		o.key(`"disks":[`)
		for i, d := range v.Spec.Disks {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, `{"name":`...)
			o.b = appendJSONString(o.b, d.Name, false)
			o.b = append(o.b, `,"statuses":[{"code":"ProvisioningState/succeeded","level":"Info","displayStatus":"Provisioning succeeded"`...)
			if !v.TimeCreated.IsZero() {
				o.b = append(o.b, `,"time":"`...)
				o.b = appendComputeTime(o.b, v.TimeCreated)
				o.b = append(o.b, '"')
			}
			o.b = append(o.b, "}]}"...)
		}
		o.b = append(o.b, ']')
	}
	o.key(`"statuses":`)
	o.b = f.statuses.appendAt(o.b, st.ProvisionedAt)
	return append(o.b, '}')
}

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
// in UTC: 2006-01-02T15:04:05.0000000+00:00. Every render writes a few, so
// the date is worked out from the Unix day (civilDate) rather than by
// time.Time's Date and Clock, and the digits are written in place.
func appendComputeTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	days := sec / 86400
	if sec%86400 < 0 {
		days--
	}
	year, month, day := civilDate(days)
	if year < 0 || year > 9999 {
		return t.UTC().AppendFormat(b, lifecycle.TimeLayout)
	}
	clock := int(sec - days*86400)
	frac := t.Nanosecond() / 100 // seven digits
	out := [33]byte{4: '-', 7: '-', 10: 'T', 13: ':', 16: ':', 19: '.', 27: '+', 28: '0', 29: '0', 30: ':', 31: '0', 32: '0'}
	putPair(out[0:2], year/100)
	putPair(out[2:4], year%100)
	putPair(out[5:7], month)
	putPair(out[8:10], day)
	putPair(out[11:13], clock/3600)
	putPair(out[14:16], clock/60%60)
	putPair(out[17:19], clock%60)
	putPair(out[20:22], frac/100000)
	putPair(out[22:24], frac/1000%100)
	putPair(out[24:26], frac/10%100)
	out[26] = byte('0' + frac%10)
	return append(b, out[:]...)
}

// civilDate is the proleptic Gregorian date of the day days after
// 1970-01-01 (before it when negative): days are counted in eras of 400
// years, which repeat, each from a 1 March.
func civilDate(days int64) (year, month, day int) {
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	if z%146097 < 0 {
		era--
	}
	doe := z - era*146097                                  // day of the era, 0 to 146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of the era, 0 to 399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from 1 March, 0 to 365
	mp := (5*doy + 2) / 153                                // month from March, 0 to 11
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

// putPair writes n, 0 <= n < 100, into b[0:2] in two decimal digits.
func putPair(b []byte, n int) {
	b[0], b[1] = digitPairs[2*n], digitPairs[2*n+1]
}

// digitPairs is 00 to 99, each two digits.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

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

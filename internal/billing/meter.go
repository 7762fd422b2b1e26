package billing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Granularity is the unit event instants are floored to before integrating.
type Granularity int

const (
	// PerSecond floors instants to the whole second (the default).
	PerSecond Granularity = iota
	// PerMinute floors instants to the whole minute.
	PerMinute
)

func (g Granularity) String() string {
	switch g {
	case PerSecond:
		return "per second"
	case PerMinute:
		return "per minute"
	}
	return fmt.Sprintf("Granularity(%d)", int(g))
}

// step is the granularity's unit in seconds.
func (g Granularity) step() int64 {
	if g == PerMinute {
		return 60
	}
	return 1
}

// floor gives t as whole seconds since the Unix epoch, floored to g.
func (g Granularity) floor(t time.Time) int64 {
	s := t.Unix() // floors: Time keeps nanoseconds in [0, 1e9)
	step := g.step()
	q := s / step
	if s%step < 0 {
		q--
	}
	return q * step
}

// ErrOutOfOrder is wrapped by Add's error for an event earlier than the
// previous event of its resource.
var ErrOutOfOrder = errors.New("billing: event earlier than the previous event of its resource")

// ErrInvalidEvent is wrapped by Add's error for an event it cannot interpret:
// no resource ID, an unknown kind, power state or priority, or a kind that
// differs from the resource's earlier events.
var ErrInvalidEvent = errors.New("billing: invalid event")

// Meter accumulates usage over the window [From, To). Feed it the events of
// all history up to To in order per resource (events of different resources
// may interleave freely; events before From establish the state at From,
// events at or after To change nothing). It keeps memory proportional to the
// number of resources alive or with usage in the window, never to the length
// of the history.
//
// A Meter is not safe for concurrent use.
type Meter struct {
	from, to int64 // floored to the granularity, Unix seconds
	g        Granularity
	res      map[string]*resource // by folded (lower-case) ID
	exact    map[string]*resource // by ID as written: skips folding for the usual case
	buf      []byte               // scratch for folding IDs without allocating
}

// resource is the meter's state of one resource.
type resource struct {
	key     string    // folded ID, the key in Meter.res
	aliases []string  // spellings of the ID in Meter.exact
	id      string    // as last written
	last    time.Time // instant of the last event, for the order check
	since   int64     // floored start of the current segment
	entries []entry   // one per meter key seen
	cur     int32     // index of the current entry, -1 for none
	kind    ResourceKind
	ps      powerState
	live    bool // created and not deleted
}

// entry accumulates one resource's usage of one meter in the window.
type entry struct {
	key     MeterKey
	attrs   Attrs // the latest attributes on this meter
	seconds int64
	byPS    [numPowerStates]int64
	start   int64 // first billed instant (valid when billed)
	end     int64 // end of the last billed segment
	seen    bool  // some time of the window fell on this meter
	billed  bool  // some billed time
}

// NewMeter starts a meter of the window [from, to) at granularity g. The
// window's ends are floored to g like every event instant, which is what
// makes windows split anywhere add up exactly.
func NewMeter(from, to time.Time, g Granularity) *Meter {
	return &Meter{from: g.floor(from), to: g.floor(to), g: g, res: map[string]*resource{}, exact: map[string]*resource{}}
}

// From is the start of the window as metered (floored to the granularity).
func (m *Meter) From() time.Time { return time.Unix(m.from, 0).UTC() }

// To is the end of the window as metered (floored to the granularity).
func (m *Meter) To() time.Time { return time.Unix(m.to, 0).UTC() }

// Granularity gives the meter's granularity.
func (m *Meter) Granularity() Granularity { return m.g }

// Resources gives the number of resources the meter holds state for.
func (m *Meter) Resources() int { return len(m.res) }

// maxAliases bounds how many spellings of one ID the meter remembers.
const maxAliases = 4

// lookup finds the resource of an ID: first as written, else folded to
// lower case (ASCII fast path in m.buf, no allocation for a lookup that
// hits). For an ID not found it gives the folded key to store it under.
func (m *Meter) lookup(id string) (*resource, string) {
	if r := m.exact[id]; r != nil {
		return r, r.key
	}
	var r *resource
	m.buf = m.buf[:0]
	ascii := true
	for i := 0; i < len(id) && ascii; i++ {
		c := id[i]
		if c >= utf8.RuneSelf {
			ascii = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		m.buf = append(m.buf, c)
	}
	key := ""
	if ascii {
		r = m.res[string(m.buf)] // no allocation for the lookup
	} else {
		key = strings.ToLower(id)
		r = m.res[key]
	}
	if r == nil {
		if key == "" {
			key = string(m.buf)
		}
		return nil, key
	}
	if len(r.aliases) < maxAliases {
		r.aliases = append(r.aliases, id)
		m.exact[id] = r
	}
	return r, r.key
}

// Add feeds the next event of a resource. It returns an error wrapping
// ErrOutOfOrder for an event earlier than the resource's previous one, or
// ErrInvalidEvent for one it cannot interpret; either way the event is not
// applied and the meter stays as it was.
func (m *Meter) Add(e Event) error {
	if e.ResourceID == "" {
		return fmt.Errorf("%w: no resource ID", ErrInvalidEvent)
	}
	if e.Kind != VM && e.Kind != Disk && e.Kind != PublicIP {
		return fmt.Errorf("%w: %s: unknown kind %v", ErrInvalidEvent, e.ResourceID, e.Kind)
	}
	ps := psNone
	if e.Kind == VM {
		var ok bool
		if ps, ok = parsePowerState(e.PowerState); !ok {
			return fmt.Errorf("%w: %s: unknown power state %q", ErrInvalidEvent, e.ResourceID, e.PowerState)
		}
	}
	r, key := m.lookup(e.ResourceID)
	found := r != nil
	if found {
		if e.At.Before(r.last) {
			return fmt.Errorf("%w: %s at %s after %s", ErrOutOfOrder, e.ResourceID,
				e.At.Format(time.RFC3339Nano), r.last.Format(time.RFC3339Nano))
		}
		if r.kind != e.Kind {
			return fmt.Errorf("%w: %s: kind %v after %v", ErrInvalidEvent, e.ResourceID, e.Kind, r.kind)
		}
	}
	var mk MeterKey
	attrs := e.Attrs
	sameKey := false // the meter key is the current entry's: skip deriving it
	if !e.Deleted {
		if found && r.live && r.cur >= 0 {
			cur := &r.entries[r.cur]
			if attrs == (Attrs{}) {
				attrs = cur.attrs
			}
			if attrs == cur.attrs {
				mk, sameKey = cur.key, true
			}
		}
		if !sameKey {
			var err error
			if mk, err = KeyFor(e.Kind, attrs); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrInvalidEvent, e.ResourceID, err)
			}
		}
	}

	// The event is valid: close the segment it ends, then apply it.
	t := m.g.floor(e.At)
	if !found {
		r = &resource{key: key, aliases: []string{e.ResourceID}, kind: e.Kind, cur: -1}
		m.res[key] = r
		m.exact[e.ResourceID] = r
	} else {
		m.accrue(r, r.since, t)
	}
	r.id = e.ResourceID
	r.last = e.At
	r.since = t
	if e.Deleted {
		r.live = false
		r.ps = psNone
		if !r.anySeen() {
			// Nothing to report and nothing more to accrue: forget it, so
			// that churn before the window costs no memory. A later event
			// for the ID starts a new resource.
			delete(m.res, r.key)
			for _, a := range r.aliases {
				delete(m.exact, a)
			}
		}
		return nil
	}
	i := int(r.cur)
	if !sameKey {
		i = slices.IndexFunc(r.entries, func(en entry) bool { return en.key == mk })
	}
	if i < 0 {
		r.entries = append(r.entries, entry{key: mk})
		i = len(r.entries) - 1
	}
	r.entries[i].attrs = attrs
	r.cur = int32(i)
	r.ps = ps
	r.live = true
	return nil
}

func (r *resource) anySeen() bool {
	for i := range r.entries {
		if r.entries[i].seen {
			return true
		}
	}
	return false
}

// accrue adds the resource's current state over [a, b) (clipped to the
// window) to its current entry.
func (m *Meter) accrue(r *resource, a, b int64) {
	if !r.live || r.cur < 0 {
		return
	}
	accrueEntry(&r.entries[r.cur], r.kind, r.ps, max(a, m.from), min(b, m.to))
}

func accrueEntry(en *entry, kind ResourceKind, ps powerState, lo, hi int64) {
	if lo >= hi {
		return
	}
	d := hi - lo
	en.seen = true
	billed := !en.attrs.IPReleased // disks and public IPs bill while they exist; a released IP does not
	if kind == VM {
		en.byPS[ps] += d
		billed = ps.billed()
	}
	if !billed {
		return
	}
	en.seconds += d
	if !en.billed {
		en.billed = true
		en.start = lo
	}
	en.end = hi
}

// Usage is one line item: a resource's consumption of one meter in the window.
type Usage struct {
	ResourceID string // as last written in the history
	Kind       ResourceKind
	Attrs      Attrs    // the latest attributes on this meter
	MeterKey   MeterKey // what the price is looked up by
	Seconds    int64    // billed seconds (whole, after granularity)
	// ByPowerState gives a VM's seconds in each power state in the window,
	// billed and unbilled, keyed by the lower-case state name ("" for a VM
	// with no power state yet). Nil for disks and public IPs.
	ByPowerState map[string]int64
	// Start is the first billed instant in the window and End the end of the
	// last billed stretch (exclusive); both zero when nothing was billed.
	Start, End time.Time
}

// Usage closes the open intervals at To and gives the line items, sorted by
// resource ID (case-insensitively), then meter. It lists every resource that
// existed for some time in the window on each meter it used, including a VM
// that was deallocated throughout (Seconds 0, with its ByPowerState). It does
// not change the meter: more events may follow.
func (m *Meter) Usage() []Usage {
	keys := make([]string, 0, len(m.res))
	for k := range m.res {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	us := make([]Usage, 0, len(keys))
	for _, k := range keys {
		r := m.res[k]
		first := len(us)
		for i := range r.entries {
			en := r.entries[i] // a copy: closing at To must not change the meter
			if r.live && int32(i) == r.cur {
				accrueEntry(&en, r.kind, r.ps, max(r.since, m.from), m.to)
			}
			if !en.seen {
				continue
			}
			u := Usage{ResourceID: r.id, Kind: r.kind, Attrs: en.attrs, MeterKey: en.key, Seconds: en.seconds}
			if en.billed {
				u.Start = time.Unix(en.start, 0).UTC()
				u.End = time.Unix(en.end, 0).UTC()
			}
			if r.kind == VM {
				u.ByPowerState = make(map[string]int64, 2)
				for ps, s := range en.byPS {
					if s != 0 {
						u.ByPowerState[powerStateNames[ps]] = s
					}
				}
			}
			us = append(us, u)
		}
		if len(us)-first > 1 {
			slices.SortFunc(us[first:], func(a, b Usage) int { return compareKeys(a.MeterKey, b.MeterKey) })
		}
	}
	return us
}

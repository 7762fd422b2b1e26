package billing

import (
	"math/big"
	"sync"
	"time"
)

// HourlyRate is what a resource with these attributes costs per hour while
// it bills: a VM's or public IP's hourly price, or a disk's monthly price
// over HoursPerMonth hours. ok is false when no price row prices it.
func HourlyRate(p *PriceSheet, kind ResourceKind, attrs Attrs) (rate *big.Rat, price Price, ok bool) {
	key, err := KeyFor(kind, attrs)
	if err != nil {
		return nil, Price{}, false
	}
	pr, ok := p.Lookup(key)
	if !ok || unitSeconds(pr.Unit) == 0 {
		return nil, Price{}, false
	}
	rate = pr.ExactPrice()
	rate.Mul(rate, big.NewRat(3600, unitSeconds(pr.Unit)))
	return rate, pr, true
}

// CostOver is what seconds of billed time cost at an hourly rate.
func CostOver(perHour *big.Rat, seconds int64) *big.Rat {
	c := new(big.Rat).SetFrac64(seconds, 3600)
	return c.Mul(c, perHour)
}

// Rates shares what the running accounts of one price sheet have in
// common. A fleet has many resources but few distinct pricing attributes,
// so each account points at one shared pricing (its attributes, hourly rate
// and currency) instead of keeping copies of its own: at a million VMs the
// copies would cost hundreds of megabytes. Safe for concurrent use.
type Rates struct {
	sheet *PriceSheet

	mu     sync.Mutex
	shared map[pricingOf]*pricing
	states map[string]string // power states, each kept once
}

type pricingOf struct {
	kind  ResourceKind
	attrs Attrs
}

// pricing is what accounts with the same kind and attributes share. Nothing
// writes to it once made.
type pricing struct {
	attrs    Attrs
	rate     *big.Rat // per hour; nil when no price row prices it
	currency string
}

// NewRates shares the rates of accounts priced by p.
func NewRates(p *PriceSheet) *Rates {
	return &Rates{sheet: p, shared: map[pricingOf]*pricing{}, states: map[string]string{}}
}

// of is the pricing of a resource of kind with attrs, made on first use.
func (m *Rates) of(kind ResourceKind, attrs Attrs) *pricing {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := pricingOf{kind, attrs}
	if mt := m.shared[k]; mt != nil {
		return mt
	}
	mt := &pricing{attrs: attrs}
	if rate, pr, ok := HourlyRate(m.sheet, kind, attrs); ok {
		mt.rate, mt.currency = rate, pr.Currency
	}
	m.shared[k] = mt
	return mt
}

// powerState keeps each power state's text once.
func (m *Rates) powerState(s string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if kept, ok := m.states[s]; ok {
		return kept
	}
	m.states[s] = s
	return s
}

// Running is one resource's running cost, kept up to date event by event:
// what it accrued up to its last event and what it accrues per hour from
// then on. It follows the meter's rules (instants floored to the second,
// compute billed in BilledPowerState, disks and public IPs billed while
// they exist), so over any stretch it agrees with the meter exactly.
type Running struct {
	Kind       ResourceKind
	PowerState string

	since int64 // Unix second of the last event
	// What it accrued: billed seconds at the current pricing's rate, plus
	// what it accrued at earlier pricings, in their currencies (nil when
	// none did). An amount per account would cost a fleet two allocations
	// a resource; most resources never change their price.
	seconds  int64
	earlier  *Amount
	unpriced bool     // some billed time had no price
	pricing  *pricing // attributes, and the rate from since on
}

// NewRunning starts the account of a resource at its first event.
func NewRunning(e Event, m *Rates) *Running {
	r := &Running{Kind: e.Kind, since: e.At.Unix()}
	r.Apply(e, m)
	return r
}

// Attrs are the pricing attributes as of the last event that carried any.
func (r *Running) Attrs() Attrs {
	if r.pricing == nil {
		return Attrs{}
	}
	return r.pricing.attrs
}

// Billed reports whether the resource accrues now.
func (r *Running) Billed() bool {
	if r.Kind != VM {
		return !r.Attrs().IPReleased
	}
	return BilledPowerState(r.PowerState)
}

// Apply closes the stretch up to the event and takes on its state. An
// event with zero Attrs keeps the attributes.
func (r *Running) Apply(e Event, m *Rates) {
	r.accrue(e.At.Unix())
	attrs := r.Attrs()
	if e.Attrs != (Attrs{}) {
		attrs = e.Attrs
	}
	r.PowerState = m.powerState(e.PowerState)
	p := m.of(r.Kind, attrs)
	if p != r.pricing && r.seconds > 0 { // seconds accrue only at a rate
		if r.earlier == nil {
			r.earlier = &Amount{}
		}
		r.earlier.Add(CostOver(r.pricing.rate, r.seconds), r.pricing.currency)
		r.seconds = 0
	}
	r.pricing = p
}

func (r *Running) accrue(at int64) {
	if at <= r.since {
		return
	}
	if r.Billed() {
		if r.pricing.rate != nil {
			r.seconds += at - r.since
		} else {
			r.unpriced = true
		}
	}
	r.since = at
}

// At gives the cost so far at now and the cost per hour now. Only priced
// time adds a priced part (in its own currency), so that an account whose
// time was never priced shows no cost of zero, and one priced before and
// not now shows what it cost in the currency it cost it in: the figures
// are those of an account started from an opening balance (openingBalance
// in the dashboard) at any point of its history.
func (r *Running) At(now time.Time) (soFar, perHour Amount) {
	rate, currency := r.pricing.rate, r.pricing.currency
	if r.earlier != nil {
		soFar.Merge(*r.earlier) // Add copies the cost
	}
	if rate != nil {
		soFar.Add(CostOver(rate, r.seconds), currency)
	}
	soFar.Unpriced = soFar.Unpriced || r.unpriced
	if !r.Billed() {
		if rate != nil {
			perHour.Add(new(big.Rat), currency)
		}
		return soFar, perHour
	}
	t := now.Unix()
	if rate == nil {
		perHour.Unpriced = true
		soFar.Unpriced = soFar.Unpriced || t > r.since
		return soFar, perHour
	}
	if t > r.since {
		soFar.Add(CostOver(rate, t-r.since), currency)
	}
	perHour.Add(new(big.Rat).Set(rate), currency)
	return soFar, perHour
}

// RunningState is a running account as plain data: what a saved copy of
// it keeps, from which RestoreRunning makes the same account again.
type RunningState struct {
	Kind       ResourceKind
	PowerState string
	Since      int64 // Unix second of the last event
	// Seconds are the billed seconds at Attrs' rate; Earlier is what it
	// accrued at earlier attributes (a nil Cost when nothing).
	Seconds  int64
	Earlier  Amount
	Unpriced bool // some billed time had no price
	Attrs    Attrs
}

// State is the account as plain data, sharing nothing with it.
func (r *Running) State() RunningState {
	s := RunningState{Kind: r.Kind, PowerState: r.PowerState, Since: r.since, Seconds: r.seconds, Unpriced: r.unpriced,
		Attrs: r.Attrs()}
	if r.earlier != nil {
		s.Earlier.Merge(*r.earlier) // Add copies the cost
	}
	return s
}

// RestoreRunning makes the account State gave again, rated by m: with the
// price sheet the account was rated by, it accrues exactly as the original.
func RestoreRunning(s RunningState, m *Rates) *Running {
	r := &Running{Kind: s.Kind, PowerState: m.powerState(s.PowerState), since: s.Since, seconds: s.Seconds,
		unpriced: s.Unpriced, pricing: m.of(s.Kind, s.Attrs)}
	if s.Earlier != (Amount{}) {
		r.earlier = &Amount{}
		r.earlier.Merge(s.Earlier)
	}
	return r
}

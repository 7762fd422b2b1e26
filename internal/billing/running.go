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
// common. A fleet has many resources but few distinct pricing attributes
// and power states, so each account points at one shared tariff (its kind,
// attributes, power state, hourly rate and currency) instead of keeping
// copies of its own: at a million VMs the copies would cost hundreds of
// megabytes. Safe for concurrent use.
type Rates struct {
	sheet *PriceSheet

	mu      sync.Mutex
	shared  map[pricingOf]*pricing
	tariffs map[tariffOf]*Tariff
}

type pricingOf struct {
	kind  ResourceKind
	attrs Attrs
}

type tariffOf struct {
	p     *pricing
	power string
}

// pricing is what accounts with the same kind and attributes share. Nothing
// writes to it once made.
type pricing struct {
	kind     ResourceKind
	attrs    Attrs
	rate     *big.Rat // per hour; nil when no price row prices it
	currency string
}

// Tariff is what accounts of one kind, pricing attributes and power state
// share: what they accrue per hour and whether they accrue now. Nothing
// writes to it once made.
type Tariff struct {
	rates  *Rates // that made it
	p      *pricing
	power  string
	billed bool
}

// Kind is the kind of resource the tariff prices.
func (t *Tariff) Kind() ResourceKind { return t.p.kind }

// Attrs are the pricing attributes the tariff prices.
func (t *Tariff) Attrs() Attrs { return t.p.attrs }

// PowerState is the power state (a VM's; empty for other kinds) the tariff
// prices.
func (t *Tariff) PowerState() string { return t.power }

// NewRates shares the rates of accounts priced by p.
func NewRates(p *PriceSheet) *Rates {
	return &Rates{sheet: p, shared: map[pricingOf]*pricing{}, tariffs: map[tariffOf]*Tariff{}}
}

// Tariff is the tariff of a resource of kind with attrs in a power state,
// made on first use.
func (m *Rates) Tariff(kind ResourceKind, attrs Attrs, power string) *Tariff {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tariffLocked(m.pricingLocked(kind, attrs), power)
}

// pricingLocked is the pricing of a resource of kind with attrs, made on
// first use.
func (m *Rates) pricingLocked(kind ResourceKind, attrs Attrs) *pricing {
	k := pricingOf{kind, attrs}
	if p := m.shared[k]; p != nil {
		return p
	}
	p := &pricing{kind: kind, attrs: attrs}
	if rate, pr, ok := HourlyRate(m.sheet, kind, attrs); ok {
		p.rate, p.currency = rate, pr.Currency
	}
	m.shared[k] = p
	return p
}

func (m *Rates) tariffLocked(p *pricing, power string) *Tariff {
	k := tariffOf{p, power}
	if t := m.tariffs[k]; t != nil {
		return t
	}
	t := &Tariff{rates: m, p: p, power: power, billed: BilledPowerState(power)}
	if p.kind != VM {
		t.billed = !p.attrs.IPReleased
	}
	m.tariffs[k] = t
	return t
}

// Running is one resource's running cost, kept up to date event by event:
// what it accrued up to its last event and what it accrues per hour from
// then on. It follows the meter's rules (instants floored to the second,
// compute billed in BilledPowerState, disks and public IPs billed while
// they exist), so over any stretch it agrees with the meter exactly.
//
// It is a small value (a fleet keeps one per resource): two integers and
// two pointers, one of them nil for most resources. The zero Running is no
// account; NewRunning and RestoreRunning make them.
type Running struct {
	since int64 // Unix second of the last event
	// seconds are the billed seconds at the tariff's rate since the
	// pricing last changed.
	seconds int64
	tariff  *Tariff
	// rare is what few accounts have: what it accrued at earlier pricings,
	// and whether some billed time had no price. An amount per account
	// would cost a fleet two allocations a resource; most resources never
	// change their price.
	rare *rareRunning
}

type rareRunning struct {
	earlier  Amount // in their currencies; a nil Cost when nothing priced
	unpriced bool   // some billed time had no price
}

// NewRunning starts the account of a resource at its first event.
func NewRunning(e Event, m *Rates) Running {
	r := Running{since: e.At.Unix()}
	r.Apply(e, m)
	return r
}

// Kind is the kind of the resource.
func (r *Running) Kind() ResourceKind { return r.tariff.p.kind }

// PowerState is a VM's power state as of its last event.
func (r *Running) PowerState() string { return r.tariff.power }

// Tariff is the account's tariff now.
func (r *Running) Tariff() *Tariff { return r.tariff }

// Attrs are the pricing attributes as of the last event that carried any.
func (r *Running) Attrs() Attrs { return r.tariff.p.attrs }

// Billed reports whether the resource accrues now.
func (r *Running) Billed() bool { return r.tariff.billed }

// Apply closes the stretch up to the event and takes on its state. An
// event with zero Attrs keeps the attributes. The kind is the first
// event's.
func (r *Running) Apply(e Event, m *Rates) {
	r.accrue(e.At.Unix())
	m.mu.Lock()
	var p *pricing
	switch {
	case r.tariff == nil:
		p = m.pricingLocked(e.Kind, e.Attrs)
	case e.Attrs == (Attrs{}) || e.Attrs == r.tariff.p.attrs:
		p = r.tariff.p
	default:
		p = m.pricingLocked(r.tariff.p.kind, e.Attrs)
	}
	t := m.tariffLocked(p, e.PowerState)
	m.mu.Unlock()
	if r.tariff != nil && p != r.tariff.p && r.seconds > 0 { // seconds accrue only at a rate
		old := r.tariff.p
		r.rareOnes().earlier.Add(CostOver(old.rate, r.seconds), old.currency)
		r.seconds = 0
	}
	r.tariff = t
}

func (r *Running) rareOnes() *rareRunning {
	if r.rare == nil {
		r.rare = &rareRunning{}
	}
	return r.rare
}

func (r *Running) accrue(at int64) {
	if at <= r.since {
		return
	}
	if r.tariff.billed {
		if r.tariff.p.rate != nil {
			r.seconds += at - r.since
		} else {
			r.rareOnes().unpriced = true
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
	rate, currency := r.tariff.p.rate, r.tariff.p.currency
	if r.rare != nil {
		soFar.Merge(r.rare.earlier) // Add copies the cost
		soFar.Unpriced = soFar.Unpriced || r.rare.unpriced
	}
	if rate != nil {
		soFar.Add(CostOver(rate, r.seconds), currency)
	}
	if !r.tariff.billed {
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
// it keeps, from which RestoreRunning makes the same account again. Its
// tariff is shared, and never changes.
type RunningState struct {
	Tariff *Tariff
	Since  int64 // Unix second of the last event
	// Seconds are the billed seconds at the tariff's rate; Earlier is what
	// it accrued at earlier attributes (a nil Cost when nothing).
	Seconds  int64
	Earlier  Amount
	Unpriced bool // some billed time had no price
}

// State is the account as plain data, sharing nothing with it but its
// tariff.
func (r *Running) State() RunningState {
	s := RunningState{Tariff: r.tariff, Since: r.since, Seconds: r.seconds}
	if r.rare != nil {
		s.Earlier.Merge(r.rare.earlier) // Add copies the cost
		s.Unpriced = r.rare.unpriced
	}
	return s
}

// RestoreRunning makes the account State gave again, rated by m: with the
// price sheet the account was rated by, it accrues exactly as the original.
// A tariff of other rates is taken by its kind, attributes and power state.
func RestoreRunning(s RunningState, m *Rates) Running {
	t := s.Tariff
	if t.rates != m {
		t = m.Tariff(t.Kind(), t.Attrs(), t.PowerState())
	}
	r := Running{since: s.Since, seconds: s.Seconds, tariff: t}
	if s.Earlier != (Amount{}) || s.Unpriced {
		r.rare = &rareRunning{unpriced: s.Unpriced}
		r.rare.earlier.Merge(s.Earlier)
	}
	return r
}

// PerHour is what n accounts of the tariff accrue per hour together: the
// sum of their At's perHour, made with one multiplication instead of n
// additions (a fleet's totals have many accounts and few tariffs).
func (t *Tariff) PerHour(n int64) Amount {
	var a Amount
	switch {
	case n <= 0:
	case t.p.rate == nil:
		a.Unpriced = t.billed
	case !t.billed:
		a.Add(new(big.Rat), t.p.currency)
	default:
		a.Add(new(big.Rat).Mul(t.p.rate, new(big.Rat).SetInt64(n)), t.p.currency)
	}
	return a
}

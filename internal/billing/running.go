package billing

import (
	"math/big"
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

// Running is one resource's running cost, kept up to date event by event:
// what it accrued up to its last event and what it accrues per hour from
// then on. It follows the meter's rules (instants floored to the second,
// compute billed in BilledPowerState, disks and public IPs billed while
// they exist), so
// over any stretch it agrees with the meter exactly.
type Running struct {
	ID         string // as last written
	Kind       ResourceKind
	Attrs      Attrs
	PowerState string

	since    int64 // Unix second of the last event
	accrued  big.Rat
	unpriced bool     // some billed time had no price
	rate     *big.Rat // per hour from since on; nil when unpriced
	currency string
}

// NewRunning starts the account of a resource at its first event.
func NewRunning(e Event, p *PriceSheet) *Running {
	r := &Running{Kind: e.Kind, since: e.At.Unix()}
	r.Apply(e, p)
	return r
}

// Billed reports whether the resource accrues now.
func (r *Running) Billed() bool {
	if r.Kind != VM {
		return !r.Attrs.IPReleased
	}
	return BilledPowerState(r.PowerState)
}

// Apply closes the stretch up to the event and takes on its state. An
// event with zero Attrs keeps the attributes.
func (r *Running) Apply(e Event, p *PriceSheet) {
	r.accrue(e.At.Unix())
	r.ID = e.ResourceID
	if e.Attrs != (Attrs{}) {
		r.Attrs = e.Attrs
	}
	r.PowerState = e.PowerState
	var pr Price
	var ok bool
	r.rate, pr, ok = HourlyRate(p, r.Kind, r.Attrs)
	r.currency = ""
	if ok {
		r.currency = pr.Currency
	}
}

func (r *Running) accrue(at int64) {
	if at <= r.since {
		return
	}
	if r.Billed() {
		if r.rate != nil {
			r.accrued.Add(&r.accrued, CostOver(r.rate, at-r.since))
		} else {
			r.unpriced = true
		}
	}
	r.since = at
}

// At gives the cost so far at now and the cost per hour now.
func (r *Running) At(now time.Time) (soFar, perHour Amount) {
	soFar.Add(new(big.Rat).Set(&r.accrued), r.currency)
	soFar.Unpriced = r.unpriced
	if !r.Billed() {
		perHour.Add(new(big.Rat), r.currency)
		return soFar, perHour
	}
	t := now.Unix()
	if r.rate == nil {
		perHour.Unpriced = true
		soFar.Unpriced = soFar.Unpriced || t > r.since
		return soFar, perHour
	}
	if t > r.since {
		soFar.Add(CostOver(r.rate, t-r.since), r.currency)
	}
	perHour.Add(new(big.Rat).Set(r.rate), r.currency)
	return soFar, perHour
}

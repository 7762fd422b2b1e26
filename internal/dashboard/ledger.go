package dashboard

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
)

// farFuture bounds history scans that want everything: no event is ever
// stamped later than the clock.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// ledger keeps every live resource's running cost: what it has accrued up to
// its last event and what it accrues per hour from then on. It is seeded
// from the history once and then fed each committed change, so a fleet table
// page costs a map lookup per row instead of a pass over the history.
//
// It follows the meter's rules (billing.BilledPowerState, disks billed while
// they exist, instants floored to the second, monthly prices over 730 hours)
// in float64: it is for display; the bill is computed by the billing package.
type ledger struct {
	prices *billing.PriceSheet

	mu      sync.Mutex
	seeding bool
	backlog []store.Event // changes committed while seeding
	accts   map[string]*account
	disksOf map[string]map[string]bool // VM key -> keys of its attached disks
}

// account is one resource's running cost.
type account struct {
	id       string // as last written
	kind     billing.ResourceKind
	attrs    billing.Attrs
	power    string
	since    int64   // Unix second of the last event
	accrued  float64 // cost up to since, priced time only
	unpriced bool    // some billed time had no price
	rate     float64 // per hour from since on, when billed and priced
	priced   bool    // the current meter has a price
	currency string
	parent   string // a disk's VM key
}

func (a *account) billed() bool {
	return a.kind == billing.Disk || billing.BilledPowerState(a.power)
}

// accrue closes the current segment at Unix second at.
func (a *account) accrue(at int64) {
	if at <= a.since {
		return
	}
	if a.billed() {
		if a.priced {
			a.accrued += a.rate * float64(at-a.since) / 3600
		} else {
			a.unpriced = true
		}
	}
	a.since = at
}

func (a *account) reprice(p *billing.PriceSheet) {
	a.rate, a.currency, a.priced = hourly(p, a.kind, a.attrs)
}

// hourly is what a resource with these attributes costs per hour while it
// is billed; ok is false when no price row prices it.
func hourly(p *billing.PriceSheet, kind billing.ResourceKind, attrs billing.Attrs) (rate float64, currency string, ok bool) {
	key, err := billing.KeyFor(kind, attrs)
	if err != nil {
		return 0, "", false
	}
	pr, ok := p.Lookup(key)
	if !ok {
		return 0, "", false
	}
	rate, _ = pr.ExactPrice().Float64()
	if key.Unit == billing.UnitMonth {
		rate /= billing.HoursPerMonth
	}
	return rate, pr.Currency, true
}

func newLedger(p *billing.PriceSheet) *ledger {
	return &ledger{prices: p, accts: map[string]*account{}, disksOf: map[string]map[string]bool{}}
}

// seed reads the whole history. Call it after the ledger receives changes
// (OnChange is registered first): changes committed meanwhile wait in the
// backlog and are applied after, those the scan already saw skipped by Seq.
func (l *ledger) seed(ctx context.Context, eng *engine.Engine) error {
	l.mu.Lock()
	l.seeding = true
	l.mu.Unlock()
	var last int64
	err := eng.History(ctx, "", time.Time{}, farFuture, func(ev store.Event) error {
		l.mu.Lock()
		l.apply(ev)
		l.mu.Unlock()
		last = max(last, ev.Seq)
		return nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.backlog {
		if ev.Seq == 0 || ev.Seq > last {
			l.apply(ev)
		}
	}
	l.backlog, l.seeding = nil, false
	return err
}

// onEvents is called from the engine's change callback: it must be quick.
func (l *ledger) onEvents(evs []store.Event) {
	if len(evs) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seeding {
		l.backlog = append(l.backlog, evs...)
		return
	}
	for _, ev := range evs {
		l.apply(ev)
	}
}

func (l *ledger) apply(ev store.Event) {
	be, ok := engine.BillingEvent(ev)
	if !ok {
		return
	}
	key := strings.ToLower(be.ResourceID)
	at := be.At.Unix()
	a := l.accts[key]
	if a != nil {
		a.accrue(at)
	}
	// A create starts a new resource: after a delete, and also after a
	// reset, which the engine does not announce.
	if be.Deleted || (a != nil && startsResource(ev, be.Kind)) {
		if a != nil {
			l.setParent(key, a, "")
		}
		delete(l.accts, key)
		if be.Deleted {
			return
		}
		a = nil
	}
	if a == nil {
		a = &account{kind: be.Kind, since: at}
		l.accts[key] = a
	}
	a.id = be.ResourceID
	if be.Attrs != (billing.Attrs{}) {
		a.attrs = be.Attrs
	}
	a.power = strings.ToLower(be.PowerState)
	a.reprice(l.prices)
	if a.kind == billing.Disk {
		l.setParent(key, a, strings.ToLower(a.attrs.ParentID))
	}
}

// startsResource reports whether ev is the first event of a new resource.
func startsResource(ev store.Event, kind billing.ResourceKind) bool {
	if ev.OperationKind != "create" {
		return false
	}
	return kind == billing.Disk || (ev.ProvisioningState == "Creating" && ev.PowerState == "")
}

func (l *ledger) setParent(key string, a *account, parent string) {
	if a.parent == parent {
		return
	}
	if set := l.disksOf[a.parent]; set != nil {
		delete(set, key)
		if len(set) == 0 {
			delete(l.disksOf, a.parent)
		}
	}
	a.parent = parent
	if parent != "" {
		if l.disksOf[parent] == nil {
			l.disksOf[parent] = map[string]bool{}
		}
		l.disksOf[parent][key] = true
	}
}

// vmCost is a VM's cost so far and per hour now: compute, and the disks
// attached to it. An Unpriced flag means the figure leaves out time no price
// row prices: it is a lower bound, not the cost.
type vmCost struct {
	Cost            float64 `json:"cost"`
	ComputeCost     float64 `json:"computeCost"`
	DisksCost       float64 `json:"disksCost"`
	PerHour         float64 `json:"perHour"`
	ComputePerHour  float64 `json:"computePerHour"`
	DisksPerHour    float64 `json:"disksPerHour"`
	Currency        string  `json:"currency,omitempty"`
	CostUnpriced    bool    `json:"costUnpriced,omitempty"`
	PerHourUnpriced bool    `json:"perHourUnpriced,omitempty"`
}

// at gives an account's cost up to now and its rate now.
func (a *account) at(now int64) (cost, perHour float64, costUnpriced, rateUnpriced bool) {
	cost, costUnpriced = a.accrued, a.unpriced
	if !a.billed() {
		return cost, 0, costUnpriced, false
	}
	if !a.priced {
		return cost, 0, costUnpriced || now > a.since, true
	}
	if now > a.since {
		cost += a.rate * float64(now-a.since) / 3600
	}
	return cost, a.rate, costUnpriced, false
}

// vmCosts looks up several VMs under one lock.
func (l *ledger) vmCosts(keys []string, now time.Time) []vmCost {
	sec := now.Unix()
	out := make([]vmCost, len(keys))
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, key := range keys {
		c := &out[i]
		if a := l.accts[key]; a != nil {
			cost, rate, cu, ru := a.at(sec)
			c.ComputeCost, c.ComputePerHour, c.CostUnpriced, c.PerHourUnpriced = cost, rate, cu, ru
			c.Currency = a.currency
		}
		for dk := range l.disksOf[key] {
			d := l.accts[dk]
			cost, rate, cu, ru := d.at(sec)
			c.DisksCost += cost
			c.DisksPerHour += rate
			c.CostUnpriced = c.CostUnpriced || cu
			c.PerHourUnpriced = c.PerHourUnpriced || ru
			if c.Currency == "" {
				c.Currency = d.currency
			}
		}
		c.Cost = c.ComputeCost + c.DisksCost
		c.PerHour = c.ComputePerHour + c.DisksPerHour
	}
	return out
}

// diskLine is one attached disk as the VM panel shows it.
type diskLine struct {
	ID       string  `json:"id"`
	SKU      string  `json:"sku"`
	SizeGB   int     `json:"sizeGB"`
	Tier     string  `json:"tier,omitempty"`
	Cost     float64 `json:"cost"`
	PerHour  float64 `json:"perHour"`
	Unpriced bool    `json:"unpriced,omitempty"`
}

func (l *ledger) disks(vmKey string, now time.Time) []diskLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []diskLine{}
	for dk := range l.disksOf[vmKey] {
		d := l.accts[dk]
		cost, rate, cu, ru := d.at(now.Unix())
		line := diskLine{ID: d.id, SKU: d.attrs.DiskSKU, SizeGB: d.attrs.DiskSizeGB, Cost: cost, PerHour: rate, Unpriced: cu || ru}
		line.Tier, _ = billing.DiskTier(d.attrs.DiskSKU, d.attrs.DiskSizeGB)
		out = append(out, line)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

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

// ledger keeps every live resource's running cost (billing.Running): what
// it has accrued up to its last event and what it accrues per hour from then
// on. It is seeded from the history once and then fed each committed
// change, so a fleet table page costs a map lookup per row instead of a pass
// over the history. The figures are exact and agree with the bill.
type ledger struct {
	prices *billing.PriceSheet

	mu      sync.Mutex
	seeding bool
	backlog []store.Event // changes committed while seeding
	accts   map[string]*account
	disksOf map[string]map[string]bool // VM key -> keys of its attached disks
}

// account is one resource's running cost, and the VM a disk belongs to.
type account struct {
	*billing.Running
	parent string // a disk's VM key
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
	a := l.accts[key]
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
		a = &account{Running: billing.NewRunning(be, l.prices)}
		l.accts[key] = a
	} else {
		a.Apply(be, l.prices)
	}
	if a.Kind == billing.Disk {
		l.setParent(key, a, strings.ToLower(a.Attrs.ParentID))
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
	Cost            billing.Number `json:"cost"`
	ComputeCost     billing.Number `json:"computeCost"`
	DisksCost       billing.Number `json:"disksCost"`
	PerHour         billing.Number `json:"perHour"`
	ComputePerHour  billing.Number `json:"computePerHour"`
	DisksPerHour    billing.Number `json:"disksPerHour"`
	Currency        string         `json:"currency,omitempty"`
	CostUnpriced    bool           `json:"costUnpriced,omitempty"`
	PerHourUnpriced bool           `json:"perHourUnpriced,omitempty"`
}

// vmAmounts is a VM's cost so far and per hour now, compute and disks.
type vmAmounts struct {
	compute, disks, computePerHour, disksPerHour billing.Amount
}

func (a vmAmounts) view() vmCost {
	var cost, perHour billing.Amount
	cost.Merge(a.compute)
	cost.Merge(a.disks)
	perHour.Merge(a.computePerHour)
	perHour.Merge(a.disksPerHour)
	currency := cost.Currency
	if currency == "" {
		currency = perHour.Currency
	}
	return vmCost{Cost: cost.Value(), ComputeCost: a.compute.Value(), DisksCost: a.disks.Value(),
		PerHour: perHour.Value(), ComputePerHour: a.computePerHour.Value(), DisksPerHour: a.disksPerHour.Value(),
		Currency: currency, CostUnpriced: cost.Unpriced, PerHourUnpriced: perHour.Unpriced}
}

// vmAmounts looks up several VMs under one lock.
func (l *ledger) vmAmounts(keys []string, now time.Time) []vmAmounts {
	out := make([]vmAmounts, len(keys))
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, key := range keys {
		c := &out[i]
		if a := l.accts[key]; a != nil {
			c.compute, c.computePerHour = a.At(now)
		}
		for dk := range l.disksOf[key] {
			cost, rate := l.accts[dk].At(now)
			c.disks.Merge(cost)
			c.disksPerHour.Merge(rate)
		}
	}
	return out
}

// vmCosts gives several VMs' costs as the page shows them.
func (l *ledger) vmCosts(keys []string, now time.Time) []vmCost {
	amounts := l.vmAmounts(keys, now)
	out := make([]vmCost, len(amounts))
	for i, a := range amounts {
		out[i] = a.view()
	}
	return out
}

// diskLine is one attached disk as the VM panel shows it.
type diskLine struct {
	ID       string         `json:"id"`
	Cost     billing.Number `json:"cost"`
	PerHour  billing.Number `json:"perHour"`
	Unpriced bool           `json:"unpriced,omitempty"`
	SKU      string         `json:"sku"`
	SizeGB   int            `json:"sizeGB"`
	Tier     string         `json:"tier,omitempty"`
}

func (l *ledger) disks(vmKey string, now time.Time) []diskLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []diskLine{}
	for dk := range l.disksOf[vmKey] {
		d := l.accts[dk]
		cost, rate := d.At(now)
		line := diskLine{ID: d.ID, SKU: d.Attrs.DiskSKU, SizeGB: d.Attrs.DiskSizeGB, Cost: cost.Value(), PerHour: rate.Value(),
			Unpriced: cost.Unpriced || rate.Unpriced}
		line.Tier, _ = billing.DiskTier(d.Attrs.DiskSKU, d.Attrs.DiskSizeGB)
		out = append(out, line)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

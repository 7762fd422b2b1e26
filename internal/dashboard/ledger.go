package dashboard

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
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
	rates  *billing.Rates

	log *slog.Logger

	mu      sync.Mutex
	seeding bool
	backlog []engine.Change // changes committed while seeding
	// accts are the accounts by slot, slotOf their slots by key, free the
	// slots no account holds: a fleet's accounts in one slice of small
	// records, linked by slot, with no map or pointer of their own.
	accts  []account
	slotOf map[string]slot
	free   []slot
	// tariffs number the tariffs the accounts have had (tariffNo), in the
	// order they came, for the saved form: they are few, and an account
	// is saved with its tariff's number.
	tariffs  []*billing.Tariff
	tariffNo map[*billing.Tariff]int
	// view is, while a save runs, the accounts as they were when it began
	// (copy on write, saved.go).
	view *saveView
	// dirty marks the parts (of savedPartSlots slots) changed since a save
	// last wrote them: a save writes those alone, over the saved set it
	// knows (base), when it knows one. reset: a reset dropped it.
	dirty []bool
	reset bool
	// keyOf gives a resource ID's key (armid.Fold) and the ID, as the
	// engine holds them for a live resource (Engine.KeyOf), so that the
	// accounts keep no copies of their own.
	keyOf func(id string) (key, sameID string)
	// opening is, while seeding, what each resource cost before the
	// history's horizon (retention), by key.
	opening map[string]billing.Amount

	// ready is closed once the ledger has read the history (seedErr says
	// whether it could): until then its figures are partial, and what
	// shows them waits (wait).
	ready   chan struct{}
	seedErr error

	// last is the last event applied that has a Seq: what saved accounts
	// include (saved.go).
	last savedEvent
	// unnumbered: an event without a Seq (another server's, replayed) was
	// applied after the start, so the ledger cannot say which events its
	// accounts include, and saves none.
	unnumbered bool
	// unsaved counts the events applied since the accounts were last
	// saved; saveEvery of them wake the saver.
	unsaved   int
	saveEvery int
	wake      chan struct{}
	// seeded: the history was read, so the accounts are whole; fromSaved:
	// starting from saved accounts.
	seeded, fromSaved bool

	// saveMu orders saves; stopped: the final one was made; savedHorizon
	// is the horizon of the last one; base is the header of the saved set
	// the last save wrote or the start read, nil when there is none the
	// ledger can change part by part.
	saveMu       sync.Mutex
	stopped      bool
	savedHorizon int64
	base         []byte
}

// slot numbers an account in the ledger's table (ledger.accts); noSlot is
// none.
type slot = int32

const noSlot slot = -1

// freeSlot is a slot no account holds.
var freeSlot = account{parent: noSlot, child: noSlot, next: noSlot}

// account is one resource's running cost, and the links between a VM and
// its disks and public IPs. A slot holds an account, or is free (no key),
// or holds a VM that has none (a zero Running) but still has children: a
// disk or public IP may name a VM the ledger has no account of (deleted,
// or not yet created), and is listed under it all the same.
type account struct {
	billing.Running
	key string // its key in slotOf; the engine's copy when it has one
	// id is a disk's or public IP's ID as last written, which its VM's
	// panel shows. A VM's account keeps none: the fleet table has it.
	id string
	// opening is what the resource cost before the history's horizon (nil
	// when nothing): the running cost starts at its checkpoint there. It
	// never changes once set.
	opening *billing.Amount
	// parent is a disk's or public IP's VM; child is a VM's first disk or
	// public IP, next the one after it, in the order they came.
	parent, child, next slot
}

// open reports whether the slot holds an account (not only children).
func (a *account) open() bool { return a.Tariff() != nil }

// At is the running cost so far, the opening balance included, and the
// cost per hour now.
func (a *account) At(now time.Time) (soFar, perHour billing.Amount) {
	soFar, perHour = a.Running.At(now)
	if a.opening == nil {
		return soFar, perHour
	}
	var total billing.Amount
	total.Merge(*a.opening)
	total.Merge(soFar)
	if total.Currency == "" {
		total.Currency = soFar.Currency
	}
	return total, perHour
}

// openingBalance rates what a resource used before the horizon at the
// price sheet's rates, as the meter would have.
func openingBalance(used []engine.UsedBefore, p *billing.PriceSheet) billing.Amount {
	var a billing.Amount
	for _, u := range used {
		if u.Seconds == 0 {
			continue // nothing used: no part, priced or not, as a running account has none
		}
		rate, price, ok := billing.HourlyRate(p, u.Kind, u.Attrs)
		if !ok {
			a.Unpriced = true
			continue
		}
		a.Add(billing.CostOver(rate, u.Seconds), price.Currency)
	}
	return a
}

func newLedger(p *billing.PriceSheet) *ledger {
	return &ledger{prices: p, rates: billing.NewRates(p), log: slog.New(slog.DiscardHandler), slotOf: map[string]slot{},
		tariffNo: map[*billing.Tariff]int{}, keyOf: foldedKey,
		ready: make(chan struct{}), saveEvery: defaultSaveEvery, wake: make(chan struct{}, 1)}
}

// clear forgets every account, as a reset of the fleet does. A save under
// way gives up: what it was saving is gone.
func (l *ledger) clear() {
	l.accts, l.slotOf, l.free, l.dirty = nil, map[string]slot{}, nil, nil
	l.last, l.reset = savedEvent{}, true
	if l.view != nil {
		l.view.abandoned = true
		l.view = nil
	}
}

// alloc gives key a slot of its own, with no account yet.
func (l *ledger) alloc(key string) slot {
	var s slot
	if n := len(l.free); n > 0 {
		s, l.free = l.free[n-1], l.free[:n-1]
	} else {
		s = slot(len(l.accts))
		l.accts = append(l.accts, freeSlot)
	}
	l.touch(s)
	l.accts[s] = freeSlot
	l.accts[s].key = key
	l.slotOf[key] = s
	return s
}

// end closes the account of slot s, which belongs to no VM: the slot is
// freed, or keeps only its children.
func (l *ledger) end(s slot) {
	l.touch(s)
	a := &l.accts[s]
	if a.child != noSlot {
		a.Running, a.id, a.opening = billing.Running{}, "", nil
		return
	}
	delete(l.slotOf, a.key)
	*a = freeSlot
	l.free = append(l.free, s)
}

// numberTariff numbers a tariff an account has, once.
func (l *ledger) numberTariff(t *billing.Tariff) {
	if _, ok := l.tariffNo[t]; !ok {
		l.tariffNo[t] = len(l.tariffs)
		l.tariffs = append(l.tariffs, t)
	}
}

// foldedKey is a key of the ledger's own, for a ledger without an engine.
func foldedKey(id string) (key, sameID string) { return armid.Fold(id), id }

// seedInBackground reads the history as seed does, without holding up the
// server's start: a restart is healthy and serves the ARM API at once,
// however long the history, and only what shows costs waits for them.
// Then, unless saveInterval is negative, it saves the accounts: at once
// when it had to read the whole history, so that the next start need not,
// and then every saveInterval while they change, until ctx ends.
func (l *ledger) seedInBackground(ctx context.Context, eng *engine.Engine, saveInterval time.Duration, log func(error)) {
	go func() {
		err := l.read(ctx, eng)
		if err != nil {
			log(err)
		}
		if err != nil || saveInterval < 0 {
			return
		}
		if !l.fromSaved {
			if err := l.save(ctx, eng, true, false); err != nil && ctx.Err() == nil {
				log(err)
			}
		}
		l.keepSaving(ctx, eng, saveInterval, log)
	}()
}

// read reads the saved accounts or the history (seed), and then tells
// those who wait that the accounts are whole, or why they cannot be.
func (l *ledger) read(ctx context.Context, eng *engine.Engine) error {
	err := l.seed(ctx, eng)
	l.mu.Lock()
	l.seedErr, l.seeded = err, err == nil
	l.mu.Unlock()
	close(l.ready)
	return err
}

// wait returns once the ledger has read the history, or ctx ends; an
// error says that its figures cannot be shown.
func (l *ledger) wait(ctx context.Context) error {
	select {
	case <-l.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seedErr != nil {
		return armerror.New(armerror.CodeServiceUnavailable, "The dashboard could not read the state history to know what each resource has cost: %v.", l.seedErr)
	}
	return nil
}

// seed reads the saved accounts and the events after them or, when there
// are none it can trust, the whole history. Call it after the ledger
// receives changes (OnChange is registered first): changes committed
// meanwhile wait in the backlog and are applied after, those the read
// already saw skipped by Seq.
func (l *ledger) seed(ctx context.Context, eng *engine.Engine) error {
	l.mu.Lock()
	l.seeding = true
	l.mu.Unlock()
	err := l.seedFromSaved(ctx, eng)
	l.fromSaved = err == nil
	if err != nil && ctx.Err() == nil {
		l.log.Info("dashboard: reading the whole history for the running costs", "why", err)
		l.mu.Lock()
		l.clear()
		l.mu.Unlock()
		err = l.seedFromHistory(ctx, eng)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	read := l.last.Seq
	for _, c := range l.backlog {
		if c.Reset {
			// Every event after a reset is in the backlog: those the
			// read saw go with the rest, and come again.
			l.clear()
			read = 0
		}
		for _, ev := range c.Events {
			if ev.Seq == 0 || ev.Seq > read {
				l.applyLive(ev)
			}
		}
	}
	l.backlog, l.seeding, l.opening = nil, false, nil
	return err
}

// seedFromHistory reads the whole history.
func (l *ledger) seedFromHistory(ctx context.Context, eng *engine.Engine) error {
	opening := map[string]billing.Amount{}
	if err := eng.UsedBeforeHorizon(ctx, func(id string, used []engine.UsedBefore) error {
		opening[armid.Fold(id)] = openingBalance(used, l.prices)
		return nil
	}); err != nil {
		return err
	}
	l.mu.Lock()
	l.opening = opening
	l.mu.Unlock()
	return eng.History(ctx, "", time.Time{}, farFuture, func(ev store.Event) error {
		l.mu.Lock()
		l.apply(ev)
		l.mu.Unlock()
		return nil
	})
}

// onChange is called from the engine's change callback: it must be quick.
func (l *ledger) onChange(c engine.Change) {
	if len(c.Events) == 0 && !c.Reset {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seeding {
		l.backlog = append(l.backlog, engine.Change{Events: c.Events, Reset: c.Reset})
		return
	}
	if c.Reset {
		l.clear()
	}
	for _, ev := range c.Events {
		l.applyLive(ev)
	}
	l.unsaved += len(c.Events)
	if l.unsaved >= l.saveEvery {
		select {
		case l.wake <- struct{}{}:
		default: // the saver is awake already
		}
	}
}

// applyLive applies an event committed after the start.
func (l *ledger) applyLive(ev store.Event) {
	if ev.Seq == 0 {
		l.unnumbered = true
	}
	l.apply(ev)
}

func (l *ledger) apply(ev store.Event) {
	if ev.Seq > l.last.Seq {
		l.last = savedEvent{Seq: ev.Seq, ResourceID: ev.VMID, At: ev.At.UnixNano(), ProvisioningState: ev.ProvisioningState,
			PowerState: ev.PowerState, OperationID: ev.OperationID}
	}
	be, ok := engine.BillingEvent(ev)
	if !ok {
		return
	}
	key, id := l.keyOf(be.ResourceID)
	s, found := l.slotOf[key]
	open := found && l.accts[s].open()
	// A create starts a new resource: after a delete, and also after a
	// reset, which the engine does not announce.
	if be.Deleted || (open && startsResource(ev, be.Kind)) {
		if open {
			l.setParent(s, noSlot)
			l.end(s)
			s, found = l.slotOf[key]
		}
		if be.Deleted {
			return
		}
		open = false
	}
	// A disk's or public IP's parent is its own (the account keeps it), so
	// that its pricing is shared with its siblings' of the same attributes.
	parentChanged, parent := false, ""
	if be.Kind != billing.VM && be.Attrs != (billing.Attrs{}) {
		parentChanged, parent = true, be.Attrs.ParentID
		be.Attrs.ParentID = ""
	}
	if !found {
		s = l.alloc(key)
	}
	l.touch(s)
	a := &l.accts[s]
	if !open {
		a.Running = billing.NewRunning(be, l.rates)
		if ev.Seq == 0 {
			// A checkpoint: the resource's state at the horizon, after
			// what it cost before.
			if o := l.opening[key]; o != (billing.Amount{}) {
				a.opening = &o
			}
		}
	} else {
		a.Apply(be, l.rates)
	}
	l.numberTariff(a.Tariff())
	if be.Kind != billing.VM {
		a.id = id
	}
	if parentChanged {
		l.setParent(s, l.parentSlot(parent))
	}
}

// parentSlot is the slot of the VM id, given one (with no account) when
// it has none.
func (l *ledger) parentSlot(id string) slot {
	if id == "" {
		return noSlot
	}
	key, _ := l.keyOf(id)
	if s, ok := l.slotOf[key]; ok {
		return s
	}
	return l.alloc(key)
}

// startsResource reports whether ev is the first event of a new resource.
func startsResource(ev store.Event, kind billing.ResourceKind) bool {
	if ev.OperationKind != "create" {
		return false
	}
	return kind != billing.VM || (ev.ProvisioningState == "Creating" && ev.PowerState == "")
}

// setParent moves the account of slot s to the end of parent's children
// (none: noSlot). A parent left with neither an account nor children is
// freed.
func (l *ledger) setParent(s, parent slot) {
	old := l.accts[s].parent
	if old == parent || parent == s {
		return
	}
	if old != noSlot {
		prev := noSlot
		for c := l.accts[old].child; c != s; c = l.accts[c].next {
			prev = c
		}
		l.linkAfter(old, prev, l.accts[s].next)
		if l.accts[old].child == noSlot && !l.accts[old].open() {
			l.end(old)
		}
	}
	l.touch(s)
	l.accts[s].parent, l.accts[s].next = parent, noSlot
	if parent == noSlot {
		return
	}
	last := noSlot
	for c := l.accts[parent].child; c != noSlot; c = l.accts[c].next {
		last = c
	}
	l.linkAfter(parent, last, s)
}

// linkAfter makes s come after slot after in parent's list of children:
// first when after is noSlot.
func (l *ledger) linkAfter(parent, after, s slot) {
	if after == noSlot {
		l.touch(parent)
		l.accts[parent].child = s
		return
	}
	l.touch(after)
	l.accts[after].next = s
}

// vmCost is a VM's cost so far and per hour now: compute, and the disks
// and public IPs attached to it (they bill in every power state). An
// Unpriced flag means the figure leaves out time no price row prices: it
// is a lower bound, not the cost.
type vmCost struct {
	Cost            billing.Number `json:"cost"`
	ComputeCost     billing.Number `json:"computeCost"`
	DisksCost       billing.Number `json:"disksCost"`
	NetworkCost     billing.Number `json:"publicIPsCost"`
	PerHour         billing.Number `json:"perHour"`
	ComputePerHour  billing.Number `json:"computePerHour"`
	DisksPerHour    billing.Number `json:"disksPerHour"`
	NetworkPerHour  billing.Number `json:"publicIPsPerHour"`
	Currency        string         `json:"currency,omitempty"`
	CostUnpriced    bool           `json:"costUnpriced,omitempty"`
	PerHourUnpriced bool           `json:"perHourUnpriced,omitempty"`
}

// vmAmounts is a VM's cost so far and per hour now: compute, disks and
// public IPs.
type vmAmounts struct {
	compute, disks, network, computePerHour, disksPerHour, networkPerHour billing.Amount
}

func (a vmAmounts) view() vmCost {
	var cost, perHour billing.Amount
	cost.Merge(a.compute)
	cost.Merge(a.disks)
	cost.Merge(a.network)
	perHour.Merge(a.computePerHour)
	perHour.Merge(a.disksPerHour)
	perHour.Merge(a.networkPerHour)
	currency := cost.Currency
	if currency == "" {
		currency = perHour.Currency
	}
	return vmCost{Cost: cost.Value(), ComputeCost: a.compute.Value(), DisksCost: a.disks.Value(), NetworkCost: a.network.Value(),
		PerHour: perHour.Value(), ComputePerHour: a.computePerHour.Value(), DisksPerHour: a.disksPerHour.Value(),
		NetworkPerHour: a.networkPerHour.Value(), Currency: currency, CostUnpriced: cost.Unpriced, PerHourUnpriced: perHour.Unpriced}
}

// vmAmounts looks up several VMs under one lock.
func (l *ledger) vmAmounts(keys []string, now time.Time) []vmAmounts {
	out := make([]vmAmounts, len(keys))
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, key := range keys {
		c := &out[i]
		s, ok := l.slotOf[key]
		if !ok {
			continue
		}
		a := &l.accts[s]
		if a.open() {
			c.compute, c.computePerHour = a.At(now)
		}
		for ch := a.child; ch != noSlot; ch = l.accts[ch].next {
			d := &l.accts[ch]
			cost, rate := d.At(now)
			if d.Kind() == billing.PublicIP {
				c.network.Merge(cost)
				c.networkPerHour.Merge(rate)
			} else {
				c.disks.Merge(cost)
				c.disksPerHour.Merge(rate)
			}
		}
	}
	return out
}

// perHour is what several VMs cost per hour now, compute and disks (their
// vmAmounts' computePerHour and disksPerHour merged in order): counted by
// tariff and priced once a tariff, so that a fleet's rate makes no
// rational a resource.
func (l *ledger) perHour(keys []string) billing.Amount {
	counts := map[*billing.Tariff]int64{}
	var order []*billing.Tariff // as first met: an Amount's currency is its first part's
	count := func(a *account) {
		t := a.Tariff()
		if t == nil {
			return
		}
		if counts[t] == 0 {
			order = append(order, t)
		}
		counts[t]++
	}
	l.mu.Lock()
	for _, key := range keys {
		s, ok := l.slotOf[key]
		if !ok {
			continue
		}
		count(&l.accts[s])
		for ch := l.accts[s].child; ch != noSlot; ch = l.accts[ch].next {
			if d := &l.accts[ch]; d.Kind() != billing.PublicIP {
				count(d)
			}
		}
	}
	l.mu.Unlock()
	var sum billing.Amount
	for _, t := range order {
		sum.Merge(t.PerHour(counts[t]))
	}
	return sum
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

// costLine is what one of a VM's disks or public IPs has cost and costs
// per hour now, as the VM panel shows it.
type costLine struct {
	ID       string         `json:"id"`
	Cost     billing.Number `json:"cost"`
	PerHour  billing.Number `json:"perHour"`
	Unpriced bool           `json:"unpriced,omitempty"`
}

// childLines gives a line per child of a VM of a kind (its disks or public
// IPs), by ID, each made by mk from the child's cost and its account.
func childLines[T any](l *ledger, kind billing.ResourceKind, vmKey string, now time.Time, mk func(costLine, *account) T) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.slotOf[vmKey]
	if !ok {
		return []T{}
	}
	var of []*account
	for ch := l.accts[s].child; ch != noSlot; ch = l.accts[ch].next {
		if a := &l.accts[ch]; a.Kind() == kind {
			of = append(of, a)
		}
	}
	sort.SliceStable(of, func(i, j int) bool { return of[i].id < of[j].id })
	out := make([]T, 0, len(of))
	for _, a := range of {
		cost, rate := a.At(now)
		out = append(out, mk(costLine{ID: a.id, Cost: cost.Value(), PerHour: rate.Value(), Unpriced: cost.Unpriced || rate.Unpriced}, a))
	}
	return out
}

// diskLine is one attached disk as the VM panel shows it.
type diskLine struct {
	costLine
	SKU    string `json:"sku"`
	SizeGB int    `json:"sizeGB"`
	Tier   string `json:"tier,omitempty"`
}

func (l *ledger) disks(vmKey string, now time.Time) []diskLine {
	return childLines(l, billing.Disk, vmKey, now, func(c costLine, d *account) diskLine {
		attrs := d.Attrs()
		tier, _ := billing.DiskTier(attrs.DiskSKU, attrs.DiskSizeGB)
		return diskLine{costLine: c, SKU: attrs.DiskSKU, SizeGB: attrs.DiskSizeGB, Tier: tier}
	})
}

// ipLine is one public IP of a VM as the VM panel shows it.
type ipLine struct {
	costLine
	Meter      string `json:"meter"`
	Allocation string `json:"allocationMethod,omitempty"`
	Released   bool   `json:"released,omitempty"` // a dynamic IP without an address: not billed
}

func (l *ledger) publicIPs(vmKey string, now time.Time) []ipLine {
	return childLines(l, billing.PublicIP, vmKey, now, func(c costLine, ip *account) ipLine {
		attrs := ip.Attrs()
		return ipLine{costLine: c, Meter: billing.PublicIPMeterName(attrs), Allocation: attrs.IPAllocation, Released: attrs.IPReleased}
	})
}

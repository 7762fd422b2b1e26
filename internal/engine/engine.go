package engine

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/vm"
	"github.com/azemu/azemu/internal/store"
)

// Config wires an engine.
type Config struct {
	Store store.Store
	Clock clock.Clock
	// Manual is the clock when it is manual: Advance then fires due steps
	// synchronously and no background timer runs.
	Manual *clock.Manual
	// Speed divides the realistic durations (0 means 1).
	Speed  float64
	Logger *slog.Logger
	// NewID makes every ID the engine hands out (operations, vmIds,
	// disks' unique IDs, ...; the ARM layer draws its request IDs apart);
	// by default GUIDs drawn from the engine's random source, and for
	// operations GUIDs that sort in the order they are made
	// (draws.operationID).
	NewID func() string
	// Seed, when not zero, seeds the engine's random source: IDs and
	// fault rolls repeat run after run. Zero seeds it from the OS.
	Seed uint64
	// Capacity limits cores per region and size family; nil is unlimited.
	Capacity Capacity
	// WriteTimeout is how long a write may wait for the disk before the
	// store is reported stuck (StoreHealth); default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Retention is how much history is kept whole: older history is
	// compacted into checkpoints (retention.go). Zero keeps it all.
	Retention time.Duration
	// MaxBatch is the most client changes one store transaction commits
	// (batch.go); 0 means DefaultMaxBatch, 1 commits each change alone.
	MaxBatch int
}

// recentOps bounds how many finished operations stay in memory for polling;
// older ones are read back from the store.
const recentOps = 10000

// Engine is the running fleet. All methods are safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger

	// writeMu serialises state changes: decide, commit, publish. Readers
	// never take it, so a slow disk never blocks a GET.
	writeMu sync.Mutex
	// mu guards the maps for readers; writers hold it only to publish.
	mu     sync.RWMutex
	subs   map[string]store.Subscription
	groups map[string]*Group // key: sub/lower(rg)
	vms    map[string]*VM    // key: lower(ID)
	// res holds the snapshots of the kinds in the kinds table, by ARM type,
	// then key.
	res map[string]map[string]resource.State
	// extsByVM indexes res[ExtensionType] by the key prefix of the VM the
	// extensions belong to (extension.Prefix), so that a VM's GET finds
	// its extensions without scanning the fleet's; putRes and dropRes keep
	// it in step with res.
	extsByVM map[string]map[string]*Extension
	// addrsBySubnet indexes res[NetworkInterfaceType] by subnet key, then
	// private address, to the key of the interface holding it
	// (subnetaddrs.go), so that giving an interface an address, or listing
	// a subnet's users, reads that subnet's interfaces only, not the
	// fleet's; putRes and dropRes keep it in step with res.
	addrsBySubnet map[string]*subnetAddrs
	// nicsByNSG indexes res[NetworkInterfaceType] by the key of the
	// security group an interface names, so that rendering a group lists
	// its interfaces without reading the fleet's; putRes and dropRes keep
	// it in step with res.
	nicsByNSG map[string]map[string]struct{}
	ops       map[string]store.Operation
	faults    []Fault
	finished  []string // finished op keys, oldest first
	// byPower counts e.vms by power state, and running the operations in
	// e.ops not yet done, kept as they change (setVM, dropVM, putOp) so
	// that Stats, which health and metrics read, costs nothing per VM.
	byPower map[string]int
	running int
	// bySet indexes e.vms by the key of the scale set a VM may belong to
	// (setKeys), so that a set's members are found without scanning the
	// fleet; setVM and dropVM keep it in step with e.vms.
	bySet  map[string]map[string]struct{}
	sorted []string // VM keys in order; nil when stale

	due       dueHeap // guarded by writeMu
	advanceMu sync.Mutex
	wake      chan struct{}
	closing   atomic.Bool
	stopped   chan struct{}
	listeners []func(Change)
	// afterSteps run after each batch of due steps fires (OnStepsFired).
	afterSteps []func(context.Context)
	// draws is the random source of fault rolls and operation IDs (and,
	// seeded, of every ID).
	draws *draws
	// orderedOps is set when operation IDs are drawn time-ordered, which
	// is unless Config.NewID makes them.
	orderedOps bool
	// kinds is the kinds table (kinds.go): how each kind is kept, and its
	// decisions.
	kinds map[string]kind
	// health is how the last writes to the store went (storehealth.go).
	health storeHealth
	// horizon is where the retained history starts (Unix nanoseconds, 0
	// for all of it); compactMu serialises compactions (retention.go).
	horizon   atomic.Int64
	compactMu sync.Mutex
	// shared is the store when other servers may serve it too (nil
	// otherwise); seen is the last of its changes memory holds, and
	// fleetLocked says that writeMu's holder holds the fleet lock too
	// (replicas.go).
	shared      store.Shared
	seen        atomic.Int64
	fleetLocked bool
	seqReads    sequenceReads
	// words interns the words VMs' state documents repeat (locations,
	// sizes, images, state words) as they are read, so that a large fleet
	// holds one copy of each.
	words *jsonwire.Interner
	// models are the short models loaded resources hold, one copy of
	// each (share.go); only the loader, which has the engine to itself,
	// reads and writes it.
	models map[string]json.RawMessage
	// batches queues the changes clients ask for, to commit them in
	// batches (batch.go).
	batches batcher
	// afterCompactBatch, when set (by tests), runs after each batch of a
	// compaction but the last, with no lock held.
	afterCompactBatch func()
	// uses is what reads spent of counted faults, ahead of the store
	// (faults.go).
	uses faultUses
}

// Change describes one committed state change, for observers such as the
// dashboard's live feed.
type Change struct {
	At     time.Time
	VMs    []*VM    // the VMs as they now are
	Gone   []string // keys (armid.Fold of the IDs) of VMs removed
	Events []store.Event
	// Reset: everything was forgotten first (a reset of the fleet), so
	// that what was derived from the history before starts afresh.
	Reset bool
}

// New loads the store and returns an engine ready to serve; call Run to let
// it fire due steps on the real clock.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Manual != nil {
		cfg.Clock = cfg.Manual
	}
	// NaN and infinities included: a plan keeps its speed in the stored
	// state, and JSON cannot hold them.
	if !(cfg.Speed > 0) || math.IsInf(cfg.Speed, 1) {
		cfg.Speed = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	rnd := newDraws(cfg.Seed)
	orderedOps := cfg.NewID == nil
	if cfg.NewID == nil {
		cfg.NewID = newGUID
		if cfg.Seed != 0 {
			cfg.NewID = rnd.guid
		}
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), stopped: make(chan struct{}), kinds: kindTable(), draws: rnd, orderedOps: orderedOps, batches: newBatcher(), words: jsonwire.NewInterner(), models: map[string]json.RawMessage{}}
	e.shared, _ = cfg.Store.(store.Shared)
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Engine) load(ctx context.Context) error {
	// The engine is emptied at the first row, so that a read that fails
	// before any (a replica's reload) leaves it as it was.
	emptied := false
	empty := func() {
		if !emptied {
			e.empty()
			emptied = true
		}
	}
	// A batch laid in is handed back to a store that reads the next rows
	// into it: nothing decoded keeps a row's document.
	var recycleResources func([]store.Resource)
	var recycleVMs func([]store.VM)
	if r, ok := e.cfg.Store.(store.BatchRecycler); ok {
		recycleResources, recycleVMs = r.RecycleResources, r.RecycleVMs
	}
	// The resources come first, as shareVM needs them laid in.
	d := newOrderedDecoder()
	snap, err := store.LoadInBatches(ctx, e.cfg.Store, func(rows []store.Resource) error {
		empty()
		return decodeBatch(d, rows, e.decodeResource, e.layResource, recycleResources)
	}, func(rows []store.VM) error {
		empty()
		return decodeBatch(d, rows, e.decodeVM, e.layVM, recycleVMs)
	})
	if derr := d.wait(); derr != nil {
		return derr // of a row read before any the read failed at
	}
	if err != nil {
		return fmt.Errorf("engine: load: %w", err)
	}
	empty()
	heap.Init(&e.due)
	for _, s := range snap.Subscriptions {
		e.subs[s.ID] = s
	}
	for _, row := range snap.Groups {
		g, err := decodeGroup(row)
		if err != nil {
			return err
		}
		e.groups[groupKey(g.SubscriptionID, g.Name)] = g
	}
	for _, op := range snap.Operations {
		e.ops[ops(op.ID)] = op
		if !op.Done() {
			e.running++
		}
	}
	if err := e.resolveBatches(ctx); err != nil {
		return err
	}
	e.faults = nil
	e.horizon.Store(0)
	if err := e.loadSettings(snap.Settings, false); err != nil {
		return err
	}
	e.seen.Store(snap.Seq)
	return e.startClock(ctx, snap.Settings[settingManualClock])
}

// layResource lays a loaded resource in (nil: of a type no kind keeps).
func (e *Engine) layResource(row store.Resource, s resource.State) {
	if s != nil {
		e.shareResource(s)
		e.putRes(armid.Fold(row.ID), s)
	}
}

// layVM lays a loaded VM in, with its due step, for heap.Init to order.
func (e *Engine) layVM(row store.VM, v *VM) {
	e.shareVM(v)
	key := armid.Fold(row.ID)
	e.setVM(key, v)
	if at, ok := v.Machine.Due(); ok {
		e.due = append(e.due, dueItem{at: at, key: key})
	}
}

// loadSettings takes the emulator-wide settings the engine keeps in memory:
// the faults and the history's horizon, and, when replaying another
// server's change (clock), where the manual clock stands.
func (e *Engine) loadSettings(settings map[string]string, clock bool) error {
	if raw, ok := settings[settingFaults]; ok && raw != "" {
		var faults []Fault
		if err := json.Unmarshal([]byte(raw), &faults); err != nil {
			return fmt.Errorf("engine: faults: %w", err)
		}
		e.faults = faults
	}
	if raw := settings[settingHorizon]; raw != "" {
		h, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return fmt.Errorf("engine: the history's horizon, %q: %w", raw, err)
		}
		e.horizon.Store(h.UnixNano())
	}
	if raw := settings[settingManualClock]; clock && raw != "" && e.cfg.Manual != nil {
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return fmt.Errorf("engine: where the manual clock stands, %q: %w", raw, err)
		}
		e.cfg.Manual.Set(t) // forward only
	}
	return nil
}

// decodeResource reads a row of the resources table as its kind keeps it;
// nil for a type no kind keeps.
func (e *Engine) decodeResource(r store.Resource) (resource.State, error) {
	k, ok := e.kinds[r.Type]
	if !ok {
		return nil, nil
	}
	row := resource.Row{SubscriptionID: r.SubscriptionID, ResourceGroup: r.ResourceGroup, Name: r.Name,
		Location: r.Location, Body: r.Body, CreatedAt: r.CreatedAt}
	var s resource.State
	var err error
	switch r.Type {
	// A fleet has a disk a VM or more, and often an interface a VM: read
	// by hand, their words shared with the VMs'.
	case DiskType:
		s, err = disk.DecodeInterned(r.ID, row, r.Version, e.words)
	case NetworkInterfaceType:
		s, err = nic.DecodeInterned(r.ID, row, r.Version, e.words)
	default:
		s, err = k.decode(r.ID, row, r.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return s, nil
}

// putRes publishes a resource's snapshot in the maps; the caller holds
// e.mu or has the engine to itself.
func (e *Engine) putRes(key string, s resource.State) {
	m := e.res[s.ResourceType()]
	if m == nil {
		m = map[string]resource.State{}
		e.res[s.ResourceType()] = m
	}
	var was *resource.Meta
	old := m[key]
	if old != nil {
		was = old.ResourceMeta()
	}
	key = keepKey(s.ResourceMeta(), was, key)
	m[key] = s
	if n, ok := s.(*NetworkInterface); ok {
		if o, ok := old.(*NetworkInterface); ok {
			e.unindexNIC(key, o, n)
		}
		for _, c := range n.IPConfigs {
			if c.Address == "" {
				continue
			}
			sk := armid.Key(c.Subnet)
			held := e.addrsBySubnet[sk]
			if held == nil {
				held = newSubnetAddrs()
				e.addrsBySubnet[sk] = held
			}
			held.hold(c.Address, key)
		}
		if n.Spec.NSG != "" {
			nk := armid.Key(n.Spec.NSG)
			if e.nicsByNSG[nk] == nil {
				e.nicsByNSG[nk] = map[string]struct{}{}
			}
			e.nicsByNSG[nk][key] = struct{}{}
		}
	}
	if x, ok := s.(*Extension); ok {
		prefix := extensionPrefixOfKey(key)
		byKey := e.extsByVM[prefix]
		if byKey == nil {
			byKey = map[string]*Extension{}
			e.extsByVM[prefix] = byKey
		}
		byKey[key] = x
	}
}

// dropRes forgets the resource with key, whatever its type; the caller
// holds e.mu or has the engine to itself.
func (e *Engine) dropRes(key string) {
	if n, ok := e.res[NetworkInterfaceType][key].(*NetworkInterface); ok {
		e.unindexNIC(key, n, nil)
	}
	if _, ok := e.res[ExtensionType][key]; ok {
		prefix := extensionPrefixOfKey(key)
		delete(e.extsByVM[prefix], key)
		if len(e.extsByVM[prefix]) == 0 {
			delete(e.extsByVM, prefix)
		}
	}
	for _, m := range e.res {
		delete(m, key)
	}
}

// unindexNIC takes interface n, kept under key, out of addrsBySubnet and
// nicsByNSG, but for the addresses next, its new snapshot (nil when it
// goes), holds still: letting one go would cut the subnet's run of held
// addresses there, and holding it again walk the run back to its end, on
// every update of an interface (a VM's start and deallocation send one).
func (e *Engine) unindexNIC(key string, n, next *NetworkInterface) {
	if n.Spec.NSG != "" {
		nk := armid.Key(n.Spec.NSG)
		delete(e.nicsByNSG[nk], key)
		if len(e.nicsByNSG[nk]) == 0 {
			delete(e.nicsByNSG, nk)
		}
	}
	for _, c := range n.IPConfigs {
		sk := armid.Key(c.Subnet)
		held := e.addrsBySubnet[sk]
		if c.Address == "" || held == nil || held.byAddr[c.Address] != key || nicHolds(next, c.Subnet, c.Address) {
			continue
		}
		held.release(c.Address)
		if len(held.byAddr) == 0 {
			delete(e.addrsBySubnet, sk)
		}
	}
}

func decodeGroup(row store.ResourceGroup) (*Group, error) {
	g, err := group.Decode(resource.Row{SubscriptionID: row.SubscriptionID, Name: row.Name, Location: row.Location,
		Body: row.Body, CreatedAt: row.CreatedAt}, row.Version)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return g, nil
}

func (e *Engine) decodeVM(row store.VM) (*VM, error) {
	v := &VM{Meta: resource.Meta{ID: row.ID, SubscriptionID: row.SubscriptionID, ResourceGroup: row.ResourceGroup, Name: row.Name, Version: row.Version},
		Model: row.Model}
	if err := decodeVMState(row.State, e.words, v); err != nil {
		return nil, fmt.Errorf("engine: vm %s: %w", row.ID, err)
	}
	return v, nil
}

// startClock applies the clock's one rule at start: it never stands behind
// the newest instant of the history, or new history would be written before
// old and bills would run backwards. A manual clock starts at the latest of
// its configured start, where it stood when last saved, and the newest
// history. A real clock behind the history is refused rather than shifted,
// so that the real clock always reads the real time.
func (e *Engine) startClock(ctx context.Context, saved string) error {
	newest, err := e.cfg.Store.Newest(ctx)
	if err != nil {
		return fmt.Errorf("engine: load: %w", err)
	}
	if e.cfg.Manual == nil {
		if now := e.cfg.Clock.Now(); newest.After(now) {
			return &ClockBehindError{Now: now, Newest: newest}
		}
		return nil
	}
	if now := e.cfg.Manual.Now(); now.Before(store.MinTime) || now.After(store.MaxTime) {
		return fmt.Errorf("engine: the manual clock cannot start at %s: azemu stores instants from %s to %s",
			now.Format(time.RFC3339Nano), store.MinTime.Format(time.RFC3339), store.MaxTime.Format(time.RFC3339))
	}
	if saved != "" {
		t, err := time.Parse(time.RFC3339Nano, saved)
		if err != nil {
			return fmt.Errorf("engine: where the manual clock stood, %q: %w", saved, err)
		}
		e.cfg.Manual.Set(t) // forward only
	}
	if newest.After(e.cfg.Manual.Now()) {
		e.log.Info("the manual clock starts at the newest history", "at", newest.Format(time.RFC3339Nano))
		e.cfg.Manual.Set(newest)
	}
	return nil
}

// ClockBehindError refuses a real clock that reads earlier than the newest
// history (a manual clock advanced past the real time, then a restart on the
// real clock).
type ClockBehindError struct{ Now, Newest time.Time }

func (c *ClockBehindError) Error() string {
	return fmt.Sprintf("the history reaches %s, later than the real clock's %s: on the real clock time would run backwards. "+
		"Serve with --clock manual, which continues from the history, or use another data dir",
		c.Newest.Format(time.RFC3339Nano), c.Now.Format(time.RFC3339Nano))
}

// settingManualClock is where the manual clock stood at its last advance.
const settingManualClock = "manualClock"

// Now is the engine's current time.
func (e *Engine) Now() time.Time { return e.cfg.Clock.Now() }

// ManualClock reports whether the clock only moves through Advance.
func (e *Engine) ManualClock() bool { return e.cfg.Manual != nil }

// NewID returns a fresh ID from the engine's configuration, for IDs the ARM
// layer mints (request IDs, default disk names); a seeded run repeats them.
func (e *Engine) NewID() string { return e.cfg.NewID() }

// Speed is the configured speed factor.
func (e *Engine) Speed() float64 { return e.cfg.Speed }

// OnChange registers fn to be called, in commit order, after every committed
// state change. fn must not block nor call back into the engine's writers.
func (e *Engine) OnChange(fn func(Change)) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	e.listeners = append(e.listeners, fn)
}

// OnStepsFired registers fn to run after each batch of due steps has
// fired and committed, outside the engine's locks, so that fn may make
// changes of its own (a deployment starting the resources that waited for
// one that just finished). Under a manual clock, Advance runs fn before it
// looks for the next due step, so what fn starts at a step's time fires
// within the same advance.
func (e *Engine) OnStepsFired(fn func(context.Context)) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	e.afterSteps = append(e.afterSteps, fn)
}

func (e *Engine) stepsFired(ctx context.Context) {
	e.writeMu.Lock()
	hooks := e.afterSteps
	e.writeMu.Unlock()
	for _, fn := range hooks {
		fn(ctx)
	}
}

// Run fires due steps on the real clock until ctx ends or Close is called.
// With a manual clock it only waits: Advance does the firing.
func (e *Engine) Run(ctx context.Context) {
	defer close(e.stopped)
	if e.cfg.Retention > 0 {
		compacting := make(chan struct{})
		defer func() { <-compacting }()
		go func() { defer close(compacting); e.compactHourly(ctx) }()
	}
	if e.shared != nil {
		following := make(chan struct{})
		defer func() { <-following }()
		go func() { defer close(following); e.follow(ctx) }()
	}
	if e.cfg.Manual != nil {
		<-ctx.Done()
		return
	}
	for {
		e.writeMu.Lock()
		next, ok := e.due.peek()
		e.writeMu.Unlock()
		var timer clock.Timer
		var fire <-chan time.Time
		if ok {
			timer = e.cfg.Clock.NewTimer(next.Sub(e.cfg.Clock.Now()))
			fire = timer.C()
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-e.wake:
			if timer != nil {
				timer.Stop()
			}
		case <-fire:
			err := e.fireDue(ctx, e.cfg.Clock.Now())
			if err == nil {
				e.stepsFired(ctx)
			}
			if err != nil {
				e.log.Error("firing due steps", "err", err)
				// The store refused the batch; try again shortly rather
				// than spin.
				t := e.cfg.Clock.NewTimer(time.Second)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C():
				}
			}
		}
	}
}

// Close stops accepting writes; in-flight ones finish. The store is the
// caller's to close afterwards.
func (e *Engine) Close() { e.closing.Store(true) }

// advance moves a manual clock forward by d, firing every step that falls
// due, in order and each at its own due time, before it returns the new time.
func (e *Engine) advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if e.cfg.Manual == nil {
		return time.Time{}, &Error{Code: CodeNotManualClock, Message: "The clock is real; start the server with --clock manual to advance it."}
	}
	if d < 0 {
		return time.Time{}, &Error{Code: "InvalidParameter", Message: "The duration must not be negative.", Target: "duration"}
	}
	e.advanceMu.Lock()
	defer e.advanceMu.Unlock()
	// On a shared store the clock stands where any server last moved it,
	// and the plans to fire are every server's.
	if err := e.Sync(ctx); err != nil {
		return e.cfg.Manual.Now(), err
	}
	target := e.cfg.Manual.Now().Add(d)
	// Past the last instant the store can hold, every later write would
	// fail for good: refuse the advance instead.
	if target.After(store.MaxTime) {
		return time.Time{}, &Error{Code: "InvalidParameter", Target: "duration",
			Message: fmt.Sprintf("The clock cannot move past %s, the last instant azemu stores; it is %s.",
				store.MaxTime.Format(time.RFC3339), e.cfg.Manual.Now().UTC().Format(time.RFC3339))}
	}
	for {
		e.writeMu.Lock()
		next, ok := e.due.peek()
		e.writeMu.Unlock()
		if !ok || next.After(target) {
			break
		}
		e.cfg.Manual.Set(next)
		if err := e.fireDue(ctx, next); err != nil {
			return e.cfg.Manual.Now(), err
		}
		e.stepsFired(ctx)
	}
	e.cfg.Manual.Set(target)
	unlock, err := e.lockWrite(ctx)
	if err != nil {
		return target, err
	}
	// Another server may have moved the clock further meanwhile: the
	// clock never goes back.
	target = e.cfg.Manual.Now()
	t := e.begin(target)
	t.ch.Settings = map[string]string{settingManualClock: target.Format(time.RFC3339Nano)}
	err = t.commit(ctx)
	unlock()
	if err != nil {
		return target, err
	}
	e.maybeCompact(ctx)
	return target, nil
}

// fireDue fires every step due at or before now, as one transaction.
func (e *Engine) fireDue(ctx context.Context, now time.Time) error {
	unlock, err := e.lockWrite(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	t := e.begin(now)
	for {
		item, ok := e.due.peek2()
		if !ok || item.at.After(now) {
			break
		}
		heap.Pop(&e.due)
		v := t.vm(item.key)
		if v == nil {
			continue
		}
		at, ok := v.Machine.Due()
		if !ok || !at.Equal(item.at) {
			continue // stale: the plan changed since this was queued
		}
		// The VM's kind decides the step, at its due time.
		if _, err := t.command(e.kinds[v.ResourceType()], v, resource.Command{Target: v.ID, Verb: vm.VerbDue, At: at}); err != nil {
			e.log.Error("firing a due step", "vm", v.ID, "err", err)
		}
	}
	if e.shared != nil && e.cfg.Manual != nil && !t.ch.Empty() {
		// The other servers' clocks move with the steps fired.
		t.ch.Settings = map[string]string{settingManualClock: now.Format(time.RFC3339Nano)}
	}
	if err := t.commit(ctx); err != nil {
		// Memory is unchanged; requeue from it so nothing is lost.
		e.rebuildDue()
		return err
	}
	return nil
}

func (e *Engine) rebuildDue() {
	e.due = e.due[:0]
	for key, v := range e.vms {
		if at, ok := v.Machine.Due(); ok {
			e.due = append(e.due, dueItem{at: at, key: key})
		}
	}
	heap.Init(&e.due)
}

func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) checkOpen() error {
	if e.closing.Load() {
		return &Error{Code: CodeShuttingDown, Message: "The server is shutting down; retry the request."}
	}
	return nil
}

// Subscriptions lists the known subscriptions.
func (e *Engine) Subscriptions() []store.Subscription {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]store.Subscription, 0, len(e.subs))
	for _, s := range e.subs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Subscription returns one known subscription.
func (e *Engine) Subscription(id string) (store.Subscription, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.subs[armid.Fold(id)]
	return s, ok
}

func groupKey(sub, rg string) string { return group.Key(sub, rg) }

// Group returns one resource group.
func (e *Engine) Group(sub, rg string) (*Group, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	g, ok := e.groups[groupKey(sub, rg)]
	return g, ok
}

// Groups lists a subscription's resource groups by name.
func (e *Engine) Groups(sub string) []*Group {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*Group
	prefix := armid.Fold(sub) + "/"
	for k, g := range e.groups {
		if strings.HasPrefix(k, prefix) {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return armid.Fold(out[i].Name) < armid.Fold(out[j].Name) })
	return out
}

// VMByID returns one VM snapshot.
func (e *Engine) VMByID(id string) (*VM, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	v, ok := e.vms[armid.Fold(id)]
	return v, ok
}

// keepKey is the key a snapshot about to be published is kept under, and
// sets it in its Meta: the key of the snapshot it replaces (was, nil for
// none), so that the key's memory stays the same while the resource lives
// and the maps and snapshots hold one copy of it. Only a snapshot not yet
// published is written (one made afresh, or copied from another's).
func keepKey(m, was *resource.Meta, key string) string {
	if was != nil && was.Key == key {
		key = was.Key
	}
	if m.Key != key {
		m.Key = key
	}
	return m.Key
}

// KeyOf returns the key of id (armid.Fold) and id itself, each as the
// engine holds it for the live VM, disk or other resource of that ID (the
// ID only when spelt alike), so that who keeps them while the resource
// lives keeps no copies of its own; for no live resource, armid.Fold(id)
// and id.
func (e *Engine) KeyOf(id string) (key, sameID string) {
	// The ledger asks for every event it reads: the key is folded on the
	// stack, and allocated only for a resource no longer live.
	var buf [256]byte
	k := armid.AppendFold(buf[:0], id)
	e.mu.RLock()
	var m *resource.Meta
	if v := e.vms[string(k)]; v != nil {
		m = &v.Meta
	} else {
		for _, typ := range sharedTypes {
			if s := e.res[typ][string(k)]; s != nil {
				m = s.ResourceMeta()
				break
			}
		}
	}
	e.mu.RUnlock()
	if m == nil || m.Key != string(k) {
		return string(k), id
	}
	if m.ID == id {
		id = m.ID
	}
	return m.Key, id
}

// liveRes is the resource of type typ with ID id, its key folded on the
// stack; the caller holds e.mu or has the engine to itself.
func (e *Engine) liveRes(typ, id string) resource.State {
	var buf [256]byte
	return e.res[typ][string(armid.AppendFold(buf[:0], id))]
}

// sharedTypes are the resources other than VMs that KeyOf finds: those
// the dashboard's ledger keeps accounts of.
var sharedTypes = []string{DiskType, PublicIPType}

// GetVM returns one VM or its ARM not-found error (ResourceGroupNotFound
// when the group itself is missing).
func (e *Engine) GetVM(sub, rg, name string) (*VM, error) {
	// Every GET of a VM comes here: its key is written on the stack, and
	// only a VM not found (or a name the quick key cannot fold) takes the
	// general path, which parses the ID and says what is missing.
	var buf [256]byte
	if key, ok := vmKey(buf[:0], sub, rg, name); ok {
		e.mu.RLock()
		v := e.vms[string(key)]
		e.mu.RUnlock()
		if v != nil {
			return v, nil
		}
	}
	return find[*VM](e, armid.VirtualMachineID(sub, rg, name))
}

// vmKey appends the key (armid.Fold of the ID) of the VM name in group rg
// of subscription sub; false when a part is empty or holds a slash, which
// the general path parses.
func vmKey(b []byte, sub, rg, name string) ([]byte, bool) {
	b = append(b, "/subscriptions/"...)
	b, ok1 := armid.AppendFoldSegment(b, sub)
	b = append(b, "/resourceGroups/"...)
	b, ok2 := armid.AppendFoldSegment(b, rg)
	b = append(b, "/providers/Microsoft.Compute/virtualMachines/"...)
	b, ok3 := armid.AppendFoldSegment(b, name)
	return b, ok1 && ok2 && ok3
}

// ListVMs returns up to limit VMs that match, in ID order, starting after
// the key `after` (a page token); next is the token of the following page,
// empty on the last one.
func (e *Engine) ListVMs(match func(*VM) bool, after string, limit int) (page []*VM, next string) {
	return e.ListVMsIn("", match, after, limit)
}

// ListVMsIn is ListVMs over the VMs whose key (armid.Fold of the ID)
// starts with prefix, e.g. a subscription's or a group's: a page costs
// what the VMs from its start to the next match cost, not the VMs outside
// prefix, before or after it.
func (e *Engine) ListVMsIn(prefix string, match func(*VM) bool, after string, limit int) (page []*VM, next string) {
	after = armid.Fold(after) // a token of a build whose keys were lower case
	e.mu.RLock()
	keys := e.sorted
	e.mu.RUnlock()
	if keys == nil {
		e.mu.Lock()
		if e.sorted == nil {
			// Rebuilt lazily after inserts and deletes, so a bulk create
			// does not pay for ordering on every VM.
			e.sorted = make([]string, 0, len(e.vms))
			for k := range e.vms {
				e.sorted = append(e.sorted, k)
			}
			sort.Strings(e.sorted)
		}
		keys = e.sorted
		e.mu.Unlock()
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	i := sort.SearchStrings(keys, max(after, prefix))
	if i < len(keys) && keys[i] == after {
		i++
	}
	for ; i < len(keys) && strings.HasPrefix(keys[i], prefix); i++ {
		v, ok := e.vms[keys[i]]
		if !ok || (match != nil && !match(v)) {
			continue
		}
		if limit > 0 && len(page) == limit {
			return page, armid.Fold(page[len(page)-1].ID)
		}
		page = append(page, v)
	}
	return page, ""
}

func groupBeingDeleted(g *Group) error { return group.BeingDeleted(g) }

// versioned is a resource with an entity tag.
type versioned interface{ ETag() string }

// checkETag applies If-Match and If-None-Match to old (nil when the resource
// does not exist).
func checkETag(old versioned, ifMatch, ifNoneMatch string) error {
	fail := func(msg string) error { return &Error{Code: CodePreconditionFailed, Message: msg} }
	if ifMatch != "" {
		if old == nil {
			return fail("The condition specified by the If-Match header is not met: the resource does not exist.")
		}
		if ifMatch != "*" && !etagIn(old.ETag(), ifMatch) {
			return fail(fmt.Sprintf("The condition specified by the If-Match header is not met: the current etag is %s.", old.ETag()))
		}
	}
	if ifNoneMatch != "" && old != nil {
		if ifNoneMatch == "*" || etagIn(old.ETag(), ifNoneMatch) {
			return fail("The condition specified by the If-None-Match header is not met: the resource exists.")
		}
	}
	return nil
}

// etagIn reports whether etag is in a header's comma-separated list; weak
// markers are ignored, as ARM compares them loosely.
func etagIn(etag, header string) bool {
	for _, h := range strings.Split(header, ",") {
		h = strings.TrimPrefix(strings.TrimSpace(h), "W/")
		if h == etag || strings.Trim(h, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// Operation returns an operation's status by ID.
func (e *Engine) Operation(ctx context.Context, id string) (store.Operation, error) {
	e.mu.RLock()
	op, ok := e.ops[ops(id)]
	e.mu.RUnlock()
	if ok {
		return op, nil
	}
	op, err := e.cfg.Store.Operation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Operation{}, &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf("The operation '%s' was not found.", id)}
	}
	return op, err
}

// History streams the state history of one VM (all VMs when id is empty).
func (e *Engine) History(ctx context.Context, id string, from, to time.Time, fn func(store.Event) error) error {
	return e.cfg.Store.History(ctx, id, from, to, fn)
}

// reset empties all state. The clock stays where it is.
func (e *Engine) reset(ctx context.Context) error {
	unlock, err := e.lockWrite(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := e.cfg.Store.Reset(ctx); err != nil {
		return err
	}
	e.wrote()
	gone := e.forget()
	// The store forgot where a manual clock stands; a restart must not put
	// it back to its configured start.
	if e.cfg.Manual != nil {
		if err := e.apply(ctx, store.Change{Settings: map[string]string{
			settingManualClock: e.cfg.Manual.Now().Format(time.RFC3339Nano)}}); err != nil {
			return err
		}
	}
	// Observers (the dashboard's live feed) see every VM go.
	e.publish(Change{At: e.Now(), Gone: gone, Reset: true})
	return nil
}

// forget empties memory, as a Reset of the store does, and returns the
// keys of the VMs that were in it, in order.
func (e *Engine) forget() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	gone := make([]string, 0, len(e.vms))
	for k := range e.vms {
		gone = append(gone, k)
	}
	sort.Strings(gone)
	e.empty()
	e.horizon.Store(0)
	return gone
}

// empty forgets every resource, operation and fault in memory.
func (e *Engine) empty() {
	e.subs = map[string]store.Subscription{}
	e.groups = map[string]*Group{}
	e.vms = map[string]*VM{}
	e.byPower, e.running = map[string]int{}, 0
	e.bySet = map[string]map[string]struct{}{}
	e.res = map[string]map[string]resource.State{}
	e.extsByVM = map[string]map[string]*Extension{}
	e.addrsBySubnet = map[string]*subnetAddrs{}
	e.nicsByNSG = map[string]map[string]struct{}{}
	e.ops = map[string]store.Operation{}
	e.faults = nil
	e.finished, e.sorted, e.due = nil, nil, nil
}

// Stats counts the fleet, for health and metrics.
type Stats struct {
	Subscriptions, Groups, VMs, Disks, OperationsInProgress int
	ByPower                                                 map[string]int
}

// Stats counts VMs by power state.
func (e *Engine) Stats() Stats {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s := Stats{Subscriptions: len(e.subs), Groups: len(e.groups), VMs: len(e.vms), Disks: len(e.res[DiskType]),
		OperationsInProgress: e.running, ByPower: make(map[string]int, len(e.byPower))}
	for p, n := range e.byPower {
		if n > 0 {
			s.ByPower[p] = n
		}
	}
	return s
}

// powerKey is the power state a VM is counted under in Stats.
func powerKey(v *VM) string {
	if p := string(v.Machine.State.Power); p != "" {
		return p
	}
	return "none"
}

// setVM publishes v under key; the caller holds e.mu (or is loading).
func (e *Engine) setVM(key string, v *VM) {
	if old, ok := e.vms[key]; ok {
		key = keepKey(&v.Meta, &old.Meta, key)
		e.byPower[powerKey(old)]--
		e.unindexSets(key, old)
	} else {
		key = keepKey(&v.Meta, nil, key)
		e.sorted = nil
	}
	e.vms[key] = v
	e.byPower[powerKey(v)]++
	for _, set := range setKeys(key, v) {
		if e.bySet[set] == nil {
			e.bySet[set] = map[string]struct{}{}
		}
		e.bySet[set][key] = struct{}{}
	}
}

// unindexSets takes the VM under key out of bySet.
func (e *Engine) unindexSets(key string, v *VM) {
	for _, set := range setKeys(key, v) {
		delete(e.bySet[set], key)
		if len(e.bySet[set]) == 0 {
			delete(e.bySet, set)
		}
	}
}

// dropVM forgets the VM under key, reporting whether there was one; the
// caller holds e.mu.
func (e *Engine) dropVM(key string) bool {
	old, ok := e.vms[key]
	if !ok {
		return false
	}
	e.byPower[powerKey(old)]--
	e.unindexSets(key, old)
	delete(e.vms, key)
	e.sorted = nil
	return true
}

type dueItem struct {
	at  time.Time
	key string
}

type dueHeap []dueItem

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].key < h[j].key
	}
	return h[i].at.Before(h[j].at)
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
func (h dueHeap) peek() (time.Time, bool) {
	if len(h) == 0 {
		return time.Time{}, false
	}
	return h[0].at, true
}
func (h dueHeap) peek2() (dueItem, bool) {
	if len(h) == 0 {
		return dueItem{}, false
	}
	return h[0], true
}

package engine

import (
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// tx gathers one state change: the store rows to commit and the snapshots
// to publish once they are durable. Callers hold writeMu.
//
// A change decided in a batch (batch.go) builds on the batch's earlier
// changes, not yet committed: under is the tx gathering them, and what it
// holds is what this change sees as before it. With under nil, what is
// before a change is what is committed (the engine's maps).
type tx struct {
	e     *Engine
	under *tx
	now   time.Time
	ch    store.Change
	vms   map[string]*VM // overlay over e.vms; nil means removed
	// res is the overlay over e.res, by key; a nil value means removed.
	res map[string]resource.State
	// touched are the keys in res by type.
	touched map[string]map[string]bool
	// instance and extensions derive the instances a scale set change
	// creates (see PutScaleSetRequest).
	instance   func(*ScaleSet, int) (NewInstance, error)
	extensions time.Duration
	groups     map[string]*Group
	ops        map[string]store.Operation
	dues       []dueItem
	// vmRows and resRows hold the one row each touched VM or resource
	// writes, by key; commit lays them out. Keyed, so that a change touching
	// many VMs stays linear in their number.
	vmRows  map[string]store.VM
	resRows map[string]store.Resource
	// faults is the fault list after this change, when faultsChanged.
	faults        []Fault
	faultsChanged bool
	// subs are the subscriptions this change records, by ID.
	subs map[string]store.Subscription
	// err is why a snapshot of the change cannot be written: the change
	// fails whole rather than store what it could not encode.
	err error
}

// begin starts a change at now. Its maps are made as the change first
// writes to each (set): most changes touch one VM and an operation or two,
// and a change is decided for every client's request.
func (e *Engine) begin(now time.Time) *tx { return &tx{e: e, now: now} }

// set is m[k] = v, making m first when it is nil.
func set[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = make(map[string]V)
	}
	(*m)[k] = v
}

// vm returns the VM with key k as this change sees it; nil when there is none.
func (t *tx) vm(key string) *VM {
	if v, ok := t.vms[key]; ok {
		return v
	}
	return t.before().vm(key)
}

// vmAt is vm for a key held in bytes: the batch's changes in turn, then
// what is committed, as vm looks, without making the key a string.
func (t *tx) vmAt(key []byte) *VM {
	for x := t; x != nil; x = x.under {
		if v, ok := x.vms[string(key)]; ok {
			return v
		}
	}
	return t.e.vms[string(key)]
}

// before is what this change builds on: the batch's earlier changes, or
// what is committed.
func (t *tx) before() view {
	if t.under != nil {
		return t.under
	}
	return committed{t.e}
}

// A view is the state as a change sees it: what is committed, or what is
// with a batch's changes so far. Its lookups return nil for what is not.
type view interface {
	vm(key string) *VM
	resource(typ, k string) resource.State
	group(key string) *Group
	op(id string) (store.Operation, bool)
	sub(id string) (store.Subscription, bool)
	currentFaults() []Fault
	// eachVM calls fn with every VM, once each, in no order.
	eachVM(fn func(key string, v *VM))
	// eachMemberOf calls fn with the key of every VM that may belong to
	// the scale set whose key is set (setKeys), in no order, perhaps more
	// than once and with keys of some that are gone or left it.
	eachMemberOf(set string, fn func(key string))
	// eachKey calls fn with the key of every resource of type typ, once
	// each, in no order, and perhaps with keys of some that are gone.
	eachKey(typ string, fn func(key string))
	// holds reports whether there may be a resource of type typ.
	holds(typ string) bool
	// eachExtensionOf calls fn with the key of every extension of the VM
	// whose extension.Prefix is prefix, once each, in no order, and
	// perhaps with keys of some that are gone.
	eachExtensionOf(prefix string, fn func(key string))
	// eachNICIn calls fn with the key of every interface that may hold an
	// address in the subnet whose key is subnet, in no order, perhaps
	// more than once and with keys of some that are gone or no longer
	// use it.
	eachNICIn(subnet string, fn func(key string))
	// eachNICBehind calls fn with the key of every interface that may name
	// the security group whose key is nsg, with the same looseness.
	eachNICBehind(nsg string, fn func(key string))
}

// committed is the view of what is committed: the engine's maps, which
// only the holder of writeMu changes.
type committed struct{ e *Engine }

func (c committed) vm(key string) *VM                     { return c.e.vms[key] }
func (c committed) resource(typ, k string) resource.State { return c.e.res[typ][k] }
func (c committed) group(key string) *Group               { return c.e.groups[key] }
func (c committed) op(id string) (store.Operation, bool) {
	op, ok := c.e.ops[ops(id)]
	return op, ok
}
func (c committed) sub(id string) (store.Subscription, bool) {
	s, ok := c.e.subs[id]
	return s, ok
}
func (c committed) currentFaults() []Fault { return c.e.faults }
func (c committed) eachVM(fn func(string, *VM)) {
	for k, v := range c.e.vms {
		fn(k, v)
	}
}
func (c committed) eachKey(typ string, fn func(string)) {
	for k := range c.e.res[typ] {
		fn(k)
	}
}
func (c committed) holds(typ string) bool { return len(c.e.res[typ]) > 0 }
func (c committed) eachMemberOf(set string, fn func(string)) {
	for k := range c.e.bySet[set] {
		fn(k)
	}
}
func (c committed) eachExtensionOf(prefix string, fn func(string)) {
	for k := range c.e.extsByVM[prefix] {
		fn(k)
	}
}
func (c committed) eachNICBehind(nsg string, fn func(string)) {
	for k := range c.e.nicsByNSG[nsg] {
		fn(k)
	}
}
func (c committed) eachNICIn(subnet string, fn func(string)) {
	if held := c.e.addrsBySubnet[subnet]; held != nil {
		for _, k := range held.byAddr {
			fn(k)
		}
	}
}

// eachVM calls fn with every VM as this change sees it, once each.
func (t *tx) eachVM(fn func(key string, v *VM)) {
	for k, v := range t.vms {
		if v != nil {
			fn(k, v)
		}
	}
	t.before().eachVM(func(k string, v *VM) {
		if _, mine := t.vms[k]; !mine {
			fn(k, v)
		}
	})
}

// eachMemberOf calls fn with the key of every VM this change sees or
// touched that may belong to the scale set whose key is set.
func (t *tx) eachMemberOf(set string, fn func(key string)) {
	for k, v := range t.vms {
		if v != nil && slices.Contains(setKeys(k, v), set) {
			fn(k)
		}
	}
	t.before().eachMemberOf(set, func(k string) {
		if _, mine := t.vms[k]; !mine {
			fn(k)
		}
	})
}

// eachKey calls fn with the key of every resource of type typ this change
// sees or touched, once each; t.resource(typ, key) is nil for one gone.
func (t *tx) eachKey(typ string, fn func(key string)) {
	t.touchedThen(typ, func(f func(string)) { t.before().eachKey(typ, f) }, fn)
}

// touchedThen calls fn with the key of every resource of type typ this
// change touched, then with each key below yields that it did not touch.
func (t *tx) touchedThen(typ string, below func(func(string)), fn func(key string)) {
	for k := range t.touched[typ] {
		fn(k)
	}
	below(func(k string) {
		if !t.touched[typ][k] {
			fn(k)
		}
	})
}

// eachExtensionOf calls fn with the key of every extension of the VM whose
// extension.Prefix is prefix that this change sees or touched, once each.
func (t *tx) eachExtensionOf(prefix string, fn func(key string)) {
	for k := range t.touched[ExtensionType] {
		if strings.HasPrefix(k, prefix) {
			fn(k)
		}
	}
	t.before().eachExtensionOf(prefix, func(k string) {
		if !t.touched[ExtensionType][k] {
			fn(k)
		}
	})
}

// eachNICIn calls fn with the key of every interface this change sees or
// touched that may use the subnet whose key is subnet, once each.
func (t *tx) eachNICIn(subnet string, fn func(key string)) {
	t.touchedThen(NetworkInterfaceType, func(f func(string)) { t.before().eachNICIn(subnet, f) }, fn)
}

// eachNICBehind calls fn with the key of every interface this change sees
// or touched that may name the security group whose key is nsg, once each.
func (t *tx) eachNICBehind(nsg string, fn func(key string)) {
	t.touchedThen(NetworkInterfaceType, func(f func(string)) { t.before().eachNICBehind(nsg, f) }, fn)
}

// holds reports whether this change may see a resource of type typ.
func (t *tx) holds(typ string) bool { return t.hasType(typ) || t.before().holds(typ) }

// env is what the resource modules may draw on in this change.
func (t *tx) env() resource.Env { return t.envAt(t.now) }

// envAt is env for a decision taken at a step's due time rather than at
// the change's time.
func (t *tx) envAt(at time.Time) resource.Env {
	env := resource.Env{Now: at, NewID: t.e.cfg.NewID, Float64: t.e.draws.Float64, Speed: t.e.cfg.Speed}
	if t.e.orderedOps {
		// At the change's time, not a step's due time: IDs sort in the
		// order the changes are made.
		now, d := t.now, t.e.draws
		env.OperationIDs = func() string { return d.operationID(now) }
	}
	return env
}

// hasType reports whether this change touched a resource of type typ.
func (t *tx) hasType(typ string) bool { return len(t.touched[typ]) > 0 }

// resource returns the resource of the given type with key k as this change
// sees it; nil when there is none.
func (t *tx) resource(typ, k string) resource.State {
	if s, ok := t.res[k]; ok {
		return s
	}
	return t.before().resource(typ, k)
}

// resourcesIn lists the resources of a type in group g as this change sees
// them, in key order.
func (t *tx) resourcesIn(typ string, g *Group) []resource.State {
	prefix := armid.Fold(armid.ResourceGroupID(g.SubscriptionID, g.Name)) + "/"
	var keys []string
	t.eachKey(typ, func(k string) {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	})
	sort.Strings(keys)
	var out []resource.State
	for _, k := range keys {
		if s := t.resource(typ, k); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// apply lays a module's effects into this change: snapshots to store and
// publish, history events, operations started and ended.
func (t *tx) apply(eff resource.Effects) {
	for _, s := range eff.Put {
		if k := t.e.kinds[s.ResourceType()]; k.write != nil {
			k.write(t, s)
			continue
		}
		t.putResource(s)
	}
	for _, s := range eff.Removed {
		if k := t.e.kinds[s.ResourceType()]; k.erase != nil {
			k.erase(t, s)
			continue
		}
		t.removeResource(s)
	}
	for _, ev := range eff.Events {
		t.ch.Events = append(t.ch.Events, store.Event{VMID: ev.ResourceID, At: ev.At, ProvisioningState: ev.ProvisioningState,
			ProvisioningCode: ev.ProvisioningCode, PowerState: ev.PowerState, OperationID: ev.OperationID,
			OperationKind: ev.OperationKind, Detail: ev.Detail})
	}
	for _, op := range eff.Started {
		t.newOpWithID(op.ID, op.Kind, op.TargetID, op.Location)
	}
	for _, end := range eff.Ended {
		t.finishOp(end.ID, end.Status, end.Error, end.At)
	}
}

// putResource records s's next snapshot: one row per change, whose version
// follows the committed one.
func (t *tx) putResource(s resource.State) {
	typ := s.ResourceType()
	k := armid.Fold(s.ResourceID())
	version := int64(1)
	if prev := t.before().resource(typ, k); prev != nil {
		version = prev.ResourceVersion() + 1
	}
	s.SetVersion(version)
	row := s.Row()
	// A row has no body only when the snapshot could not be encoded
	// (resource.RowOf).
	if row.Body == nil && t.err == nil {
		t.err = fmt.Errorf("engine: %s cannot be written", s.ResourceID())
	}
	t.touch(typ, k)
	set(&t.resRows, k, store.Resource{ID: s.ResourceID(), Type: typ, SubscriptionID: row.SubscriptionID, ResourceGroup: row.ResourceGroup,
		Name: row.Name, Location: row.Location, Body: row.Body, Version: version, CreatedAt: row.CreatedAt, UpdatedAt: t.now})
	set(&t.res, k, s)
}

func (t *tx) touch(typ, k string) {
	if t.touched == nil {
		t.touched = map[string]map[string]bool{}
	}
	if t.touched[typ] == nil {
		t.touched[typ] = map[string]bool{}
	}
	t.touched[typ][k] = true
}

func (t *tx) removeResource(s resource.State) {
	k := armid.Fold(s.ResourceID())
	t.touch(s.ResourceType(), k)
	delete(t.resRows, k)
	t.ch.DeletedResources = append(t.ch.DeletedResources, s.ResourceID())
	set(&t.res, k, nil)
}

func (t *tx) group(key string) *Group {
	if g, ok := t.groups[key]; ok {
		return g
	}
	return t.before().group(key)
}

func (t *tx) op(id string) (store.Operation, bool) {
	if op, ok := t.ops[ops(id)]; ok {
		return op, true
	}
	return t.before().op(id)
}

// sub is subscription id (folded) as this change sees it.
func (t *tx) sub(id string) (store.Subscription, bool) {
	if s, ok := t.subs[id]; ok {
		return s, true
	}
	return t.before().sub(id)
}

func (t *tx) ensureSub(id string) {
	if _, ok := t.sub(id); ok {
		return
	}
	s := store.Subscription{ID: id, CreatedAt: t.now}
	set(&t.subs, id, s)
	t.ch.Subscriptions = append(t.ch.Subscriptions, s)
}

// putGroup writes a group's next snapshot to the groups table; its version
// follows the committed one.
func (t *tx) putGroup(s resource.State) {
	g := s.(*Group)
	key := groupKey(g.SubscriptionID, g.Name)
	version := int64(1)
	if prev := t.before().group(key); prev != nil {
		version = prev.Version + 1
	}
	g.SetVersion(version)
	row := g.Row()
	t.ch.Groups = append(t.ch.Groups, store.ResourceGroup{SubscriptionID: g.SubscriptionID, Name: g.Name, Location: g.Location,
		Body: row.Body, Version: g.Version, CreatedAt: g.CreatedAt})
	set(&t.groups, key, g)
}

func (t *tx) removeGroup(s resource.State) {
	g := s.(*Group)
	t.ch.DeletedGroups = append(t.ch.DeletedGroups, store.GroupRef{SubscriptionID: g.SubscriptionID, Name: g.Name})
	set(&t.groups, groupKey(g.SubscriptionID, g.Name), nil)
}

func (t *tx) newOpWithID(id, kind, target, location string) store.Operation {
	id = ops(id)
	sub := ""
	if parsed, err := armid.Parse(target); err == nil {
		sub = armid.Fold(parsed.SubscriptionID)
	}
	op := store.Operation{ID: id, SubscriptionID: sub, Location: armid.Location(location),
		Kind: kind, TargetID: target, Status: StatusInProgress, StartTime: t.now}
	t.setOp(op)
	return op
}

// ops is the key of an operation: its ID folded whole, which is the ID
// itself, as operations are named lower case (vm.Create).
func ops(id string) string { return armid.FoldAll(id) }

func (t *tx) setOp(op store.Operation) {
	key := ops(op.ID)
	if _, ok := t.ops[key]; ok {
		for i := range t.ch.Operations {
			if ops(t.ch.Operations[i].ID) == key {
				t.ch.Operations[i] = op
			}
		}
	} else {
		t.ch.Operations = append(t.ch.Operations, op)
	}
	set(&t.ops, key, op)
}

func (t *tx) finishOp(id, status string, opErr *OperationError, at time.Time) {
	op, ok := t.op(id)
	if !ok || op.Done() {
		return
	}
	op.Status, op.EndTime = status, at
	if opErr != nil {
		op.Error = operationErrorJSON(opErr)
	}
	t.setOp(op)
	t.batchChildDone(id, status, opErr, at)
}

// operationErrorJSON is the operation's error as json.Marshal writes it,
// by hand: a preempted operation ends with one at every change of its VM.
func operationErrorJSON(e *OperationError) json.RawMessage {
	w := jsonwire.NewWriter(make([]byte, 0, 32+len(e.Code)+len(e.Message)))
	w.Open().Str("code", e.Code).Str("message", e.Message).Close()
	out, _ := w.Bytes() // strings cannot fail
	return out
}

// seal lays this change's rows out in its store change, and returns what
// its observers are to be told once it is committed. Nothing may be added
// to the change after.
func (t *tx) seal() Change {
	for _, row := range t.vmRows {
		t.ch.VMs = append(t.ch.VMs, row)
	}
	for _, row := range t.resRows {
		t.ch.Resources = append(t.ch.Resources, row)
	}
	t.vmRows, t.resRows = nil, nil
	change := Change{At: t.now, Events: t.ch.Events}
	for k, v := range t.vms {
		if v == nil {
			change.Gone = append(change.Gone, k)
		} else {
			change.VMs = append(change.VMs, v)
		}
	}
	return change
}

// commit makes the change durable, then publishes it to readers: a batch
// of one change.
func (t *tx) commit(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	note := t.seal()
	return t.e.commit(ctx, t, []store.Change{t.ch}, []Change{note})
}

// commit writes changes, in order, as one store transaction, then lays
// what overlay holds (the state after them all) into memory, and tells the
// observers of each change, notes[i] of changes[i]. Until the store has
// committed them, nothing of them is in memory; when it fails, nothing
// ever is.
func (e *Engine) commit(ctx context.Context, overlay *tx, changes []store.Change, notes []Change) error {
	writes, told := writesOf(changes, notes)
	if len(writes) == 0 {
		return nil
	}
	// The request's context must not cancel a commit half-way through the
	// engine's bookkeeping: a change is applied whole or not at all.
	if err := e.apply(context.WithoutCancel(ctx), writes...); err != nil {
		return err
	}
	e.lay(overlay, told)
	return nil
}

// writesOf is the changes that write something, and the notes of those.
func writesOf(changes []store.Change, notes []Change) (writes []store.Change, told []Change) {
	writes = make([]store.Change, 0, len(changes))
	told = notes[:0:0]
	for i, c := range changes {
		if !c.Empty() {
			writes = append(writes, c)
			told = append(told, notes[i])
		}
	}
	return writes, told
}

// lay lays what overlay holds, committed, into memory and tells the
// observers of each change committed. The caller holds the writer lock.
func (e *Engine) lay(overlay *tx, told []Change) {
	e.layMemory(overlay)
	e.tell(told)
}

// layMemory lays what overlay holds, committed, into memory, and schedules
// its due steps. The caller holds the writer lock.
func (e *Engine) layMemory(overlay *tx) {
	t := overlay
	e.mu.Lock()
	for id, s := range t.subs {
		e.subs[id] = s
	}
	for k, g := range t.groups {
		if g == nil {
			delete(e.groups, k)
		} else {
			e.groups[k] = g
		}
	}
	for k, v := range t.vms {
		if v == nil {
			e.dropVM(k)
			continue
		}
		e.setVM(k, v)
	}
	for k, s := range t.res {
		if s == nil {
			e.dropRes(k)
			continue
		}
		e.putRes(k, s)
	}
	for k, op := range t.ops {
		e.putOp(k, op)
	}
	e.trimOps()
	if t.faultsChanged {
		e.faults = t.faults
	}
	e.mu.Unlock()
	for _, d := range t.dues {
		heap.Push(&e.due, d)
	}
	if len(t.dues) > 0 {
		e.kick()
	}
}

// tell tells the observers of each change committed, in order.
func (e *Engine) tell(told []Change) {
	for _, c := range told {
		for _, fn := range e.listeners {
			fn(c)
		}
	}
}

// faultFor sets on req the failure this operation is to meet: an injected
// fault, or AllocationFailed when the plan takes a host and the region's
// capacity for the VM's size family is spent. It returns what counts the
// fault down once the plan shows it applies.
func (t *tx) faultFor(v *VM, spec VMSpec, req *lifecycle.Request, faultOp string) (consume func()) {
	op := string(req.Kind)
	if faultOp != "" {
		op = faultOp
	}
	if consume = t.injectFault(op, v.Name, v.ID, req); req.Fault != nil {
		return consume
	}
	if t.e.cfg.Capacity == nil {
		return nil
	}
	if p, err := lifecycle.Decide(v.Name, v.Machine.State, *req); err == nil && lifecycle.NeedsAllocation(p) && t.overCapacity(v, spec) {
		req.Fault = &lifecycle.Failure{Code: "AllocationFailed"}
	}
	return nil
}

// putOp publishes an operation's record; the caller holds e.mu.
func (e *Engine) putOp(k string, op store.Operation) {
	prev, had := e.ops[k]
	e.ops[k] = op
	if had && !prev.Done() {
		e.running--
	}
	if !op.Done() {
		e.running++
	} else if !(had && prev.Done()) {
		e.finished = append(e.finished, k)
	}
}

// trimOps keeps the newest recentOps finished operations in memory; the
// caller holds e.mu.
func (e *Engine) trimOps() {
	for len(e.finished) > recentOps {
		delete(e.ops, e.finished[0])
		e.finished = e.finished[1:]
	}
}

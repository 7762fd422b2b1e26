package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// ScaleSetType is the ARM type of virtual machine scale sets.
const ScaleSetType = "Microsoft.Compute/virtualMachineScaleSets"

// Orchestration modes, fixed when a scale set is created.
const (
	Uniform  = "Uniform"
	Flexible = "Flexible"
)

// ScaleSet is a scale set snapshot. Its instances are engine VMs: a Uniform
// instance's ID is <set ID>/virtualMachines/<n>; a Flexible member is an
// ordinary VM whose Spec.ScaleSetID is the set. Either way they run the VM
// lifecycle and are metered like VMs, with the set as their parent.
type ScaleSet struct {
	ID             string
	SubscriptionID string
	ResourceGroup  string
	Name           string
	Spec           ScaleSetSpec
	// ProvisioningState is the outcome of the last PUT or PATCH.
	ProvisioningState string
	// NextInstance is the next Uniform instance ID (or Flexible member
	// counter): instance IDs are never reused.
	NextInstance int
	// DeleteOperation is set while the set is being deleted.
	DeleteOperation string
	// Batches are the operations running over several instances: each
	// parent operation ID with its children's.
	Batches     map[string][]string
	UniqueID    string
	TimeCreated time.Time
	Version     int64
}

// ETag is the scale set's entity tag.
func (s *ScaleSet) ETag() string { return fmt.Sprintf("\"%d\"", s.Version) }

// Uniform reports whether the set's instances are reached only through it.
func (s *ScaleSet) Uniform() bool { return s.Spec.Mode == Uniform }

// ScaleSetSpec is what the engine keeps of a scale set's model.
type ScaleSetSpec struct {
	Location string `json:"location"`
	Mode     string `json:"mode"`
	// Capacity is sku.capacity as last asked for; -1 when the request did
	// not say (the set keeps its instances).
	Capacity int64 `json:"capacity"`
	// HasProfile: a Flexible set without a virtualMachineProfile creates no
	// instances of its own.
	HasProfile bool `json:"hasProfile,omitempty"`
	// Model is the ARM body as the client last wrote it, normalised by the
	// ARM layer, less secrets.
	Model json.RawMessage `json:"model,omitempty"`
}

type scaleSetDoc struct {
	Spec              ScaleSetSpec        `json:"spec"`
	ProvisioningState string              `json:"provisioningState"`
	NextInstance      int                 `json:"nextInstance"`
	DeleteOperation   string              `json:"deleteOperation,omitempty"`
	Batches           map[string][]string `json:"batches,omitempty"`
	UniqueID          string              `json:"uniqueId"`
	TimeCreated       time.Time           `json:"timeCreated"`
}

func scaleSetID(sub, rg, name string) string {
	return armid.ResourceGroupID(sub, rg) + "/providers/Microsoft.Compute/virtualMachineScaleSets/" + name
}

// InstanceID is the ARM ID of a Uniform scale set's instance.
func InstanceID(setID, instanceID string) string { return setID + "/virtualMachines/" + instanceID }

func notFoundScaleSet(rg, name string) *Error {
	return &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf(
		"The Resource 'Microsoft.Compute/virtualMachineScaleSets/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", name, rg)}
}

func notFoundInstance(rg, set, id string) *Error {
	return &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf(
		"The Resource 'Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", set, id, rg)}
}

func (e *Engine) loadScaleSet(r store.Resource) error {
	var doc scaleSetDoc
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		return fmt.Errorf("engine: scale set %s: %w", r.ID, err)
	}
	if e.sets == nil {
		e.sets = map[string]*ScaleSet{}
	}
	e.sets[store.Key(r.ID)] = &ScaleSet{ID: r.ID, SubscriptionID: r.SubscriptionID, ResourceGroup: r.ResourceGroup, Name: r.Name,
		Spec: doc.Spec, ProvisioningState: doc.ProvisioningState, NextInstance: doc.NextInstance, DeleteOperation: doc.DeleteOperation,
		Batches: doc.Batches, UniqueID: doc.UniqueID, TimeCreated: doc.TimeCreated, Version: r.Version}
	return nil
}

func (t *tx) scaleSet(key string) *ScaleSet {
	if s, ok := t.sets[key]; ok {
		return s
	}
	return t.e.sets[key]
}

// putScaleSet records s's next snapshot. A scale set has no history of its
// own: what bills is its instances.
func (t *tx) putScaleSet(s *ScaleSet) {
	if t.sets == nil {
		t.sets = map[string]*ScaleSet{}
	}
	key := store.Key(s.ID)
	next := *s
	next.Version = 1
	if committed, ok := t.e.sets[key]; ok {
		next.Version = committed.Version + 1
	}
	body, _ := json.Marshal(scaleSetDoc{Spec: s.Spec, ProvisioningState: s.ProvisioningState, NextInstance: s.NextInstance,
		DeleteOperation: s.DeleteOperation, Batches: s.Batches, UniqueID: s.UniqueID, TimeCreated: s.TimeCreated})
	t.resRows[key] = store.Resource{ID: s.ID, Type: ScaleSetType, SubscriptionID: s.SubscriptionID, ResourceGroup: s.ResourceGroup,
		Name: s.Name, Location: s.Spec.Location, Body: body, Version: next.Version, CreatedAt: s.TimeCreated, UpdatedAt: t.now}
	t.sets[key] = &next
}

func (t *tx) removeScaleSet(s *ScaleSet) {
	if t.sets == nil {
		t.sets = map[string]*ScaleSet{}
	}
	key := store.Key(s.ID)
	delete(t.resRows, key)
	t.ch.DeletedResources = append(t.ch.DeletedResources, s.ID)
	t.sets[key] = nil
	// A set removed with its group leaves no batch running.
	for parent := range s.Batches {
		if parent == ops(s.DeleteOperation) {
			t.finishOp(parent, StatusSucceeded, nil, t.now)
			continue
		}
		t.finishOp(parent, StatusCanceled, &OperationError{Code: lifecycle.CodeOperationPreempted, Message: lifecycle.MsgPreempted}, t.now)
	}
}

// scaleSetCommand runs a command a resource module asks of a scale set.
func (t *tx) scaleSetCommand(c resource.Command) error {
	s := t.scaleSet(store.Key(c.Target))
	if s == nil || c.Verb != group.VerbRemove {
		return fmt.Errorf("engine: scale set %s takes no command %q", c.Target, c.Verb)
	}
	t.removeScaleSet(s)
	return nil
}

// publishScaleSets applies the change's scale sets; the caller holds e.mu.
func (t *tx) publishScaleSets() {
	if len(t.sets) > 0 && t.e.sets == nil {
		t.e.sets = map[string]*ScaleSet{}
	}
	for k, s := range t.sets {
		if s == nil {
			delete(t.e.sets, k)
		} else {
			t.e.sets[k] = s
		}
	}
}

// members lists the set's instances (Uniform) or member VMs (Flexible) as
// this change sees them, in ID order; deleting ones included.
func (t *tx) members(s *ScaleSet) []*VM {
	var out []*VM
	seen := map[string]bool{}
	add := func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		if v := t.vm(k); v != nil && isMember(s, v) {
			out = append(out, v)
		}
	}
	for k := range t.vms {
		add(k)
	}
	for k := range t.e.vms {
		add(k)
	}
	sortMembers(out)
	return out
}

func isMember(s *ScaleSet, v *VM) bool {
	if s.Uniform() {
		return strings.HasPrefix(store.Key(v.ID), store.Key(s.ID)+"/virtualmachines/")
	}
	return v.Spec.ScaleSetID != "" && armid.Equal(v.Spec.ScaleSetID, s.ID)
}

// sortMembers orders instances by numeric instance ID (Uniform: "10" after
// "9"), else by ID.
func sortMembers(vms []*VM) {
	sort.Slice(vms, func(i, j int) bool {
		a, aerr := strconv.Atoi(lastSegment(vms[i].ID))
		b, berr := strconv.Atoi(lastSegment(vms[j].ID))
		if aerr == nil && berr == nil && a != b {
			return a < b
		}
		return store.Key(vms[i].ID) < store.Key(vms[j].ID)
	})
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

func deleting(v *VM) bool {
	return v.Machine.Run != nil && v.Machine.Run.Plan.Kind == lifecycle.Delete
}

// ScaleSetByID returns one scale set snapshot.
func (e *Engine) ScaleSetByID(id string) (*ScaleSet, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.sets[store.Key(id)]
	return s, ok
}

// GetScaleSet returns one scale set or its ARM not-found error.
func (e *Engine) GetScaleSet(sub, rg, name string) (*ScaleSet, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if s, ok := e.sets[store.Key(scaleSetID(sub, rg, name))]; ok {
		return s, nil
	}
	if _, ok := e.groups[groupKey(sub, rg)]; !ok {
		return nil, notFoundGroup(rg)
	}
	return nil, notFoundScaleSet(rg, name)
}

// ListScaleSets returns the scale sets that match, in ID order, paged like
// ListVMs.
func (e *Engine) ListScaleSets(match func(*ScaleSet) bool, after string, limit int) (page []*ScaleSet, next string) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	keys := make([]string, 0, len(e.sets))
	for k := range e.sets {
		if k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := e.sets[k]
		if match != nil && !match(s) {
			continue
		}
		if limit > 0 && len(page) == limit {
			return page, store.Key(page[len(page)-1].ID)
		}
		page = append(page, s)
	}
	return page, ""
}

// Members returns a scale set's instances (Uniform) or member VMs
// (Flexible), ordered by instance ID.
func (e *Engine) Members(s *ScaleSet) []*VM {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*VM
	for _, v := range e.vms {
		if isMember(s, v) {
			out = append(out, v)
		}
	}
	sortMembers(out)
	return out
}

// GetInstance returns a Uniform scale set's instance, or the ARM not-found
// error.
func (e *Engine) GetInstance(sub, rg, set, instanceID string) (*VM, error) {
	s, err := e.GetScaleSet(sub, rg, set)
	if err != nil {
		return nil, err
	}
	if v, ok := e.VMByID(InstanceID(s.ID, instanceID)); ok && s.Uniform() {
		return v, nil
	}
	return nil, notFoundInstance(s.ResourceGroup, s.Name, instanceID)
}

// NewInstance is one instance a scale set change creates, as the ARM layer
// derives it from the set's profile.
type NewInstance struct {
	ID, Name string
	Model    json.RawMessage
	Spec     VMSpec
}

// PutScaleSetRequest asks to create or update a scale set.
type PutScaleSetRequest struct {
	SubscriptionID, ResourceGroup, Name string
	IfMatch, IfNoneMatch                string
	// Build returns the spec to keep, given the set as it is (nil when new).
	Build func(existing *ScaleSet) (ScaleSetSpec, error)
	// Instance derives the instance with counter n of the set as it will be
	// (Uniform: instance ID n).
	Instance func(set *ScaleSet, n int) (NewInstance, error)
	// Extensions is how long the profile's extensions take to install.
	Extensions time.Duration
}

// PutScaleSet creates or updates a scale set, adding or removing instances
// to reach its capacity. The operation ends when they all have.
func (e *Engine) PutScaleSet(ctx context.Context, r PutScaleSetRequest) (*ScaleSet, bool, store.Operation, error) {
	if err := e.checkOpen(); err != nil {
		return nil, false, store.Operation{}, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	g := e.groups[groupKey(r.SubscriptionID, r.ResourceGroup)]
	if g == nil {
		return nil, false, store.Operation{}, notFoundGroup(r.ResourceGroup)
	}
	if g.DeleteOperation != "" {
		return nil, false, store.Operation{}, groupBeingDeleted(g)
	}
	sub := strings.ToLower(r.SubscriptionID)
	id := scaleSetID(sub, g.Name, r.Name)
	old := e.sets[store.Key(id)]
	var oldVersioned versioned
	if old != nil {
		oldVersioned = old
	}
	if err := checkETag(oldVersioned, r.IfMatch, r.IfNoneMatch); err != nil {
		return nil, false, store.Operation{}, err
	}
	spec, err := r.Build(old)
	if err != nil {
		return nil, false, store.Operation{}, err
	}
	t := e.begin(e.Now())
	t.ensureSub(sub)
	s := &ScaleSet{ID: id, SubscriptionID: sub, ResourceGroup: g.Name, Name: r.Name, UniqueID: e.cfg.NewID(), TimeCreated: t.now}
	kind := string(lifecycle.Create)
	if old != nil {
		if old.DeleteOperation != "" {
			return nil, false, store.Operation{}, scaleSetDeleting(old, "update")
		}
		if !strings.EqualFold(armLocation(old.Spec.Location), armLocation(spec.Location)) {
			return nil, false, store.Operation{}, &Error{Code: CodeInvalidResourceLocation, Message: fmt.Sprintf(
				"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
				old.Name, old.Spec.Location, old.ResourceGroup, spec.Location)}
		}
		for parent := range old.Batches {
			if op, ok := t.op(parent); ok && (op.Kind == string(lifecycle.Create) || op.Kind == string(lifecycle.Update)) {
				return nil, false, store.Operation{}, &Error{Code: lifecycle.CodeOperationNotAllowed, Message: fmt.Sprintf(
					"Operation 'update' is not allowed on VM scale set '%s' since another operation is in progress.", old.Name)}
			}
		}
		cp := *old
		s = &cp
		kind = string(lifecycle.Update)
		if spec.Capacity < 0 {
			spec.Capacity = -1
		}
	}
	s.Spec = spec
	s.ProvisioningState = "Creating"
	if old != nil {
		s.ProvisioningState = "Updating"
	}
	op := t.newOp(kind, id, spec.Location)
	var children []string
	if spec.Capacity >= 0 && (s.Uniform() || spec.HasProfile) {
		live := 0
		var alive []*VM
		for _, v := range t.members(s) {
			if !deleting(v) {
				live++
				alive = append(alive, v)
			}
		}
		for n := int64(live); n < spec.Capacity; n++ {
			inst, err := r.Instance(s, s.NextInstance)
			if err != nil {
				return nil, false, store.Operation{}, err
			}
			s.NextInstance++
			opID, err := t.createVM(sub, g.Name, inst, r.Extensions)
			if err != nil {
				return nil, false, store.Operation{}, err
			}
			children = append(children, opID)
		}
		// Scale-in removes the highest instance IDs first (D: Azure's
		// default policy balances zones first, then takes the highest).
		for i := len(alive) - 1; i >= 0 && int64(i) >= spec.Capacity; i-- {
			o, err := t.submitOp(alive[i], lifecycle.Request{Kind: lifecycle.Delete}, alive[i].Model, alive[i].Spec, t.e.cfg.NewID(), "")
			if err != nil {
				return nil, false, store.Operation{}, err
			}
			children = append(children, o.ID)
		}
	}
	t.putScaleSet(s)
	t.startBatch(s.ID, op.ID, children)
	if err := t.commit(ctx); err != nil {
		return nil, false, store.Operation{}, err
	}
	return t.sets[store.Key(id)], old == nil, t.ops[store.Key(op.ID)], nil
}

// createVM creates a VM that a scale set change asks for and returns the
// operation that runs its create plan.
func (t *tx) createVM(sub, rg string, inst NewInstance, extensions time.Duration) (string, error) {
	if t.vm(store.Key(inst.ID)) != nil {
		return "", &Error{Code: "Conflict", Message: fmt.Sprintf("The VM '%s' already exists.", inst.ID)}
	}
	v := &VM{ID: inst.ID, SubscriptionID: sub, ResourceGroup: rg, Name: inst.Name,
		Machine: lifecycle.Machine{Name: inst.Name}, VMID: t.e.cfg.NewID(), TimeCreated: t.now}
	op := t.newOp(string(lifecycle.Create), inst.ID, inst.Spec.Location)
	req := lifecycle.Request{Kind: lifecycle.Create, GeneralizedImage: inst.Spec.GeneralizedImage, Extensions: extensions}
	consume := t.faultFor(v, inst.Spec, &req, "")
	next, res, err := v.Machine.Submit(req, op.ID, t.now, t.e.cfg.Speed)
	if err != nil {
		return "", asError(err)
	}
	if res.Faulted && consume != nil {
		consume()
	}
	t.putVM(v, next, inst.Model, inst.Spec, t.now, op.ID, string(lifecycle.Create))
	if err := t.attachDisks(t.vms[store.Key(inst.ID)], nil, inst.Spec.Disks); err != nil {
		return "", err
	}
	if res.Done {
		t.finishOp(op.ID, StatusSucceeded, nil, t.now)
	}
	return op.ID, nil
}

func scaleSetDeleting(s *ScaleSet, action string) *Error {
	return &Error{Code: lifecycle.CodeOperationNotAllowed, Message: fmt.Sprintf(
		"Operation '%s' is not allowed on VM scale set '%s' since it is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).", action, s.Name)}
}

// BatchRequest asks for one operation over some of a scale set's instances.
type BatchRequest struct {
	SubscriptionID, ResourceGroup, Name string
	// Action names the operation in refusals (e.g. "powerOff").
	Action string
	Req    lifecycle.Request
	// InstanceIDs selects instances (Uniform: instance IDs; Flexible: VM
	// names); nil means all of them.
	InstanceIDs []string
}

// ScaleSetAction runs req on the selected instances of a scale set as one
// operation, which ends when they all have: Failed if any failed (with the
// first failure), else Canceled if any was preempted, else Succeeded. A
// refusal by any instance refuses the whole request (D), so nothing runs.
func (e *Engine) ScaleSetAction(ctx context.Context, r BatchRequest) (store.Operation, error) {
	if err := e.checkOpen(); err != nil {
		return store.Operation{}, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	s, ok := e.sets[store.Key(scaleSetID(r.SubscriptionID, r.ResourceGroup, r.Name))]
	if !ok {
		if _, gok := e.groups[groupKey(r.SubscriptionID, r.ResourceGroup)]; !gok {
			return store.Operation{}, notFoundGroup(r.ResourceGroup)
		}
		return store.Operation{}, notFoundScaleSet(r.ResourceGroup, r.Name)
	}
	if s.DeleteOperation != "" {
		return store.Operation{}, scaleSetDeleting(s, r.Action)
	}
	t := e.begin(e.Now())
	members := t.members(s)
	targets := members
	if r.InstanceIDs != nil {
		targets = nil
		for _, want := range r.InstanceIDs {
			var found *VM
			for _, v := range members {
				if strings.EqualFold(lastSegment(v.ID), want) || strings.EqualFold(v.Name, want) {
					found = v
					break
				}
			}
			if found == nil {
				return store.Operation{}, &Error{Code: "InvalidParameter", Target: "instanceIds", Message: fmt.Sprintf(
					"The provided instanceId %s is not an active Virtual Machine Scale Set VM instanceId.", want)}
			}
			targets = append(targets, found)
		}
	}
	op := t.newOp(string(r.Req.Kind), s.ID, s.Spec.Location)
	var children []string
	for _, v := range targets {
		if v = t.vm(store.Key(v.ID)); v == nil {
			continue // listed twice and already removed
		}
		o, err := t.submitOp(v, r.Req, v.Model, v.Spec, t.e.cfg.NewID(), "")
		if err != nil {
			return store.Operation{}, err
		}
		children = append(children, o.ID)
	}
	ns := *t.scaleSet(store.Key(s.ID))
	t.putScaleSet(&ns)
	t.startBatch(s.ID, op.ID, children)
	if err := t.commit(ctx); err != nil {
		return store.Operation{}, err
	}
	return t.ops[store.Key(op.ID)], nil
}

// DeleteScaleSet starts deleting a scale set and its instances (Uniform) or
// members (Flexible); the set goes when they have.
func (e *Engine) DeleteScaleSet(ctx context.Context, sub, rg, name string, force bool) (store.Operation, bool, error) {
	if err := e.checkOpen(); err != nil {
		return store.Operation{}, false, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	s, ok := e.sets[store.Key(scaleSetID(sub, rg, name))]
	if !ok {
		return store.Operation{}, false, nil
	}
	if s.DeleteOperation != "" {
		return e.operationLocked(s.DeleteOperation), true, nil
	}
	t := e.begin(e.Now())
	op := t.newOp(string(lifecycle.Delete), s.ID, s.Spec.Location)
	var children []string
	for _, v := range t.members(s) {
		o, err := t.submitOp(v, lifecycle.Request{Kind: lifecycle.Delete, Force: force}, v.Model, v.Spec, t.e.cfg.NewID(), "")
		if err != nil {
			return store.Operation{}, true, err
		}
		children = append(children, o.ID)
	}
	ns := *t.scaleSet(store.Key(s.ID))
	ns.DeleteOperation = op.ID
	ns.ProvisioningState = "Deleting"
	t.putScaleSet(&ns)
	t.startBatch(s.ID, op.ID, children)
	if err := t.commit(ctx); err != nil {
		return store.Operation{}, true, err
	}
	return t.ops[store.Key(op.ID)], true, nil
}

// ActOnInstance runs a lifecycle operation on one Uniform instance.
func (e *Engine) ActOnInstance(ctx context.Context, sub, rg, set, instanceID string, req lifecycle.Request) (store.Operation, error) {
	if _, err := e.GetInstance(sub, rg, set, instanceID); err != nil {
		return store.Operation{}, err
	}
	return e.ActByID(ctx, InstanceID(scaleSetID(sub, rg, set), instanceID), req)
}

// ActByID runs a lifecycle operation on the VM with the given ARM ID.
func (e *Engine) ActByID(ctx context.Context, id string, req lifecycle.Request) (store.Operation, error) {
	if err := e.checkOpen(); err != nil {
		return store.Operation{}, err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	v, ok := e.vms[store.Key(id)]
	if !ok {
		return store.Operation{}, &Error{Code: CodeResourceNotFound, Message: fmt.Sprintf("The Resource '%s' was not found.", id)}
	}
	t := e.begin(e.Now())
	op, err := t.submitWith(v, req, v.Model, v.Spec)
	if err != nil {
		return store.Operation{}, err
	}
	if err := t.commit(ctx); err != nil {
		return store.Operation{}, err
	}
	if o, ok := t.ops[store.Key(op.ID)]; ok {
		return o, nil
	}
	return e.operationLocked(op.ID), nil
}

// startBatch records parent as tracking children on the set, and settles
// it at once when they are all done already (no-ops, nothing to do).
func (t *tx) startBatch(setID, parent string, children []string) {
	s := t.scaleSet(store.Key(setID))
	ns := *s
	ns.Batches = map[string][]string{}
	for k, v := range s.Batches {
		ns.Batches[k] = v
	}
	ns.Batches[ops(parent)] = children
	t.putScaleSet(&ns)
	t.settleBatch(store.Key(setID), ops(parent), t.now)
}

// batchChildDone is called whenever an operation ends: when it is part of
// a batch, the batch may now be over.
func (t *tx) batchChildDone(id string, at time.Time) {
	if len(t.e.sets) == 0 && len(t.sets) == 0 {
		return
	}
	key := ops(id)
	check := func(k string) {
		s := t.scaleSet(k)
		if s == nil {
			return
		}
		for parent, children := range s.Batches {
			for _, c := range children {
				if c == key {
					t.settleBatch(k, parent, at)
					return
				}
			}
		}
	}
	seen := map[string]bool{}
	for k := range t.sets {
		seen[k] = true
		check(k)
	}
	for k := range t.e.sets {
		if !seen[k] {
			check(k)
		}
	}
}

// settleBatch ends a batch whose children are all done, and applies what
// its end means to the set: a create or update settles its provisioning
// state, a delete removes the set.
func (t *tx) settleBatch(setKey, parent string, at time.Time) {
	s := t.scaleSet(setKey)
	if s == nil {
		return
	}
	children, ok := s.Batches[parent]
	if !ok {
		return
	}
	status, opErr := StatusSucceeded, (*OperationError)(nil)
	for _, c := range children {
		op, ok := t.op(c)
		if !ok {
			// Finished before a restart (only running operations are
			// loaded) or aged out of memory: the store has its outcome.
			stored, err := t.e.cfg.Store.Operation(context.Background(), c)
			if err != nil {
				continue
			}
			op = stored
		}
		if !op.Done() {
			return
		}
		switch op.Status {
		case StatusFailed:
			if status != StatusFailed {
				status = StatusFailed
				opErr = &OperationError{}
				_ = json.Unmarshal(op.Error, opErr)
			}
		case StatusCanceled:
			if status == StatusSucceeded {
				status = StatusCanceled
				opErr = &OperationError{}
				_ = json.Unmarshal(op.Error, opErr)
			}
		}
	}
	ns := *s
	ns.Batches = map[string][]string{}
	for k, v := range s.Batches {
		if k != parent {
			ns.Batches[k] = v
		}
	}
	pop, _ := t.op(parent)
	switch {
	case parent == ops(s.DeleteOperation) && status == StatusSucceeded:
		t.removeScaleSet(s)
	case parent == ops(s.DeleteOperation):
		ns.DeleteOperation, ns.ProvisioningState = "", "Failed"
		t.putScaleSet(&ns)
	case pop.Kind == string(lifecycle.Create) || pop.Kind == string(lifecycle.Update):
		ns.ProvisioningState = "Succeeded"
		if status == StatusFailed {
			ns.ProvisioningState = "Failed"
		}
		t.putScaleSet(&ns)
	default:
		t.putScaleSet(&ns)
	}
	t.finishOp(parent, status, opErr, at)
}

// checkFlexibleMember applies Azure's rules to a VM joining a scale set:
// only a Flexible set takes VMs, not while it is being deleted, and a VM
// never changes set. A set azemu does not know is let through (D: VMs made
// before scale sets were modelled name sets that were never created).
func (e *Engine) checkFlexibleMember(old *VM, spec VMSpec) error {
	if old != nil {
		if !armid.Equal(old.Spec.ScaleSetID, spec.ScaleSetID) && (old.Spec.ScaleSetID != "" || spec.ScaleSetID != "") {
			return &Error{Code: "PropertyChangeNotAllowed", Target: "virtualMachineScaleSet", Message: "Changing property 'virtualMachineScaleSet' is not allowed."}
		}
		return nil
	}
	if spec.ScaleSetID == "" {
		return nil
	}
	s, ok := e.sets[store.Key(spec.ScaleSetID)]
	if !ok {
		return nil
	}
	if s.Uniform() {
		return &Error{Code: "InvalidParameter", Target: "virtualMachineScaleSet.id", Message: fmt.Sprintf(
			"The virtual machine scale set '%s' has orchestration mode Uniform; only a Flexible scale set takes virtual machines.", s.Name)}
	}
	if s.DeleteOperation != "" {
		return scaleSetDeleting(s, "create")
	}
	return nil
}

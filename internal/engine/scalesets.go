package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/group"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scaleset"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// Uniform and Flexible are scale set orchestration modes.
const Uniform, Flexible = scaleset.Uniform, scaleset.Flexible

func scaleSetID(sub, rg, name string) string { return scaleset.ID(sub, rg, name) }

// InstanceID is the ARM ID of a Uniform scale set's instance.
func InstanceID(setID, instanceID string) string { return scaleset.InstanceID(setID, instanceID) }

func (t *tx) scaleSet(key string) *ScaleSet {
	s, _ := t.resource(ScaleSetType, key).(*ScaleSet)
	return s
}

// resolveBatches fills in the outcomes of batch children that ended before
// the set kept them (sets stored by earlier versions), from the store: the
// only time settling a batch needs more than the set itself.
func (e *Engine) resolveBatches(ctx context.Context) error {
	for k, st := range e.res[ScaleSetType] {
		s := st.(*ScaleSet)
		var missing []string
		for _, children := range s.Batches {
			for _, c := range children {
				if _, ok := s.Outcomes[c]; ok {
					continue
				}
				if op, ok := e.ops[ops(c)]; ok && !op.Done() {
					continue
				}
				missing = append(missing, c)
			}
		}
		if len(missing) == 0 && s.BatchKinds != nil {
			continue
		}
		ns := *s
		ns.Outcomes = map[string]scaleset.Outcome{}
		for c, o := range s.Outcomes {
			ns.Outcomes[c] = o
		}
		for _, c := range missing {
			op, err := e.cfg.Store.Operation(ctx, c)
			if errors.Is(err, store.ErrNotFound) {
				ns.Outcomes[c] = scaleset.Outcome{Status: StatusSucceeded}
				continue
			}
			if err != nil {
				return fmt.Errorf("engine: scale set %s: %w", s.ID, err)
			}
			ns.Outcomes[c] = outcomeOf(op)
		}
		ns.BatchKinds = map[string]string{}
		for parent := range s.Batches {
			kind := s.BatchKinds[parent]
			if kind == "" {
				if op, ok := e.ops[ops(parent)]; ok {
					kind = op.Kind
				}
			}
			ns.BatchKinds[parent] = kind
		}
		e.res[ScaleSetType][k] = &ns
	}
	return nil
}

func outcomeOf(op store.Operation) scaleset.Outcome {
	o := scaleset.Outcome{Status: op.Status}
	if len(op.Error) > 0 {
		o.Error = &OperationError{}
		_ = json.Unmarshal(op.Error, o.Error)
	}
	return o
}

// scaleSetVerbs are the scale set kind's decisions
// (internal/kinds/scaleset).
func scaleSetVerbs() map[string]decision {
	return map[string]decision{
		// A put creates or updates the set, adding or removing instances to
		// reach its capacity; its operation ends when they all have.
		VerbPut: putting(func(t *tx, old *ScaleSet, at place, in ScaleSetPut, env resource.Env) (string, resource.Effects, error) {
			var members []scaleset.Member
			if old != nil {
				members = t.memberViews(old)
			}
			_, opID, eff, err := scaleset.Put(old, at.sub, at.rg, at.name, in.Spec, members, env)
			t.instance, t.extensions = in.Instance, in.Extensions
			return opID, eff, err
		}),
		VerbAct: taking(func(t *tx, target resource.State, c resource.Command, in BatchRequest, env resource.Env) (string, resource.Effects, error) {
			s := target.(*ScaleSet)
			return scaleset.Act(s, t.memberViews(s), in.Action, in.Req, in.InstanceIDs, env)
		}),
		// A delete deletes the set's instances (Uniform) or members
		// (Flexible); the set goes when they have.
		VerbDelete: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			s := target.(*ScaleSet)
			in, _ := c.Args.(ScaleSetDelete)
			opID, eff := scaleset.Delete(s, t.memberViews(s), in.Force, env)
			return opID, eff, nil
		},
		group.VerbRemove: func(t *tx, target resource.State, c resource.Command, env resource.Env) (string, resource.Effects, error) {
			return "", scaleset.Remove(target.(*ScaleSet), env), nil
		},
		// Creating an instance is the VM's lifecycle, from a model the ARM
		// layer derives from the set's profile (PutScaleSetRequest.Instance).
		scaleset.VerbCreateInstance: taking(func(t *tx, target resource.State, c resource.Command, args scaleset.CreateArgs, env resource.Env) (string, resource.Effects, error) {
			s := target.(*ScaleSet)
			if t.instance == nil {
				return "", resource.Effects{}, fmt.Errorf("engine: no instance model for %s", s.ID)
			}
			inst, err := t.instance(s, args.Counter)
			if err != nil {
				return "", resource.Effects{}, err
			}
			return t.createVM(s.SubscriptionID, s.ResourceGroup, inst, t.extensions, c.OperationID, env)
		}),
	}
}

// batchChildDone tells the scale sets tracking operation id that it ended.
func (t *tx) batchChildDone(id, status string, opErr *OperationError, at time.Time) {
	if !t.holds(ScaleSetType) {
		return
	}
	key := ops(id)
	out := scaleset.Outcome{Status: status, Error: opErr}
	if status == StatusFailed || status == StatusCanceled {
		if out.Error == nil {
			out.Error = &OperationError{}
		}
	}
	check := func(k string) {
		if s := t.scaleSet(k); s != nil && s.Tracks(key) {
			if err := t.run(scaleset.ChildDone(s, key, out, t.envAt(at))); err != nil {
				t.e.log.Error("settling a scale set batch", "set", s.ID, "err", err)
			}
		}
	}
	var keys []string
	t.eachKey(ScaleSetType, func(k string) { keys = append(keys, k) })
	sort.Strings(keys)
	for _, k := range keys {
		check(k)
	}
}

// members lists the set's instances (Uniform) or member VMs (Flexible) as
// this change sees them, in ID order; deleting ones included.
func (t *tx) members(s *ScaleSet) []*VM {
	var out []*VM
	seen := map[string]bool{}
	t.eachMemberOf(scaleset.Key(s.ID), func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		if v := t.vm(k); v != nil && isMember(s, v) {
			out = append(out, v)
		}
	})
	sortMembers(out)
	return out
}

// setKeys are the keys of the scale sets the VM under key may belong to:
// the set its ID is an instance of (Uniform), and the set its spec names
// (Flexible). isMember decides; these only narrow the search.
func setKeys(key string, v *VM) []string {
	var keys []string
	if i := strings.LastIndex(key, "/virtualMachines/"); i > 0 && strings.Contains(key[:i], "/virtualMachineScaleSets/") {
		keys = append(keys, key[:i])
	}
	if v.Spec.ScaleSetID != "" {
		if k := scaleset.Key(v.Spec.ScaleSetID); len(keys) == 0 || k != keys[0] {
			keys = append(keys, k)
		}
	}
	return keys
}

// memberViews is what the scale set rules need of the set's members.
func (t *tx) memberViews(s *ScaleSet) []scaleset.Member {
	var out []scaleset.Member
	for _, v := range t.members(s) {
		m := scaleset.Member{ID: v.ID, Name: v.Name}
		if deleting(v) {
			m.Deleting = v.Machine.Run.OperationID
		}
		out = append(out, m)
	}
	return out
}

func isMember(s *ScaleSet, v *VM) bool {
	if s.Uniform() {
		return strings.HasPrefix(armid.Fold(v.ID), armid.Fold(s.ID)+"/virtualMachines/")
	}
	return v.Spec.ScaleSetID != "" && armid.Equal(v.Spec.ScaleSetID, s.ID)
}

// sortMembers orders instances as the scale set module does.
func sortMembers(vms []*VM) {
	views := make([]scaleset.Member, len(vms))
	byID := make(map[string]*VM, len(vms))
	for i, v := range vms {
		views[i] = scaleset.Member{ID: v.ID}
		byID[v.ID] = v
	}
	scaleset.Sort(views)
	for i, m := range views {
		vms[i] = byID[m.ID]
	}
}

func deleting(v *VM) bool {
	return v.Machine.Run != nil && v.Machine.Run.Plan.Kind == lifecycle.Delete
}

// ScaleSetByID returns one scale set snapshot.
func (e *Engine) ScaleSetByID(id string) (*ScaleSet, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.res[ScaleSetType][scaleset.Key(id)].(*ScaleSet)
	return s, ok
}

// GetScaleSet returns one scale set or its ARM not-found error.
func (e *Engine) GetScaleSet(sub, rg, name string) (*ScaleSet, error) {
	return find[*ScaleSet](e, scaleSetID(sub, rg, name))
}

// ListScaleSets returns the scale sets that match, in ID order, paged like
// ListVMs.
func (e *Engine) ListScaleSets(match func(*ScaleSet) bool, after string, limit int) (page []*ScaleSet, next string) {
	return list(e, ScaleSetType, match, after, limit)
}

// Members returns a scale set's instances (Uniform) or member VMs
// (Flexible), ordered by instance ID.
func (e *Engine) Members(s *ScaleSet) []*VM {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*VM
	for k := range e.bySet[scaleset.Key(s.ID)] {
		if v := e.vms[k]; isMember(s, v) {
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
	return nil, scaleset.InstanceNotFound(s.ResourceGroup, s.Name, instanceID)
}

// NewInstance is one instance a scale set change creates, as the ARM layer
// derives it from the set's profile.
type NewInstance struct {
	ID, Name string
	Model    json.RawMessage
	Spec     VMSpec
}

// ScaleSetPut is the input of a scale set's put: the spec to keep, and
// how to make the instances it creates.
type ScaleSetPut struct {
	Spec ScaleSetSpec
	// Instance derives the instance with counter n of the set as it will be
	// (Uniform: instance ID n).
	Instance func(set *ScaleSet, n int) (NewInstance, error)
	// Extensions is how long the profile's extensions take to install.
	Extensions time.Duration
}

// BatchRequest is the input of a scale set's action: one operation over
// some of its instances (see scaleset.Act).
type BatchRequest struct {
	// Action names the operation in refusals (e.g. "powerOff").
	Action string
	Req    lifecycle.Request
	// InstanceIDs selects instances (Uniform: instance IDs; Flexible: VM
	// names); nil means all of them.
	InstanceIDs []string
}

// ScaleSetDelete is the input of a scale set's delete.
type ScaleSetDelete struct {
	// Force deletes the instances without shutting them down.
	Force bool
}

// Package scaleset decides virtual machine scale sets. A set's instances
// are VMs with their own lifecycle: the set decides which instances to
// create or delete to reach its capacity, turns a batch action into one
// command per instance, and tracks each batch as one operation that ends
// when its children have: Failed if any failed (with the first failure),
// else Canceled if any was preempted, else Succeeded. The children's
// outcomes are kept in the set's own state, so settling a batch reads
// nothing but the set.
package scaleset

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
)

// Type is the ARM type of virtual machine scale sets.
const Type = "Microsoft.Compute/virtualMachineScaleSets"

// Orchestration modes, fixed when a scale set is created.
const (
	Uniform  = "Uniform"
	Flexible = "Flexible"
)

// Commands this module asks.
const (
	// VerbRun asks an instance to run RunArgs.Request, as the command's
	// operation.
	VerbRun = "run"
	// VerbCreateInstance asks the runtime to create the set's instance
	// with CreateArgs.Counter (the ARM layer derives its model from the
	// set's profile), as the command's operation.
	VerbCreateInstance = "createInstance"
)

// RunArgs are VerbRun's parameters.
type RunArgs struct{ Request lifecycle.Request }

func (a RunArgs) String() string {
	if a.Request.Force {
		return string(a.Request.Kind) + " (force)"
	}
	return string(a.Request.Kind)
}

// CreateArgs are VerbCreateInstance's parameters.
type CreateArgs struct{ Counter int }

// ScaleSet is a scale set snapshot. Its instances are VMs: a Uniform
// instance's ID is <set ID>/virtualMachines/<n>; a Flexible member is an
// ordinary VM whose spec names the set.
type ScaleSet struct {
	resource.Meta `json:"-"`
	Spec          Spec `json:"spec"`
	// ProvisioningState is the outcome of the last PUT or PATCH.
	ProvisioningState string `json:"provisioningState"`
	// NextInstance is the next Uniform instance ID (or Flexible member
	// counter): instance IDs are never reused.
	NextInstance int `json:"nextInstance"`
	// DeleteOperation is set while the set is being deleted.
	DeleteOperation string `json:"deleteOperation,omitempty"`
	// Batches are the operations running over several instances: each
	// parent operation ID with its children's.
	Batches map[string][]string `json:"batches,omitempty"`
	// BatchKinds is the operation kind of each batch (create, update,
	// start, delete, ...).
	BatchKinds map[string]string `json:"batchKinds,omitempty"`
	// Outcomes are the children of running batches that have ended.
	Outcomes    map[string]Outcome `json:"outcomes,omitempty"`
	UniqueID    string             `json:"uniqueId"`
	TimeCreated time.Time          `json:"timeCreated"`
}

// Outcome is how a child operation of a batch ended.
type Outcome struct {
	Status string                   `json:"status"`
	Error  *resource.OperationError `json:"error,omitempty"`
}

// Spec is what azemu keeps of a scale set's model.
type Spec struct {
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

// Uniform reports whether the set's instances are reached only through it.
func (s *ScaleSet) Uniform() bool { return s.Spec.Mode == Uniform }

// ResourceType is Type.
func (s *ScaleSet) ResourceType() string { return Type }

// Row is the set as the store keeps it: the fields above, as JSON.
func (s *ScaleSet) Row() resource.Row { return resource.RowOf(s, s.Spec.Location, s.TimeCreated) }

// Decode reads a set back from its stored row.
var Decode = resource.Decode[ScaleSet]

// ID is the ID of the set named name in a group.
func ID(sub, rg, name string) string {
	return armid.ComputeID(sub, rg, "virtualMachineScaleSets", name)
}

// InstanceID is the ARM ID of a Uniform scale set's instance.
func InstanceID(setID, instanceID string) string {
	return armid.ChildID(setID, "virtualMachines", instanceID)
}

// Key is the case-insensitive map key of a set ID.
func Key(id string) string { return armid.Fold(id) }

// InstanceNotFound is the error of a request for an instance that does
// not exist.
func InstanceNotFound(rg, set, id string) error {
	return &resource.Error{Code: "ResourceNotFound", Message: fmt.Sprintf(
		"The Resource 'Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", set, id, rg)}
}

// Deleting is the refusal of an action on a set being deleted.
func Deleting(s *ScaleSet, action string) error {
	return &resource.Error{Code: lifecycle.CodeOperationNotAllowed, Message: fmt.Sprintf(
		"Operation '%s' is not allowed on VM scale set '%s' since it is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).", action, s.Name)}
}

// Member is what the set's rules need of one of its instances.
type Member struct {
	ID, Name string
	// Deleting is the ID of the delete operation the instance runs, if any.
	Deleting string
}

// Sort orders members by numeric instance ID (Uniform: "10" after "9"),
// else by ID.
func Sort(members []Member) {
	sort.Slice(members, func(i, j int) bool {
		a, aerr := strconv.Atoi(lastSegment(members[i].ID))
		b, berr := strconv.Atoi(lastSegment(members[j].ID))
		if aerr == nil && berr == nil && a != b {
			return a < b
		}
		return armid.Fold(members[i].ID) < armid.Fold(members[j].ID)
	})
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// Put decides creating or updating a set, whose members are as given: it
// creates instances up to the capacity asked for and deletes the highest
// instance IDs beyond it (D: Azure's default policy balances zones first,
// then takes the highest). The returned operation ends when they all have.
func Put(old *ScaleSet, sub, rg, name string, spec Spec, members []Member, env resource.Env) (*ScaleSet, string, resource.Effects, error) {
	s := &ScaleSet{Meta: resource.Meta{ID: ID(sub, rg, name), SubscriptionID: sub, ResourceGroup: rg, Name: name}, TimeCreated: env.Now}
	kind := string(lifecycle.Create)
	if old != nil {
		if old.DeleteOperation != "" {
			return nil, "", resource.Effects{}, Deleting(old, "update")
		}
		if !armid.SameLocation(old.Spec.Location, spec.Location) {
			return nil, "", resource.Effects{}, &resource.Error{Code: "InvalidResourceLocation", Message: fmt.Sprintf(
				"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
				old.Name, old.Spec.Location, old.ResourceGroup, spec.Location)}
		}
		for _, k := range old.BatchKinds {
			if k == string(lifecycle.Create) || k == string(lifecycle.Update) {
				return nil, "", resource.Effects{}, &resource.Error{Code: lifecycle.CodeOperationNotAllowed, Message: fmt.Sprintf(
					"Operation 'update' is not allowed on VM scale set '%s' since another operation is in progress.", old.Name)}
			}
		}
		cp := *old
		s = &cp
		kind = string(lifecycle.Update)
		if spec.Capacity < 0 {
			spec.Capacity = -1
		}
	} else {
		s.UniqueID = env.NewID()
	}
	s.Spec = spec
	s.ProvisioningState = "Creating"
	if old != nil {
		s.ProvisioningState = "Updating"
	}
	opID := env.NewOperationID()
	var eff resource.Effects
	eff.Started = append(eff.Started, resource.Operation{ID: opID, Kind: kind, TargetID: s.ID, Location: spec.Location})
	var children []string
	if spec.Capacity >= 0 && (s.Uniform() || spec.HasProfile) {
		var alive []Member
		for _, m := range sorted(members) {
			if m.Deleting == "" {
				alive = append(alive, m)
			}
		}
		for n := int64(len(alive)); n < spec.Capacity; n++ {
			child := env.NewOperationID()
			eff.Commands = append(eff.Commands, resource.Command{Target: s.ID, Verb: VerbCreateInstance, OperationID: child, Args: CreateArgs{Counter: s.NextInstance}})
			s.NextInstance++
			children = append(children, child)
		}
		for i := len(alive) - 1; i >= 0 && int64(i) >= spec.Capacity; i-- {
			child := env.NewOperationID()
			eff.Commands = append(eff.Commands, resource.Command{Target: alive[i].ID, Verb: VerbRun, OperationID: child, Args: RunArgs{Request: lifecycle.Request{Kind: lifecycle.Delete}}})
			children = append(children, child)
		}
	}
	next, started := startBatch(s, opID, kind, children, env)
	eff.Add(started)
	return next, opID, eff, nil
}

// Act decides a batch action (start, powerOff, deallocate, restart,
// delete, ...) over the selected members: instanceIDs are Uniform instance
// IDs or Flexible VM names, nil for all of them. A refusal by any instance
// refuses the whole request (D), so nothing runs.
func Act(s *ScaleSet, members []Member, action string, req lifecycle.Request, instanceIDs []string, env resource.Env) (string, resource.Effects, error) {
	if s.DeleteOperation != "" {
		return "", resource.Effects{}, Deleting(s, action)
	}
	members = sorted(members)
	targets := members
	if instanceIDs != nil {
		targets = nil
		seen := map[string]bool{}
		for _, want := range instanceIDs {
			var found *Member
			for i, m := range members {
				if strings.EqualFold(lastSegment(m.ID), want) || strings.EqualFold(m.Name, want) {
					found = &members[i]
					break
				}
			}
			if found == nil {
				return "", resource.Effects{}, &resource.Error{Code: "InvalidParameter", Target: "instanceIds", Message: fmt.Sprintf(
					"The provided instanceId %s is not an active Virtual Machine Scale Set VM instanceId.", want)}
			}
			if !seen[found.ID] {
				seen[found.ID] = true
				targets = append(targets, *found)
			}
		}
	}
	opID := env.NewOperationID()
	var eff resource.Effects
	eff.Started = append(eff.Started, resource.Operation{ID: opID, Kind: string(req.Kind), TargetID: s.ID, Location: s.Spec.Location})
	children := run(targets, req, env, &eff)
	_, started := startBatch(s, opID, string(req.Kind), children, env)
	eff.Add(started)
	return opID, eff, nil
}

// Delete decides deleting the set and its members; the set goes when they
// have. A set being deleted answers with the running operation.
func Delete(s *ScaleSet, members []Member, force bool, env resource.Env) (string, resource.Effects) {
	if s.DeleteOperation != "" {
		return s.DeleteOperation, resource.Effects{}
	}
	opID := env.NewOperationID()
	var eff resource.Effects
	eff.Started = append(eff.Started, resource.Operation{ID: opID, Kind: string(lifecycle.Delete), TargetID: s.ID, Location: s.Spec.Location})
	children := run(sorted(members), lifecycle.Request{Kind: lifecycle.Delete, Force: force}, env, &eff)
	ns := *s
	ns.DeleteOperation = opID
	ns.ProvisioningState = "Deleting"
	_, started := startBatch(&ns, opID, string(lifecycle.Delete), children, env)
	eff.Add(started)
	return opID, eff
}

// run asks each target to run req, and returns the child operations: a
// delete of an instance already being deleted joins its running delete.
func run(targets []Member, req lifecycle.Request, env resource.Env, eff *resource.Effects) []string {
	var children []string
	for _, m := range targets {
		if req.Kind == lifecycle.Delete && m.Deleting != "" {
			children = append(children, m.Deleting)
			continue
		}
		child := env.NewOperationID()
		eff.Commands = append(eff.Commands, resource.Command{Target: m.ID, Verb: VerbRun, OperationID: child, Args: RunArgs{Request: req}})
		children = append(children, child)
	}
	return children
}

func sorted(members []Member) []Member {
	out := append([]Member(nil), members...)
	Sort(out)
	return out
}

// startBatch records parent as tracking children on s, and settles it at
// once when there are none.
func startBatch(s *ScaleSet, parent, kind string, children []string, env resource.Env) (*ScaleSet, resource.Effects) {
	ns := *s
	ns.Batches = map[string][]string{}
	for k, v := range s.Batches {
		ns.Batches[k] = v
	}
	ns.BatchKinds = map[string]string{}
	for k, v := range s.BatchKinds {
		ns.BatchKinds[k] = v
	}
	ns.Batches[parent] = children
	ns.BatchKinds[parent] = kind
	if len(children) == 0 {
		return settle(&ns, parent, env)
	}
	return &ns, resource.Effects{Put: []resource.State{&ns}}
}

// Tracks reports whether child is a child operation of one of s's batches.
func (s *ScaleSet) Tracks(child string) bool {
	for _, children := range s.Batches {
		for _, c := range children {
			if c == child {
				return true
			}
		}
	}
	return false
}

// ChildDone decides the end of a child operation of s's batches: its
// outcome is kept, and every batch whose children have all ended settles
// (a child can be in two: a delete that joined an instance's running
// delete).
func ChildDone(s *ScaleSet, child string, out Outcome, env resource.Env) resource.Effects {
	if !s.Tracks(child) {
		return resource.Effects{}
	}
	ns := *s
	ns.Outcomes = map[string]Outcome{}
	for k, v := range s.Outcomes {
		ns.Outcomes[k] = v
	}
	ns.Outcomes[child] = out
	var parents []string
	for p := range ns.Batches {
		parents = append(parents, p)
	}
	sort.Strings(parents)
	cur := &ns
	var eff resource.Effects
	for _, p := range parents {
		if !allDone(cur, p) {
			continue
		}
		next, settled := settle(cur, p, env)
		eff.Ended = append(eff.Ended, settled.Ended...)
		eff.Removed = append(eff.Removed, settled.Removed...)
		if next == nil {
			return eff
		}
		cur = next
	}
	eff.Put = append(eff.Put, cur)
	return eff
}

func allDone(s *ScaleSet, parent string) bool {
	for _, c := range s.Batches[parent] {
		if _, done := s.Outcomes[c]; !done {
			return false
		}
	}
	return true
}

// settle ends a batch whose children have all ended, and applies what its
// end means to the set: a create or update settles its provisioning state,
// a delete removes the set.
func settle(s *ScaleSet, parent string, env resource.Env) (*ScaleSet, resource.Effects) {
	status, opErr := resource.StatusSucceeded, (*resource.OperationError)(nil)
	for _, c := range s.Batches[parent] {
		switch o := s.Outcomes[c]; o.Status {
		case resource.StatusFailed:
			if status != resource.StatusFailed {
				status, opErr = resource.StatusFailed, orEmpty(o.Error)
			}
		case resource.StatusCanceled:
			if status == resource.StatusSucceeded {
				status, opErr = resource.StatusCanceled, orEmpty(o.Error)
			}
		}
	}
	ns := *s
	ns.Batches, ns.BatchKinds, ns.Outcomes = map[string][]string{}, map[string]string{}, map[string]Outcome{}
	for k, v := range s.Batches {
		if k != parent {
			ns.Batches[k] = v
			ns.BatchKinds[k] = s.BatchKinds[k]
			for _, c := range v {
				if o, ok := s.Outcomes[c]; ok {
					ns.Outcomes[c] = o
				}
			}
		}
	}
	var eff resource.Effects
	kind := s.BatchKinds[parent]
	switch {
	case parent == s.DeleteOperation && status == resource.StatusSucceeded:
		// Removing the set ends its delete, and cancels any other batch.
		return nil, Remove(s, env)
	case parent == s.DeleteOperation:
		ns.DeleteOperation, ns.ProvisioningState = "", "Failed"
	case s.DeleteOperation != "":
		// A create or update that ends while the set is deleted leaves it
		// Deleting.
	case kind == string(lifecycle.Create) || kind == string(lifecycle.Update):
		ns.ProvisioningState = "Succeeded"
		if status == resource.StatusFailed {
			ns.ProvisioningState = "Failed"
		}
	}
	eff.Put = append(eff.Put, &ns)
	eff.Ended = append(eff.Ended, resource.OperationEnd{ID: parent, Status: status, Error: opErr, At: env.Now})
	return &ns, eff
}

func orEmpty(e *resource.OperationError) *resource.OperationError {
	if e == nil {
		return &resource.OperationError{}
	}
	return e
}

// Remove decides the set's removal: its delete finished, or its group
// went. No batch is left running: the delete's ends Succeeded, any other
// Canceled.
func Remove(s *ScaleSet, env resource.Env) resource.Effects {
	eff := resource.Effects{Removed: []resource.State{s}}
	var parents []string
	for p := range s.Batches {
		parents = append(parents, p)
	}
	sort.Strings(parents)
	for _, p := range parents {
		if p == s.DeleteOperation {
			eff.Ended = append(eff.Ended, resource.OperationEnd{ID: p, Status: resource.StatusSucceeded, At: env.Now})
			continue
		}
		eff.Ended = append(eff.Ended, resource.OperationEnd{ID: p, Status: resource.StatusCanceled,
			Error: &resource.OperationError{Code: lifecycle.CodeOperationPreempted, Message: lifecycle.MsgPreempted}, At: env.Now})
	}
	return eff
}

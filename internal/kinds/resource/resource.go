// Package resource is the vocabulary every resource kind's module speaks:
// what a decision may draw on besides the state (Env) and what it returns
// as data (Effects). Modules are pure; the engine turns Effects into one
// store change.
package resource

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/azemu/azemu/internal/armerror"
)

// Env is what a decision takes besides the current state and the command:
// the time, fresh IDs, random draws and the speed factor of plans. A
// decision reads nothing else, so the same Env gives the same answer.
type Env struct {
	Now time.Time
	// NewID returns a fresh lower-case GUID.
	NewID func() string
	// OperationIDs returns a fresh lower-case GUID for an operation, each
	// sorting after the ones before (the store keys operations by ID);
	// nil draws them from NewID. Decisions call NewOperationID.
	OperationIDs func() string
	// Float64 draws a number in [0, 1).
	Float64 func() float64
	// Speed divides realistic durations (1 is real time).
	Speed float64
}

// NewOperationID returns a fresh ID for an operation.
func (e Env) NewOperationID() string {
	if e.OperationIDs == nil {
		return e.NewID()
	}
	return e.OperationIDs()
}

// State is a resource's snapshot as a module returns it. A snapshot in
// Effects.Put is the runtime's: it numbers its version (SetVersion) and
// never changes it once published.
type State interface {
	// ResourceID is the ARM ID, in the casing it was created with.
	ResourceID() string
	// ResourceType is the ARM type, which names the kind that owns it.
	ResourceType() string
	// Row is what the store keeps of the resource.
	Row() Row
	// ResourceVersion is the version of the snapshot (0 before its first
	// commit).
	ResourceVersion() int64
	// SetVersion numbers a snapshot not yet published: one version per
	// committed change.
	SetVersion(v int64)
	// ResourceMeta is the embedded Meta: every State embeds one.
	ResourceMeta() *Meta
}

// Meta is the identity and version every kind's snapshot embeds.
type Meta struct {
	// ID is the ARM ID, in the casing it was created with.
	ID             string
	SubscriptionID string
	ResourceGroup  string // empty for a resource group itself
	Name           string
	// Version counts committed changes; the entity tag derives from it.
	Version int64
	// Key is the ID case-folded (armid.Fold), under which the fleet keeps
	// the snapshot once published (empty before): held here, everything
	// keyed by the ID can share the fleet's one copy.
	Key string
}

// RowOf is what the store keeps of snapshot s: where it is, when it was
// created, and s itself as JSON (its Meta is the row's columns, not part
// of the document).
func RowOf(s State, location string, created time.Time) Row {
	m := s.ResourceMeta()
	body, _ := json.Marshal(s)
	return Row{SubscriptionID: m.SubscriptionID, ResourceGroup: m.ResourceGroup, Name: m.Name, Location: location, Body: body, CreatedAt: created}
}

// Decode reads a snapshot of the kind *T back from its stored row, the
// inverse of RowOf.
func Decode[T any, P interface {
	*T
	State
}](id string, row Row, version int64) (State, error) {
	p := P(new(T))
	if err := json.Unmarshal(row.Body, p); err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	*p.ResourceMeta() = row.Meta(id, version)
	return p, nil
}

// ResourceID is the ARM ID.
func (m *Meta) ResourceID() string { return m.ID }

func (m *Meta) ResourceMeta() *Meta { return m }

// ResourceVersion is the snapshot's version.
func (m *Meta) ResourceVersion() int64 { return m.Version }

// SetVersion sets the version of a snapshot not yet published.
func (m *Meta) SetVersion(v int64) { m.Version = v }

// ETag is the resource's entity tag.
func (m *Meta) ETag() string { return `"` + strconv.FormatInt(m.Version, 10) + `"` }

// Meta is the identity of the resource the row keeps, with ID id at the
// given version.
func (r Row) Meta(id string, version int64) Meta {
	return Meta{ID: id, SubscriptionID: r.SubscriptionID, ResourceGroup: r.ResourceGroup, Name: r.Name, Version: version}
}

// Row is a resource as the store keeps it: where it is, and the module's
// own JSON document of it.
type Row struct {
	SubscriptionID, ResourceGroup, Name, Location string
	Body                                          json.RawMessage
	CreatedAt                                     time.Time
}

// Event is one entry of the state history, which billing meters.
type Event struct {
	ResourceID        string
	At                time.Time
	ProvisioningState string
	ProvisioningCode  string
	PowerState        string
	OperationID       string
	OperationKind     string
	Detail            json.RawMessage
}

// OperationError is the error of a failed or canceled operation.
type OperationError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Operation statuses, as ARM's asynchronous operation resource shows them.
const (
	StatusInProgress = "InProgress"
	StatusSucceeded  = "Succeeded"
	StatusFailed     = "Failed"
	StatusCanceled   = "Canceled"
)

// Operation is an asynchronous operation a decision starts.
type Operation struct {
	ID, Kind, TargetID, Location string
}

// OperationEnd ends an operation; ending one that has ended is a no-op.
type OperationEnd struct {
	ID     string
	Status string
	Error  *OperationError
	At     time.Time
}

// The verbs every kind may take from a client; a kind defines its other
// verbs (the follow-ups other kinds ask of it) in its own terms.
const (
	// VerbPut creates or updates the target.
	VerbPut = "put"
	// VerbDelete deletes the target.
	VerbDelete = "delete"
	// VerbAct runs an action (an ARM POST) on the target.
	VerbAct = "act"
)

// Command is a follow-up a decision asks of another resource: the runtime
// runs it through the same path as a client's request, in the same change.
type Command struct {
	// Target is the ARM ID of the resource the command is for.
	Target string
	// Kind, when set, is the ARM type of the kind that owns the target,
	// where its ID does not say: a Uniform scale set's instance has
	// interfaces and public IPs at IDs under it.
	Kind string
	// Verb names what to do, in the terms of the target's kind.
	Verb string
	// OperationID is the operation the command runs as, when the decision
	// chose it (a batch tracks its children by these).
	OperationID string
	// Args carries the verb's parameters, of a type the target's kind
	// defines.
	Args any
	// At, when set, is the time the command is decided at: a follow-up of
	// a step that fell due earlier than the change runs at the step's time.
	At time.Time
}

// Due asks the runtime to call the owner of Target back at At.
type Due struct {
	Target string
	At     time.Time
}

// Effects is everything a decision does besides changing its own state.
type Effects struct {
	// Put are resources' new snapshots; Removed are IDs of resources gone.
	Put     []State
	Removed []State
	Events  []Event
	Started []Operation
	Ended   []OperationEnd
	// Commands run after this decision's effects are applied, in order.
	Commands []Command
	Due      []Due
}

// Add appends o's effects to e's.
func (e *Effects) Add(o Effects) {
	e.Put = append(e.Put, o.Put...)
	e.Removed = append(e.Removed, o.Removed...)
	e.Events = append(e.Events, o.Events...)
	e.Started = append(e.Started, o.Started...)
	e.Ended = append(e.Ended, o.Ended...)
	e.Commands = append(e.Commands, o.Commands...)
	e.Due = append(e.Due, o.Due...)
}

// Error is a decision's refusal in ARM's terms (armerror's one error
// type): nothing of the request happens.
type Error = armerror.Error

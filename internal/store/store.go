package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/jsonshape"
)

// ErrConflict is returned by Apply when a VM's version does not follow the
// stored one: another writer got there first. Nothing of the change is kept.
var ErrConflict = errors.New("store: version conflict")

// CheckVersion refuses, with ErrConflict, a version no row can have: a
// row's first version is 1.
func CheckVersion(v int64) error {
	if v < 1 {
		return fmt.Errorf("%w: version %d", ErrConflict, v)
	}
	return nil
}

// ErrFull is returned (wrapped) by Apply and Compact when the store has no
// room for the change: the disk holding it is full (SQLite's SQLITE_FULL,
// ENOSPC; PostgreSQL's SQLSTATE class 53, its server out of disk, memory
// or a configured limit; memstore past its limit). Nothing of the change is
// kept; a later Apply succeeds once there is room again.
var ErrFull = errors.New("store: the disk is full")

// ErrNotFound is returned for a lookup of something the store does not hold.
var ErrNotFound = errors.New("store: not found")

// Subscription is a subscription the emulator has seen. Any GUID is valid;
// the row exists from first use.
type Subscription struct {
	ID        string // lower-case GUID
	CreatedAt time.Time
}

// ResourceGroup is a resource group with its ARM body.
type ResourceGroup struct {
	SubscriptionID string // lower-case
	Name           string // casing as created
	Location       string
	Body           json.RawMessage // tags, managedBy, properties as ARM shows them
	Version        int64           // 1 on insert, +1 on every update
	CreatedAt      time.Time
}

// GroupRef names a resource group to delete.
type GroupRef struct {
	SubscriptionID string
	Name           string
}

// VM is one virtual machine: its model as the client wrote it, and the
// engine-owned state (lifecycle facets and any running plan) as an opaque
// JSON document, so that the store never needs to understand a plan.
type VM struct {
	ID             string // ARM ID with the casing of creation; keyed case-insensitively
	SubscriptionID string // lower-case
	ResourceGroup  string
	Name           string
	Location       string
	// Model is the model as the client wrote it, kept as the engine keeps
	// it: a shape shared by the models of a fleet and the VM's own
	// strings (jsonshape), which a store may keep as they are. An update
	// carries it only when it changed: see ModelUnchanged.
	Model jsonshape.Doc
	State json.RawMessage
	// ModelUnchanged tells, on an update (Version > 1), that the model is
	// the one of the version before (a step or an action leaves it as the
	// client wrote it): Model is then nil, and a store keeps the model it
	// holds. A snapshot's VMs (Load) always carry their model and never
	// set it; a Shared store's Changes carry it as it was applied.
	ModelUnchanged bool `json:",omitempty"`
	// Version is 1 on insert and exactly one more than the stored row on
	// update; anything else fails the whole change with ErrConflict.
	Version int64
	// DueAt is when the engine must next act on this VM; zero when idle.
	DueAt     time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Resource is an ARM resource other than a VM (a managed disk, for one):
// its body as the engine keeps it, versioned like a VM.
type Resource struct {
	ID             string // ARM ID with the casing of creation; keyed case-insensitively
	Type           string // e.g. Microsoft.Compute/disks
	SubscriptionID string // lower-case
	ResourceGroup  string
	Name           string
	Location       string
	Body           json.RawMessage
	// Version is 1 on insert and exactly one more than the stored row on
	// update; anything else fails the whole change with ErrConflict.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is one entry of the append-only state history: the VM's state facets
// as they became at At. Billing meters from these rows alone, so an event
// carries what pricing needs (Detail holds size, OS, priority and the like).
type Event struct {
	Seq               int64 // assigned by the store on Apply, increasing
	VMID              string
	At                time.Time
	ProvisioningState string // Creating, Updating, Succeeded, Failed, Deleting, Migrating, Deleted
	ProvisioningCode  string // the instance-view code, e.g. ProvisioningState/creating/osProvisioningInProgress
	PowerState        string // starting, running, ... or empty before the first one
	OperationID       string
	OperationKind     string
	Detail            json.RawMessage
}

// Operation is an asynchronous operation's status record.
type Operation struct {
	ID             string // lower-case GUID
	SubscriptionID string
	Location       string
	Kind           string // create, start, powerOff, ...
	TargetID       string // the ARM ID acted on
	Status         string // InProgress, Succeeded, Failed, Canceled
	StartTime      time.Time
	EndTime        time.Time       // zero while InProgress
	Error          json.RawMessage // {"code","message"} when Failed or Canceled
	Result         json.RawMessage // e.g. runCommand output
}

// Done reports whether the operation has reached a terminal status.
func (o Operation) Done() bool { return o.Status != "" && o.Status != "InProgress" }

// Change is everything one state change writes. Apply commits it in one
// transaction: all of it or none of it. Within a change the rows are
// written in a fixed order (upserts, then deletes), so a change never
// deletes and recreates one row: that takes two changes, which one Apply
// may still commit together.
type Change struct {
	Subscriptions    []Subscription // inserted when missing, otherwise left alone
	Groups           []ResourceGroup
	DeletedGroups    []GroupRef
	VMs              []VM
	DeletedVMs       []string // IDs, matched case-insensitively
	Resources        []Resource
	DeletedResources []string // IDs, matched case-insensitively
	Events           []Event
	Operations       []Operation // inserted or replaced by ID
	// Settings are emulator-wide values (e.g. where a manual clock stands),
	// inserted or replaced by name.
	Settings map[string]string
}

// Empty reports whether c writes nothing.
func (c Change) Empty() bool {
	return len(c.Subscriptions)+len(c.Groups)+len(c.DeletedGroups)+len(c.VMs)+len(c.DeletedVMs)+
		len(c.Resources)+len(c.DeletedResources)+len(c.Events)+len(c.Operations)+len(c.Settings) == 0
}

// Checkpoint is one resource's history before a horizon, compacted: its
// state at the horizon, as its last event before it restamped there, and
// what it used before the horizon, as the engine encodes it.
type Checkpoint struct {
	Event Event // At is the horizon; Seq is 0
	Usage json.RawMessage
}

// Compaction is what Compact writes. A compaction may be written in
// several, each of some resources (Resources), so that no one transaction
// is long; the last one, with Resources nil, ends it.
type Compaction struct {
	Horizon time.Time
	// Checkpoints replace the checkpoints of their resources.
	Checkpoints []Checkpoint
	// Resources, by ID, are those whose events before Horizon, and whose
	// checkpoint, go (a resource gone before the horizon has no new one).
	// Nil is every resource: every event before Horizon goes, and every
	// checkpoint earlier than it.
	Resources        []string
	OperationsBefore time.Time
	Settings         map[string]string
}

// Compacted counts what a compaction deleted.
type Compacted struct {
	Events, Operations int64
}

// Snapshot is the state the engine loads at start.
type Snapshot struct {
	Subscriptions []Subscription
	Groups        []ResourceGroup
	VMs           []VM
	Resources     []Resource
	// Operations holds every operation still InProgress.
	Operations []Operation
	Settings   map[string]string
	// Seq is the change sequence the snapshot includes, on a Shared store
	// (0 on others): Changes after it are what the snapshot lacks.
	Seq int64
}

// Store is the durable state of the emulator. Implementations must be safe
// for concurrent use.
type Store interface {
	// Load returns everything the engine keeps in memory.
	Load(ctx context.Context) (Snapshot, error)
	// Apply commits the changes atomically, in order, as one transaction:
	// all of them or none of them. Each change's versioned rows follow
	// those the changes before it wrote, so several changes of one row may
	// commit together. It assigns Seq to the events in order, writing it
	// into each change's Events (which share their backing arrays with the
	// caller's) once committed; on failure the events keep theirs. On a
	// Shared store each change that writes something is a change of the
	// sequence of its own.
	Apply(ctx context.Context, cs ...Change) error
	// Operation returns one operation by ID (case-insensitive), or ErrNotFound.
	Operation(ctx context.Context, id string) (Operation, error)
	// History streams the events with from <= At < to, ordered by Seq, without
	// holding them all in memory. An fn error stops the scan and is returned.
	// vmID filters to one VM when not empty (case-insensitive). After a
	// compaction the checkpoints come first, as events with Seq 0 in
	// resource key order, when their At (the horizon) is in the window: the
	// history then starts with each resource's state at the horizon. They
	// and the events are read in one snapshot, never across a compaction.
	History(ctx context.Context, vmID string, from, to time.Time, fn func(Event) error) error
	// Newest is the latest instant the history holds: of any event, and of
	// any operation's start or end; zero when there is none. A clock must
	// never stand behind it, or new history would be written before old.
	Newest(ctx context.Context) (time.Time, error)
	// Compact replaces the history before c.Horizon by c.Checkpoints, in
	// one transaction: the events earlier than the horizon of c.Resources
	// (of every resource when nil) are deleted, with their checkpoints
	// (when nil, every checkpoint earlier than the horizon), c.Checkpoints
	// replace those of their resources, finished operations that ended
	// before c.OperationsBefore are deleted, c.Settings are written, and
	// the saved accounts (SaveAccounts) are dropped.
	Compact(ctx context.Context, c Compaction) (Compacted, error)
	// Checkpoints streams the checkpoints of the last compaction, ordered by
	// resource key.
	Checkpoints(ctx context.Context, fn func(Checkpoint) error) error
	// EventsFrom streams the events with Seq >= seq, ordered by Seq, as
	// History does but without the checkpoints: what a reader that saved
	// its running state (SaveAccounts) at an event has not seen yet.
	EventsFrom(ctx context.Context, seq int64, fn func(Event) error) error
	// SaveAccounts writes saved running accounts, in one transaction: a
	// reader of the history (the dashboard's ledger) keeps its running
	// state there, in numbered parts of a form of its own, so that it need
	// not read the whole history at start. A save replaces the whole set,
	// or, given a Base, changes some parts of the set it names (see
	// AccountsSave). Compact and Reset drop them.
	SaveAccounts(ctx context.Context, save AccountsSave) error
	// Accounts streams the parts SaveAccounts last saved, in order; none
	// when nothing was saved since the last Compact or Reset. A part is
	// fn's only while fn runs: it must neither keep nor change it.
	Accounts(ctx context.Context, fn func(part []byte) error) error
	// Reset empties every table, settings and saved accounts included.
	Reset(ctx context.Context) error
	Close() error
}

// Shared is a store that several servers may serve at once (PostgreSQL).
// Each server keeps the fleet in memory; the store numbers every change it
// commits (Apply, Compact's settings, Reset) in one gapless sequence and
// keeps the changes for a while, so that a server catches up by replaying
// the ones it has not seen, and decides a write only under the fleet-wide
// lock, after catching up.
type Shared interface {
	Store
	// Lock takes the fleet-wide write lock, waiting for it. While a server
	// holds it no other server commits a change, so the sequence read
	// under it is the one its own next change follows. unlock releases it.
	Lock(ctx context.Context) (unlock func(), err error)
	// Sequence is the number of the last change committed; 0 before the
	// first. It is one indexed read, cheap enough to ask before each read.
	Sequence(ctx context.Context) (int64, error)
	// Changes calls fn with every change committed after seq, in order.
	// It fails with ErrGap when some of them are no longer kept: the
	// caller must Load again.
	Changes(ctx context.Context, after int64, fn func(Committed) error) error
	// Listen calls fn with the sequence of each change committed from now
	// on, by any server, until ctx ends; a notice may come late or merge
	// several changes, never come before the change is visible. It returns
	// ctx's error, or why it could not listen.
	Listen(ctx context.Context, fn func(seq int64)) error
}

// Committed is one change of a Shared store's sequence.
type Committed struct {
	Seq int64
	// Reset is a Reset: everything before it is gone.
	Reset bool
	// Change is what was written. Its events carry no Seq.
	Change Change
}

// ErrGap is returned by Changes when changes after the asked sequence are
// no longer kept.
var ErrGap = errors.New("store: the changes asked for are no longer kept")

// Key is the case-insensitive key of an ARM ID or name, as stores keep it:
// lower case throughout (armid.FoldAll), the engine's keys at the boundary.
func Key(s string) string { return armid.FoldAll(s) }

// VMID is the canonical ID of a standalone VM: a store may keep a VM's ID
// only when it differs from this one.
func VMID(sub, rg, name string) string { return armid.VirtualMachineID(sub, rg, name) }

// EncodeChange is the form in which a Shared store keeps a change: JSON,
// its events without their Seq.
func EncodeChange(c Change) ([]byte, error) {
	c.Events = slices.Clone(c.Events) // the caller's get their Seq after commit
	for i := range c.Events {
		c.Events[i].Seq = 0
	}
	return json.Marshal(c)
}

// DecodeChange reads a change EncodeChange wrote. A document that was nil
// comes back nil, not as the JSON null it was written as.
func DecodeChange(body []byte) (Change, error) {
	var c Change
	if err := json.Unmarshal(body, &c); err != nil {
		return Change{}, err
	}
	unnull := func(docs ...*json.RawMessage) {
		for _, d := range docs {
			if string(*d) == "null" {
				*d = nil
			}
		}
	}
	for i := range c.Groups {
		unnull(&c.Groups[i].Body)
	}
	for i := range c.VMs {
		unnull(&c.VMs[i].State) // a nil Model comes back nil (jsonshape.Doc.UnmarshalJSON)
	}
	for i := range c.Resources {
		unnull(&c.Resources[i].Body)
	}
	for i := range c.Events {
		unnull(&c.Events[i].Detail)
	}
	for i := range c.Operations {
		unnull(&c.Operations[i].Error, &c.Operations[i].Result)
	}
	return c, nil
}

// AccountsSave is one save of the running accounts (Store.SaveAccounts).
type AccountsSave struct {
	// Parts are written, each as the part of its number.
	Parts []AccountsPart
	// Count is how many parts the set has after the save: the parts
	// numbered Count and above are dropped.
	Count int
	// Base, when set, is the part 0 of the set the save changes: the
	// parts not written are kept, and when the saved part 0 is not Base
	// (another writer saved, or none did) nothing is written and the
	// save fails with ErrAccountsMoved. Without it the save replaces the
	// whole set.
	Base []byte
}

// AccountsPart is one part of saved running accounts.
type AccountsPart struct {
	N    int
	Body []byte
}

// ErrAccountsMoved is a save of some parts of saved accounts that are no
// longer those it changes.
var ErrAccountsMoved = errors.New("store: the saved accounts are not those the save changes")

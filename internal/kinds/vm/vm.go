// Package vm decides virtual machines. Each decision runs the VM's
// lifecycle (internal/lifecycle, the state machine of its facets and
// plans) and returns what follows as data: the VM's next snapshot, a
// history event when a facet changed, the operations started and ended,
// and what the change asks of the interfaces its network profile names,
// as commands to the kinds that own them: create one a configuration
// describes (and its public IPs), link it, let it go, release it by its
// deleteOption when the VM is removed, and give or take its public
// addresses as the VM takes or gives up a host. A VM removed also asks
// each disk attached to it to follow its deleteOption and each of its
// extensions to go: the disk and extension rules decide for their own
// resources.
package vm

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/extension"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scaleset"
	"github.com/azemu/azemu/internal/lifecycle"
)

// The ARM types of VMs: standalone (or a Flexible scale set's member), and
// a Uniform scale set's instance.
const (
	Type         = "Microsoft.Compute/virtualMachines"
	InstanceType = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
)

// Commands this module asks of the interfaces, public IPs, disks and
// extensions a VM uses, and of its group.
const (
	// VerbCreateNIC creates the interface a VM's configuration describes
	// (Args: nic.Spec), at the command's target.
	VerbCreateNIC = "createForVM"
	// VerbCreatePublicIP creates a public IP a VM's configuration
	// describes (Args: publicip.Spec), at the command's target.
	VerbCreatePublicIP = "createIPForVM"
	// VerbLinkNIC makes an interface the VM's (Args: LinkArgs).
	VerbLinkNIC = "linkVM"
	// VerbUnlinkNIC lets an interface the VM no longer names go.
	VerbUnlinkNIC = "unlinkVM"
	// VerbReleaseNIC applies the interface's deleteOption as its VM is
	// removed, under the command's operation.
	VerbReleaseNIC = "releaseVM"
	// VerbPowerNIC gives or takes the interface's Dynamic public
	// addresses as its VM takes or gives up a host (Args: PowerArgs).
	VerbPowerNIC = "powerVM"
	// VerbReleaseDisk applies a disk's deleteOption as the VM it is
	// attached to is removed (Args: ReleaseDiskArgs), under the command's
	// operation.
	VerbReleaseDisk = "releaseForVM"
	// VerbRemoveExtension removes an extension with its VM.
	VerbRemoveExtension = "removeWithVM"
	// VerbGone tells a VM's group that the VM is gone: a group being
	// deleted ends when its last VM has.
	VerbGone = "vmGone"
	// VerbAttachDisks asks the VM itself, once its new snapshot is in the
	// change, to make the disks its storage profile names exist and be
	// its own (Args: AttachArgs): the disk rules decide it over the disks.
	VerbAttachDisks = "attachDisks"
	// VerbDue is the runtime calling a VM back at its plan's due time
	// (the command's At).
	VerbDue = "due"
)

// LinkArgs are VerbLinkNIC's: the VM's use of the interface, and whether
// the VM holds a host (which gives Dynamic public IPs their addresses).
type LinkArgs struct {
	Use     nic.Use
	Running bool
}

func (a LinkArgs) String() string {
	s := "as " + deleteOption(a.Use.DeleteOption)
	if a.Use.Primary {
		s += ", primary"
	}
	if a.Running {
		s += ", running"
	}
	return s
}

// AttachArgs are VerbAttachDisks': the disks the profile named before
// the change (none for a new VM), which it lets go if no longer named.
type AttachArgs struct{ Previous []disk.Ref }

func (a AttachArgs) String() string { return fmt.Sprintf("after %d named", len(a.Previous)) }

// ReleaseDiskArgs are VerbReleaseDisk's: the VM being removed, which the
// disk must still be attached to.
type ReleaseDiskArgs struct{ VM string }

// String names the VM below its provider, as transcripts do.
func (a ReleaseDiskArgs) String() string {
	id, err := armid.Parse(a.VM)
	if err != nil {
		return "from " + a.VM
	}
	var parts []string
	for i := range min(len(id.Types), len(id.Names)) {
		parts = append(parts, id.Types[i]+"/"+id.Names[i])
	}
	return "from " + strings.Join(parts, "/")
}

// PowerArgs are VerbPowerNIC's.
type PowerArgs struct {
	VM        string
	Allocated bool
}

func (a PowerArgs) String() string {
	if a.Allocated {
		return "allocated"
	}
	return "released"
}

// Spec is what the rules need to know of a VM's model; the ARM layer
// derives it from the request body.
type Spec struct {
	Location           string `json:"location"`
	VMSize             string `json:"vmSize"`
	GeneralizedImage   bool   `json:"generalizedImage,omitempty"`
	OSType             string `json:"osType,omitempty"` // Linux or Windows
	LicenseType        string `json:"licenseType,omitempty"`
	Priority           string `json:"priority,omitempty"` // Regular, Spot, Low
	EvictionPolicy     string `json:"evictionPolicy,omitempty"`
	HibernationEnabled bool   `json:"hibernationEnabled,omitempty"`
	ScaleSetID         string `json:"scaleSetId,omitempty"`
	// Disks are the OS and data disks the storage profile names.
	Disks []disk.Ref `json:"disks,omitempty"`
	// NICs are the network interfaces the network profile names, or its
	// networkInterfaceConfigurations create.
	NICs []NICRef `json:"nics,omitempty"`
	// What the guest agent reports once the OS runs.
	ComputerName string `json:"computerName,omitempty"`
	OSName       string `json:"osName,omitempty"`
	OSVersion    string `json:"osVersion,omitempty"`
}

// Spot reports whether the VM is a Spot (or legacy low-priority) VM.
func (s Spec) Spot() bool { return s.Priority == "Spot" || s.Priority == "Low" }

// NICRef is an interface a VM's network profile names, and, when the VM's
// networkInterfaceConfigurations describe it, what to create it from.
type NICRef struct {
	ID           string `json:"id"`
	Primary      bool   `json:"primary,omitempty"`
	DeleteOption string `json:"deleteOption,omitempty"`
	// Create, when set, is the interface to create if it does not exist,
	// with the public IPs it names.
	Create *NICTemplate `json:"create,omitempty"`
}

// NICTemplate is an interface a VM's networkInterfaceConfigurations create.
type NICTemplate struct {
	Spec      nic.Spec           `json:"spec"`
	PublicIPs []PublicIPTemplate `json:"publicIPs,omitempty"`
}

// PublicIPTemplate is a public IP a VM's configuration creates.
type PublicIPTemplate struct {
	ID   string        `json:"id"`
	Spec publicip.Spec `json:"spec"`
}

// VM is a read-only snapshot of one VM; a decision returns a new one,
// never changing one it was given.
type VM struct {
	// Meta is the VM's ID, subscription, group, name and version.
	resource.Meta
	// Model is the ARM body as the client last wrote it, normalised by the
	// ARM layer; read-only properties are added when it is rendered. It is
	// kept as a shape shared with the fleet's other models and the
	// strings of its own (jsonshape).
	Model       jsonshape.Doc
	Spec        Spec
	Machine     lifecycle.Machine
	VMID        string // properties.vmId
	TimeCreated time.Time
	// Waiting are operations that end with the VM's running plan: the
	// installs of extensions added while the VM is created.
	Waiting []string
}

// ResourceType is the VM's ARM type: Type, or InstanceType for a Uniform
// scale set's instance.
func (v *VM) ResourceType() string {
	// A VM's ID has eight segments, an instance's ten (the set's type and
	// name before its own): counted, not parsed, as every due step asks.
	if strings.Count(v.ID, "/") > 8 {
		return InstanceType
	}
	return Type
}

// Row is the VM's identity and model as a resource row; the store keeps
// VMs in a table of their own.
func (v *VM) Row() resource.Row {
	return resource.Row{SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup, Name: v.Name,
		Location: v.Spec.Location, Body: v.Model.Bytes(), CreatedAt: v.TimeCreated}
}

// World is what a VM's decisions read of the resources it uses: the
// interfaces its network profiles (as it is and as asked) name, and the
// public IPs their configurations name, by armid.Key; nil when missing.
// Disks are the disks its storage profile names, by disk.Key (nil when
// missing), and Extensions the IDs of its extensions, in ID order: what
// its removal asks to follow it.
type World struct {
	NICs       map[string]*nic.NIC
	PublicIPs  map[string]bool
	Disks      map[string]*disk.Disk
	Extensions []string
}

// Fault sets the fault req on v, with spec, is to meet: an injected one,
// or AllocationFailed when the plan takes a host and the region's capacity
// for the VM's size family is spent. It is a random draw, like Env's, and
// is asked only when a request is decided afresh.
type Fault func(v *VM, spec Spec, req *lifecycle.Request)

// Decision is what a decision did besides its effects.
type Decision struct {
	// Operation is the operation the command runs as: its own, or the
	// running delete a repeated delete joined.
	Operation string
	// Faulted reports that the request's fault applies to the plan (a
	// counted fault is spent).
	Faulted bool
}

// Request is req as spec makes it: a Spot VM's eviction, hibernation, and
// what a reimage restores. Faults are decided on it.
func Request(req lifecycle.Request, spec Spec) lifecycle.Request {
	req.Spot = spec.Spot()
	req.EvictionPolicy = spec.EvictionPolicy
	req.HibernationEnabled = spec.HibernationEnabled
	if req.Kind == lifecycle.Reimage {
		req.GeneralizedImage = spec.GeneralizedImage
	}
	return req
}

// RollsFault reports whether req on v is decided afresh, and so may meet
// a fault: a delete joining a running delete is not.
func RollsFault(v *VM, req lifecycle.Request) bool {
	return v.Machine.Run == nil || req.Kind != lifecycle.Delete || v.Machine.Run.Plan.Kind != lifecycle.Delete
}

// NeedsHost reports whether req on v takes a host, so that a spent
// capacity fails it.
func NeedsHost(v *VM, req lifecycle.Request) bool {
	p, err := lifecycle.Decide(v.Name, v.Machine.State, req)
	return err == nil && lifecycle.NeedsAllocation(p)
}

// CheckScaleSet applies Azure's rules to a client's PUT of a VM that names
// a scale set: only a Flexible set takes VMs, not while it is being
// deleted, and a VM never changes set. old is the VM as it is (nil when
// new); set is the set spec names as it is, nil when there is none. A set
// azemu does not know is let through (D: VMs made before scale sets were
// modelled name sets that were never created).
func CheckScaleSet(old *VM, spec Spec, set *scaleset.ScaleSet) error {
	if old != nil {
		if !armid.Equal(old.Spec.ScaleSetID, spec.ScaleSetID) && (old.Spec.ScaleSetID != "" || spec.ScaleSetID != "") {
			return &resource.Error{Code: "PropertyChangeNotAllowed", Target: "virtualMachineScaleSet", Message: "Changing property 'virtualMachineScaleSet' is not allowed."}
		}
		return nil
	}
	if spec.ScaleSetID == "" || set == nil {
		return nil
	}
	if set.Uniform() {
		return &resource.Error{Code: "InvalidParameter", Target: "virtualMachineScaleSet.id", Message: fmt.Sprintf(
			"The virtual machine scale set '%s' has orchestration mode Uniform; only a Flexible scale set takes virtual machines.", set.Name)}
	}
	if set.DeleteOperation != "" {
		return scaleset.Deleting(set, "create")
	}
	return nil
}

// Create decides creating a VM at meta (a client's, or a scale set's
// instance) as operation opID ("" for a new one); extensions is how long
// its extensions take to install, and fault sets the create's fault (see
// Submit).
func Create(meta resource.Meta, model jsonshape.Doc, spec Spec, extensions time.Duration, opID string, fault Fault, w World, env resource.Env) (*VM, Decision, resource.Effects, error) {
	v := &VM{Meta: meta, Machine: lifecycle.Machine{Name: meta.Name}, VMID: env.NewID(), TimeCreated: env.Now}
	if opID == "" {
		opID = env.NewOperationID()
	}
	opID = armid.FoldAll(opID)
	eff := resource.Effects{Started: []resource.Operation{{ID: opID, Kind: string(lifecycle.Create), TargetID: meta.ID, Location: spec.Location}}}
	req := lifecycle.Request{Kind: lifecycle.Create, GeneralizedImage: spec.GeneralizedImage, Extensions: extensions}
	if fault != nil {
		fault(v, spec, &req)
	}
	m, sub, err := v.Machine.Submit(req, opID, env.Now, env.Speed)
	if err != nil {
		return nil, Decision{}, resource.Effects{}, err
	}
	next, e := v.next(m, model, spec, env.Now, opID, string(lifecycle.Create), w)
	eff.Add(e)
	eff.Commands = append(eff.Commands, resource.Command{Target: next.ID, Verb: VerbAttachDisks, Args: AttachArgs{}})
	eff.Commands = append(eff.Commands, links(next, nil, w)...)
	if sub.Done {
		eff.Ended = append(eff.Ended, resource.OperationEnd{ID: opID, Status: resource.StatusSucceeded, At: env.Now})
	}
	return next, Decision{Operation: opID, Faulted: sub.Faulted}, eff, nil
}

// Put decides a client's PUT of a VM that exists: an update (a resize when
// the size changes), or, for a create that failed before the VM got a
// host, the create again, as Azure retries it. extensions is how long the
// model's extensions take to install on create.
func Put(old *VM, model jsonshape.Doc, spec Spec, extensions time.Duration, fault Fault, w World, env resource.Env) (*VM, Decision, resource.Effects, error) {
	if !armid.SameLocation(old.Spec.Location, spec.Location) {
		return nil, Decision{}, resource.Effects{}, &resource.Error{Code: "InvalidResourceLocation", Message: fmt.Sprintf(
			"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
			old.Name, old.Spec.Location, old.ResourceGroup, spec.Location)}
	}
	req := lifecycle.Request{Kind: lifecycle.Update, Resize: !strings.EqualFold(old.Spec.VMSize, spec.VMSize)}
	if old.Machine.State.Provisioning == lifecycle.Failed && old.Machine.State.Power == "" && old.Machine.Run == nil {
		req = lifecycle.Request{Kind: lifecycle.Create, GeneralizedImage: spec.GeneralizedImage, Extensions: extensions}
	}
	next, d, eff, err := Submit(old, req, model, spec, env.NewOperationID(), fault, w, env)
	if err != nil {
		return nil, Decision{}, resource.Effects{}, err
	}
	if next != nil {
		eff.Commands = append(eff.Commands, resource.Command{Target: next.ID, Verb: VerbAttachDisks, Args: AttachArgs{Previous: old.Spec.Disks}})
		eff.Commands = append(eff.Commands, links(next, old, w)...)
	}
	return next, d, eff, nil
}

// Submit decides request req on v, with the given model and spec, as
// operation opID; fault, when not nil, sets its fault. The VM
// returned is nil when the request removed it or joined a running delete.
func Submit(v *VM, req lifecycle.Request, model jsonshape.Doc, spec Spec, opID string, fault Fault, w World, env resource.Env) (*VM, Decision, resource.Effects, error) {
	opID = armid.FoldAll(opID)
	req = Request(req, spec)
	if fault != nil && RollsFault(v, req) {
		fault(v, spec, &req)
	}
	m, sub, err := v.Machine.Submit(req, opID, env.Now, env.Speed)
	if err != nil {
		return nil, Decision{}, resource.Effects{}, err
	}
	if sub.Joined != "" {
		return nil, Decision{Operation: sub.Joined}, resource.Effects{}, nil
	}
	d := Decision{Operation: opID, Faulted: sub.Faulted}
	eff := resource.Effects{Started: []resource.Operation{{ID: opID, Kind: string(req.Kind), TargetID: v.ID, Location: spec.Location}}}
	if sub.Preempted != "" {
		preempted := &resource.OperationError{Code: lifecycle.CodeOperationPreempted, Message: lifecycle.MsgPreempted}
		for _, id := range append([]string{sub.Preempted}, v.Waiting...) {
			eff.Ended = append(eff.Ended, resource.OperationEnd{ID: id, Status: resource.StatusCanceled, Error: preempted, At: env.Now})
		}
		nv := *v
		nv.Waiting = nil
		v = &nv
	}
	var next *VM
	if sub.Done && sub.Removed {
		eff.Add(v.remove(env.Now, opID, w))
	} else {
		var e resource.Effects
		next, e = v.next(m, model, spec, env.Now, opID, string(req.Kind), w)
		eff.Add(e)
	}
	if sub.Done {
		eff.Ended = append(eff.Ended, resource.OperationEnd{ID: opID, Status: resource.StatusSucceeded, At: env.Now})
	}
	return next, d, eff, nil
}

// Hold keeps a VM being created in osProvisioningComplete until `until`,
// for an extension installing as operation opID, which ends with the
// create.
func Hold(v *VM, until time.Time, opID string, w World, env resource.Env) (*VM, resource.Effects, error) {
	held, ok := v.Machine.HoldOSComplete(until)
	if !ok {
		return nil, resource.Effects{}, fmt.Errorf("vm: %s cannot hold its create for %s", v.ID, opID)
	}
	nv := *v
	nv.Waiting = append(append([]string(nil), v.Waiting...), opID)
	next, eff := nv.next(held, v.Model, v.Spec, env.Now, "", "", w)
	return next, eff, nil
}

// Fire decides the step of v's plan due at `at`: the VM moves on, or
// ends its plan (its operation, and those waiting on it, end with it).
// The VM returned is nil when the plan removed it.
func Fire(v *VM, at time.Time, w World) (*VM, Decision, resource.Effects) {
	run := v.Machine.Run
	if run == nil {
		return v, Decision{}, resource.Effects{}
	}
	kind := string(run.Plan.Kind)
	m, fired := v.Machine.Fire(at)
	waiting := v.Waiting
	if fired.Finished != "" || fired.Failed != "" {
		nv := *v
		nv.Waiting = nil
		v = &nv
	} else {
		waiting = nil
	}
	var eff resource.Effects
	var next *VM
	d := Decision{Operation: run.OperationID}
	if fired.Removed {
		eff = v.remove(at, fired.Finished, w)
	} else {
		next, eff = v.next(m, v.Model, v.Spec, at, run.OperationID, kind, w)
	}
	// Operations waiting on the plan end as it does.
	if fired.Finished != "" {
		for _, id := range append([]string{fired.Finished}, waiting...) {
			eff.Ended = append(eff.Ended, resource.OperationEnd{ID: id, Status: resource.StatusSucceeded, At: at})
		}
	}
	if fired.Failed != "" {
		oe := &resource.OperationError{Code: fired.Failure.Code, Message: fired.Failure.Message}
		for _, id := range append([]string{fired.Failed}, waiting...) {
			eff.Ended = append(eff.Ended, resource.OperationEnd{ID: id, Status: resource.StatusFailed, Error: oe, At: at})
		}
	}
	return next, d, eff
}

// next is v with machine m, model and spec, at `at` by operation opID of
// kind opKind: its snapshot, the history event when a facet changed (or
// the VM is new), and, when it takes or gives up a host, what that does
// to its interfaces' public addresses.
func (v *VM) next(m lifecycle.Machine, model jsonshape.Doc, spec Spec, at time.Time, opID, opKind string, w World) (*VM, resource.Effects) {
	next := *v
	next.Machine, next.Model, next.Spec = m, model, spec
	eff := resource.Effects{Put: []resource.State{&next}}
	// A run that changes no facet (runCommand) still records who acted.
	if opID == "" && m.Run != nil {
		opID, opKind = m.Run.OperationID, string(m.Run.Plan.Kind)
	}
	if changed(v.Machine.State, m.State) || v.Version == 0 {
		st := m.State
		eff.Events = append(eff.Events, resource.Event{ResourceID: v.ID, At: at, ProvisioningState: string(st.Provisioning),
			ProvisioningCode: st.ProvisioningCode(), PowerState: string(st.Power), OperationID: opID, OperationKind: opKind, Detail: detail(spec)})
	}
	if allocated := m.State.Power.Allocated(); allocated != v.Machine.State.Power.Allocated() {
		for _, ref := range spec.NICs {
			if n := w.NICs[armid.Key(ref.ID)]; n != nil && strings.EqualFold(n.VirtualMachine, v.ID) {
				eff.Commands = append(eff.Commands, resource.Command{Target: ref.ID, Kind: nic.Type, Verb: VerbPowerNIC, At: at,
					Args: PowerArgs{VM: v.ID, Allocated: allocated}})
			}
		}
	}
	return &next, eff
}

func changed(a, b lifecycle.State) bool {
	return a.ProvisioningCode() != b.ProvisioningCode() || a.Power != b.Power ||
		a.Generalized != b.Generalized || a.Hibernated != b.Hibernated
}

// Detail is what billing needs to price a VM at the time of an event.
type Detail struct {
	VMSize      string `json:"vmSize,omitempty"`
	Location    string `json:"location,omitempty"`
	OSType      string `json:"osType,omitempty"`
	LicenseType string `json:"licenseType,omitempty"`
	Priority    string `json:"priority,omitempty"`
	ScaleSetID  string `json:"scaleSetId,omitempty"`
}

func detail(s Spec) json.RawMessage {
	d := Detail{VMSize: s.VMSize, Location: s.Location, OSType: s.OSType,
		LicenseType: s.LicenseType, Priority: s.Priority, ScaleSetID: s.ScaleSetID}
	return d.appendJSON(make([]byte, 0, 128))
}

// remove is v gone at `at` by operation opID: the history gets a final
// Deleted event so the meter knows the VM ended; each disk attached to it
// follows its deleteOption, its extensions go, each interface it holds is
// released by its deleteOption, and its group hears of it, in that order.
func (v *VM) remove(at time.Time, opID string, w World) resource.Effects {
	eff := resource.Effects{Removed: []resource.State{v}, Events: []resource.Event{{ResourceID: v.ID, At: at,
		ProvisioningState: "Deleted", OperationID: opID, OperationKind: string(lifecycle.Delete), Detail: detail(v.Spec)}}}
	for _, id := range disk.Named(v.DiskOwner(), v.Spec.Disks) {
		if d := w.Disks[disk.Key(id)]; d != nil && strings.EqualFold(d.ManagedBy, v.ID) {
			eff.Commands = append(eff.Commands, resource.Command{Target: id, Kind: disk.Type, Verb: VerbReleaseDisk, OperationID: opID,
				Args: ReleaseDiskArgs{VM: v.ID}})
		}
	}
	for _, id := range w.Extensions {
		eff.Commands = append(eff.Commands, resource.Command{Target: id, Kind: extension.Type, Verb: VerbRemoveExtension})
	}
	for _, ref := range v.Spec.NICs {
		if n := w.NICs[armid.Key(ref.ID)]; n != nil && strings.EqualFold(n.VirtualMachine, v.ID) {
			eff.Commands = append(eff.Commands, resource.Command{Target: ref.ID, Kind: nic.Type, Verb: VerbReleaseNIC, OperationID: opID})
		}
	}
	eff.Commands = append(eff.Commands, resource.Command{Target: armid.ResourceGroupID(v.SubscriptionID, v.ResourceGroup), Verb: VerbGone})
	return eff
}

// DiskOwner is what the disk rules need of v, whose storage profile names
// disks.
func (v *VM) DiskOwner() disk.Owner {
	return disk.Owner{ID: v.ID, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup, Location: v.Spec.Location, OSType: v.Spec.OSType}
}

// links makes the interfaces v's model names belong to it: those a
// configuration describes are created first (with the public IPs they
// name that do not exist); those old (the VM before the change, nil when
// new) named and v no longer does are let go. An interface that does not
// exist and is not described is left alone: a VM may name one.
func links(v, old *VM, w World) []resource.Command {
	var cmds []resource.Command
	wanted := map[string]bool{}
	made := map[string]bool{}
	linked := map[string]nic.Use{}
	for _, ref := range v.Spec.NICs {
		key := armid.Key(ref.ID)
		wanted[key] = true
		n := w.NICs[key]
		exists := n != nil || made[key]
		if !exists && ref.Create != nil {
			for _, ip := range ref.Create.PublicIPs {
				if k := armid.Key(ip.ID); !w.PublicIPs[k] && !made[k] {
					made[k] = true
					cmds = append(cmds, resource.Command{Target: ip.ID, Kind: publicip.Type, Verb: VerbCreatePublicIP, Args: ip.Spec})
				}
			}
			made[key], exists = true, true
			cmds = append(cmds, resource.Command{Target: ref.ID, Kind: nic.Type, Verb: VerbCreateNIC, Args: ref.Create.Spec})
		}
		if !exists {
			continue
		}
		use := nic.Use{VM: v.ID, Primary: ref.Primary, DeleteOption: ref.DeleteOption}
		if prev, ok := linked[key]; ok {
			if prev.Primary == use.Primary && deleteOption(prev.DeleteOption) == deleteOption(use.DeleteOption) {
				continue
			}
		} else if n != nil && !made[key] && strings.EqualFold(n.VirtualMachine, v.ID) && n.Primary == ref.Primary && n.DeleteOption == deleteOption(ref.DeleteOption) {
			continue
		}
		linked[key] = use
		cmds = append(cmds, resource.Command{Target: ref.ID, Kind: nic.Type, Verb: VerbLinkNIC, Args: LinkArgs{Use: use, Running: v.Machine.State.Power.Allocated()}})
	}
	if old == nil {
		return cmds
	}
	for _, ref := range old.Spec.NICs {
		key := armid.Key(ref.ID)
		if wanted[key] {
			continue
		}
		if n := w.NICs[key]; n != nil && strings.EqualFold(n.VirtualMachine, v.ID) {
			wanted[key] = true
			cmds = append(cmds, resource.Command{Target: ref.ID, Kind: nic.Type, Verb: VerbUnlinkNIC})
		}
	}
	return cmds
}

// deleteOption is an interface's deleteOption as it keeps it.
func deleteOption(option string) string {
	if strings.EqualFold(option, "Delete") {
		return "Delete"
	}
	return "Detach"
}

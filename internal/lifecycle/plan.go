package lifecycle

import (
	"fmt"
	"time"

	"github.com/azemu/azemu/internal/armerror"
)

// Kind names an operation. The strings are the names Azure uses in its
// error messages ("Operation 'powerOff' is not allowed ...").
type Kind string

const (
	Create           Kind = "create"
	Start            Kind = "start"
	PowerOff         Kind = "powerOff"
	Deallocate       Kind = "deallocate"
	Restart          Kind = "restart"
	Redeploy         Kind = "redeploy"
	Reimage          Kind = "reimage"
	Update           Kind = "update"
	Delete           Kind = "delete"
	GuestShutdown    Kind = "guestShutdown"
	SimulateEviction Kind = "simulateEviction"
	Generalize       Kind = "generalize"
	Migrate          Kind = "migrate"
	RunCommand       Kind = "runCommand"
)

// Kinds lists every operation, in the order of the design's table.
var Kinds = []Kind{Create, Start, PowerOff, Deallocate, Restart, Redeploy, Reimage, Update, Delete,
	GuestShutdown, SimulateEviction, Generalize, Migrate, RunCommand}

// Request is an operation asked of one VM, with what the decision depends on.
type Request struct {
	Kind Kind
	// SkipShutdown shortens powerOff (powerOff?skipShutdown=true).
	SkipShutdown bool
	// Hibernate asks deallocate to hibernate (deallocate?hibernate=true).
	Hibernate bool
	// Force is delete?forceDeletion=true.
	Force bool
	// GeneralizedImage: the OS disk comes from a generalized image, so create
	// and reimage show the OS provisioning sub-states.
	GeneralizedImage bool
	// Extensions is how long extensions take to install after OS provisioning
	// (the VM stays in osProvisioningComplete for that long); with Update,
	// how long the VM shows Updating while extensions change (running VMs
	// only).
	Extensions time.Duration
	// Resize: an update that changes vmSize, so an allocated VM is cycled.
	Resize bool
	// ShutsDownGuest: a runCommand whose script shuts the guest down.
	ShutsDownGuest bool
	// Fault, when set, makes the plan fail where Azure's would fail with
	// its code (see FailurePoint); a fault that has no such step is ignored.
	Fault *Failure
	// Spot, EvictionPolicy and HibernationEnabled come from the VM's model.
	Spot               bool
	EvictionPolicy     string // Deallocate (default) or Delete
	HibernationEnabled bool
}

// Step is one stage of a plan: the state shown while it lasts.
type Step struct {
	Provisioning Provisioning   `json:"provisioning"`
	OS           OSProvisioning `json:"os,omitempty"`
	Power        Power          `json:"power,omitempty"`
	Duration     time.Duration  `json:"duration"`
}

// Plan is what an operation will do: its steps, then its end state.
// A plan without steps completes at once (a no-op or a synchronous change).
type Plan struct {
	Kind  Kind   `json:"kind"`
	Steps []Step `json:"steps,omitempty"`
	End   State  `json:"end"`
	// Removes: when the plan ends the VM is gone (delete, eviction with Delete).
	Removes bool `json:"removes,omitempty"`
}

// Total is the plan's whole duration.
func (p Plan) Total() time.Duration {
	var d time.Duration
	for _, s := range p.Steps {
		d += s.Duration
	}
	return d
}

// Refusal is an operation the rules do not allow, in Azure's error terms:
// armerror's one error type. Every refusal is a 409 OperationNotAllowed
// unless Code says otherwise.
type Refusal = armerror.Error

// Error codes the lifecycle produces.
const (
	CodeOperationNotAllowed = "OperationNotAllowed"
	CodeOperationPreempted  = "OperationPreempted"
)

// Azure's message templates (A where Azure documents them, D otherwise);
// every message text the lifecycle produces is here.
const (
	msgDeallocated         = "Operation '%s' is not allowed on VM '%s' since the VM is either deallocated or marked to be deallocated."
	msgDeleting            = "Operation '%s' is not allowed on VM '%s' since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete)."
	msgGeneralized         = "Operation '%s' is not allowed on VM '%s' since the VM is generalized."
	msgNotRunning          = "The operation requires the VM to be running (or set to run)."
	msgBusy                = "Operation '%s' is not allowed on VM '%s' since another operation is in progress."                         // (D) wording
	msgNotSpot             = "Operation '%s' is not allowed on VM '%s' since the VM is not a Spot VM."                                  // (D)
	msgNotStopped          = "Operation '%s' is not allowed on VM '%s' since the VM is running. Stop it and try again."                 // (D)
	msgNoHibernate         = "Operation '%s' with hibernate=true is not allowed on VM '%s' since hibernation is not enabled on the VM." // (D)
	MsgPreempted           = "Operation execution has been preempted by a more recent operation."
	msgExtensionNotRunning = "Cannot modify extensions in the VM when the VM is not running." // (A)
)

func refuse(format string, k Kind, vm string) *Refusal {
	msg := format
	if format != msgNotRunning {
		msg = fmt.Sprintf(format, k, vm)
	}
	return &Refusal{Code: CodeOperationNotAllowed, Message: msg}
}

// Realistic durations at speed 1 (D). Keep every number here.
const (
	createAllocate     = 15 * time.Second
	createStart        = 20 * time.Second
	osProvisioning     = 40 * time.Second
	osComplete         = 5 * time.Second
	startFromStopped   = 15 * time.Second
	allocate           = 10 * time.Second
	allocatedStopped   = 2 * time.Second
	stopGraceful       = 10 * time.Second
	stopSkipShutdown   = 2 * time.Second
	deallocateRunning  = 20 * time.Second
	deallocateStopped  = 15 * time.Second
	restartStop        = 5 * time.Second
	restartStart       = 15 * time.Second
	redeployStop       = 10 * time.Second
	redeployDeallocate = 10 * time.Second
	redeployStart      = 20 * time.Second
	reimageStop        = 5 * time.Second
	reimageStart       = 20 * time.Second
	reimageStopped     = 25 * time.Second
	updateModel        = 5 * time.Second
	resizeStop         = 5 * time.Second
	resizeStart        = 15 * time.Second
	deleteDeallocate   = 20 * time.Second
	deleteForced       = 5 * time.Second
	guestShutdown      = 5 * time.Second
	migrate            = 30 * time.Second
	runCommand         = 5 * time.Second
)

// Decide returns the plan for req on a VM named name in state st, or a
// *Refusal. It does not consider a running operation: see Machine.Submit.
func Decide(name string, st State, req Request) (Plan, error) {
	k := req.Kind
	p := Plan{Kind: k}
	up := func(power Power, d time.Duration) Step {
		return Step{Provisioning: Updating, Power: power, Duration: d}
	}
	end := func(power Power) State {
		e := st
		e.Provisioning, e.OS, e.Power, e.Failure = Succeeded, "", power, nil
		return e
	}
	// A no-op still succeeds, so it clears an earlier failure.
	noop := func() (Plan, error) { p.End = end(st.Power); return p, nil }

	if st.Provisioning == Deleting && k != Delete {
		return Plan{}, refuse(msgDeleting, k, name)
	}
	// A VM that never got a power state (its create failed before one)
	// behaves as deallocated for what follows.
	power := st.Power
	if power == "" && k != Create {
		power = Deallocated
	}

	switch k {
	case Create:
		p.Steps = []Step{
			{Provisioning: Creating, Duration: createAllocate},
			{Provisioning: Creating, Power: Starting, Duration: createStart},
		}
		if req.GeneralizedImage {
			p.Steps = append(p.Steps,
				Step{Provisioning: Creating, OS: OSProvisioningInProgress, Power: Running, Duration: osProvisioning},
				Step{Provisioning: Creating, OS: OSProvisioningComplete, Power: Running, Duration: osComplete + req.Extensions})
		}
		p.End = end(Running)
		p.End.Generalized, p.End.Hibernated = false, false

	case Start:
		if st.Generalized {
			return Plan{}, refuse(msgGeneralized, k, name)
		}
		switch power {
		case Running:
			return noop()
		case Starting, Stopping, Stopped:
			p.Steps = []Step{up(Starting, startFromStopped)}
		case Deallocating, Deallocated:
			p.Steps = []Step{up(Deallocated, allocate), up(Stopped, allocatedStopped), up(Starting, startFromStopped)}
		}
		p.End = end(Running)
		p.End.Hibernated = false

	case PowerOff:
		switch power {
		case Stopped:
			return noop()
		case Deallocating, Deallocated:
			return Plan{}, refuse(msgDeallocated, k, name)
		}
		d := stopGraceful
		if req.SkipShutdown {
			d = stopSkipShutdown
		}
		p.Steps = []Step{up(Stopping, d)}
		p.End = end(Stopped)

	case Deallocate:
		if req.Hibernate {
			if !req.HibernationEnabled {
				return Plan{}, refuse(msgNoHibernate, k, name)
			}
			if power != Running && power != Starting {
				return Plan{}, refuse(msgNotRunning, k, name)
			}
		}
		switch power {
		case Deallocated:
			return noop()
		case Running, Starting, Stopping:
			p.Steps = []Step{up(Stopping, stopGraceful), up(Deallocating, deallocateRunning)}
		case Stopped, Deallocating:
			p.Steps = []Step{up(Deallocating, deallocateStopped)}
		}
		p.End = end(Deallocated)
		p.End.Hibernated = req.Hibernate

	case Restart:
		switch power {
		case Deallocating, Deallocated:
			return Plan{}, refuse(msgDeallocated, k, name)
		case Stopping, Stopped:
			return Plan{}, refuse(msgNotRunning, k, name)
		}
		p.Steps = []Step{up(Stopping, restartStop), up(Starting, restartStart)}
		p.End = end(Running)

	case Redeploy:
		if st.Generalized {
			return Plan{}, refuse(msgGeneralized, k, name)
		}
		if power == Running || power == Starting {
			p.Steps = append(p.Steps, up(Stopping, redeployStop))
		}
		p.Steps = append(p.Steps, up(Deallocating, redeployDeallocate), up(Starting, redeployStart))
		p.End = end(Running)
		p.End.Hibernated = false

	case Reimage:
		switch power {
		case Deallocating, Deallocated:
			return Plan{}, refuse(msgDeallocated, k, name)
		case Stopped, Stopping:
			// (D) a stopped VM is reimaged in place and stays stopped.
			p.Steps = []Step{up(Stopped, reimageStopped)}
			p.End = end(Stopped)
		default:
			p.Steps = []Step{up(Stopping, reimageStop), up(Starting, reimageStart)}
			if req.GeneralizedImage {
				p.Steps = append(p.Steps,
					Step{Provisioning: Updating, OS: OSProvisioningInProgress, Power: Running, Duration: osProvisioning},
					Step{Provisioning: Updating, OS: OSProvisioningComplete, Power: Running, Duration: osComplete + req.Extensions})
			}
			p.End = end(Running)
		}
		p.End.Generalized = false

	case Update:
		if req.Resize && (power == Running || power == Starting) {
			p.Steps = []Step{up(Stopping, resizeStop), up(Starting, resizeStart)}
			p.End = end(Running)
		} else {
			d := updateModel
			if req.Extensions > 0 {
				// Installing or removing extensions on a running VM: the
				// VM shows Updating while the extension handlers work.
				if power != Running {
					return Plan{}, &Refusal{Code: CodeOperationNotAllowed, Message: msgExtensionNotRunning}
				}
				d = req.Extensions
			}
			p.Steps = []Step{up(st.Power, d)}
			p.End = end(st.Power)
		}

	case Delete:
		d := deleteDeallocate
		if req.Force {
			d = deleteForced
		}
		// A deallocated VM has nothing left to deallocate: it shows its
		// power state unchanged while it is deleted.
		stepPower := Deallocating
		if power == Deallocated {
			stepPower = st.Power
		}
		p.Steps = []Step{{Provisioning: Deleting, Power: stepPower, Duration: d}}
		p.End = st
		p.End.Provisioning, p.End.OS, p.End.Power = Deleting, "", Deallocated
		p.Removes = true

	case GuestShutdown:
		if power != Running {
			return Plan{}, refuse(msgNotRunning, k, name)
		}
		// A shutdown from inside the guest is not a control-plane
		// operation: provisioning stays as it was, and the VM stays allocated.
		p.Steps = []Step{{Provisioning: st.Provisioning, OS: st.OS, Power: Stopping, Duration: guestShutdown}}
		p.End = st
		p.End.Power = Stopped

	case SimulateEviction:
		if !req.Spot {
			return Plan{}, refuse(msgNotSpot, k, name)
		}
		if power != Running {
			return Plan{}, refuse(msgNotRunning, k, name)
		}
		if req.EvictionPolicy == "Delete" {
			return Decide(name, st, Request{Kind: Delete})
		}
		p.Steps = []Step{up(Stopping, stopGraceful), up(Deallocating, deallocateRunning)}
		p.End = end(Deallocated)

	case Generalize:
		if power != Stopped && power != Deallocated {
			return Plan{}, refuse(msgNotStopped, k, name)
		}
		p.End = st
		p.End.Generalized = true

	case Migrate:
		p.Steps = []Step{{Provisioning: Migrating, Power: st.Power, Duration: migrate}}
		p.End = end(st.Power)

	case RunCommand:
		if power != Running {
			return Plan{}, refuse(msgNotRunning, k, name)
		}
		if req.ShutsDownGuest {
			g := req
			g.Kind = GuestShutdown
			p, err := Decide(name, st, g)
			p.Kind = RunCommand
			return p, err
		}
		// The script runs in the guest; the VM's states do not move.
		p.Steps = []Step{{Provisioning: st.Provisioning, OS: st.OS, Power: Running, Duration: runCommand}}
		p.End = st

	default:
		return Plan{}, &Refusal{Code: "InvalidParameter", Message: fmt.Sprintf("Unknown operation '%s'.", k)}
	}
	return p, nil
}

// Preempts decides what an incoming operation does to one already running
// on the same VM: preempt it (the running one ends Canceled with
// OperationPreempted), join it (a retried delete answers with the running
// delete), or be refused. (A) for power operations and delete; (D) for the
// rest, kept here.
func Preempts(name string, running, incoming Kind) (preempt, join bool, err error) {
	switch {
	case running == Delete && incoming == Delete:
		return false, true, nil
	case running == Delete:
		return false, false, refuse(msgDeleting, incoming, name)
	case incoming == Delete:
		return true, false, nil
	case running == Create, incoming == Update, incoming == Generalize, incoming == Create:
		return false, false, refuse(msgBusy, incoming, name)
	case incoming == Migrate, incoming == RunCommand, incoming == GuestShutdown:
		// These keep the VM's current states as their own: taking over a
		// half-way plan would leave the VM half-way for good.
		return false, false, refuse(msgBusy, incoming, name)
	}
	return true, false, nil
}

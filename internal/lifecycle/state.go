package lifecycle

import (
	"encoding/json"
	"strings"
	"time"
)

// Provisioning is the outcome of the last control-plane operation, as the
// resource's properties.provisioningState shows it.
type Provisioning string

const (
	Creating  Provisioning = "Creating"
	Updating  Provisioning = "Updating"
	Succeeded Provisioning = "Succeeded"
	Failed    Provisioning = "Failed"
	Deleting  Provisioning = "Deleting"
	Migrating Provisioning = "Migrating"
)

// OSProvisioning is the sub-state of Creating shown while a generalized
// image's guest OS is set up. Empty outside that window.
type OSProvisioning string

const (
	OSProvisioningInProgress OSProvisioning = "osProvisioningInProgress"
	OSProvisioningComplete   OSProvisioning = "osProvisioningComplete"
)

// Power is the last known state of the machine. Empty before the first power
// state is known (allocation during create).
type Power string

const (
	Starting     Power = "starting"
	Running      Power = "running"
	Stopping     Power = "stopping"
	Stopped      Power = "stopped"
	Deallocating Power = "deallocating"
	Deallocated  Power = "deallocated"
)

// Powers lists the power states in the order the documentation gives them.
var Powers = []Power{Starting, Running, Stopping, Stopped, Deallocating, Deallocated}

// Billed reports whether compute is charged in power state p: the machine
// holds its host allocation. Stopped is billed; deallocation is not.
func (p Power) Billed() bool {
	switch p {
	case Starting, Running, Stopping, Stopped:
		return true
	}
	return false
}

// Allocated reports whether the VM holds host capacity in power state p.
// Deallocating already counts as released, as billing does.
func (p Power) Allocated() bool { return p.Billed() }

// Failure is why the last operation failed, in Azure's error terms.
type Failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// State holds the three facets of a VM's state and the flags that change
// what operations are allowed.
type State struct {
	Provisioning Provisioning   `json:"provisioning"`
	OS           OSProvisioning `json:"os,omitempty"`
	Power        Power          `json:"power,omitempty"`
	Failure      *Failure       `json:"failure,omitempty"`
	Generalized  bool           `json:"generalized,omitempty"`
	Hibernated   bool           `json:"hibernated,omitempty"`
	// ProvisionedAt is when the provisioning status last changed; the
	// instance view shows it as the status's time.
	ProvisionedAt time.Time `json:"provisionedAt"`
}

// Level is an instance-view status level.
type Level string

const (
	Info    Level = "Info"
	Warning Level = "Warning"
	Error   Level = "Error"
)

// Status is one entry of an instance view's statuses[].
type Status struct {
	Code          string     `json:"code"`
	Level         Level      `json:"level"`
	DisplayStatus string     `json:"displayStatus"`
	Message       string     `json:"message,omitempty"`
	Time          *time.Time `json:"time,omitempty"`
}

// TimeLayout is how Compute writes a time: UTC with seven fractional
// digits and "+00:00" (2026-01-01T00:00:00.0000000+00:00), in statuses,
// timeCreated and operation statuses alike.
const TimeLayout = "2006-01-02T15:04:05.0000000-07:00"

// FormatTime writes t as Compute does.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// MarshalJSON writes the status with its time in Compute's layout.
func (s Status) MarshalJSON() ([]byte, error) {
	type fields Status // the same fields, without this method
	out := struct {
		fields
		Time string `json:"time,omitempty"`
	}{fields: fields(s)}
	if s.Time != nil {
		out.Time = FormatTime(*s.Time)
	}
	return json.Marshal(out)
}

// ProvisioningCode is the instance-view code of the provisioning facet, e.g.
// ProvisioningState/creating/osProvisioningInProgress.
func (s State) ProvisioningCode() string {
	code := provisioningCodes[s.Provisioning]
	if code == "" {
		code = "ProvisioningState/" + strings.ToLower(string(s.Provisioning))
	}
	switch {
	case s.Provisioning == Failed && s.Failure != nil:
		code += "/" + s.Failure.Code
	case s.OS != "":
		code += "/" + string(s.OS)
	}
	return code
}

// provisioningCodes are the codes of the provisioning states, made once:
// every VM decision compares them.
var provisioningCodes = func() map[Provisioning]string {
	m := map[Provisioning]string{}
	for _, p := range []Provisioning{Creating, Updating, Succeeded, Failed, Deleting, Migrating} {
		m[p] = "ProvisioningState/" + strings.ToLower(string(p))
	}
	return m
}()

// provisioningDisplay holds Azure's display strings for the provisioning facet.
var provisioningDisplay = map[Provisioning]string{
	Creating:  "Creating",
	Updating:  "Updating",
	Succeeded: "Provisioning succeeded",
	Failed:    "Provisioning failed",
	Deleting:  "Deleting",
	Migrating: "Migrating", // (D) Azure documents the state, not its display text
}

var osDisplay = map[OSProvisioning]string{
	OSProvisioningInProgress: "OS Provisioning In progress",
	OSProvisioningComplete:   "OS Provisioning Complete",
}

var powerDisplay = map[Power]string{
	Starting:     "VM starting",
	Running:      "VM running",
	Stopping:     "VM stopping",
	Stopped:      "VM stopped",
	Deallocating: "VM deallocating",
	Deallocated:  "VM deallocated",
}

// ProvisioningStatus is the provisioning entry of the instance view.
func (s State) ProvisioningStatus() Status {
	st := Status{Code: s.ProvisioningCode(), Level: Info, DisplayStatus: provisioningDisplay[s.Provisioning]}
	if d, ok := osDisplay[s.OS]; ok {
		st.DisplayStatus = d
	}
	if s.Provisioning == Failed {
		st.Level = Error
		if s.Failure != nil {
			st.Message = s.Failure.Message
		}
	}
	if !s.ProvisionedAt.IsZero() {
		t := s.ProvisionedAt.UTC()
		st.Time = &t
	}
	return st
}

// PowerStatus is the power entry of the instance view; ok is false before
// the VM has a power state.
func (s State) PowerStatus() (Status, bool) {
	if s.Power == "" {
		return Status{}, false
	}
	return Status{Code: "PowerState/" + string(s.Power), Level: Info, DisplayStatus: powerDisplay[s.Power]}, true
}

// Statuses is the instance view's statuses[]: provisioning first (with its
// time), then power (without), then the OS and hibernation markers.
func (s State) Statuses() []Status {
	out := []Status{s.ProvisioningStatus()}
	if p, ok := s.PowerStatus(); ok {
		out = append(out, p)
	}
	if s.Generalized {
		out = append(out, Status{Code: "OSState/generalized", Level: Info, DisplayStatus: "VM generalized"})
	}
	if s.Hibernated {
		out = append(out, Status{Code: "HibernationState/Hibernated", Level: Info, DisplayStatus: "VM hibernated"})
	}
	return out
}

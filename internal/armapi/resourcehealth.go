package armapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// availability is a VM's Resource Health at one moment, derived from its
// lifecycle state (D: Azure documents the states, not the mapping).
type availability struct {
	State      string // Available, Unavailable, Degraded, Unknown
	Title      string
	Summary    string
	ReasonType string // Customer Initiated, Unplanned, ""
}

// availabilityOf maps the provisioning and power facets to Resource Health.
func availabilityOf(provisioning lifecycle.Provisioning, code string, power lifecycle.Power) availability {
	if provisioning == lifecycle.Failed {
		failure := strings.TrimPrefix(code, "ProvisioningState/failed/")
		if power == lifecycle.Running {
			return availability{"Degraded", "Degraded", "The virtual machine is running, but its last operation failed (" + failure + "). It may not be fully provisioned.", "Unplanned"}
		}
		return availability{"Unavailable", "Unavailable", "The virtual machine is unavailable: its last operation failed (" + failure + ").", "Unplanned"}
	}
	switch power {
	case lifecycle.Running:
		if provisioning == lifecycle.Succeeded {
			return availability{"Available", "Available", "There aren't any known Azure platform problems affecting this virtual machine.", ""}
		}
		return availability{"Available", "Available", "The virtual machine is running while an operation requested by an authorized user or process is in progress.", ""}
	case lifecycle.Starting:
		return availability{"Unavailable", "Starting", "This virtual machine is starting as requested by an authorized user or process. It will be online shortly.", "Customer Initiated"}
	case lifecycle.Stopping:
		return availability{"Unavailable", "Stopping", "This virtual machine is stopping as requested by an authorized user or process.", "Customer Initiated"}
	case lifecycle.Stopped:
		return availability{"Unavailable", "Stopped", "This virtual machine is stopped as requested by an authorized user or process. It is still allocated and billed.", "Customer Initiated"}
	case lifecycle.Deallocating:
		return availability{"Unavailable", "Stopped and deallocating", "This virtual machine is stopping and deallocating as requested by an authorized user or process.", "Customer Initiated"}
	case lifecycle.Deallocated:
		return availability{"Unavailable", "Stopped and deallocated", "This virtual machine is stopped and deallocated as requested by an authorized user or process.", "Customer Initiated"}
	}
	return availability{"Unknown", "Unknown", "We are currently unable to determine the health of this virtual machine: it is being provisioned.", ""}
}

func availabilityBody(vmID, location, name string, a availability, occurred, reported time.Time) map[string]any {
	props := map[string]any{
		"availabilityState": a.State,
		"title":             a.Title,
		"summary":           a.Summary,
		"detailedStatus":    a.Summary,
		// Azure spells it so; clients read this exact key.
		"occuredTime":      occurred.UTC().Format(time.RFC3339),
		"reportedTime":     reported.UTC().Format(time.RFC3339),
		"reasonChronicity": "Persistent",
	}
	if a.ReasonType != "" {
		props["reasonType"] = a.ReasonType
	}
	return map[string]any{
		"id":         vmID + "/providers/Microsoft.ResourceHealth/availabilityStatuses/" + name,
		"name":       name,
		"type":       "Microsoft.ResourceHealth/AvailabilityStatuses",
		"location":   location,
		"properties": props,
	}
}

// getAvailability serves .../virtualMachines/{vm}/providers/Microsoft.ResourceHealth/availabilityStatuses/current.
func (s *Server) getAvailability(r *request, sub, rg, name string) {
	vm, err := s.eng.GetVM(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	st := vm.Machine.State
	a := availabilityOf(st.Provisioning, st.ProvisioningCode(), st.Power)
	occurred, _ := s.availabilityHistory(r, vm)
	since := vm.TimeCreated
	if len(occurred) > 0 {
		since = occurred[len(occurred)-1].at
	}
	s.writeJSON(r, http.StatusOK, availabilityBody(vm.ID, vm.Spec.Location, "current", a, since, s.eng.Now()))
}

type availabilityChange struct {
	at time.Time
	a  availability
}

// availabilityHistory reads the VM's history and keeps each change of
// availability, oldest first.
func (s *Server) availabilityHistory(r *request, vm *engine.VM) ([]availabilityChange, error) {
	var out []availabilityChange
	err := s.eng.History(r.Context(), vm.ID, time.Time{}, s.eng.Now().Add(time.Nanosecond), func(e store.Event) error {
		a := availabilityOf(lifecycle.Provisioning(e.ProvisioningState), e.ProvisioningCode, lifecycle.Power(e.PowerState))
		if len(out) == 0 || out[len(out)-1].a != a {
			out = append(out, availabilityChange{at: e.At, a: a})
		}
		return nil
	})
	return out, err
}

// listAvailability serves .../availabilityStatuses: the history, newest first.
func (s *Server) listAvailability(r *request, sub, rg, name string) {
	vm, err := s.eng.GetVM(sub, rg, name)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	changes, err := s.availabilityHistory(r, vm)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	value := make([]any, 0, len(changes))
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		name := "current"
		if i != len(changes)-1 {
			name = c.at.UTC().Format("20060102T150405Z")
		}
		value = append(value, availabilityBody(vm.ID, vm.Spec.Location, name, c.a, c.at, c.at))
	}
	s.writeList(r, value, "")
}

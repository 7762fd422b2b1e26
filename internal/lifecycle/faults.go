package lifecycle

import (
	"fmt"
	"sort"
)

// Failure codes a plan can be made to fail with, and Azure's messages for
// them. %s is the VM's name where the message names it.
var faultMessages = map[string]string{
	"AllocationFailed":                 "Allocation failed. We do not have sufficient capacity for the requested VM size in this region. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance",
	"ZonalAllocationFailed":            "Allocation failed. We do not have sufficient capacity for the requested VM size in this zone. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance",
	"OverConstrainedAllocationRequest": "Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive. Please remove some constraints and try again. Constraints applied are: VM size, region.",
	"OSProvisioningTimedOut":           "OS Provisioning for VM '%s' did not finish in the allotted time. The VM may still finish provisioning successfully. Please check provisioning state later. Also, make sure the image has been properly prepared (generalized).",
	"OSProvisioningClientError":        "OS Provisioning for VM '%s' failed. Error details: The guest agent reported that the provisioning of the operating system failed. Make sure the image has been properly prepared (generalized).",
	"VMStartTimedOut":                  "VM '%s' did not start in the allotted time. The VM may still start successfully. Please check the power state later.",
	"VMExtensionProvisioningError":     "VM has reported a failure when processing extension 'CustomScript'. Error message: \"Enable failed: the script exited with status 1\".",
	"InternalOperationError":           "An internal execution error occurred. Please retry later.",
}

// FaultCodes lists the failure codes a plan can be made to fail with.
func FaultCodes() []string {
	codes := make([]string, 0, len(faultMessages))
	for c := range faultMessages {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}

// FaultMessage is Azure's message for code on VM vm; ok is false for a code
// the lifecycle cannot fail with.
func FaultMessage(code, vm string) (string, bool) {
	tmpl, ok := faultMessages[code]
	if !ok {
		return "", false
	}
	if countVerbs(tmpl) == 1 {
		return fmt.Sprintf(tmpl, vm), true
	}
	return tmpl, true
}

func countVerbs(s string) int {
	n := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 's' {
			n++
		}
	}
	return n
}

// FailurePoint is the step of plan p at whose end a failure with code
// happens, as in Azure: allocation fails while allocating, OS provisioning
// while the guest is set up, a start while starting, extensions once the OS
// is ready; an internal error at the first step. ok is false when the plan
// has no such step (a start of a VM that is still allocated cannot fail to
// allocate), so the fault does not apply.
func FailurePoint(p Plan, code string) (step int, ok bool) {
	last := func(match func(Step) bool) (int, bool) {
		for i := len(p.Steps) - 1; i >= 0; i-- {
			if match(p.Steps[i]) {
				return i, true
			}
		}
		return 0, false
	}
	switch code {
	case "AllocationFailed", "ZonalAllocationFailed", "OverConstrainedAllocationRequest":
		return allocationStep(p)
	case "OSProvisioningTimedOut", "OSProvisioningClientError":
		return last(func(s Step) bool { return s.OS == OSProvisioningInProgress })
	case "VMStartTimedOut":
		return last(func(s Step) bool { return s.Power == Starting })
	case "VMExtensionProvisioningError":
		if i, ok := last(func(s Step) bool { return s.OS == OSProvisioningComplete }); ok {
			return i, true
		}
		if i, ok := last(func(s Step) bool { return s.Power == Starting }); ok {
			return i, true
		}
		// An extension changed on a running VM fails as its update ends.
		if p.Kind == Update && len(p.Steps) > 0 {
			return len(p.Steps) - 1, true
		}
		return 0, false
	case "InternalOperationError":
		return 0, len(p.Steps) > 0
	}
	return 0, false
}

// allocationStep is the step during which a plan takes a host: the first
// step of a create, the allocation step of a start from deallocated, and
// the move to a new host of a redeploy.
func allocationStep(p Plan) (int, bool) {
	switch p.Kind {
	case Create:
		return 0, len(p.Steps) > 0
	case Start:
		if len(p.Steps) > 0 && p.Steps[0].Power == Deallocated {
			return 0, true
		}
	case Redeploy:
		for i, s := range p.Steps {
			if s.Power == Deallocating {
				return i, true
			}
		}
	}
	return 0, false
}

// NeedsAllocation reports whether plan p takes a host, so capacity applies.
func NeedsAllocation(p Plan) bool {
	_, ok := allocationStep(p)
	return ok
}

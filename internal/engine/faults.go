package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/lifecycle"
)

// Fault kinds.
const (
	// FaultError makes matching operations fail with an Azure error code.
	FaultError = "error"
	// FaultPowerStateUnavailable drops the PowerState entry from listAll
	// statusOnly answers, the intermittent gap Azure documents.
	FaultPowerStateUnavailable = "powerStateUnavailable"
	// FaultThrottle answers matching requests 429 with Retry-After.
	FaultThrottle = "throttle"
)

// Fault is an injected failure. Count, when set, is how many more times it
// fires; Probability, when set, is the chance that it fires on a match.
type Fault struct {
	ID          string  `json:"id"`
	Kind        string  `json:"kind"`
	Operation   string  `json:"operation,omitempty"` // an operation kind, or "*"
	Resource    string  `json:"resource,omitempty"`  // glob on the VM's name or ID; empty for all
	Error       string  `json:"error,omitempty"`     // with kind error: the Azure code
	Message     string  `json:"message,omitempty"`   // overrides Azure's message
	Count       *int    `json:"count,omitempty"`
	Probability float64 `json:"probability,omitempty"`
}

// FaultOpExtension is the operation name that matches extension installs.
const FaultOpExtension = "extension"

// settingFaults keeps the fault list across restarts.
const settingFaults = "faults"

// validate checks a fault and fills its defaults.
func (f *Fault) validate() error {
	bad := func(target, format string, args ...any) error {
		return &Error{Code: "InvalidParameter", Target: target, Message: fmt.Sprintf(format, args...)}
	}
	if f.Kind == "" {
		f.Kind = FaultError
	}
	switch f.Kind {
	case FaultError:
		if _, ok := lifecycle.FaultMessage(f.Error, ""); !ok {
			return bad("error", "The error '%s' cannot be injected. Supported errors are: %s.", f.Error, strings.Join(lifecycle.FaultCodes(), ", "))
		}
		if f.Operation == "" {
			return bad("operation", "Name the operation to fail (start, create, ...), or '*' for any.")
		}
	case FaultPowerStateUnavailable:
		if f.Probability == 0 {
			f.Probability = 1
		}
	case FaultThrottle:
		if f.Operation == "" {
			f.Operation = "*"
		}
	default:
		return bad("kind", "The fault kind '%s' is unknown. Kinds are 'error', 'powerStateUnavailable' and 'throttle'.", f.Kind)
	}
	if f.Operation != "" && f.Operation != "*" && f.Kind != FaultThrottle && !knownKind(f.Operation) && !strings.EqualFold(f.Operation, FaultOpExtension) {
		return bad("operation", "The operation '%s' is unknown.", f.Operation)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return bad("probability", "The probability must be between 0 and 1.")
	}
	if f.Count != nil && *f.Count < 1 {
		return bad("count", "The count must be at least 1; leave it out for a fault that lasts until removed.")
	}
	if f.Count != nil && f.Probability > 0 && f.Kind == FaultError {
		return bad("count", "Give a count or a probability, not both.")
	}
	if _, err := path.Match(armid.Fold(f.Resource), ""); err != nil {
		return bad("resource", "The resource pattern '%s' is not a valid glob.", f.Resource)
	}
	return nil
}

func knownKind(op string) bool {
	for _, k := range lifecycle.Kinds {
		if strings.EqualFold(string(k), op) {
			return true
		}
	}
	return false
}

// matches reports whether f applies to operation op on the resource with
// the given name and ID.
func (f *Fault) matches(op, name, id string) bool {
	if f.Operation != "*" && !strings.EqualFold(f.Operation, op) {
		return false
	}
	if f.Resource == "" {
		return true
	}
	pattern := armid.Fold(f.Resource)
	ok1, _ := path.Match(pattern, armid.Fold(name))
	ok2, _ := path.Match(pattern, armid.Fold(id))
	return ok1 || ok2 || strings.EqualFold(f.Resource, id)
}

// roll decides a probabilistic fault with a draw from the engine's random
// source; faults without a probability always fire.
func (f *Fault) roll(d *draws) bool { return f.Probability == 0 || d.Float64() < f.Probability }

// AddFault registers a fault; it returns it with its ID.
func (e *Engine) AddFault(ctx context.Context, f Fault) (Fault, error) {
	if err := f.validate(); err != nil {
		return Fault{}, err
	}
	unlock, err := e.lockWrite(ctx)
	if err != nil {
		return Fault{}, err
	}
	defer unlock()
	f.ID = e.cfg.NewID()
	faults := append(e.Faults(), f)
	t := e.begin(e.Now())
	t.setFaults(faults)
	if err := t.commit(ctx); err != nil {
		return Fault{}, err
	}
	return f, nil
}

// Faults lists the registered faults, oldest first.
func (e *Engine) Faults() []Fault {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]Fault(nil), e.faults...)
}

// RemoveFaults removes one fault by ID, or all of them when id is empty. It
// reports how many it removed.
func (e *Engine) RemoveFaults(ctx context.Context, id string) (int, error) {
	unlock, err := e.lockWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	var kept []Fault
	for _, f := range e.Faults() {
		if id != "" && !strings.EqualFold(f.ID, id) {
			kept = append(kept, f)
		}
	}
	removed := len(e.faults) - len(kept)
	if removed == 0 {
		return 0, nil
	}
	t := e.begin(e.Now())
	t.setFaults(kept)
	return removed, t.commit(ctx)
}

// setFaults replaces the fault list in this change.
func (t *tx) setFaults(faults []Fault) {
	if faults == nil {
		faults = []Fault{}
	}
	b, _ := json.Marshal(faults)
	if t.ch.Settings == nil {
		t.ch.Settings = map[string]string{}
	}
	t.ch.Settings[settingFaults] = string(b)
	t.faults = faults
	t.faultsChanged = true
}

// currentFaults is the fault list as this change sees it.
func (t *tx) currentFaults() []Fault {
	if t.faultsChanged {
		return t.faults
	}
	return t.e.faults
}

// injectFault picks the first error fault that matches op on v and fires,
// and sets it on req. consume is called once the plan shows the fault
// applies, to count it down.
func (t *tx) injectFault(op string, name, id string, req *lifecycle.Request) (consume func()) {
	for i, f := range t.currentFaults() {
		if f.Kind != FaultError || !f.matches(op, name, id) || !f.roll(t.e.draws) {
			continue
		}
		req.Fault = &lifecycle.Failure{Code: f.Error, Message: f.Message}
		if f.Count == nil {
			return func() {}
		}
		return func() { t.countDown(i) }
	}
	return nil
}

// countDown spends one use of fault i, removing it at zero.
func (t *tx) countDown(i int) {
	faults := append([]Fault(nil), t.currentFaults()...)
	n := *faults[i].Count - 1
	if n <= 0 {
		faults = append(faults[:i], faults[i+1:]...)
	} else {
		faults[i].Count = &n
	}
	t.setFaults(faults)
}

// ProbeFault reports whether a fault of kind (powerStateUnavailable or
// throttle) fires for operation op now, counting it down when it does.
func (e *Engine) ProbeFault(ctx context.Context, kind, op string) bool {
	e.mu.RLock()
	any := false
	for _, f := range e.faults {
		if f.Kind == kind {
			any = true
			break
		}
	}
	e.mu.RUnlock()
	if !any {
		return false
	}
	unlock, err := e.lockWrite(ctx)
	if err != nil {
		e.log.Error("probing a fault", "err", err)
		return false
	}
	defer unlock()
	t := e.begin(e.Now())
	for i, f := range t.currentFaults() {
		if f.Kind != kind || (f.Operation != "" && f.Operation != "*" && !strings.EqualFold(f.Operation, op)) || !f.roll(t.e.draws) {
			continue
		}
		if f.Count != nil {
			t.countDown(i)
			if err := t.commit(ctx); err != nil {
				e.log.Error("counting a fault down", "err", err)
			}
		}
		return true
	}
	return false
}

// Capacity limits the cores a region offers per VM size family, as Azure's
// regional capacity does; a missing entry means unlimited.
type Capacity map[string]map[string]int // region -> size family -> cores

var sizePattern = regexp.MustCompile(`^(?i)(?:standard|basic)_([a-z]+?)(\d+)(-\d+)?([a-z]*)(?:_(v\d+))?$`)

// SizeFamily splits a VM size into its family and vCPU count:
// Standard_D2s_v3 is 2 cores of family DSv3, as Azure's quota families name
// them (standardDSv3Family): the series letters, the feature letters (a, d,
// s, ...: each makes another family) and the version.
func SizeFamily(size string) (family string, cores int, ok bool) {
	m := sizePattern.FindStringSubmatch(size)
	if m == nil {
		return "", 0, false
	}
	cores, err := strconv.Atoi(m[2])
	if err != nil || cores == 0 {
		return "", 0, false
	}
	family = strings.ToUpper(m[1]+m[4]) + m[5]
	return family, cores, true
}

// overCapacity reports whether allocating v would take its region's size
// family past the configured cores. VMs that hold a host (allocated power
// states) or are taking one (a running plan that allocates) count.
func (t *tx) overCapacity(v *VM, spec VMSpec) bool {
	limits := t.e.cfg.Capacity[armid.Location(spec.Location)]
	family, cores, ok := SizeFamily(spec.VMSize)
	if limits == nil || !ok {
		return false
	}
	limit, limited := limits[family]
	if !limited {
		return false
	}
	used := 0
	seen := map[string]bool{}
	count := func(key string, other *VM) {
		seen[key] = true
		if other == nil || strings.EqualFold(other.ID, v.ID) || other.Spec.Location != spec.Location {
			return
		}
		fam, c, ok := SizeFamily(other.Spec.VMSize)
		if !ok || fam != family {
			return
		}
		run := other.Machine.Run
		if other.Machine.State.Power.Allocated() || (run != nil && run.Failure == nil && lifecycle.NeedsAllocation(run.Plan)) {
			used += c
		}
	}
	for k, o := range t.vms {
		count(k, o)
	}
	for k, o := range t.e.vms {
		if !seen[k] {
			count(k, o)
		}
	}
	return used+cores > limit
}

// CapacityLimit is the cores --capacity gives a region's size family;
// false when the family is not limited there.
func (e *Engine) CapacityLimit(region, family string) (int, bool) {
	n, ok := e.cfg.Capacity[armid.Location(region)][family]
	return n, ok
}

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	if _, err := path.Match(armid.FoldAll(f.Resource), ""); err != nil {
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
	pattern := armid.FoldAll(f.Resource)
	ok1, _ := path.Match(pattern, armid.FoldAll(name))
	ok2, _ := path.Match(pattern, armid.FoldAll(id))
	return ok1 || ok2 || strings.EqualFold(f.Resource, id)
}

// roll decides a probabilistic fault with a draw from the engine's random
// source; faults without a probability always fire.
func (f *Fault) roll(d *draws) bool { return f.Probability == 0 || d.Float64() < f.Probability }

// addFault registers a fault; it returns it with its ID.
func (e *Engine) addFault(ctx context.Context, f Fault) (Fault, error) {
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

// Faults lists the registered faults, oldest first, with what reads spent
// of their counts.
func (e *Engine) Faults() []Fault {
	e.mu.RLock()
	faults := e.faults
	e.mu.RUnlock()
	return e.uses.spent(faults)
}

// faultUses keeps the uses of counted faults that reads (ProbeFault) spent,
// in memory first: a read never takes the writer lock, so it never waits
// behind a write the disk holds. A goroutine writes the counts down after.
type faultUses struct {
	mu   sync.Mutex
	left map[string]int // by fault ID: the uses left, when below the fault's Count
	// n counts every use spent; writing is set while a goroutine writes
	// them down, which writers waits for (tests).
	n       atomic.Int64
	writing atomic.Bool
	writers sync.WaitGroup
}

// spent is faults with the uses spent taken from their counts, less those
// with none left. faults is not changed.
func (u *faultUses) spent(faults []Fault) []Fault {
	if len(faults) == 0 {
		return nil // the common case takes no lock shared by every request
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]Fault, 0, len(faults))
	for _, f := range faults {
		if f.Count != nil {
			if left, ok := u.left[f.ID]; ok && left < *f.Count {
				if left <= 0 {
					continue
				}
				f.Count = &left
			}
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// writeFaultUses writes the uses spent down, in the background, unless a
// goroutine doing so already will see them.
func (e *Engine) writeFaultUses() {
	e.uses.n.Add(1)
	if !e.uses.writing.CompareAndSwap(false, true) {
		return
	}
	e.uses.writers.Add(1)
	go func() {
		defer e.uses.writers.Done()
		for {
			seen := e.uses.n.Load()
			unlock, err := e.lockWrite(context.Background())
			if err == nil {
				t := e.begin(e.Now())
				t.setFaults(e.uses.spent(t.currentFaults()))
				err = t.commit(context.Background())
				unlock()
			}
			if err != nil {
				e.log.Error("counting a fault down", "err", err) // kept in memory; written with the next use
			}
			e.uses.writing.Store(false)
			if err != nil || e.uses.n.Load() == seen || !e.uses.writing.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// removeFaults removes one fault by ID, or all of them when id is empty. It
// reports how many it removed.
func (e *Engine) removeFaults(ctx context.Context, id string) (int, error) {
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
	return t.before().currentFaults()
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

// probeFault reports whether a fault of kind (powerStateUnavailable or
// throttle) fires for operation op now, counting it down when it does. It
// takes no writer lock: a read it decides never waits for a write.
func (e *Engine) probeFault(ctx context.Context, kind, op string) bool {
	e.mu.RLock()
	faults := e.faults // replaced on commit, never changed
	e.mu.RUnlock()
	if !anyFaultFor(faults, kind, op) {
		// Every ARM request probes: without a candidate it takes no lock
		// shared by all requests. The list is immutable, so the answer is
		// the one the locked loop below would give.
		return false
	}
	u := &e.uses
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, f := range faults {
		if !f.probes(kind, op) {
			continue
		}
		left := 0
		if f.Count != nil {
			left = *f.Count
			if l, ok := u.left[f.ID]; ok && l < left {
				left = l
			}
			if left <= 0 {
				continue
			}
		}
		if !f.roll(e.draws) {
			continue
		}
		if f.Count != nil {
			if u.left == nil {
				u.left = map[string]int{}
			}
			u.left[f.ID] = left - 1
			e.writeFaultUses()
		}
		return true
	}
	return false
}

// probes reports whether f is of kind and applies to the read op.
func (f *Fault) probes(kind, op string) bool {
	return f.Kind == kind && (f.Operation == "" || f.Operation == "*" || strings.EqualFold(f.Operation, op))
}

// anyFaultFor reports whether any of faults probes for kind and op.
func anyFaultFor(faults []Fault, kind, op string) bool {
	for i := range faults {
		if faults[i].probes(kind, op) {
			return true
		}
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
	t.eachVM(count)
	return used+cores > limit
}

// CapacityLimit is the cores --capacity gives a region's size family;
// false when the family is not limited there.
func (e *Engine) CapacityLimit(region, family string) (int, bool) {
	n, ok := e.cfg.Capacity[armid.Location(region)][family]
	return n, ok
}

package azemutest

import (
	"context"
	"math/big"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// Fault kinds. The zero Kind is an error.
const (
	// FaultError fails matching operations with an Azure error code, at the
	// step where Azure meets it (AllocationFailed at the allocation, ...).
	FaultError = "error"
	// FaultThrottle answers matching ARM requests 429 TooManyRequests with
	// Retry-After.
	FaultThrottle = "throttle"
	// FaultPowerStateUnavailable drops VMs' power states from listAll
	// statusOnly answers, an intermittent gap Azure documents.
	FaultPowerStateUnavailable = "powerStateUnavailable"
)

// Fault is an injected failure, as docs/faults.md describes it.
type Fault struct {
	ID   string // set by the server
	Kind string // FaultError (the default), FaultThrottle or FaultPowerStateUnavailable
	// Operation: for an error, the operation to fail (create, start,
	// deallocate, ..., or "*"); for a throttle, "*", an HTTP method or a
	// VM action.
	Operation string
	Resource  string // an error's glob on the VM's name or ARM ID; empty for all
	Error     string // an error's Azure code, such as AllocationFailed
	Message   string // replaces Azure's message
	// Count is how many more times the fault fires; 0 means until removed.
	Count int
	// Probability, when set, is the chance that the fault fires on a match.
	Probability float64
}

func (f Fault) engine() engine.Fault {
	ef := engine.Fault{ID: f.ID, Kind: f.Kind, Operation: f.Operation, Resource: f.Resource, Error: f.Error,
		Message: f.Message, Probability: f.Probability}
	if f.Count > 0 {
		n := f.Count
		ef.Count = &n
	}
	return ef
}

func faultOf(ef engine.Fault) Fault {
	f := Fault{ID: ef.ID, Kind: ef.Kind, Operation: ef.Operation, Resource: ef.Resource, Error: ef.Error,
		Message: ef.Message, Probability: ef.Probability}
	if ef.Count != nil {
		f.Count = *ef.Count
	}
	return f
}

// InjectFault registers a fault and returns its ID. A fault the server
// refuses (an unknown code, an operation it cannot fail) fails the test.
func (s *Server) InjectFault(f Fault) string {
	s.t.Helper()
	added, err := s.eng.Do(context.Background(), engine.AddFault{Fault: f.engine()})
	if err != nil {
		s.t.Fatalf("azemutest: InjectFault: %v", err)
	}
	return added.Fault.ID
}

// Faults are the registered faults, oldest first, with their counts left.
func (s *Server) Faults() []Fault {
	var out []Fault
	for _, f := range s.eng.Faults() {
		out = append(out, faultOf(f))
	}
	return out
}

// RemoveFault removes one fault; ClearFaults removes them all.
func (s *Server) RemoveFault(id string) {
	s.t.Helper()
	res, err := s.eng.Do(context.Background(), engine.RemoveFaults{ID: id})
	if err != nil || res.Removed == 0 {
		s.t.Fatalf("azemutest: RemoveFault(%s): removed %d: %v", id, res.Removed, err)
	}
}

// ClearFaults removes every registered fault.
func (s *Server) ClearFaults() {
	s.t.Helper()
	if _, err := s.eng.Do(context.Background(), engine.RemoveFaults{}); err != nil {
		s.t.Fatalf("azemutest: ClearFaults: %v", err)
	}
}

// Capacity is the cores each region offers per VM size family, as quotas
// name the families: {"westus": {"DSv3": 4}} lets two Standard_D2s_v3 VMs
// hold a host in westus at a time. A region or family left out is
// unlimited.
type Capacity map[string]map[string]int

func (c Capacity) engine() (engine.Capacity, error) { return engine.NewCapacity(c) }

// SetCapacity replaces the capacity (nil: unlimited). Allocations past it
// fail with AllocationFailed; operations already under way keep what they
// were given.
func (s *Server) SetCapacity(c Capacity) {
	s.t.Helper()
	if c == nil {
		s.eng.Do(context.Background(), engine.SetCapacity{Capacity: nil})
		return
	}
	ec, err := c.engine()
	if err != nil {
		s.t.Fatalf("azemutest: SetCapacity: %v", err)
	}
	s.eng.Do(context.Background(), engine.SetCapacity{Capacity: ec})
}

// HistoryEntry is one state change of a VM.
type HistoryEntry struct {
	Time              time.Time
	ProvisioningState string // Creating, Updating, Succeeded, Failed, Deleting, Deleted, ...
	Code              string // the status code, e.g. ProvisioningState/creating/osProvisioningInProgress
	PowerState        string // starting, running, stopping, stopped, deallocating, deallocated; "" before the first
	Billed            bool   // compute is charged from Time on
	Operation         string // the operation kind that made the change: create, deallocate, ...
	OperationID       string
}

// History is the state history of the VM with ARM ID vmID (see VMID),
// oldest first, also after the VM is deleted.
func (s *Server) History(vmID string) []HistoryEntry {
	s.t.Helper()
	var out []HistoryEntry
	err := s.eng.History(context.Background(), vmID, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), func(e store.Event) error {
		out = append(out, HistoryEntry{Time: e.At.UTC(), ProvisioningState: e.ProvisioningState, Code: e.ProvisioningCode,
			PowerState: e.PowerState, Billed: lifecycle.Power(e.PowerState).Billed(), Operation: e.OperationKind, OperationID: e.OperationID})
		return nil
	})
	if err != nil {
		s.t.Fatalf("azemutest: History(%s): %v", vmID, err)
	}
	return out
}

// Bill is what a window cost, metered per second from the state history.
type Bill struct {
	From, To time.Time
	Lines    []BillLine // by resource ID, then meter
}

// BillLine is one resource's use of one meter in the window.
type BillLine struct {
	ResourceID    string
	Name          string
	Kind          string // VM or Disk
	ResourceGroup string
	Location      string
	VMSize        string // VMs
	DiskTier      string // disks: P10, E10, S10, ...
	ParentID      string // a VM's scale set; a disk's VM
	Seconds       int64  // billed seconds
	// SecondsByPowerState are a VM's seconds in each power state, billed
	// or not ("none" while a create allocates).
	SecondsByPowerState map[string]int64
	Priced              bool     // false: no row of the price sheet prices it
	UnitPrice           *big.Rat // per hour (VMs) or per month of 730 hours (disks); nil when unpriced
	Currency            string
	Cost                *big.Rat // exact; nil when unpriced, never a zero that is not one
}

// Bill meters the window [from, to), per second; a to past the server's
// now is taken as now, as the billing API does.
func (s *Server) Bill(from, to time.Time) Bill {
	s.t.Helper()
	if now := s.Now(); to.After(now) {
		to = now
	}
	if !from.Before(to) {
		s.t.Fatalf("azemutest: Bill: the window %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	ms, err := s.eng.Meters(context.Background(), []billing.Window{{From: from, To: to}}, billing.PerSecond, "")
	if err != nil {
		s.t.Fatalf("azemutest: Bill: %v", err)
	}
	m := ms.Meter(0)
	b := Bill{From: m.From(), To: m.To()}
	for _, li := range billing.Rate(m.Usage(), s.srv.Prices()) {
		l := BillLine{ResourceID: li.ResourceID, Name: lastSegment(li.ResourceID), Kind: li.Kind.String(),
			ResourceGroup: li.Attrs.ResourceGroup, Location: li.MeterKey.Location, ParentID: li.Attrs.ParentID,
			Seconds: li.Seconds, Priced: li.Priced, Cost: li.Cost}
		if li.Kind == billing.VM {
			l.VMSize = li.Attrs.VMSize
			l.SecondsByPowerState = make(map[string]int64, len(li.ByPowerState))
			for ps, sec := range li.ByPowerState {
				if ps == "" {
					ps = "none"
				}
				l.SecondsByPowerState[ps] = sec
			}
		} else if tier, ok := billing.DiskTier(li.Attrs.DiskSKU, li.Attrs.DiskSizeGB); ok {
			l.DiskTier = tier
		}
		if li.Priced {
			l.UnitPrice, l.Currency = li.Price.ExactPrice(), li.Price.Currency
		}
		b.Lines = append(b.Lines, l)
	}
	return b
}

// Of is the lines of one resource, by ARM ID (case-insensitively).
func (b Bill) Of(resourceID string) []BillLine {
	var out []BillLine
	for _, l := range b.Lines {
		if strings.EqualFold(l.ResourceID, resourceID) {
			out = append(out, l)
		}
	}
	return out
}

// Cost sums the cost of the lines that match (all lines when match is nil).
// It is nil when any of them with billed time is unpriced: an unknown part
// makes the sum unknown.
func (b Bill) Cost(match func(BillLine) bool) *big.Rat {
	sum := new(big.Rat)
	for _, l := range b.Lines {
		if match != nil && !match(l) {
			continue
		}
		if !l.Priced {
			if l.Seconds > 0 {
				return nil
			}
			continue
		}
		sum.Add(sum, l.Cost)
	}
	return sum
}

// Total is the cost of every line; nil when any is unpriced.
func (b Bill) Total() *big.Rat { return b.Cost(nil) }

// Compute is the cost of the VMs' compute; nil when any is unpriced.
func (b Bill) Compute() *big.Rat { return b.Cost(func(l BillLine) bool { return l.Kind == "VM" }) }

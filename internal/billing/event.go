package billing

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/lifecycle"
)

// ResourceKind says what a billable resource is.
type ResourceKind int

// The billable resource kinds. The zero value is not a kind, so an event that
// forgets to set one is refused rather than guessed.
const (
	VM ResourceKind = iota + 1
	Disk
	PublicIP // a Microsoft.Network public IP address
)

func (k ResourceKind) String() string {
	switch k {
	case VM:
		return "VM"
	case Disk:
		return "Disk"
	case PublicIP:
		return "PublicIP"
	}
	return fmt.Sprintf("ResourceKind(%d)", int(k))
}

// Event is one state change of a billable resource, in history order.
type Event struct {
	ResourceID string // ARM ID; compared case-insensitively
	At         time.Time
	Kind       ResourceKind // VM, Disk or PublicIP
	// PowerState is a VM's power state from At on: "" (none yet, as while
	// allocating during create), "starting", "running", "stopping",
	// "stopped", "deallocating" or "deallocated". Case is ignored and a
	// "PowerState/" prefix is accepted. Disks and public IPs ignore it: they
	// bill while they exist.
	PowerState string
	// Deleted: the resource is gone from At on (a VM's deletion, a disk's
	// deletion, a public IP's deletion). A later event for the same ID is a
	// new resource of that name.
	Deleted bool
	// Attrs are the pricing attributes as of this event, a full snapshot. An
	// entirely zero Attrs keeps the attributes of the resource's previous
	// event, so a producer may send power changes without repeating them
	// (but not across a deletion: a re-created resource starts afresh).
	Attrs Attrs
}

// Attrs are the attributes of a resource that choose its meter, plus the ones
// reports group by.
type Attrs struct {
	Location    string // ARM region name, e.g. "westeurope" (case and spaces ignored)
	VMSize      string // VMs: e.g. "Standard_D2s_v3"
	OSType      string // VMs: "Linux" or "Windows" (from the image / osDisk.osType)
	LicenseType string // VMs: "Windows_Server" is Hybrid Benefit: Linux rate
	Priority    string // VMs: "Regular" (or ""), "Spot", "Low"
	DiskSKU     string // disks: Premium_LRS, StandardSSD_LRS, Standard_LRS
	DiskSizeGB  int    // disks: provisioned size in GiB

	// Public IPs (see PublicIPMeterName): sku.name "Standard" or "Basic";
	// sku.tier "Regional" (or "") or "Global"; publicIPAllocationMethod
	// "Static" or "Dynamic"; publicIPAddressVersion "IPv4" (or "") or "IPv6".
	IPSKU        string
	IPTier       string
	IPAllocation string
	IPVersion    string
	// IPReleased: a dynamic public IP without an address, as while its VM
	// is deallocated. Azure charges nothing for it then (the IP Addresses
	// pricing FAQ), so it does not bill until it has an address again.
	IPReleased bool

	// For grouping only; they never change the price.
	ResourceGroup  string
	SubscriptionID string
	// ParentID is what the resource is billed under: the scale set of a
	// VM, the VM a disk belongs to, the VM whose network interface holds a
	// public IP ("" for an unattached one).
	ParentID string
}

// Units of measure, as the Retail Prices API writes them.
const (
	UnitHour  = "1 Hour"
	UnitMonth = "1/Month"
)

// HoursPerMonth is the number of hours a monthly price is prorated over (A:
// Azure prices monthly meters at 730 hours a month).
const HoursPerMonth = 730

// OS values of a MeterKey.
const (
	OSLinux   = "Linux"
	OSWindows = "Windows"
)

// LicenseWindowsServer is the licenseType of Azure Hybrid Benefit for Windows
// Server: the VM brings its own licence and is billed the Linux rate.
const LicenseWindowsServer = "Windows_Server"

// MeterKey is what a price is looked up by. For VMs SKU is the ARM size and OS
// the rate's OS (Hybrid Benefit already folded into Linux); for disks SKU is
// the tier name ("P10", "E10", "S10") and OS is empty; for public IPs SKU is
// the meter name ("Standard IPv4 Static Public IP"), OS is empty and Unit
// is UnitHour. A key whose attributes
// could not be interpreted (an unknown OS, a disk SKU or size without a tier)
// carries them as given, matches no price row and so is reported unpriced.
type MeterKey struct {
	Location    string // lower-case ARM region name without spaces
	SKU         string
	OS          string // OSLinux, OSWindows, or as given; "" for disks
	Spot        bool   // priority Spot: rows whose meter name contains "Spot"
	LowPriority bool   // priority Low: rows whose meter name contains "Low Priority"
	Unit        string // UnitHour or UnitMonth
}

func (k MeterKey) String() string {
	var b strings.Builder
	b.WriteString(k.Location)
	b.WriteByte('/')
	b.WriteString(k.SKU)
	if k.OS != "" {
		b.WriteByte('/')
		b.WriteString(k.OS)
	}
	if k.Spot {
		b.WriteString("/Spot")
	}
	if k.LowPriority {
		b.WriteString("/Low Priority")
	}
	b.WriteString(" per ")
	b.WriteString(k.Unit)
	return b.String()
}

// compareKeys orders meter keys for reports.
func compareKeys(a, b MeterKey) int {
	if c := cmp.Compare(a.Unit, b.Unit); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Location, b.Location); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SKU, b.SKU); c != 0 {
		return c
	}
	if c := cmp.Compare(a.OS, b.OS); c != 0 {
		return c
	}
	if c := cmp.Compare(boolInt(a.Spot), boolInt(b.Spot)); c != 0 {
		return c
	}
	return cmp.Compare(boolInt(a.LowPriority), boolInt(b.LowPriority))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// KeyFor gives the meter a resource of kind k with attributes a accrues on.
// It fails only for a VM priority that is none of Regular, Spot and Low.
func KeyFor(k ResourceKind, a Attrs) (MeterKey, error) {
	loc := normLocation(a.Location)
	switch k {
	case VM:
		key := MeterKey{Location: loc, SKU: a.VMSize, Unit: UnitHour}
		switch {
		case strings.EqualFold(a.OSType, OSLinux):
			key.OS = OSLinux
		case strings.EqualFold(a.OSType, OSWindows):
			key.OS = OSWindows
			if strings.EqualFold(a.LicenseType, LicenseWindowsServer) {
				key.OS = OSLinux
			}
		default:
			key.OS = a.OSType
		}
		switch {
		case a.Priority == "" || strings.EqualFold(a.Priority, "Regular"):
		case strings.EqualFold(a.Priority, "Spot"):
			key.Spot = true
		case strings.EqualFold(a.Priority, "Low"):
			key.LowPriority = true
		default:
			return MeterKey{}, fmt.Errorf("billing: unknown VM priority %q", a.Priority)
		}
		return key, nil
	case Disk:
		key := MeterKey{Location: loc, SKU: a.DiskSKU, Unit: UnitMonth}
		if tier, ok := DiskTier(a.DiskSKU, a.DiskSizeGB); ok {
			key.SKU = tier
		}
		return key, nil
	case PublicIP:
		return MeterKey{Location: loc, SKU: PublicIPMeterName(a), Unit: UnitHour}, nil
	}
	return MeterKey{}, fmt.Errorf("billing: unknown resource kind %v", k)
}

// normLocation folds a region name to its ARM form: lower case, no spaces
// ("West Europe" and "westeurope" are the same region).
func normLocation(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || ('A' <= c && c <= 'Z') {
			return strings.ToLower(strings.ReplaceAll(s, " ", ""))
		}
	}
	return s
}

// Power states, in the order of DESIGN.md's table.
type powerState uint8

const (
	psNone powerState = iota
	psStarting
	psRunning
	psStopping
	psStopped
	psDeallocating
	psDeallocated
	numPowerStates
)

var powerStateNames = [numPowerStates]string{"", "starting", "running", "stopping", "stopped", "deallocating", "deallocated"}

// billed reports whether compute accrues in the state: while the VM holds
// its host allocation, as the lifecycle defines it (DESIGN.md 1.3; a
// Stopped VM is still allocated, so it is billed).
func (p powerState) billed() bool { return lifecycle.Power(powerStateNames[p]).Billed() }

// BilledPowerState reports whether compute accrues in the named power state.
func BilledPowerState(s string) bool {
	p, ok := parsePowerState(s)
	return ok && p.billed()
}

// Hours of a VM's time, in the three columns a bill shows them: billed
// while running (starting, running, stopping), billed while stopped, and
// not billed (allocating, deallocating, deallocated).
type Hours struct {
	Running, Stopped, Unbilled int64 // seconds
}

// AddPowerStates adds seconds by power state, as Usage.ByPowerState has them.
func (h *Hours) AddPowerStates(byPS map[string]int64) {
	for ps, s := range byPS {
		switch {
		case !BilledPowerState(ps):
			h.Unbilled += s
		case lifecycle.Power(ps) == lifecycle.Stopped:
			h.Stopped += s
		default:
			h.Running += s
		}
	}
}

func parsePowerState(s string) (powerState, bool) {
	switch s { // the canonical spellings, without folding
	case "":
		return psNone, true
	case "running":
		return psRunning, true
	case "stopped":
		return psStopped, true
	case "deallocated":
		return psDeallocated, true
	}
	if len(s) > len("PowerState/") && strings.EqualFold(s[:len("PowerState/")], "PowerState/") {
		s = s[len("PowerState/"):]
	}
	for i, name := range powerStateNames {
		if strings.EqualFold(s, name) {
			return powerState(i), true
		}
	}
	return psNone, false
}

package armapi

import (
	"context"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// meterWindows meters several windows in one pass over the history (see
// Engine.Meters).
func (s *Server) meterWindows(ctx context.Context, wins []billing.Window, g billing.Granularity, scope string) (*billing.Meters, error) {
	return s.eng.Meters(ctx, wins, g, scope)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// scopePrefix is the ID prefix of a subscription or resource group scope.
func scopePrefix(sub, rg string) string {
	switch {
	case sub == "":
		return ""
	case rg == "":
		return "/subscriptions/" + sub + "/"
	}
	return armid.ResourceGroupID(sub, rg) + "/"
}

// Names that Azure's usage data gives the kinds of billed resources (A:
// cost data lower-cases resource types and IDs; a public IP's meter
// category is "Virtual Network", its service family Networking).
const (
	costTypeVM       = "microsoft.compute/virtualmachines"
	costTypeDisk     = "microsoft.compute/disks"
	costTypePublicIP = "microsoft.network/publicipaddresses"
	categoryVM       = "Virtual Machines"
	categoryDisk     = "Storage"
	categoryPublicIP = "Virtual Network"
	armTypePublicIP  = "Microsoft.Network/publicIPAddresses"
)

// billedItem is a rated line item with the names reports show it by.
type billedItem struct {
	billing.LineItem
	ID              string // lower case, as Azure's cost data has resource IDs
	Name            string
	Subscription    string // lower case
	Group           string // as in the ID
	ARMType         string // canonical ARM type, e.g. Microsoft.Compute/virtualMachines
	CostType        string // costTypeVM, costTypeDisk, costTypePublicIP
	Category        string // MeterCategory and ServiceName
	ServiceCategory string // FOCUS ServiceCategory: Compute, Storage or Networking
	MeterName       string
}

// lowerKey is id canonical and lower case throughout, as cost data writes
// IDs and as reports order them.
func lowerKey(id string) string { return armid.FoldAll(armid.Key(id)) }

func newBilledItem(li billing.LineItem) billedItem {
	b := billedItem{LineItem: li, ID: lowerKey(li.ResourceID), Subscription: armid.Fold(li.Attrs.SubscriptionID),
		Group: li.Attrs.ResourceGroup, MeterName: meterName(li)}
	if id, err := armid.Parse(li.ResourceID); err == nil {
		b.Name, b.Subscription, b.Group = id.Name(), armid.Fold(id.SubscriptionID), id.ResourceGroup
	} else if i := strings.LastIndexByte(li.ResourceID, '/'); i >= 0 {
		b.Name = li.ResourceID[i+1:]
	}
	switch li.Kind {
	case billing.Disk:
		b.ARMType, b.CostType, b.Category, b.ServiceCategory = engine.DiskType, costTypeDisk, categoryDisk, "Storage"
	case billing.PublicIP:
		b.ARMType, b.CostType, b.Category, b.ServiceCategory = armTypePublicIP, costTypePublicIP, categoryPublicIP, "Networking"
	default:
		b.ARMType, b.CostType, b.Category, b.ServiceCategory = "Microsoft.Compute/virtualMachines", costTypeVM, categoryVM, "Compute"
		// A Uniform scale set instance is metered like a VM, under its own
		// type and name (<set>_<instance ID>); its parent is the set.
		if set, inst, ok := uniformInstance(li.ResourceID); ok {
			b.ARMType, b.Name = engine.ScaleSetType+"/virtualMachines", set+"_"+inst
		}
	}
	return b
}

// uniformInstance splits .../virtualMachineScaleSets/{set}/virtualMachines/{id}.
func uniformInstance(id string) (set, inst string, ok bool) {
	parts := strings.Split(id, "/")
	n := len(parts)
	if n < 4 || !strings.EqualFold(parts[n-4], "virtualMachineScaleSets") || !strings.EqualFold(parts[n-2], "virtualMachines") {
		return "", "", false
	}
	return parts[n-3], parts[n-1], true
}

// meterName is the Meter dimension of a line item: the price row's
// meterName when a row prices it (what Azure's usage data shows), else the
// same name built by Azure's rule: a VM size without its tier prefix and
// with spaces ("Standard_D2s_v3" is "D2s v3", plus " Spot" or " Low
// Priority"), a disk tier with " LRS Disk" ("P10 LRS Disk"); a public IP's
// meter key is its meter name ("Standard IPv4 Static Public IP").
func meterName(li billing.LineItem) string {
	if li.Priced && li.Price.MeterName != "" {
		return li.Price.MeterName
	}
	k := li.MeterKey
	if li.Kind == billing.PublicIP {
		return k.SKU
	}
	if li.Kind == billing.Disk {
		if _, ok := billing.DiskTierSizeGB(k.SKU); ok {
			return k.SKU + " LRS Disk"
		}
		return k.SKU
	}
	n := k.SKU
	for _, p := range []string{"Standard_", "Basic_"} {
		if hasPrefixFold(n, p) {
			n = n[len(p):]
			break
		}
	}
	n = strings.ReplaceAll(n, "_", " ")
	switch {
	case k.Spot:
		n += " Spot"
	case k.LowPriority:
		n += " Low Priority"
	}
	return n
}

// UsageItem is one line item as GET /_azemu/billing/usage shows it.
type UsageItem struct {
	ResourceID          string           `json:"resourceId"`
	Name                string           `json:"name"`
	Kind                string           `json:"kind"` // VM, Disk or PublicIP
	ResourceType        string           `json:"resourceType"`
	SubscriptionID      string           `json:"subscriptionId"`
	ResourceGroup       string           `json:"resourceGroup"`
	Location            string           `json:"location"`
	ParentID            string           `json:"parentId,omitempty"`
	VMSize              string           `json:"vmSize,omitempty"`
	OSType              string           `json:"osType,omitempty"`
	LicenseType         string           `json:"licenseType,omitempty"`
	Priority            string           `json:"priority,omitempty"`
	DiskSKU             string           `json:"diskSku,omitempty"`
	DiskSizeGB          int              `json:"diskSizeGB,omitempty"`
	DiskTier            string           `json:"diskTier,omitempty"`
	IPSKU               string           `json:"ipSku,omitempty"`
	IPTier              string           `json:"ipTier,omitempty"`
	IPAllocation        string           `json:"ipAllocationMethod,omitempty"`
	IPVersion           string           `json:"ipVersion,omitempty"`
	Meter               string           `json:"meter"`
	MeterName           string           `json:"meterName"`
	MeterCategory       string           `json:"meterCategory"`
	ServiceName         string           `json:"serviceName"`
	ServiceCategory     string           `json:"serviceCategory"`
	Seconds             int64            `json:"seconds"`
	SecondsByPowerState map[string]int64 `json:"secondsByPowerState,omitempty"`
	BilledFrom          *time.Time       `json:"billedFrom,omitempty"`
	BilledTo            *time.Time       `json:"billedTo,omitempty"`
	Unit                string           `json:"unit"`
	Quantity            string           `json:"quantity"` // seconds in units of Unit
	Priced              bool             `json:"priced"`
	// The price and cost are null when no price row prices the meter:
	// unpriced, never zero.
	UnitPrice          *string         `json:"unitPrice"`
	UnitPriceNumber    *billing.Number `json:"unitPriceNumber"`
	Currency           *string         `json:"currency"`
	Cost               *string         `json:"cost"`       // decimal, see billing.Decimal
	CostExact          *string         `json:"costExact"`  // the exact rational, "p/q"
	CostNumber         *billing.Number `json:"costNumber"` // the same decimal as a JSON number
	PriceSource        string          `json:"priceSource,omitempty"`
	PriceCapturedAt    string          `json:"priceCapturedAt,omitempty"`
	ProductName        string          `json:"productName,omitempty"`
	MeterID            string          `json:"meterId,omitempty"`
	EffectiveStartDate string          `json:"effectiveStartDate,omitempty"`
}

// powerStateKey names the meter's "no power state yet" (allocating during
// create) in JSON, where an empty key would be easy to miss.
func powerStateKey(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func newUsageItem(b billedItem) UsageItem {
	a := b.Attrs
	u := UsageItem{
		ResourceID: b.ResourceID, Name: b.Name, Kind: b.Kind.String(), ResourceType: b.ARMType,
		SubscriptionID: b.Subscription, ResourceGroup: b.Group, Location: b.MeterKey.Location, ParentID: a.ParentID,
		Meter: b.MeterKey.String(), MeterName: b.MeterName, MeterCategory: b.Category, ServiceName: b.Category,
		ServiceCategory: b.ServiceCategory, Seconds: b.Seconds, Unit: b.MeterKey.Unit,
		Quantity: billing.Decimal(billing.Quantity(b.Seconds, b.MeterKey.Unit), 10),
		Priced:   b.Priced,
	}
	switch b.Kind {
	case billing.VM:
		u.VMSize, u.OSType, u.LicenseType, u.Priority = a.VMSize, a.OSType, a.LicenseType, a.Priority
		u.SecondsByPowerState = make(map[string]int64, len(b.ByPowerState))
		for k, v := range b.ByPowerState {
			u.SecondsByPowerState[powerStateKey(k)] = v
		}
	case billing.PublicIP:
		u.IPSKU, u.IPTier, u.IPAllocation, u.IPVersion = a.IPSKU, a.IPTier, a.IPAllocation, a.IPVersion
	default:
		u.DiskSKU, u.DiskSizeGB = a.DiskSKU, a.DiskSizeGB
		if tier, ok := billing.DiskTier(a.DiskSKU, a.DiskSizeGB); ok {
			u.DiskTier = tier
		}
	}
	if !b.Start.IsZero() {
		from, to := b.Start, b.End
		u.BilledFrom, u.BilledTo = &from, &to
	}
	if b.Priced {
		p := b.Price
		price := p.ExactPrice()
		up, upn, cur := billing.Decimal(price, billing.DecimalPlaces), billing.NumberOf(price), p.Currency
		cost, exact, num := billing.Decimal(b.Cost, billing.DecimalPlaces), b.Cost.String(), billing.NumberOf(b.Cost)
		u.UnitPrice, u.UnitPriceNumber, u.Currency = &up, &upn, &cur
		u.Cost, u.CostExact, u.CostNumber = &cost, &exact, &num
		u.PriceSource, u.PriceCapturedAt, u.ProductName, u.MeterID, u.EffectiveStartDate = p.Source, p.CapturedAt, p.ProductName, p.MeterID, p.EffectiveStartDate
	}
	return u
}

// MoneyTotal is a sum of costs in one currency.
type MoneyTotal struct {
	Cost       string         `json:"cost"`
	CostNumber billing.Number `json:"costNumber"`
}

func newMoneyTotal(r *big.Rat) MoneyTotal {
	return MoneyTotal{Cost: billing.Decimal(r, billing.DecimalPlaces), CostNumber: billing.NumberOf(r)}
}

// billingUsage serves GET /_azemu/billing/usage: the rated line items of a
// window, by default the current month up to now.
//
// Query: from, to (RFC 3339; to is clamped to now: the meter would
// otherwise extrapolate today's states into the future), granularity
// (second, the default, or minute), subscription, resourceGroup.
func (s *Server) billingUsage(r *request) (reply, error) {
	q := r.URL.Query()
	now := s.eng.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := now
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return reply{}, invalidParameter(p.name, "The value '%s' of parameter '%s' is not an RFC 3339 time such as 2026-01-01T00:00:00Z.", v, p.name)
			}
			*p.t = t.UTC()
		}
	}
	if !from.Before(to) {
		return reply{}, invalidParameter("from", "The window is empty: 'from' (%s) must be before 'to' (%s).", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.After(now) {
		to = now
	}
	if from.After(to) {
		from = to
	}
	g := billing.PerSecond
	switch strings.ToLower(q.Get("granularity")) {
	case "", "second":
	case "minute":
		g = billing.PerMinute
	default:
		return reply{}, invalidParameter("granularity", "The granularity '%s' is not supported: use 'second' or 'minute'.", q.Get("granularity"))
	}
	sub, rg := q.Get("subscription"), q.Get("resourceGroup")
	if rg != "" && sub == "" {
		return reply{}, invalidParameter("resourceGroup", "A resource group needs its subscription: add 'subscription'.")
	}
	ms, err := s.meterWindows(r.Context(), []billing.Window{{From: from, To: to}}, g, scopePrefix(sub, rg))
	if err != nil {
		return reply{}, err
	}
	m := ms.Meter(0)
	items := billing.Rate(m.Usage(), s.prices)
	value := make([]UsageItem, 0, len(items))
	unpriced := 0
	for _, li := range items {
		value = append(value, newUsageItem(newBilledItem(li)))
		if !li.Priced && li.Seconds > 0 {
			unpriced++
		}
	}
	totals, _ := billing.Totals(items)
	out := map[string]MoneyTotal{}
	for cur, t := range totals {
		out[cur] = newMoneyTotal(t)
	}
	gname := "second"
	if g == billing.PerMinute {
		gname = "minute"
	}
	return ok(UsageAnswer{From: m.From().Format(time.RFC3339), To: m.To().Format(time.RFC3339),
		Granularity: gname, Totals: out, Unpriced: unpriced, Value: value, Bill: newBillView(billing.BillByVM(items))})
}

// UsageAnswer is the answer of GET /_azemu/billing/usage; `azemu bill`
// reads it.
type UsageAnswer struct {
	From        string                `json:"from"`
	To          string                `json:"to"`
	Granularity string                `json:"granularity"` // second or minute
	Totals      map[string]MoneyTotal `json:"totals"`      // by currency
	// Line items with billed time that no price row prices: their cost is
	// unknown, and the totals leave them out.
	Unpriced int         `json:"unpriced"`
	Value    []UsageItem `json:"value"`
	Bill     BillView    `json:"bill"`
}

// BillView is the window's bill by VM, as `azemu bill` prints it.
type BillView struct {
	VMs       []VMBill     `json:"vms"`
	Orphans   []OrphanDisk `json:"orphanDisks"`     // disks no VM of the window owns
	OrphanIPs []OrphanIP   `json:"orphanPublicIPs"` // public IPs no VM of the window owns
	Costs
}

// Costs are a bill's compute, disks, public IPs and their total.
type Costs struct {
	Compute billing.Amount `json:"compute"`
	Disks   billing.Amount `json:"disks"`
	Network billing.Amount `json:"network"` // public IPs
	Total   billing.Amount `json:"total"`
}

// BilledResource names a resource of the bill.
type BilledResource struct {
	ResourceID    string `json:"resourceId"`
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	Location      string `json:"location"`
}

// VMBill is one VM's line of the bill.
type VMBill struct {
	BilledResource
	Sizes           []string `json:"sizes"`
	RunningSeconds  int64    `json:"runningSeconds"` // billed: starting, running, stopping
	StoppedSeconds  int64    `json:"stoppedSeconds"` // billed
	UnbilledSeconds int64    `json:"unbilledSeconds"`
	Costs
}

// OrphanDisk is a disk no VM of the window owns.
type OrphanDisk struct {
	BilledResource
	Tier string         `json:"tier"` // the billing tier, else the SKU
	Cost billing.Amount `json:"cost"`
}

// OrphanIP is a public IP no VM of the window owns.
type OrphanIP struct {
	BilledResource
	Meter string         `json:"meter"` // its meter name, e.g. Standard IPv4 Static Public IP
	Cost  billing.Amount `json:"cost"`
}

func newBillView(b billing.Bill) BillView {
	out := BillView{VMs: make([]VMBill, 0, len(b.VMs)), Orphans: []OrphanDisk{}, OrphanIPs: []OrphanIP{},
		Costs: Costs{Compute: b.Compute, Disks: b.Disks, Network: b.Network, Total: b.Total}}
	for _, v := range b.VMs {
		bi := newBilledItem(billing.LineItem{Usage: billing.Usage{ResourceID: v.ResourceID, Kind: billing.VM, Attrs: v.Attrs}})
		out.VMs = append(out.VMs, VMBill{BilledResource: BilledResource{ResourceID: v.ResourceID, Name: bi.Name, ResourceGroup: bi.Group,
			Location: v.MeterKey.Location}, Sizes: v.Sizes, RunningSeconds: v.Hours.Running, StoppedSeconds: v.Hours.Stopped,
			UnbilledSeconds: v.Hours.Unbilled, Costs: Costs{Compute: v.Compute, Disks: v.Disks, Network: v.Network, Total: v.Total}})
	}
	for _, li := range b.Orphans {
		bi := newBilledItem(li)
		var cost billing.Amount
		cost.AddItem(li)
		res := BilledResource{ResourceID: li.ResourceID, Name: bi.Name, ResourceGroup: bi.Group, Location: li.MeterKey.Location}
		if li.Kind == billing.PublicIP {
			out.OrphanIPs = append(out.OrphanIPs, OrphanIP{BilledResource: res, Meter: bi.MeterName, Cost: cost})
			continue
		}
		tier, ok := billing.DiskTier(li.Attrs.DiskSKU, li.Attrs.DiskSizeGB)
		if !ok {
			tier = li.Attrs.DiskSKU
		}
		out.Orphans = append(out.Orphans, OrphanDisk{BilledResource: res, Tier: tier, Cost: cost})
	}
	return out
}

// IdleRef names a VM of the idle report.
type IdleRef struct {
	ResourceID     string `json:"resourceId"`
	Name           string `json:"name"`
	SubscriptionID string `json:"subscriptionId"`
	ResourceGroup  string `json:"resourceGroup"`
	Location       string `json:"location"`
	VMSize         string `json:"vmSize"`
}

func idleRef(v *engine.VM) IdleRef {
	return IdleRef{ResourceID: v.ID, Name: v.Name, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup,
		Location: v.Spec.Location, VMSize: v.Spec.VMSize}
}

// IdleVM is a VM that is Stopped but still allocated, and so still billed.
type IdleVM struct {
	IdleRef
	OSType       string     `json:"osType,omitempty"`
	LicenseType  string     `json:"licenseType,omitempty"`
	Priority     string     `json:"priority,omitempty"`
	PowerState   string     `json:"powerState"`
	StoppedSince *time.Time `json:"stoppedSince,omitempty"`
	Meter        string     `json:"meter"`
	MeterName    string     `json:"meterName"`
	Priced       bool       `json:"priced"`
	Currency     *string    `json:"currency"`
	// HourlyRate is what the VM costs per hour while it stays Stopped, and
	// MonthlyCost the same over a month of 730 hours: what a deallocate
	// would save. Null when unpriced.
	HourlyRate        *string         `json:"hourlyRate"`
	HourlyRateNumber  *billing.Number `json:"hourlyRateNumber"`
	MonthlyCost       *string         `json:"monthlyCost"`
	MonthlyCostNumber *billing.Number `json:"monthlyCostNumber"`
	PriceSource       string          `json:"priceSource,omitempty"`
	// StillBilled is what its disks and public IPs cost: a deallocate does
	// not stop them.
	StillBilled StillBilled `json:"stillBilled"`
}

// StillBilled is what a VM's disks and public IPs cost per hour now, and
// over a month of 730 hours: they bill in every power state of the VM,
// deallocated included, until they are deleted.
type StillBilled struct {
	Disks     int `json:"disks"`
	PublicIPs int `json:"publicIPs"`
	StillRates
}

// StillRates are the amounts of StillBilled.
type StillRates struct {
	DisksRate billing.Amount `json:"disksPerHour"`
	IPsRate   billing.Amount `json:"publicIPsPerHour"`
	PerHour   billing.Amount `json:"perHour"`
	PerMonth  billing.Amount `json:"perMonth"`
}

func (sb *StillBilled) add(kind billing.ResourceKind, rate *big.Rat, currency string) {
	if kind == billing.PublicIP {
		sb.PublicIPs++
		sb.IPsRate.Add(rate, currency)
	} else {
		sb.Disks++
		sb.DisksRate.Add(rate, currency)
	}
	sb.PerHour.Add(rate, currency)
	if rate == nil {
		sb.PerMonth.Add(nil, currency)
	} else {
		sb.PerMonth.Add(billing.CostOver(rate, billing.HoursPerMonth*3600), currency)
	}
}

// DeallocatedVM is a VM that is deallocated: its compute no longer bills,
// its disks and public IPs still do.
type DeallocatedVM struct {
	IdleRef
	PowerState       string      `json:"powerState"`
	DeallocatedSince *time.Time  `json:"deallocatedSince,omitempty"`
	StillBilled      StillBilled `json:"stillBilled"`
}

// stillBilled gives, by lower-case VM ID, what the disks and public IPs
// that name a VM as their parent cost per hour now, from the history (the
// resources billing in the last second), within an ID prefix.
func (s *Server) stillBilled(ctx context.Context, prefix string) (map[string]*StillBilled, error) {
	now := s.eng.Now().UTC()
	ms, err := s.meterWindows(ctx, []billing.Window{{From: now.Add(-time.Second), To: now}}, billing.PerSecond, prefix)
	if err != nil {
		return nil, err
	}
	out := map[string]*StillBilled{}
	for _, u := range ms.Meter(0).Usage() {
		if u.Kind == billing.VM || u.Attrs.ParentID == "" || u.Seconds == 0 {
			continue
		}
		vm := armid.Key(u.Attrs.ParentID)
		sb := out[vm]
		if sb == nil {
			sb = &StillBilled{}
			out[vm] = sb
		}
		rate, p, ok := billing.HourlyRate(s.prices, u.Kind, u.Attrs)
		if !ok {
			rate = nil
		}
		sb.add(u.Kind, rate, p.Currency)
	}
	return out, nil
}

// billingIdle serves GET /_azemu/billing/idle[?subscription=&resourceGroup=]:
// the VMs that are Stopped (not deallocated) with no operation under way,
// with their compute rate, which is what a deallocate stops; and the VMs
// that are deallocated, which still cost their disks and public IPs (for
// each, stillBilled says what those cost).
func (s *Server) billingIdle(r *request) (reply, error) {
	q := r.URL.Query()
	prefix := scopePrefix(q.Get("subscription"), q.Get("resourceGroup"))
	if q.Get("resourceGroup") != "" && q.Get("subscription") == "" {
		return reply{}, invalidParameter("resourceGroup", "A resource group needs its subscription: add 'subscription'.")
	}
	attached, err := s.stillBilled(r.Context(), prefix)
	if err != nil {
		return reply{}, err
	}
	stillOf := func(id string) StillBilled {
		if sb := attached[armid.Key(id)]; sb != nil {
			return *sb
		}
		return StillBilled{}
	}
	vms, _ := s.eng.ListVMs(func(v *engine.VM) bool {
		return v.Machine.State.Power == lifecycle.Stopped && v.Machine.Run == nil && (prefix == "" || hasPrefixFold(v.ID, prefix))
	}, "", 0)
	value := make([]IdleVM, 0, len(vms))
	hourly, monthly := map[string]*big.Rat{}, map[string]*big.Rat{}
	unpriced := 0
	for _, v := range vms {
		attrs := billing.Attrs{Location: v.Spec.Location, VMSize: v.Spec.VMSize, OSType: v.Spec.OSType,
			LicenseType: v.Spec.LicenseType, Priority: v.Spec.Priority}
		it := IdleVM{IdleRef: idleRef(v), OSType: v.Spec.OSType, LicenseType: v.Spec.LicenseType,
			Priority: v.Spec.Priority, PowerState: string(v.Machine.State.Power), StillBilled: stillOf(v.ID)}
		if since, ok := s.enteredSince(r.Context(), v.ID, lifecycle.Stopped); ok {
			it.StoppedSince = &since
		}
		key, err := billing.KeyFor(billing.VM, attrs)
		if err != nil {
			unpriced++
			value = append(value, it)
			continue
		}
		li := billing.LineItem{Usage: billing.Usage{Kind: billing.VM, MeterKey: key}}
		it.Meter = key.String()
		if rate, p, ok := billing.HourlyRate(s.prices, billing.VM, attrs); ok {
			li.Priced, li.Price = true, p
			month := billing.CostOver(rate, billing.HoursPerMonth*3600)
			cur, h, hn, m, mn := p.Currency, billing.Decimal(rate, billing.DecimalPlaces), billing.NumberOf(rate), billing.Decimal(month, billing.DecimalPlaces), billing.NumberOf(month)
			it.Priced, it.Currency, it.HourlyRate, it.HourlyRateNumber, it.MonthlyCost, it.MonthlyCostNumber = true, &cur, &h, &hn, &m, &mn
			it.PriceSource = p.Source
			for _, acc := range []struct {
				m map[string]*big.Rat
				v *big.Rat
			}{{hourly, rate}, {monthly, month}} {
				if acc.m[cur] == nil {
					acc.m[cur] = new(big.Rat)
				}
				acc.m[cur].Add(acc.m[cur], acc.v)
			}
		} else {
			unpriced++
		}
		it.MeterName = meterName(li)
		value = append(value, it)
	}
	totals := map[string]map[string]MoneyTotal{}
	for cur := range hourly {
		totals[cur] = map[string]MoneyTotal{
			"hourly":  newMoneyTotal(hourly[cur]),
			"monthly": newMoneyTotal(monthly[cur]),
		}
	}
	sort.SliceStable(value, func(i, j int) bool {
		return lowerKey(value[i].ResourceID) < lowerKey(value[j].ResourceID)
	})
	deallocated, _ := s.eng.ListVMs(func(v *engine.VM) bool {
		return v.Machine.State.Power == lifecycle.Deallocated && v.Machine.Run == nil && (prefix == "" || hasPrefixFold(v.ID, prefix))
	}, "", 0)
	dvalue := make([]DeallocatedVM, 0, len(deallocated))
	var dtotal StillBilled
	for _, v := range deallocated {
		d := DeallocatedVM{IdleRef: idleRef(v), PowerState: string(v.Machine.State.Power), StillBilled: stillOf(v.ID)}
		if since, ok := s.enteredSince(r.Context(), v.ID, lifecycle.Deallocated); ok {
			d.DeallocatedSince = &since
		}
		dtotal.Disks += d.StillBilled.Disks
		dtotal.PublicIPs += d.StillBilled.PublicIPs
		dtotal.DisksRate.Merge(d.StillBilled.DisksRate)
		dtotal.IPsRate.Merge(d.StillBilled.IPsRate)
		dtotal.PerHour.Merge(d.StillBilled.PerHour)
		dtotal.PerMonth.Merge(d.StillBilled.PerMonth)
		dvalue = append(dvalue, d)
	}
	sort.SliceStable(dvalue, func(i, j int) bool {
		return lowerKey(dvalue[i].ResourceID) < lowerKey(dvalue[j].ResourceID)
	})
	return ok(IdleAnswer{Now: s.eng.Now().UTC().Format(time.RFC3339), HoursPerMonth: billing.HoursPerMonth,
		Totals: totals, Unpriced: unpriced, Value: value, Deallocated: dvalue, DeallocatedTotal: dtotal})
}

// IdleAnswer is the answer of GET /_azemu/billing/idle; `azemu bill --idle`
// reads it.
type IdleAnswer struct {
	Now           string `json:"now"`
	HoursPerMonth int    `json:"hoursPerMonth"`
	// Totals by currency, then "hourly" and "monthly".
	Totals   map[string]map[string]MoneyTotal `json:"totals"`
	Unpriced int                              `json:"unpriced"`
	Value    []IdleVM                         `json:"value"`
	// Deallocated VMs cost no compute but still cost their disks and
	// public IPs: what, per VM and in total.
	Deallocated      []DeallocatedVM `json:"deallocated"`
	DeallocatedTotal StillBilled     `json:"deallocatedTotal"`
}

// enteredSince finds when a VM last entered a power state.
func (s *Server) enteredSince(ctx context.Context, id string, ps lifecycle.Power) (time.Time, bool) {
	var since time.Time
	prev := ""
	err := s.eng.History(ctx, id, time.Time{}, s.eng.Now().Add(time.Nanosecond), func(e store.Event) error {
		if e.PowerState == string(ps) && prev != e.PowerState {
			since = e.At.UTC()
		}
		prev = e.PowerState
		return nil
	})
	return since, err == nil && !since.IsZero()
}

package dashboard

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/crosssite"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
)

// The resource types the dashboard shows as VMs: standalone VMs (Flexible
// scale set members among them) and Uniform scale set instances.
const (
	vmType       = "Microsoft.Compute/virtualMachines"
	instanceType = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
)

// Page sizes of the fleet table: a page is bounded whatever the fleet.
const (
	defaultPageSize = 100
	maxPageSize     = 500
)

// reply is an endpoint's answer: a status and the JSON body.
type reply struct {
	status int
	body   any
}

func ok(body any) (reply, error) { return reply{http.StatusOK, body}, nil }

// endpoint answers one JSON endpoint with a reply or an error; serveAPI
// writes either.
type endpoint func(r *http.Request, scope Scope) (reply, error)

func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	if rest == "session" {
		h.serveSession(w, r)
		return
	}
	rep, err := h.api(w, r, rest)
	switch {
	case err != nil:
		h.writeErr(w, err)
	case rep.body != nil:
		writeJSON(w, rep.status, rep.body)
	}
}

// api routes an API call; a nil body means the endpoint wrote its own
// answer (the event stream).
func (h *Handler) api(w http.ResponseWriter, r *http.Request, rest string) (reply, error) {
	scope, err := h.authorize(r)
	if err != nil {
		return reply{}, armerror.New(armerror.CodeAuthenticationFailed, "%s", err.Error())
	}
	method := http.MethodGet
	var ep endpoint
	switch {
	case rest == "tree":
		ep = h.serveTree
	case rest == "vms":
		ep = h.serveVMs
	case rest == "vm":
		ep = h.serveVM
	case rest == "costs/daily":
		ep = h.serveDailyCosts
	case rest == "events":
		ep = func(r *http.Request, scope Scope) (reply, error) {
			h.serveEvents(w, r, scope) // a stream: it writes as it goes
			return reply{}, nil
		}
	case strings.HasPrefix(rest, "operations/"):
		ep = func(r *http.Request, s Scope) (reply, error) {
			return h.serveOperation(r, s, strings.TrimPrefix(rest, "operations/"))
		}
	case rest == "actions":
		method, ep = http.MethodPost, h.serveAction
	default:
		return reply{}, armerror.New(armerror.CodeNotFound, "No dashboard endpoint '%s'.", r.URL.Path)
	}
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		return reply{}, armerror.New(armerror.CodeMethodNotAllowed, "'%s' answers %s only.", r.URL.Path, method)
	}
	// What shows a cost so far waits until the ledger has read the history.
	if rest == "vms" || rest == "vm" || rest == "events" {
		if err := h.ledger.wait(r.Context()); err != nil {
			return reply{}, err
		}
	}
	return ep(r, scope)
}

// clockView is the emulator's clock as the page shows it; with the real
// clock the page keeps it running between messages.
type clockView struct {
	Now   time.Time `json:"now"`
	Mode  string    `json:"mode"`
	Speed float64   `json:"speed"`
}

func (h *Handler) clockView() clockView {
	mode := "real"
	if h.eng.ManualClock() {
		mode = "manual"
	}
	return clockView{Now: h.eng.Now().UTC(), Mode: mode, Speed: h.eng.Speed()}
}

// vmRow is one VM as the fleet table and the live feed show it.
type vmRow struct {
	Key               string   `json:"key"` // lower-case ID (store.Key): what the feed's "gone" lists
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	SubscriptionID    string   `json:"subscriptionId"`
	ResourceGroup     string   `json:"resourceGroup"`
	Location          string   `json:"location"`
	Size              string   `json:"size"`
	OSType            string   `json:"osType,omitempty"`
	Priority          string   `json:"priority,omitempty"`
	ScaleSet          string   `json:"scaleSet,omitempty"`
	ProvisioningState string   `json:"provisioningState"`
	ProvisioningCode  string   `json:"provisioningCode"`
	PowerState        string   `json:"powerState"` // "" before the first one
	Billed            bool     `json:"billed"`     // compute is charged now
	Operation         *runView `json:"operation,omitempty"`
	vmCost
}

// runView is the operation in progress on a VM and how far it got.
type runView struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Step     int       `json:"step"` // 1-based
	Steps    int       `json:"steps"`
	Due      time.Time `json:"due"` // when the current step ends
	Progress float64   `json:"progress"`
}

func (h *Handler) rows(vms []*engine.VM, now time.Time) []vmRow {
	keys := make([]string, len(vms))
	for i, v := range vms {
		keys[i] = vmKey(v)
	}
	costs := h.ledger.vmCosts(keys, now)
	out := make([]vmRow, len(vms))
	for i, v := range vms {
		st := v.Machine.State
		out[i] = vmRow{Key: store.Key(v.ID), ID: v.ID, Name: v.Name, SubscriptionID: v.SubscriptionID, ResourceGroup: v.ResourceGroup,
			Location: v.Spec.Location, Size: v.Spec.VMSize, OSType: v.Spec.OSType, Priority: v.Spec.Priority, ScaleSet: v.Spec.ScaleSetID,
			ProvisioningState: string(st.Provisioning), ProvisioningCode: st.ProvisioningCode(), PowerState: string(st.Power),
			Billed: st.Power.Billed(), Operation: runOf(v.Machine.Run, now), vmCost: costs[i]}
	}
	return out
}

func runOf(run *lifecycle.Run, now time.Time) *runView {
	if run == nil || len(run.Plan.Steps) == 0 {
		return nil
	}
	var before, total time.Duration
	for i, s := range run.Plan.Steps {
		d := lifecycle.Scale(s.Duration, run.Speed)
		if i < run.Step {
			before += d
		}
		total += d
	}
	rv := &runView{ID: run.OperationID, Kind: string(run.Plan.Kind), Step: run.Step + 1, Steps: len(run.Plan.Steps), Due: run.Due().UTC()}
	if total > 0 {
		rv.Progress = min(1, max(0, float64(before+now.Sub(run.StepStarted))/float64(total)))
	}
	return rv
}

// treeGroup is a resource group node, with its scale sets (Uniform and
// Flexible) and how many instances or members each has.
type treeGroup struct {
	Name              string         `json:"name"`
	Location          string         `json:"location"`
	ProvisioningState string         `json:"provisioningState"`
	VMs               int            `json:"vms"` // VMs outside any scale set
	ScaleSets         []treeScaleSet `json:"scaleSets"`
}

type treeScaleSet struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Instances int    `json:"instances"`
}

type treeSub struct {
	ID     string      `json:"id"`
	Groups []treeGroup `json:"groups"`
}

// serveTree answers GET tree: subscriptions, their groups, and counts; the
// page loads a group's VMs from vms when it is opened.
func (h *Handler) serveTree(r *http.Request, scope Scope) (reply, error) {
	type count struct {
		vms       int
		scaleSets map[string]*treeScaleSet
		order     []string
	}
	counts := map[string]*count{}
	// Counted in the match function: nothing is collected.
	h.eng.ListVMs(func(v *engine.VM) bool {
		if !scope.AllowsID(v.ID) {
			return false
		}
		k := groupKey(v.SubscriptionID, v.ResourceGroup)
		c := counts[k]
		if c == nil {
			c = &count{scaleSets: map[string]*treeScaleSet{}}
			counts[k] = c
		}
		if v.Spec.ScaleSetID == "" {
			c.vms++
			return false
		}
		sk := strings.ToLower(v.Spec.ScaleSetID)
		ss := c.scaleSets[sk]
		if ss == nil {
			ss = &treeScaleSet{ID: v.Spec.ScaleSetID, Name: lastSegment(v.Spec.ScaleSetID)}
			c.scaleSets[sk] = ss
			c.order = append(c.order, sk)
		}
		ss.Instances++
		return false
	}, "", 0)
	// Scale sets with no instance yet are in the tree too.
	sets, _ := h.eng.ListScaleSets(func(ss *engine.ScaleSet) bool { return scope.AllowsID(ss.ID) }, "", 0)
	for _, ss := range sets {
		k := groupKey(ss.SubscriptionID, ss.ResourceGroup)
		c := counts[k]
		if c == nil {
			c = &count{scaleSets: map[string]*treeScaleSet{}}
			counts[k] = c
		}
		sk := strings.ToLower(ss.ID)
		if c.scaleSets[sk] == nil {
			c.scaleSets[sk] = &treeScaleSet{ID: ss.ID, Name: ss.Name}
			c.order = append(c.order, sk)
		}
	}
	out := []treeSub{}
	for _, s := range h.eng.Subscriptions() {
		whole := scope.Allows(s.ID)
		ts := treeSub{ID: s.ID, Groups: []treeGroup{}}
		for _, g := range h.eng.Groups(s.ID) {
			if !whole && !scope.AllowsID("/subscriptions/"+s.ID+"/resourceGroups/"+g.Name) {
				continue
			}
			tg := treeGroup{Name: g.Name, Location: g.Location, ProvisioningState: g.ProvisioningState(), ScaleSets: []treeScaleSet{}}
			if c := counts[groupKey(s.ID, g.Name)]; c != nil {
				tg.VMs = c.vms
				for _, k := range c.order {
					tg.ScaleSets = append(tg.ScaleSets, *c.scaleSets[k])
				}
			}
			ts.Groups = append(ts.Groups, tg)
		}
		if whole || len(ts.Groups) > 0 {
			out = append(out, ts)
		}
	}
	return ok(map[string]any{"clock": h.clockView(), "subscriptions": out})
}

func groupKey(sub, rg string) string { return strings.ToLower(sub) + "/" + strings.ToLower(rg) }

func lastSegment(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// vmFilter is the fleet table's query.
type vmFilter struct {
	sub, rg, scaleSet, q string
	powers               map[string]bool // "none" for no power state yet
	billedStopped        bool
}

func parseFilter(r *http.Request) vmFilter {
	q := r.URL.Query()
	f := vmFilter{sub: strings.ToLower(q.Get("subscription")), rg: strings.ToLower(q.Get("resourceGroup")),
		scaleSet: strings.ToLower(q.Get("scaleSet")), q: strings.ToLower(strings.TrimSpace(q.Get("q")))}
	for _, p := range strings.Split(q.Get("power"), ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			if f.powers == nil {
				f.powers = map[string]bool{}
			}
			f.powers[p] = true
		}
	}
	f.billedStopped = q.Get("billedStopped") == "1" || q.Get("billedStopped") == "true"
	return f
}

// where matches everything but the power filters, which the counts ignore
// so the filter buttons can show what each would list.
func (f vmFilter) where(scope Scope, v *engine.VM) bool {
	switch {
	case !scope.AllowsID(v.ID):
		return false
	case f.sub != "" && f.sub != v.SubscriptionID:
		return false
	case f.rg != "" && f.rg != strings.ToLower(v.ResourceGroup):
		return false
	case f.scaleSet == "none" && v.Spec.ScaleSetID != "":
		return false
	case f.scaleSet != "" && f.scaleSet != "none" && f.scaleSet != strings.ToLower(v.Spec.ScaleSetID):
		return false
	case f.q != "" && !strings.Contains(strings.ToLower(v.Name), f.q):
		return false
	}
	return true
}

func (f vmFilter) power(v *engine.VM) bool {
	p := powerName(v.Machine.State.Power)
	if f.powers != nil && !f.powers[p] {
		return false
	}
	// Billed but stopped: allocated, charged, doing nothing.
	return !f.billedStopped || v.Machine.State.Power == lifecycle.Stopped
}

func powerName(p lifecycle.Power) string {
	if p == "" {
		return "none"
	}
	return string(p)
}

// fleetCounts summarise the VMs a page is drawn from.
type fleetCounts struct {
	All             int            `json:"all"`
	ByPower         map[string]int `json:"byPower"`
	Billed          int            `json:"billed"`
	BilledStopped   int            `json:"billedStopped"`
	PerHour         billing.Number `json:"perHour"`
	PerHourUnpriced bool           `json:"perHourUnpriced,omitempty"`
	Currency        string         `json:"currency,omitempty"`
}

// serveVMs answers GET vms: one page of the fleet table, filtered, with the
// counts of the whole selection.
// vmKey is a VM's key: the engine's copy, made when the VM has none (not
// yet published), so that a page of the whole fleet folds no IDs.
func vmKey(v *engine.VM) string {
	if v.Key != "" {
		return v.Key
	}
	return armid.Fold(v.ID)
}

func (h *Handler) serveVMs(r *http.Request, scope Scope) (reply, error) {
	f := parseFilter(r)
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = defaultPageSize
	}
	limit = min(limit, maxPageSize)
	offset = max(offset, 0)
	now := h.eng.Now()
	base, _ := h.eng.ListVMs(func(v *engine.VM) bool { return f.where(scope, v) }, "", 0)
	counts := fleetCounts{All: len(base), ByPower: map[string]int{}}
	keys := make([]string, len(base))
	var matched []*engine.VM
	for i, v := range base {
		keys[i] = vmKey(v)
		counts.ByPower[powerName(v.Machine.State.Power)]++
		if v.Machine.State.Power.Billed() {
			counts.Billed++
		}
		if v.Machine.State.Power == lifecycle.Stopped {
			counts.BilledStopped++
		}
		if f.power(v) {
			matched = append(matched, v)
		}
	}
	perHour := h.ledger.perHour(keys)
	counts.PerHour, counts.PerHourUnpriced, counts.Currency = perHour.Value(), perHour.Unpriced, perHour.Currency
	// Bounds from the length, never offset+limit: an offset near the
	// largest int would overflow.
	from := min(offset, len(matched))
	page := matched[from : from+min(limit, len(matched)-from)]
	return ok(map[string]any{
		"clock": h.clockView(), "total": len(matched), "offset": offset, "limit": limit,
		"rows": h.rows(page, now), "counts": counts,
	})
}

// historyEvent is one state change in the VM panel.
type historyEvent struct {
	Seq               int64     `json:"seq"`
	Time              time.Time `json:"time"`
	ProvisioningState string    `json:"provisioningState"`
	Code              string    `json:"code,omitempty"`
	PowerState        string    `json:"powerState,omitempty"`
	OperationID       string    `json:"operationId,omitempty"`
	Operation         string    `json:"operation,omitempty"`
}

// span is a stretch of a VM's timeline in one state.
type span struct {
	From         time.Time      `json:"from"`
	To           time.Time      `json:"to"`
	Provisioning string         `json:"provisioningState"`
	Power        string         `json:"powerState"`
	Billed       bool           `json:"billed"`
	Rate         billing.Number `json:"rate"`    // compute per hour while billed
	Cost         billing.Number `json:"cost"`    // compute over the span
	Accrued      billing.Number `json:"accrued"` // compute from the window's start to the span's end
	Unpriced     bool           `json:"unpriced,omitempty"`
}

type timeline struct {
	From            time.Time      `json:"from"`
	To              time.Time      `json:"to"`
	Window          string         `json:"window"`
	Spans           []span         `json:"spans"`
	Cost            billing.Number `json:"cost"` // compute in the window
	BilledSeconds   int64          `json:"billedSeconds"`
	UnbilledSeconds int64          `json:"unbilledSeconds"`
	Currency        string         `json:"currency,omitempty"`
	Unpriced        bool           `json:"unpriced,omitempty"`
}

// Timeline windows the VM panel offers; "life" is since the VM's creation.
var windows = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

// maxHistory bounds the events the VM panel lists (the newest are kept);
// the timeline still uses them all.
const maxHistory = 500

// serveVM answers GET vm?id=&window=: the VM's row, its disks, its history
// and its timeline over the window. A deleted VM answers with its history
// and a null vm.
func (h *Handler) serveVM(r *http.Request, scope Scope) (reply, error) {
	// Out of scope looks like absent: nothing leaks, not even existence.
	id, err := vmID(r.URL.Query().Get("id"), scope)
	if err != nil {
		return reply{}, err
	}
	window := r.URL.Query().Get("window")
	if _, ok := windows[window]; !ok {
		window = "life"
	}
	now := h.eng.Now().UTC()
	var events []store.Event
	err = h.eng.History(r.Context(), id.String(), time.Time{}, farFuture, func(e store.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		return reply{}, err
	}
	v, live := h.eng.VMByID(id.String())
	if !live && len(events) == 0 {
		return reply{}, vmNotFound(id)
	}
	out := map[string]any{"clock": h.clockView(), "id": id.String(), "vm": nil, "disks": []diskLine{}, "publicIPs": []ipLine{}, "nics": []nicLine{}}
	if live {
		out["vm"] = h.rows([]*engine.VM{v}, now)[0]
		out["disks"] = h.ledger.disks(armid.Fold(v.ID), now)
		out["publicIPs"] = h.ledger.publicIPs(armid.Fold(v.ID), now)
		out["nics"] = h.nics(v, now)
	}
	hist := make([]historyEvent, 0, min(len(events), maxHistory))
	for _, e := range events[max(0, len(events)-maxHistory):] {
		hist = append(hist, historyEvent{Seq: e.Seq, Time: e.At.UTC(), ProvisioningState: e.ProvisioningState, Code: e.ProvisioningCode,
			PowerState: e.PowerState, OperationID: e.OperationID, Operation: e.OperationKind})
	}
	out["history"] = hist
	out["timeline"] = h.timeline(events, window, now)
	return ok(out)
}

// vmID reads the ID of a VM or scale set instance the scope may see.
func vmID(raw string, scope Scope) (armid.ID, error) {
	id, err := armid.Parse(raw)
	if err != nil || (!strings.EqualFold(id.Type(), vmType) && !strings.EqualFold(id.Type(), instanceType)) {
		return armid.ID{}, armerror.New(armerror.CodeInvalidParameter, "'%s' is not the ID of a virtual machine.", raw)
	}
	if !scope.AllowsID(id.String()) {
		return armid.ID{}, vmNotFound(id)
	}
	return id, nil
}

func vmNotFound(id armid.ID) *armerror.Error {
	return armerror.New(armerror.CodeResourceNotFound, "The virtual machine '%s' was not found.", id.Name())
}

// timeline cuts a VM's history into spans over the window, each billed or
// not and with the compute it cost (disks bill in every state, so they would
// only shift every span by the same rate).
func (h *Handler) timeline(events []store.Event, window string, now time.Time) timeline {
	from := now.Add(-windows[window])
	if window == "life" {
		from = now
		for i, e := range events {
			if i == 0 || startsResource(e, billing.VM) {
				from = e.At.UTC()
			}
		}
	}
	tl := timeline{From: from, To: now, Window: window, Spans: []span{}}
	accrued := new(big.Rat)
	var cur *span
	var attrs billing.Attrs
	// The current state's span is kept even when it has just begun, so the
	// page can grow it as the clock runs.
	emit := func(end time.Time, current bool) {
		if cur == nil {
			return
		}
		s := *cur
		if s.From.Before(from) {
			s.From = from
		}
		if end.After(now) {
			end = now
		}
		s.To = end
		if !s.To.After(s.From) && !(current && s.To.Equal(s.From)) {
			return
		}
		secs := s.To.Unix() - s.From.Unix()
		if s.Billed {
			tl.BilledSeconds += secs
			if rate, p, ok := billing.HourlyRate(h.prices, billing.VM, attrs); ok {
				cost := billing.CostOver(rate, secs)
				s.Rate, s.Cost = billing.NumberOf(rate), billing.NumberOf(cost)
				accrued.Add(accrued, cost)
				tl.Currency = p.Currency
			} else {
				s.Unpriced, tl.Unpriced = true, true
			}
		} else {
			tl.UnbilledSeconds += secs
		}
		s.Accrued = billing.NumberOf(new(big.Rat).Set(accrued))
		tl.Spans = append(tl.Spans, s)
	}
	for _, e := range events {
		emit(e.At.UTC(), false)
		cur = nil
		if e.ProvisioningState == "Deleted" {
			continue
		}
		if be, ok := engine.BillingEvent(e); ok && be.Attrs != (billing.Attrs{}) {
			attrs = be.Attrs
		}
		cur = &span{From: e.At.UTC(), Provisioning: e.ProvisioningState, Power: e.PowerState, Billed: lifecycle.Power(e.PowerState).Billed()}
	}
	emit(now, true)
	tl.Cost = billing.NumberOf(accrued)
	return tl
}

// dayCost is one bar of a subscription's daily cost chart.
type dayCost struct {
	Date     string         `json:"date"`
	Compute  billing.Number `json:"compute"`
	Disks    billing.Number `json:"disks"`
	Network  billing.Number `json:"publicIPs"`
	Total    billing.Number `json:"total"`
	Unpriced int            `json:"unpriced"` // line items with billed time and no price
}

// serveDailyCosts answers GET costs/daily?subscription=&days=: the rated cost
// of each UTC day (today up to now), metered from the history in one pass.
func (h *Handler) serveDailyCosts(r *http.Request, scope Scope) (reply, error) {
	q := r.URL.Query()
	sub, found := h.eng.Subscription(q.Get("subscription"))
	if !found || !scope.Allows(sub.ID) {
		return reply{}, armerror.New(armerror.CodeSubscriptionNotFound, "The subscription '%s' could not be found.", q.Get("subscription"))
	}
	days, err := strconv.Atoi(q.Get("days"))
	if err != nil || days <= 0 {
		days = 14
	}
	days = min(days, 92)
	now := h.eng.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, 1-days)
	if created := sub.CreatedAt.UTC().Truncate(24 * time.Hour); created.After(first) && !created.After(today) {
		first = created
	}
	// Days before the history's horizon (retention) were compacted: the
	// first whole day after it is the first shown.
	if hz := h.eng.Horizon(); first.Before(hz) {
		first = hz.Truncate(24 * time.Hour)
		if first.Before(hz) {
			first = first.AddDate(0, 0, 1)
		}
	}
	wins, _ := billing.Days(first, now)
	ms := billing.NewMeters(wins, billing.PerSecond)
	prefix := "/subscriptions/" + sub.ID + "/"
	err = h.eng.History(r.Context(), "", time.Time{}, now, func(ev store.Event) error {
		if be, ok := engine.BillingEvent(ev); ok && strings.HasPrefix(strings.ToLower(ev.VMID), prefix) {
			_ = ms.Add(be) // one bad entry must not hide the rest, as in the bill
		}
		return nil
	})
	if err != nil {
		return reply{}, err
	}
	out := make([]dayCost, len(wins))
	var total billing.Amount
	for i := range wins {
		m := ms.Meter(i)
		var compute, disks, network billing.Amount
		dc := dayCost{Date: m.From().Format("2006-01-02")}
		for _, li := range billing.Rate(m.Usage(), h.prices) {
			if !li.Priced && li.Seconds > 0 {
				dc.Unpriced++
			}
			switch li.Kind {
			case billing.Disk:
				disks.AddItem(li)
			case billing.PublicIP:
				network.AddItem(li)
			default:
				compute.AddItem(li)
			}
		}
		var day billing.Amount
		day.Merge(compute)
		day.Merge(disks)
		day.Merge(network)
		total.Merge(day)
		dc.Compute, dc.Disks, dc.Network, dc.Total = compute.Value(), disks.Value(), network.Value(), day.Value()
		out[i] = dc
	}
	return ok(map[string]any{"clock": h.clockView(), "subscriptionId": sub.ID, "currency": total.Currency, "total": total.Value(), "days": out})
}

// actions are what the page's buttons do: the ARM API's POST actions, and
// the guest shutdown that only the emulator can cause.
var actions = map[string]lifecycle.Kind{
	"start":         lifecycle.Start,
	"poweroff":      lifecycle.PowerOff,
	"deallocate":    lifecycle.Deallocate,
	"restart":       lifecycle.Restart,
	"delete":        lifecycle.Delete,
	"guestshutdown": lifecycle.GuestShutdown,
}

// opView is an operation as the page follows it.
type opView struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	Target    string          `json:"target"`
	Status    string          `json:"status"`
	StartTime time.Time       `json:"startTime"`
	EndTime   *time.Time      `json:"endTime,omitempty"`
	Error     json.RawMessage `json:"error,omitempty"`
}

func newOpView(op store.Operation) opView {
	v := opView{ID: op.ID, Kind: op.Kind, Target: op.TargetID, Status: op.Status, StartTime: op.StartTime.UTC(), Error: op.Error}
	if !op.EndTime.IsZero() {
		t := op.EndTime.UTC()
		v.EndTime = &t
	}
	return v
}

// serveAction answers POST actions {"id","action"} through engine.Act, the
// path the ARM API's actions take. Only JSON bodies from the page's own
// origin are taken, by the rule the emulator's controls share (crosssite).
func (h *Handler) serveAction(r *http.Request, scope Scope) (reply, error) {
	if no := crosssite.Check(r); no != nil {
		return reply{}, no
	}
	if err := checkCSRF(r, scope); err != nil {
		return reply{}, err
	}
	var in struct {
		ID     string `json:"id"`
		Action string `json:"action"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
		return reply{}, armerror.New(armerror.CodeInvalidRequestContent, "The body must be {\"id\": \"<VM ID>\", \"action\": \"<action>\"}.")
	}
	kind, known := actions[strings.ToLower(in.Action)]
	if !known {
		return reply{}, armerror.New(armerror.CodeInvalidParameter, "Unknown action '%s': use start, powerOff, deallocate, restart, delete or guestShutdown.", in.Action)
	}
	id, err := vmID(in.ID, scope)
	if err != nil {
		return reply{}, err
	}
	if !scope.AllowsAction(id.String(), in.Action) {
		return reply{}, armerror.New(armerror.CodeAuthorizationFailed, "%s", authz.Denied(scope.principal.ObjectID, vmAction(in.Action), id.String()))
	}
	// By ID, so a Uniform scale set instance takes the same path as a VM,
	// as its scale set VM API does. The request ending must not abandon a
	// change half made.
	res, err := h.eng.Do(context.WithoutCancel(r.Context()), engine.Command{ID: id.String(), Verb: engine.VerbAct, Input: lifecycle.Request{Kind: kind}})
	if err != nil {
		return reply{}, err
	}
	op := res.Operation
	return reply{http.StatusAccepted, map[string]any{"operation": newOpView(op)}}, nil
}

// serveOperation answers GET operations/{id}: how an action ended.
func (h *Handler) serveOperation(r *http.Request, scope Scope, id string) (reply, error) {
	op, err := h.eng.Operation(r.Context(), id)
	if err == nil && !scope.AllowsID(op.TargetID) {
		err = armerror.OperationNotFound(id)
	}
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"operation": newOpView(op)})
}

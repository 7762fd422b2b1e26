package main

// azemu bill: a client of a running server's /_azemu/billing endpoints.

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/billing"
)

type billConfig struct {
	endpoint
	from, to, format string
	idle             bool
}

func parseBill(args []string, stderr io.Writer) (billConfig, error) {
	var c billConfig
	fs, str := newFlags("bill", stderr)
	c.addFlags(fs, str, "server")
	str(&c.from, "from", "", "start of the window, RFC 3339 or YYYY-MM-DD (default: the first of the month)")
	str(&c.to, "to", "", "end of the window, exclusive, RFC 3339 or YYYY-MM-DD (default: now)")
	str(&c.format, "format", "table", "table, or csv (FOCUS columns)")
	fs.BoolVar(&c.idle, "idle", false, "list the VMs that are Stopped but still allocated, and what they cost if left so, and what deallocated VMs still cost (their disks and public IPs)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: azemu bill [flags]

Prints the bill of a running azemu server for a window: one line per VM with
its hours by power state (RUNNING counts starting, running and stopping, all
billed; STOPPED is billed; DEALLOCATED counts allocating, deallocating and
deallocated, not billed), its compute cost, the cost of the disks and of the
public IPs it owns (they bill in every power state) and the total; disks and
public IPs without a VM get lines of their own. A resource the price sheet
does not price shows "unpriced", never a cost of zero.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.format != "table" && c.format != "csv" {
		return c, fmt.Errorf("--format must be table or csv, not %q", c.format)
	}
	for _, p := range []*string{&c.from, &c.to} {
		if *p == "" {
			continue
		}
		t, err := parseBillTime(*p)
		if err != nil {
			return c, err
		}
		*p = t.Format(time.RFC3339Nano)
	}
	return c, nil
}

func parseBillTime(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%q is neither RFC 3339 (2026-01-01T00:00:00Z) nor a date (2026-01-01)", s)
	}
	return t.UTC(), nil
}

func bill(args []string, stdout, stderr io.Writer) error {
	c, err := parseBill(args, stderr)
	if err != nil {
		return helpOK(err)
	}
	client, err := c.client()
	if err != nil {
		return err
	}
	if c.idle {
		var ans idleAnswer
		if err := client.get("/_azemu/billing/idle", &ans); err != nil {
			return err
		}
		if c.format == "csv" {
			return writeIdleCSV(stdout, ans)
		}
		return writeIdleTable(stdout, ans)
	}
	q := url.Values{}
	if c.from != "" {
		q.Set("from", c.from)
	}
	if c.to != "" {
		q.Set("to", c.to)
	}
	u := "/_azemu/billing/usage"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var ans usageAnswer
	if err := client.get(u, &ans); err != nil {
		return err
	}
	if c.format == "csv" {
		return writeFOCUS(stdout, ans)
	}
	return writeBillTable(stdout, ans)
}

// usageAnswer and usageLine are GET /_azemu/billing/usage's answer.
type (
	usageAnswer = armapi.UsageAnswer
	usageLine   = armapi.UsageItem
)

func currencyOf(l usageLine) string {
	if l.Currency == nil {
		return ""
	}
	return *l.Currency
}

// money shows an amount to 4 decimals (the meter bills seconds, so a short
// window costs fractions of a cent), "unpriced" when any part of it is
// unknown: never a zero that is not one.
func money(a billing.Amount) string {
	switch {
	case a.Unpriced:
		return "unpriced"
	case a.Mixed:
		return "mixed currencies"
	}
	return a.Value().Rat().FloatString(4)
}

func hours(s int64) string { return big.NewRat(s, 3600).FloatString(2) }

// writeBillTable prints the server's bill by VM: the sums are the
// server's, from the billing package; this only lays them out.
func writeBillTable(w io.Writer, ans usageAnswer) error {
	b := ans.Bill
	cur := ""
	if c := b.Total.Currency; c != "" && !b.Total.Mixed {
		cur = " (" + c + ")"
	}
	fmt.Fprintf(w, "azemu bill: %s to %s\n\n", ans.From, ans.To)
	tw := newTable(w, fmt.Sprintf("VM\tRESOURCE GROUP\tSIZE\tREGION\tRUNNING H\tSTOPPED H\tDEALLOCATED H\tCOMPUTE%s\tDISKS%[1]s\tPUBLIC IPS%[1]s\tTOTAL%[1]s", cur))
	for _, v := range b.VMs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.ResourceGroup, strings.Join(v.Sizes, ","), v.Location,
			hours(v.RunningSeconds), hours(v.StoppedSeconds), hours(v.UnbilledSeconds), money(v.Compute), money(v.Disks), money(v.Network), money(v.Total))
	}
	for _, d := range b.Orphans {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", "disk "+d.Name+" (no VM)", d.ResourceGroup, d.Tier, d.Location,
			"-", "-", "-", "-", money(d.Cost), "-", money(d.Cost))
	}
	for _, ip := range b.OrphanIPs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", "public IP "+ip.Name+" (no VM)", ip.ResourceGroup, ip.Meter, ip.Location,
			"-", "-", "-", "-", "-", money(ip.Cost), money(ip.Cost))
	}
	fmt.Fprintf(tw, "TOTAL\t\t\t\t\t\t\t%s\t%s\t%s\t%s\n", money(b.Compute), money(b.Disks), money(b.Network), money(b.Total))
	if err := tw.Flush(); err != nil {
		return err
	}
	if ans.Unpriced > 0 {
		fmt.Fprintf(w, "\n%d line item(s) are unpriced: the price sheet has no row for them, so their cost is unknown.\n", ans.Unpriced)
	}
	return nil
}

// focusColumns are the FOCUS columns of the CSV export, then two of its
// own: BillingCurrency (FOCUS, mandatory) and x_PricingStatus, which tells
// an unpriced row (empty costs) from a free one.
var focusColumns = []string{"BilledCost", "EffectiveCost", "ListCost", "ListUnitPrice", "ChargePeriodStart", "ChargePeriodEnd",
	"ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "ResourceId", "ResourceName", "ResourceType",
	"RegionId", "ServiceName", "ServiceCategory", "SkuMeter", "SubAccountId", "x_ResourceGroupName",
	"BillingCurrency", "x_PricingStatus"}

// focusUnits are the consumed unit and display type of each kind.
var focusUnits = map[string][2]string{"VM": {"Hours", "Virtual machine"}, "Disk": {"Months", "Disk"}, "PublicIP": {"Hours", "Public IP address"}}

func writeFOCUS(w io.Writer, ans usageAnswer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(focusColumns); err != nil {
		return err
	}
	for _, l := range ans.Value {
		cost, unitPrice, status := "", "", "Unpriced"
		if l.Priced && l.Cost != nil && l.UnitPrice != nil {
			cost, unitPrice, status = *l.Cost, *l.UnitPrice, "Priced"
		}
		u := focusUnits[l.Kind]
		row := []string{cost, cost, cost, unitPrice, ans.From, ans.To,
			l.Quantity, u[0], l.Quantity, l.Unit, strings.ToLower(l.ResourceID), l.Name, u[1],
			l.Location, l.ServiceName, l.ServiceCategory, l.MeterName, "/subscriptions/" + l.SubscriptionID, strings.ToLower(l.ResourceGroup),
			currencyOf(l), status}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// idleAnswer and idleLine are GET /_azemu/billing/idle's answer.
type (
	idleAnswer = armapi.IdleAnswer
	idleLine   = armapi.IdleVM
)

func rates(l idleLine) (hourly, monthly, currency string) {
	if !l.Priced || l.HourlyRate == nil || l.MonthlyCost == nil {
		return "unpriced", "unpriced", ""
	}
	if l.Currency != nil {
		currency = *l.Currency
	}
	return *l.HourlyRate, *l.MonthlyCost, currency
}

func writeIdleTable(w io.Writer, ans idleAnswer) error {
	if len(ans.Value) == 0 {
		fmt.Fprintln(w, "No VM is stopped but allocated.")
		return writeDeallocatedTable(w, ans)
	}
	fmt.Fprintf(w, "VMs stopped but still allocated: billed until deallocated.\n\n")
	tw := newTable(w, fmt.Sprintf("VM\tRESOURCE GROUP\tSIZE\tREGION\tSTOPPED SINCE\tPER HOUR\tPER MONTH (%d H)\tDISKS AND IPS PER HOUR", ans.HoursPerMonth))
	for _, l := range ans.Value {
		h, m, cur := rates(l)
		if cur != "" {
			h, m = h+" "+cur, m+" "+cur
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.ResourceGroup, l.VMSize, l.Location, sinceOf(l.StoppedSince), h, m, rateOf(l.StillBilled.PerHour, 4))
	}
	curs := make([]string, 0, len(ans.Totals))
	for c := range ans.Totals {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	for _, c := range curs {
		fmt.Fprintf(tw, "TOTAL\t\t\t\t\t%s %s\t%s %s\n", decimalAt(ans.Totals[c]["hourly"].Cost, 4), c, decimalAt(ans.Totals[c]["monthly"].Cost, 2), c)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ans.Unpriced > 0 {
		fmt.Fprintf(w, "\n%d VM(s) are unpriced: the price sheet has no row for them, so what they cost is unknown.\n", ans.Unpriced)
	}
	fmt.Fprintln(w, "\nA deallocate stops the compute (PER HOUR); the disks and public IPs bill until deleted.")
	return writeDeallocatedTable(w, ans)
}

// sinceOf shows an instant of the idle report, "-" when unknown.
func sinceOf(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// rateOf shows an amount to a number of places with its currency,
// "unpriced" when part of it is unknown.
func rateOf(a billing.Amount, places int) string {
	switch {
	case a.Unpriced:
		return "unpriced"
	case a.Mixed:
		return "mixed currencies"
	case a.Cost == nil:
		return "0"
	}
	return a.Cost.FloatString(places) + " " + a.Currency
}

// writeDeallocatedTable prints what deallocated VMs still cost: their
// compute stopped, their disks and public IPs did not.
func writeDeallocatedTable(w io.Writer, ans idleAnswer) error {
	if len(ans.Deallocated) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nDeallocated VMs: no compute, but their disks and public IPs still bill until deleted.\n\n")
	tw := newTable(w, fmt.Sprintf("VM\tRESOURCE GROUP\tSIZE\tREGION\tDEALLOCATED SINCE\tDISKS\tPUBLIC IPS\tPER HOUR\tPER MONTH (%d H)", ans.HoursPerMonth))
	for _, d := range ans.Deallocated {
		sb := d.StillBilled
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d (%s)\t%d (%s)\t%s\t%s\n", d.Name, d.ResourceGroup, d.VMSize, d.Location, sinceOf(d.DeallocatedSince),
			sb.Disks, rateOf(sb.DisksRate, 4), sb.PublicIPs, rateOf(sb.IPsRate, 4), rateOf(sb.PerHour, 4), rateOf(sb.PerMonth, 2))
	}
	t := ans.DeallocatedTotal
	fmt.Fprintf(tw, "TOTAL\t\t\t\t\t%d\t%d\t%s\t%s\n", t.Disks, t.PublicIPs, rateOf(t.PerHour, 4), rateOf(t.PerMonth, 2))
	return tw.Flush()
}

// decimalAt shows an exact decimal the server sent to a number of places.
func decimalAt(s string, places int) string {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s
	}
	return r.FloatString(places)
}

func writeIdleCSV(w io.Writer, ans idleAnswer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"ResourceId", "ResourceName", "x_ResourceGroupName", "SkuName", "RegionId", "StoppedSince", "HourlyCost", "MonthlyCost", "BillingCurrency", "x_PricingStatus"})
	for _, l := range ans.Value {
		since := ""
		if l.StoppedSince != nil {
			since = l.StoppedSince.UTC().Format(time.RFC3339)
		}
		h, m, cur := rates(l)
		status := "Priced"
		if cur == "" && h == "unpriced" {
			h, m, status = "", "", "Unpriced"
		}
		_ = cw.Write([]string{strings.ToLower(l.ResourceID), l.Name, strings.ToLower(l.ResourceGroup), l.VMSize, l.Location, since, h, m, cur, status})
	}
	cw.Flush()
	return cw.Error()
}

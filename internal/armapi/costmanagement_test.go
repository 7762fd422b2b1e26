package armapi_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/clock"
)

// testPrices is a sheet of round figures, so that every expected cost is an
// exact decimal: D2s v3 at 0.36/h (0.0001/s) Linux and 0.72/h Windows, P4 at
// 1.46/month (0.002/h) and P10 at 7.30/month (0.01/h). Standard_B1s has no
// row: it is unpriced.
const testPrices = `{"Items":[
 {"currencyCode":"USD","retailPrice":0.36,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":0.72,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series Windows","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":1.46,"armRegionName":"westeurope","meterName":"P4 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P4 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":7.3,"armRegionName":"westeurope","meterName":"P10 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P10 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
],"x_source":"azemu tests"}`

func withPrices(t testing.TB, sheet string) envOption {
	p, err := billing.ParsePriceSheet(strings.NewReader(sheet))
	if err != nil {
		t.Fatal(err)
	}
	return func(c *armapi.Config) { c.Prices = p }
}

var t0 = clock.DefaultManualStart // 2026-01-01T00:00:00Z, a Thursday

// billedVM is a VM body with a named OS disk, so tests know the disk's ID.
func billedVM(rg, name, size string, windows bool) map[string]any {
	b := with(linuxVM(rg, name, "westeurope"), "properties.hardwareProfile.vmSize", size)
	if windows {
		b = with(b, "properties.storageProfile.imageReference", map[string]any{
			"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter", "version": "latest"})
	}
	return with(b, "properties.storageProfile.osDisk", map[string]any{"name": name + "-os", "createOption": "FromImage"})
}

func costScope(rg string) string {
	if rg == "" {
		return "/subscriptions/" + sub
	}
	return groupPath(rg)
}

func lowerDiskID(rg, name string) string {
	return strings.ToLower(groupPath(rg) + "/providers/Microsoft.Compute/disks/" + name)
}

func lowerVMID(rg, name string) string { return strings.ToLower(vmPath(rg, name)) }

type costAnswer struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Properties struct {
		NextLink *string `json:"nextLink"`
		Columns  []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"columns"`
		Rows      [][]any  `json:"rows"`
		XUnpriced []string `json:"x_unpriced"`
	} `json:"properties"`
}

// query POSTs a query to scope (or to an absolute nextLink) and requires 200.
func (e *env) query(scope string, body any) (costAnswer, resp) {
	e.t.Helper()
	path := scope
	if !strings.HasPrefix(scope, "https://") {
		path = scope + "/providers/Microsoft.CostManagement/query?api-version=2023-11-01"
	}
	r := e.must(http.StatusOK, http.MethodPost, path, body)
	var a costAnswer
	if err := json.Unmarshal(r.Body, &a); err != nil {
		e.t.Fatalf("query answer: %v: %s", err, r.Body)
	}
	return a, r
}

// byKey maps each row to its cost, keyed by its other cells joined by "|".
func byKey(t testing.TB, a costAnswer) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, row := range a.Properties.Rows {
		var key []string
		for _, cell := range row[1:] {
			if f, ok := cell.(float64); ok && f == math.Trunc(f) {
				cell = int64(f) // UsageDate
			}
			key = append(key, fmt.Sprint(cell))
		}
		k := strings.Join(key, "|")
		if _, dup := out[k]; dup {
			t.Fatalf("two rows for %s: %v", k, a.Properties.Rows)
		}
		out[k] = row[0].(float64)
	}
	return out
}

func sameCosts(t testing.TB, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rows:\n got  %v\n want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Fatalf("row %s: got %v (present %v), want %v\n all: %v", k, g, ok, w, got)
		}
	}
}

func custom(from, to time.Time, dataset map[string]any) map[string]any {
	return map[string]any{"type": "ActualCost", "timeframe": "Custom",
		"timePeriod": map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}, "dataset": dataset}
}

func groupBy(names ...string) []any {
	var out []any
	for _, n := range names {
		out = append(out, map[string]any{"type": "Dimension", "name": n})
	}
	return out
}

var sumCost = map[string]any{"totalCost": map[string]any{"name": "Cost", "function": "Sum"}}

// fleetHour creates, at t0, a Linux VM (rg1/vm1) and a Windows VM
// (rg2/vm2) of a priced size and a Linux VM of an unpriced size
// (rg1/vm3), each with its OS disk, and lets an hour pass: each VM bills
// 3585 s (the first 15 s allocate), each disk 3600 s.
func fleetHour(t *testing.T, opts ...envOption) *env {
	e := newEnv(t, append([]envOption{withPrices(t, testPrices)}, opts...)...)
	e.createGroup("rg1")
	e.createGroup("rg2")
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg1", "vm1"), billedVM("rg1", "vm1", "Standard_D2s_v3", false))
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg2", "vm2"), billedVM("rg2", "vm2", "Standard_D2s_v3", true))
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg1", "vm3"), billedVM("rg1", "vm3", "Standard_B1s", false))
	e.advance(time.Hour)
	return e
}

// The hour's figures: compute 3585 s x 0.0001 (Linux) or 0.0002 (Windows);
// P4 (Linux, 30 GiB) 3600 s x 0.002/3600, P10 (Windows, 127 GiB) x 0.01/3600.
const (
	hourLinux   = 0.3585
	hourWindows = 0.717
	hourP4      = 0.002
	hourP10     = 0.01
)

func TestCostQueryByResourceID(t *testing.T) {
	e := fleetHour(t)
	a, r := e.query(costScope(""), custom(t0, t0.Add(time.Hour), map[string]any{
		"granularity": "None", "aggregation": sumCost, "grouping": groupBy("ResourceId")}))
	if a.Type != "Microsoft.CostManagement/query" || !strings.HasPrefix(a.ID, "subscriptions/"+sub+"/providers/Microsoft.CostManagement/query/") {
		t.Fatalf("envelope: id %q type %q", a.ID, a.Type)
	}
	var cols []string
	for _, c := range a.Properties.Columns {
		cols = append(cols, c.Name+":"+c.Type)
	}
	if got := strings.Join(cols, " "); got != "Cost:Number ResourceId:String Currency:String" {
		t.Fatalf("columns %s", got)
	}
	sameCosts(t, byKey(t, a), map[string]float64{
		lowerVMID("rg1", "vm1") + "|USD":      hourLinux,
		lowerVMID("rg2", "vm2") + "|USD":      hourWindows,
		lowerDiskID("rg1", "vm1-os") + "|USD": hourP4,
		lowerDiskID("rg1", "vm3-os") + "|USD": hourP4,
		lowerDiskID("rg2", "vm2-os") + "|USD": hourP10,
	})
	// vm3's compute is unpriced: left out of the rows, never shown as 0.
	if h := r.Header.Get("x-azemu-unpriced"); h != "1" {
		t.Fatalf("x-azemu-unpriced %q", h)
	}
	if !slices.Equal(a.Properties.XUnpriced, []string{lowerVMID("rg1", "vm3")}) {
		t.Fatalf("x_unpriced %v", a.Properties.XUnpriced)
	}
	if a.Properties.NextLink != nil {
		t.Fatalf("nextLink %v on a single page", *a.Properties.NextLink)
	}

	// No grouping: one row, the sum of the priced items.
	a, _ = e.query(costScope(""), custom(t0, t0.Add(time.Hour), map[string]any{"granularity": "None", "aggregation": sumCost}))
	if len(a.Properties.Rows) != 1 || len(a.Properties.Rows[0]) != 2 || a.Properties.Rows[0][1] != "USD" ||
		math.Abs(a.Properties.Rows[0][0].(float64)-(hourLinux+hourWindows+2*hourP4+hourP10)) > 1e-12 {
		t.Fatalf("total rows %v", a.Properties.Rows)
	}
}

func TestCostQueryDimensionsAndFilters(t *testing.T) {
	e := fleetHour(t)
	q := func(dataset map[string]any) map[string]float64 {
		t.Helper()
		dataset["aggregation"] = sumCost
		a, _ := e.query(costScope(""), custom(t0, t0.Add(time.Hour), dataset))
		return byKey(t, a)
	}
	sameCosts(t, q(map[string]any{"grouping": groupBy("MeterCategory")}), map[string]float64{
		"Virtual Machines|USD": hourLinux + hourWindows,
		"Storage|USD":          2*hourP4 + hourP10,
	})
	sameCosts(t, q(map[string]any{"grouping": groupBy("Meter")}), map[string]float64{
		"D2s v3|USD":       hourLinux + hourWindows,
		"P4 LRS Disk|USD":  2 * hourP4,
		"P10 LRS Disk|USD": hourP10,
	})
	sameCosts(t, q(map[string]any{"grouping": groupBy("ResourceType", "ResourceGroupName")}), map[string]float64{
		"microsoft.compute/virtualmachines|rg1|USD": hourLinux,
		"microsoft.compute/virtualmachines|rg2|USD": hourWindows,
		"microsoft.compute/disks|rg1|USD":           2 * hourP4,
		"microsoft.compute/disks|rg2|USD":           hourP10,
	})
	// Names and values compare case-insensitively.
	sameCosts(t, q(map[string]any{"grouping": groupBy("servicename"),
		"filter": map[string]any{"dimensions": map[string]any{"name": "ResourceGroupName", "operator": "In", "values": []string{"RG1"}}}}),
		map[string]float64{"Virtual Machines|USD": hourLinux, "Storage|USD": 2 * hourP4})
	// and / or / not.
	sameCosts(t, q(map[string]any{"grouping": groupBy("ResourceId"), "filter": map[string]any{"and": []any{
		map[string]any{"dimensions": map[string]any{"name": "ResourceType", "operator": "In", "values": []string{"Microsoft.Compute/virtualMachines"}}},
		map[string]any{"not": map[string]any{"dimensions": map[string]any{"name": "ResourceGroupName", "operator": "In", "values": []string{"rg2"}}}},
	}}}), map[string]float64{lowerVMID("rg1", "vm1") + "|USD": hourLinux})
	sameCosts(t, q(map[string]any{"grouping": groupBy("ResourceId"), "filter": map[string]any{"or": []any{
		map[string]any{"dimensions": map[string]any{"name": "ResourceId", "operator": "In", "values": []string{vmPath("rg2", "vm2")}}},
		map[string]any{"dimensions": map[string]any{"name": "Meter", "operator": "In", "values": []string{"P10 LRS Disk", "nothing"}}},
	}}}), map[string]float64{lowerVMID("rg2", "vm2") + "|USD": hourWindows, lowerDiskID("rg2", "vm2-os") + "|USD": hourP10})

	// A filter that leaves the unpriced VM out does not report it.
	_, r := e.query(costScope(""), custom(t0, t0.Add(time.Hour), map[string]any{"aggregation": sumCost,
		"filter": map[string]any{"dimensions": map[string]any{"name": "ResourceGroupName", "operator": "In", "values": []string{"rg2"}}}}))
	if r.Header.Get("x-azemu-unpriced") != "0" || strings.Contains(string(r.Body), "x_unpriced") {
		t.Fatalf("unpriced outside the filter reported: %s %s", r.Header.Get("x-azemu-unpriced"), r.Body)
	}

	// The resource group scope sees only its group.
	a, _ := e.query(costScope("rg2"), map[string]any{"type": "Usage", "timeframe": "MonthToDate",
		"dataset": map[string]any{"grouping": groupBy("ResourceId")}})
	if a.Properties.Columns[0].Name != "PreTaxCost" {
		t.Fatalf("Usage without aggregation: columns %v", a.Properties.Columns)
	}
	if !strings.HasPrefix(a.ID, "subscriptions/"+sub+"/resourceGroups/rg2/providers/Microsoft.CostManagement/query/") {
		t.Fatalf("id %s", a.ID)
	}
	sameCosts(t, byKey(t, a), map[string]float64{lowerVMID("rg2", "vm2") + "|USD": hourWindows, lowerDiskID("rg2", "vm2-os") + "|USD": hourP10})
}

func TestCostQueryDailyAddsUpToTheWindow(t *testing.T) {
	e := newEnv(t, withPrices(t, testPrices))
	e.createGroup("rg1")
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg1", "vm1"), billedVM("rg1", "vm1", "Standard_D2s_v3", false))
	e.advance(23 * time.Hour)
	e.act("rg1", "vm1", "powerOff") // 10 s stopping, then stopped: billed
	e.advance(2 * time.Hour)
	e.act("rg1", "vm1", "deallocate") // 15 s deallocating, then deallocated: not billed
	e.advance(23 * time.Hour)         // now: t0 + 48 h

	daily := map[string]any{"granularity": "Daily", "aggregation": sumCost, "grouping": groupBy("ResourceType")}
	a, _ := e.query(costScope(""), custom(t0, t0.Add(48*time.Hour), daily))
	var cols []string
	for _, c := range a.Properties.Columns {
		cols = append(cols, c.Name+":"+c.Type)
	}
	if got := strings.Join(cols, " "); got != "Cost:Number UsageDate:Number ResourceType:String Currency:String" {
		t.Fatalf("columns %s", got)
	}
	// Day 1: compute from 00:00:15 to midnight (running, stopping, stopped);
	// day 2: stopped until 01:00, then nothing. The P4 disk bills 24 h a day.
	want := map[string]float64{
		"20260101|microsoft.compute/virtualmachines|USD": 8.6385,
		"20260101|microsoft.compute/disks|USD":           0.048,
		"20260102|microsoft.compute/virtualmachines|USD": 0.36,
		"20260102|microsoft.compute/disks|USD":           0.048,
	}
	sameCosts(t, byKey(t, a), want)
	for _, row := range a.Properties.Rows {
		if d := row[1].(float64); d != 20260101 && d != 20260102 {
			t.Fatalf("UsageDate %v is not a yyyymmdd number", row[1])
		}
	}

	// The None total is the sum of the days, per group (exactly in the
	// server's rationals; the float rows agree to rounding).
	sums := map[string]float64{}
	for k, v := range byKey(t, a) {
		sums[k[len("20260101|"):]] += v
	}
	a, _ = e.query(costScope(""), custom(t0, t0.Add(48*time.Hour), map[string]any{"aggregation": sumCost, "grouping": groupBy("ResourceType")}))
	total := byKey(t, a)
	sameCosts(t, total, map[string]float64{
		"microsoft.compute/virtualmachines|USD": 8.9985,
		"microsoft.compute/disks|USD":           0.096,
	})
	for k, v := range total {
		if math.Abs(sums[k]-v) > 1e-12 {
			t.Fatalf("%s: days add up to %v, the window is %v", k, sums[k], v)
		}
	}

	// The relative timeframes resolve against the emulator's clock (UTC):
	// MonthToDate and WeekToDate (from Monday 2025-12-29) both cover all
	// of it; TheLastMonth (December) has nothing.
	for _, tf := range []string{"MonthToDate", "WeekToDate", "BillingMonthToDate"} {
		a, _ = e.query(costScope(""), map[string]any{"type": "ActualCost", "timeframe": tf, "dataset": daily})
		sameCosts(t, byKey(t, a), want)
	}
	a, _ = e.query(costScope(""), map[string]any{"type": "ActualCost", "timeframe": "TheLastMonth", "dataset": daily})
	if len(a.Properties.Rows) != 0 {
		t.Fatalf("TheLastMonth: %v", a.Properties.Rows)
	}

	// A "to" of a date, or of 23:59:59, includes that whole day.
	for _, to := range []string{"2026-01-01", "2026-01-01T23:59:59Z", "2026-01-01T23:59:59"} {
		a, _ = e.query(costScope(""), map[string]any{"type": "ActualCost", "timeframe": "Custom",
			"timePeriod": map[string]any{"from": "2026-01-01T00:00:00Z", "to": to}, "dataset": daily})
		sameCosts(t, byKey(t, a), map[string]float64{
			"20260101|microsoft.compute/virtualmachines|USD": 8.6385,
			"20260101|microsoft.compute/disks|USD":           0.048,
		})
	}
	// A window reaching past now stops at now: nothing is extrapolated.
	a, _ = e.query(costScope(""), custom(t0, t0.Add(30*24*time.Hour), map[string]any{"aggregation": sumCost, "grouping": groupBy("ResourceType")}))
	sameCosts(t, byKey(t, a), map[string]float64{"microsoft.compute/virtualmachines|USD": 8.9985, "microsoft.compute/disks|USD": 0.096})
}

func TestCostQueryPagesPinTheWindow(t *testing.T) {
	e := fleetHour(t, withPageSize(2))
	body := map[string]any{"type": "ActualCost", "timeframe": "MonthToDate",
		"dataset": map[string]any{"aggregation": sumCost, "grouping": groupBy("ResourceId")}}
	first, _ := e.query(costScope(""), body)
	// Time moves on between pages: the pages still meter the first page's window.
	e.advance(time.Hour)
	got := byKey(t, first)
	a := first
	pages := 1
	for a.Properties.NextLink != nil {
		link := *a.Properties.NextLink
		if !strings.HasPrefix(link, e.srv.URL+"/subscriptions/"+sub+"/providers/Microsoft.CostManagement/query?") ||
			!strings.Contains(link, "api-version=2023-11-01") || !strings.Contains(link, "%24skiptoken=") {
			t.Fatalf("nextLink %s", link)
		}
		a, _ = e.query(link, body)
		if len(a.Properties.Rows) > 2 {
			t.Fatalf("page of %d rows", len(a.Properties.Rows))
		}
		for k, v := range byKey(t, a) {
			if _, dup := got[k]; dup {
				t.Fatalf("row %s on two pages", k)
			}
			got[k] = v
		}
		pages++
	}
	if pages != 3 {
		t.Fatalf("%d pages, want 3", pages)
	}
	sameCosts(t, got, map[string]float64{
		lowerVMID("rg1", "vm1") + "|USD":      hourLinux,
		lowerVMID("rg2", "vm2") + "|USD":      hourWindows,
		lowerDiskID("rg1", "vm1-os") + "|USD": hourP4,
		lowerDiskID("rg1", "vm3-os") + "|USD": hourP4,
		lowerDiskID("rg2", "vm2-os") + "|USD": hourP10,
	})
	r := e.do(http.MethodPost, costScope("")+"/providers/Microsoft.CostManagement/query?$skiptoken=bogus", body)
	armError(t, r, http.StatusBadRequest, "BadRequest", "")
}

func TestCostQueryValidation(t *testing.T) {
	e := newEnv(t, withPrices(t, testPrices))
	ds := func(extra map[string]any) map[string]any {
		d := map[string]any{"granularity": "None", "aggregation": sumCost}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	ok := map[string]any{"type": "ActualCost", "timeframe": "MonthToDate", "dataset": ds(nil)}
	dim := func(name string) map[string]any {
		return map[string]any{"dimensions": map[string]any{"name": name, "operator": "In", "values": []string{"x"}}}
	}
	cases := []struct {
		name   string
		body   any
		target string
		inMsg  string
	}{
		{"no type", without(ok, "type"), "type", "'type' is required"},
		{"bad type", with(ok, "type", "Forecast"), "type", "'Forecast'"},
		{"no timeframe", without(ok, "timeframe"), "timeframe", "'timeframe' is required"},
		{"bad timeframe", with(ok, "timeframe", "YearToDate"), "timeframe", "'YearToDate'"},
		{"no dataset", without(ok, "dataset"), "dataset", "'dataset' is required"},
		{"Custom without timePeriod", with(ok, "timeframe", "Custom"), "timePeriod", "timePeriod"},
		{"Custom backwards", custom(t0.Add(time.Hour), t0, ds(nil)), "timePeriod", "must be before"},
		{"Custom over a year", custom(t0, t0.AddDate(1, 1, 0), ds(nil)), "timePeriod", "one year"},
		{"bad from", with(with(ok, "timeframe", "Custom"), "timePeriod", map[string]any{"from": "yesterday", "to": "2026-01-02"}), "timePeriod.from", "'yesterday'"},
		{"bad granularity", with(ok, "dataset", ds(map[string]any{"granularity": "Hourly"})), "dataset.granularity", "'Hourly'"},
		{"bad function", with(ok, "dataset", ds(map[string]any{"aggregation": map[string]any{"c": map[string]any{"name": "Cost", "function": "Avg"}}})), "dataset.aggregation.c.function", "'Avg'"},
		{"bad column", with(ok, "dataset", ds(map[string]any{"aggregation": map[string]any{"c": map[string]any{"name": "UsageQuantity", "function": "Sum"}}})), "dataset.aggregation.c.name", "'UsageQuantity'"},
		{"unknown grouping", with(ok, "dataset", ds(map[string]any{"grouping": groupBy("ResourceId", "Bogus")})), "dataset.grouping[1].name", "'Bogus'"},
		{"three groupings", with(ok, "dataset", ds(map[string]any{"grouping": groupBy("ResourceId", "Meter", "ServiceName")})), "dataset.grouping", "up to 2"},
		{"tag grouping", with(ok, "dataset", ds(map[string]any{"grouping": []any{map[string]any{"type": "TagKey", "name": "env"}}})), "dataset.grouping[0].type", "'env'"},
		{"unknown filter dimension", with(ok, "dataset", ds(map[string]any{"filter": dim("Bogus")})), "dataset.filter.dimensions.name", "'Bogus'"},
		{"bad operator", with(ok, "dataset", ds(map[string]any{"filter": map[string]any{"dimensions": map[string]any{"name": "Meter", "operator": "Contains", "values": []string{"x"}}}})), "dataset.filter.dimensions.operator", "'Contains'"},
		{"no values", with(ok, "dataset", ds(map[string]any{"filter": map[string]any{"dimensions": map[string]any{"name": "Meter", "operator": "In", "values": []string{}}}})), "dataset.filter.dimensions.values", "at least one"},
		{"and of one", with(ok, "dataset", ds(map[string]any{"filter": map[string]any{"and": []any{dim("Meter")}}})), "dataset.filter.and", "at least 2"},
		{"two parts", with(ok, "dataset", ds(map[string]any{"filter": map[string]any{"not": dim("Meter"), "dimensions": map[string]any{"name": "Meter"}}})), "dataset.filter", "exactly one"},
		{"nested error", with(ok, "dataset", ds(map[string]any{"filter": map[string]any{"or": []any{dim("Meter"), map[string]any{"not": dim("Nope")}}}})), "dataset.filter.or[1].not.dimensions.name", "'Nope'"},
		{"tag filter", with(ok, "dataset", ds(map[string]any{"filter": map[string]any{"tags": map[string]any{"name": "env", "operator": "In", "values": []string{"x"}}}})), "dataset.filter.tags", "'env'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, costScope("")+"/providers/Microsoft.CostManagement/query", tc.body)
			got := armError(t, r, http.StatusBadRequest, "BadRequest", "")
			if got["target"] != tc.target || !strings.Contains(got["message"].(string), tc.inMsg) {
				t.Fatalf("target %v message %q; want target %q and %q in it", got["target"], got["message"], tc.target, tc.inMsg)
			}
		})
	}
	armError(t, e.do(http.MethodPost, costScope("")+"/providers/Microsoft.CostManagement/query", ""), http.StatusBadRequest, "InvalidRequestContent", "")
	armError(t, e.do(http.MethodPost, costScope("")+"/providers/Microsoft.CostManagement/query", `{"type":5}`), http.StatusBadRequest, "InvalidRequestContent", "")
	armError(t, e.do(http.MethodGet, costScope("rg")+"/providers/Microsoft.CostManagement/query", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "")
	// The query needs a token and an api-version like every ARM call.
	armError(t, e.send(http.MethodPost, costScope("")+"/providers/Microsoft.CostManagement/query", ok, req{noAuth: true}), http.StatusUnauthorized, "AuthenticationFailed", "")
	armError(t, e.send(http.MethodPost, costScope("")+"/providers/Microsoft.CostManagement/query", ok, req{noAPIVer: true}), http.StatusBadRequest, "MissingApiVersionParameter", "")
	// A well-formed query of an empty fleet has no rows.
	a, r := e.query(costScope("rg"), ok)
	if len(a.Properties.Rows) != 0 || r.Header.Get("x-azemu-unpriced") != "0" {
		t.Fatalf("empty fleet: %s", r)
	}
}

type usageAnswer struct {
	From, To string
	Totals   map[string]struct {
		Cost       string  `json:"cost"`
		CostNumber float64 `json:"costNumber"`
	}
	Unpriced int
	Value    []struct {
		ResourceID          string           `json:"resourceId"`
		Kind                string           `json:"kind"`
		ResourceGroup       string           `json:"resourceGroup"`
		ParentID            string           `json:"parentId"`
		DiskTier            string           `json:"diskTier"`
		MeterName           string           `json:"meterName"`
		Seconds             int64            `json:"seconds"`
		SecondsByPowerState map[string]int64 `json:"secondsByPowerState"`
		Quantity            string           `json:"quantity"`
		Priced              bool             `json:"priced"`
		UnitPrice           *string          `json:"unitPrice"`
		Cost                *string          `json:"cost"`
		CostExact           *string          `json:"costExact"`
		CostNumber          *float64         `json:"costNumber"`
		PriceSource         string           `json:"priceSource"`
	}
}

func TestBillingUsageEndpoint(t *testing.T) {
	e := fleetHour(t)
	var a usageAnswer
	r := e.must(http.StatusOK, http.MethodGet, "/_azemu/billing/usage", nil) // this month up to now
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatal(err)
	}
	if a.From != "2026-01-01T00:00:00Z" || a.To != "2026-01-01T01:00:00Z" || len(a.Value) != 6 || a.Unpriced != 1 {
		t.Fatalf("window %s..%s, %d items, %d unpriced", a.From, a.To, len(a.Value), a.Unpriced)
	}
	found := 0
	for _, it := range a.Value {
		switch strings.ToLower(it.ResourceID) {
		case lowerVMID("rg1", "vm1"):
			found++
			if it.Kind != "VM" || it.Seconds != 3585 || !it.Priced || *it.UnitPrice != "0.36" || *it.Cost != "0.3585" ||
				*it.CostExact != "717/2000" || *it.CostNumber != hourLinux || it.MeterName != "D2s v3" || it.PriceSource != "azemu tests" ||
				it.Quantity != "0.9958333333" || it.SecondsByPowerState["none"] != 15 || it.SecondsByPowerState["starting"] != 20 ||
				it.SecondsByPowerState["running"] != 3565 {
				t.Fatalf("vm1: %+v", it)
			}
		case lowerVMID("rg1", "vm3"):
			found++
			// Unpriced: no price and no cost, never a zero.
			if it.Priced || it.Cost != nil || it.UnitPrice != nil || it.CostNumber != nil || it.Seconds != 3585 || it.MeterName != "B1s" {
				t.Fatalf("vm3: %+v", it)
			}
			if !strings.Contains(string(r.Body), `"cost":null`) {
				t.Fatal("an unpriced cost is not written as null")
			}
		case lowerDiskID("rg2", "vm2-os"):
			found++
			if it.Kind != "Disk" || it.DiskTier != "P10" || it.Seconds != 3600 || *it.Cost != "0.01" ||
				!strings.EqualFold(it.ParentID, vmPath("rg2", "vm2")) || it.MeterName != "P10 LRS Disk" {
				t.Fatalf("vm2's disk: %+v", it)
			}
		}
	}
	if found != 3 {
		t.Fatalf("found %d of the 3 checked items", found)
	}
	if tot := a.Totals["USD"]; tot.Cost != "1.0895" || tot.CostNumber != 1.0895 {
		t.Fatalf("totals %+v", a.Totals)
	}

	// A window and a scope.
	q := "/_azemu/billing/usage?from=2026-01-01T00:30:00Z&to=2026-01-01T00:40:00Z&subscription=" + sub + "&resourceGroup=RG2&granularity=minute"
	a = usageAnswer{}
	if err := json.Unmarshal(e.must(http.StatusOK, http.MethodGet, q, nil).Body, &a); err != nil {
		t.Fatal(err)
	}
	// vm2: 600 s x 0.0002 = 0.12; its P10: 600 s x 0.01/3600 = 1/600,
	// written to 18 places.
	if len(a.Value) != 2 || a.Totals["USD"].Cost != "0.121666666666666667" {
		t.Fatalf("rg2, 10 min: %d items, totals %+v", len(a.Value), a.Totals)
	}
	for _, bad := range []string{"?from=yesterday", "?to=2026-01-01", "?granularity=hour", "?resourceGroup=rg1", "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		r := e.do(http.MethodGet, "/_azemu/billing/usage"+bad, nil)
		armError(t, r, http.StatusBadRequest, "InvalidParameter", "")
	}
	armError(t, e.do(http.MethodPost, "/_azemu/billing/usage", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "")
}

func TestBillingIdleEndpoint(t *testing.T) {
	e := fleetHour(t)
	e.act("rg1", "vm1", "powerOff")
	e.act("rg1", "vm3", "powerOff")
	e.act("rg2", "vm2", "deallocate")
	e.advance(10 * time.Second) // vm1 and vm3 stopped; vm2 still deallocating
	var a struct {
		HoursPerMonth int
		Unpriced      int
		Totals        map[string]map[string]struct{ Cost string }
		Value         []struct {
			ResourceID   string     `json:"resourceId"`
			PowerState   string     `json:"powerState"`
			StoppedSince *time.Time `json:"stoppedSince"`
			Priced       bool       `json:"priced"`
			HourlyRate   *string    `json:"hourlyRate"`
			MonthlyCost  *string    `json:"monthlyCost"`
			MeterName    string     `json:"meterName"`
		}
	}
	if err := json.Unmarshal(e.must(http.StatusOK, http.MethodGet, "/_azemu/billing/idle", nil).Body, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Value) != 2 || a.HoursPerMonth != 730 || a.Unpriced != 1 {
		t.Fatalf("idle: %+v", a)
	}
	vm1, vm3 := a.Value[0], a.Value[1]
	stopped := t0.Add(time.Hour + 10*time.Second)
	if !strings.EqualFold(vm1.ResourceID, vmPath("rg1", "vm1")) || vm1.PowerState != "stopped" || !vm1.Priced ||
		*vm1.HourlyRate != "0.36" || *vm1.MonthlyCost != "262.8" || vm1.StoppedSince == nil || !vm1.StoppedSince.Equal(stopped) {
		t.Fatalf("vm1: %+v", vm1)
	}
	if !strings.EqualFold(vm3.ResourceID, vmPath("rg1", "vm3")) || vm3.Priced || vm3.HourlyRate != nil || vm3.MonthlyCost != nil || vm3.MeterName != "B1s" {
		t.Fatalf("vm3: %+v", vm3)
	}
	if a.Totals["USD"]["monthly"].Cost != "262.8" {
		t.Fatalf("totals %+v", a.Totals)
	}
	// Starting it again takes it off the list at once.
	e.act("rg1", "vm1", "start")
	if err := json.Unmarshal(e.must(http.StatusOK, http.MethodGet, "/_azemu/billing/idle?subscription="+sub+"&resourceGroup=rg1", nil).Body, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Value) != 1 || !strings.EqualFold(a.Value[0].ResourceID, vmPath("rg1", "vm3")) {
		t.Fatalf("after start: %+v", a.Value)
	}

	// The seed's asterisk: a deallocated VM costs no compute, but its disks
	// (and public IPs) still bill, and the report says what they cost.
	e.advance(time.Minute) // vm2's deallocate is over
	var d struct {
		Value []struct {
			ResourceID  string `json:"resourceId"`
			StillBilled struct {
				Disks   int            `json:"disks"`
				PerHour billing.Amount `json:"perHour"`
			} `json:"stillBilled"`
		}
		Deallocated []struct {
			ResourceID       string             `json:"resourceId"`
			PowerState       string             `json:"powerState"`
			DeallocatedSince *time.Time         `json:"deallocatedSince"`
			StillBilled      armapi.StillBilled `json:"stillBilled"`
		}
		DeallocatedTotal struct {
			PerMonth billing.Amount `json:"perMonth"`
		} `json:"deallocatedTotal"`
	}
	if err := json.Unmarshal(e.must(http.StatusOK, http.MethodGet, "/_azemu/billing/idle", nil).Body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Deallocated) != 1 {
		t.Fatalf("deallocated: %+v", d.Deallocated)
	}
	vm2 := d.Deallocated[0]
	sb := vm2.StillBilled
	if !strings.EqualFold(vm2.ResourceID, vmPath("rg2", "vm2")) || vm2.PowerState != "deallocated" || vm2.DeallocatedSince == nil ||
		sb.Disks != 1 || sb.PublicIPs != 0 || sb.PerHour.Cost == nil || sb.PerHour.Cost.Cmp(big.NewRat(1, 100)) != 0 ||
		sb.PerMonth.Cost.Cmp(big.NewRat(73, 10)) != 0 || sb.DisksRate.Cost.Cmp(sb.PerHour.Cost) != 0 || sb.IPsRate.Cost != nil || sb.PerHour.Unpriced {
		t.Fatalf("vm2: %+v", vm2)
	}
	if d.DeallocatedTotal.PerMonth.Cost.Cmp(big.NewRat(73, 10)) != 0 {
		t.Fatalf("deallocated total %+v", d.DeallocatedTotal)
	}
	// The stopped, unpriced vm3 still has its priced P4 disk.
	if len(d.Value) != 1 || d.Value[0].StillBilled.Disks != 1 || d.Value[0].StillBilled.PerHour.Cost.Cmp(big.NewRat(2, 1000)) != 0 {
		t.Fatalf("stopped: %+v", d.Value)
	}
}

// A shutdown from inside the guest stops the VM but keeps it allocated: it
// is still billed. A hibernated VM is deallocated: it is not, once the
// stopping step (billed) is over.
func TestGuestShutdownBillsHibernateDoesNot(t *testing.T) {
	e := newEnv(t, withPrices(t, testPrices))
	e.createGroup("rg")
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "shut"), billedVM("rg", "shut", "Standard_D2s_v3", false))
	e.must(http.StatusCreated, http.MethodPut, vmPath("rg", "hib"), with(billedVM("rg", "hib", "Standard_D2s_v3", false),
		"properties.additionalCapabilities", map[string]any{"hibernationEnabled": true}))
	e.advance(time.Hour)
	e.must(http.StatusAccepted, http.MethodPost, "/_azemu/vms"+vmID("rg", "shut")+"/guestShutdown", nil)
	r := e.do(http.MethodPost, vmPath("rg", "hib")+"/deallocate?hibernate=true", nil)
	if r.Status != http.StatusAccepted {
		t.Fatal(r)
	}
	e.advance(time.Hour)
	if _, pw := e.state("rg", "shut"); pw != "PowerState/stopped" {
		t.Fatalf("after a guest shutdown: %s", pw)
	}
	if codes := e.codes("rg", "hib"); !slices.Contains(codes, "HibernationState/Hibernated") {
		t.Fatalf("hibernated VM statuses: %v", codes)
	}
	a, _ := e.query(costScope(""), custom(t0.Add(time.Hour), t0.Add(2*time.Hour), map[string]any{
		"granularity": "None", "aggregation": sumCost, "grouping": groupBy("ResourceId")}))
	sameCosts(t, byKey(t, a), map[string]float64{
		lowerVMID("rg", "shut") + "|USD":      0.36,  // stopping 5 s, then stopped: the whole hour
		lowerVMID("rg", "hib") + "|USD":       0.001, // stopping 10 s, then deallocating and hibernated
		lowerDiskID("rg", "shut-os") + "|USD": hourP4,
		lowerDiskID("rg", "hib-os") + "|USD":  hourP4,
	})
}

package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/costmanagement/armcostmanagement/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// costPrices is the test's own price sheet, passed with --prices: round
// figures so that every cost is exact. D2s v3 0.36/h Linux, 0.72/h
// Windows; P4 1.46 a month (0.002/h), P10 7.30 a month (0.01/h).
const costPrices = `{"Items":[
 {"currencyCode":"USD","retailPrice":0.36,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":0.72,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series Windows","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":1.46,"armRegionName":"westeurope","meterName":"P4 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P4 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":7.3,"armRegionName":"westeurope","meterName":"P10 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P10 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
]}`

// exact gives the float64 nearest num/den, as the server writes a cost.
func exact(num, den int64) float64 {
	f, _ := big.NewRat(num, den).Float64()
	return f
}

// costs queries ActualCost over [from, to) through the SDK, grouped by
// ResourceId, and returns each resource's cost.
func costs(t *testing.T, qc *armcostmanagement.QueryClient, from, to time.Time, filter *armcostmanagement.QueryFilter) map[string]float64 {
	t.Helper()
	res, err := qc.Usage(context.Background(), "subscriptions/"+subscriptionID, armcostmanagement.QueryDefinition{
		Type:       ptr(armcostmanagement.ExportTypeActualCost),
		Timeframe:  ptr(armcostmanagement.TimeframeTypeCustom),
		TimePeriod: &armcostmanagement.QueryTimePeriod{From: ptr(from), To: ptr(to)},
		Dataset: &armcostmanagement.QueryDataset{
			Aggregation: map[string]*armcostmanagement.QueryAggregation{"totalCost": {Name: ptr("Cost"), Function: ptr(armcostmanagement.FunctionTypeSum)}},
			Grouping:    []*armcostmanagement.QueryGrouping{{Type: ptr(armcostmanagement.QueryColumnTypeDimension), Name: ptr("ResourceId")}},
			Filter:      filter,
		},
	}, nil)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	cols := map[string]int{}
	for i, c := range res.Properties.Columns {
		cols[*c.Name] = i
	}
	out := map[string]float64{}
	for _, row := range res.Properties.Rows {
		if row[cols["Currency"]] != "USD" {
			t.Fatalf("row %v", row)
		}
		out[row[cols["ResourceId"]].(string)] = row[cols["Cost"]].(float64)
	}
	return out
}

func TestCostManagementWithSDK(t *testing.T) {
	dir := t.TempDir()
	prices := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(prices, []byte(costPrices), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	srv := startServer(t, dataDir, "--prices", prices)
	f := newFleet(t, srv)
	qc, err := armcostmanagement.NewQueryClient(staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const rg = "rg-cost"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	var clk struct {
		Now time.Time `json:"now"`
	}
	if srv.do(http.MethodGet, "/_azemu/clock", nil, &clk) != http.StatusOK {
		t.Fatal("clock")
	}
	t0 := clk.Now

	// A Linux VM, a Windows VM, and a Windows VM with Hybrid Benefit, all
	// from generalized images: each gets its OS disk (P4 for Linux's 30
	// GiB, P10 for Windows' 127 GiB), detached when the VM is deleted.
	windows := func(name string, ahb bool) armcompute.VirtualMachine {
		vm := linuxVM("westeurope")
		vm.Properties.StorageProfile.ImageReference = &armcompute.ImageReference{
			Publisher: ptr("MicrosoftWindowsServer"), Offer: ptr("WindowsServer"), SKU: ptr("2022-datacenter"), Version: ptr("latest")}
		vm.Properties.OSProfile.ComputerName = ptr(name)
		if ahb {
			vm.Properties.LicenseType = ptr("Windows_Server")
		}
		return vm
	}
	bodies := map[string]armcompute.VirtualMachine{"lin": linuxVM("westeurope"), "win": windows("win", false), "ahb": windows("ahb", true)}
	var creates []func()
	for _, name := range []string{"lin", "win", "ahb"} {
		p, err := f.vms.BeginCreateOrUpdate(ctx, rg, name, bodies[name], nil)
		if err != nil {
			t.Fatal(err)
		}
		creates = append(creates, func() { done(t, p) })
	}
	// Create: 15 s allocating (not billed), 20 s starting, 40 + 5 s running.
	srv.advance(80 * time.Second)
	for _, c := range creates {
		c()
	}
	f.expect(rg, "lin", succeeded, pwRunning)

	// lin runs 1 h, is powered off 1 h (10 s stopping, then stopped:
	// billed), deallocated 1 h (15 s deallocating: not billed), then
	// started (10 s deallocated, 2 s stopped, 15 s starting) and run 30 min.
	srv.advance(time.Hour)
	t1 := t0.Add(80*time.Second + time.Hour)
	off, err := f.vms.BeginPowerOff(ctx, rg, "lin", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(time.Hour)
	done(t, off)
	f.expect(rg, "lin", succeeded, pwStopped)

	// Stopped but allocated: the idle view lists it, with what it costs.
	out := runBill(t, srv, dataDir, "--idle")
	if !strings.Contains(out, "lin") || !strings.Contains(out, "0.36 USD") || !strings.Contains(out, "262.8 USD") || strings.Contains(out, "win ") {
		t.Fatalf("azemu bill --idle:\n%s", out)
	}

	t2 := t1.Add(time.Hour)
	dealloc, err := f.vms.BeginDeallocate(ctx, rg, "lin", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(time.Hour)
	done(t, dealloc)
	f.expect(rg, "lin", succeeded, pwDeallocated)
	t3 := t2.Add(time.Hour)
	start, err := f.vms.BeginStart(ctx, rg, "lin", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(27*time.Second + 30*time.Minute)
	done(t, start)
	t4 := t3.Add(27*time.Second + 30*time.Minute)

	// Delete all three: 20 s deallocating, not billed. Their disks stay.
	var deletes []func()
	for _, name := range []string{"lin", "win", "ahb"} {
		p, err := f.vms.BeginDelete(ctx, rg, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		deletes = append(deletes, func() { done(t, p) })
	}
	srv.advance(20 * time.Second)
	for _, d := range deletes {
		d()
	}
	end := srv.advance(time.Minute)
	if want := t4.Add(80 * time.Second); !end.Equal(want) {
		t.Fatalf("clock at %s, want %s", end, want)
	}

	id := func(name string) string {
		return strings.ToLower("/subscriptions/" + subscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name)
	}
	// lin: 20 starting + 45 + 3600 running + 10 stopping + 3590 stopped
	// + 2 stopped + 15 starting + 1800 running = 9082 s. win and ahb: from
	// starting (t0 + 15 s) to the delete: 12692 s.
	got := costs(t, qc, t0, end, nil)
	want := map[string]float64{
		id("lin"): exact(9082*36, 360000),  // 0.9082 at the Linux rate
		id("win"): exact(12692*72, 360000), // 2.5384 at the Windows rate
		id("ahb"): exact(12692*36, 360000), // 1.2692: Hybrid Benefit bills the Linux rate
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("%s: cost %v, want %v (all: %v)", k, got[k], w, got)
		}
	}
	if want[id("lin")] != 0.9082 || want[id("win")] != 2.5384 || want[id("ahb")] != 1.2692 {
		t.Fatalf("the test's own arithmetic: %v", want)
	}
	// The OS disks bill from creation to the end of the window, through
	// every power state and after their VM is gone: 12787 s each.
	disks := map[string]float64{}
	for k, v := range got {
		if strings.Contains(k, "/providers/microsoft.compute/disks/") {
			disks[k[strings.LastIndex(k, "/")+1:strings.LastIndex(k, "_osdisk_1_")]] = v
		}
	}
	wantDisks := map[string]float64{"lin": exact(12787*2, 3600*1000), "win": exact(12787*10, 3600*1000), "ahb": exact(12787*10, 3600*1000)}
	if len(disks) != 3 || len(got) != 6 {
		t.Fatalf("rows: %v", got)
	}
	for k, w := range wantDisks {
		if disks[k] != w {
			t.Fatalf("disk of %s: cost %v, want %v", k, disks[k], w)
		}
	}

	// Window by window: only starting, running, stopping and stopped bill.
	linOnly := &armcostmanagement.QueryFilter{Dimensions: &armcostmanagement.QueryComparisonExpression{
		Name: ptr("ResourceId"), Operator: ptr(armcostmanagement.QueryOperatorTypeIn), Values: []*string{ptr(id("lin"))}}}
	for _, w := range []struct {
		what     string
		from, to time.Time
		seconds  int64
	}{
		{"allocating", t0, t0.Add(15 * time.Second), 0},
		{"starting", t0.Add(15 * time.Second), t0.Add(35 * time.Second), 20},
		{"stopping", t1, t1.Add(10 * time.Second), 10},
		{"stopped", t1.Add(10 * time.Second), t2, 3590},
		{"deallocating and deallocated, the whole hour", t2, t3, 0},
		{"allocating on start", t3, t3.Add(10 * time.Second), 0},
		{"stopped, then starting, on start", t3.Add(10 * time.Second), t3.Add(27 * time.Second), 17},
		{"deleting", t4, t4.Add(20 * time.Second), 0},
	} {
		got := costs(t, qc, w.from, w.to, linOnly)
		c, present := got[id("lin")]
		switch {
		case w.seconds == 0 && (present || len(got) != 0):
			t.Fatalf("%s: compute billed: %v", w.what, got)
		case w.seconds > 0 && c != exact(w.seconds*36, 360000):
			t.Fatalf("%s: cost %v (rows %v), want %d s at 0.36/h", w.what, c, got, w.seconds)
		}
	}
	// In the deallocated hour the other VMs still bill.
	if got := costs(t, qc, t2, t3, nil); got[id("win")] != exact(3600*72, 360000) || got[id("ahb")] != 0.36 {
		t.Fatalf("deallocated hour, others: %v", got)
	}

	// Daily, by meter category, at the resource group scope.
	res, err := qc.Usage(ctx, "subscriptions/"+subscriptionID+"/resourceGroups/"+rg, armcostmanagement.QueryDefinition{
		Type:      ptr(armcostmanagement.ExportTypeUsage),
		Timeframe: ptr(armcostmanagement.TimeframeTypeMonthToDate),
		Dataset: &armcostmanagement.QueryDataset{
			Granularity: ptr(armcostmanagement.GranularityTypeDaily),
			Aggregation: map[string]*armcostmanagement.QueryAggregation{"totalCost": {Name: ptr("PreTaxCost"), Function: ptr(armcostmanagement.FunctionTypeSum)}},
			Grouping:    []*armcostmanagement.QueryGrouping{{Type: ptr(armcostmanagement.QueryColumnTypeDimension), Name: ptr("MeterCategory")}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Properties.Columns {
		names = append(names, *c.Name+":"+*c.Type)
	}
	if strings.Join(names, " ") != "PreTaxCost:Number UsageDate:Number MeterCategory:String Currency:String" || len(res.Properties.Rows) != 2 {
		t.Fatalf("daily: %v %v", names, res.Properties.Rows)
	}
	for _, row := range res.Properties.Rows {
		date := t0.Year()*10000 + int(t0.Month())*100 + t0.Day()
		wantCost := exact(9082*36+12692*72+12692*36, 360000) // lin + win + ahb
		if row[2] == "Storage" {
			wantCost = exact(12787*(2+10+10), 3600*1000)
		}
		if row[1] != float64(date) || (row[2] != "Virtual Machines" && row[2] != "Storage") || row[0] != wantCost {
			t.Fatalf("daily row %v, want %v on %d", row, wantCost, date)
		}
	}

	// The emulator's usage view has the seconds by power state.
	var usage struct {
		Value []struct {
			Name                string           `json:"name"`
			SecondsByPowerState map[string]int64 `json:"secondsByPowerState"`
		} `json:"value"`
	}
	srv.do(http.MethodGet, "/_azemu/billing/usage?from="+t0.Format(time.RFC3339)+"&to="+end.Format(time.RFC3339), nil, &usage)
	for _, u := range usage.Value {
		if u.Name == "lin" {
			want := map[string]int64{"none": 15, "starting": 35, "running": 5445, "stopping": 10, "stopped": 3592, "deallocating": 35, "deallocated": 3595}
			for k, v := range want {
				if u.SecondsByPowerState[k] != v {
					t.Fatalf("lin by power state: %v, want %v", u.SecondsByPowerState, want)
				}
			}
		}
	}

	// azemu bill --format csv: FOCUS columns, one row per line item.
	out = runBill(t, srv, dataDir, "--format", "csv", "--from", t0.Format(time.RFC3339), "--to", end.Format(time.RFC3339))
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	header := "BilledCost,EffectiveCost,ListCost,ListUnitPrice,ChargePeriodStart,ChargePeriodEnd,ConsumedQuantity,ConsumedUnit," +
		"PricingQuantity,PricingUnit,ResourceId,ResourceName,ResourceType,RegionId,ServiceName,ServiceCategory,SkuMeter," +
		"SubAccountId,x_ResourceGroupName,BillingCurrency,x_PricingStatus"
	if strings.Join(records[0], ",") != header || len(records) != 7 {
		t.Fatalf("csv:\n%s", out)
	}
	var lin []string
	for _, r := range records[1:] {
		if r[11] == "lin" {
			lin = r
		}
	}
	wantRow := []string{"0.9082", "0.9082", "0.9082", "0.36", t0.Format(time.RFC3339), end.Format(time.RFC3339), "2.5227777778", "Hours",
		"2.5227777778", "1 Hour", id("lin"), "lin", "Virtual machine", "westeurope", "Virtual Machines", "Compute", "D2s v3",
		"/subscriptions/" + subscriptionID, rg, "USD", "Priced"}
	if strings.Join(lin, ",") != strings.Join(wantRow, ",") {
		t.Fatalf("lin's FOCUS row:\n got  %v\n want %v", lin, wantRow)
	}

	// The table: per VM, hours by state and costs; the orphaned disks on
	// lines of their own.
	out = runBill(t, srv, dataDir, "--from", t0.Format(time.RFC3339), "--to", end.Format(time.RFC3339))
	var linLine string
	orphans := 0
	for _, l := range strings.Split(out, "\n") {
		fields := strings.Fields(l)
		if len(fields) > 0 && fields[0] == "lin" {
			linLine = strings.Join(fields, " ")
		}
		if strings.HasPrefix(l, "disk ") && strings.Contains(l, "(no VM)") {
			orphans++
		}
	}
	// running 35 + 5445 + 10 = 5490 s, stopped 3592 s, deallocated 15 + 35 + 3595 = 3645 s.
	// No public IP: the network column is zero.
	if linLine != "lin rg-cost Standard_D2s_v3 westeurope 1.53 1.00 1.01 0.9082 0.0000 0.0000 0.9082" || orphans != 3 {
		t.Fatalf("azemu bill:\n%s", out)
	}
}

// runBill runs `azemu bill` against the server and returns its output.
func runBill(t *testing.T, srv *server, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(azemuBin, append([]string{"bill", "--server", srv.base, "--ca", filepath.Join(dataDir, "tls", "ca.pem")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("azemu bill %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

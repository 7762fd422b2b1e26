package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/azemu/azemu/internal/billing"
)

// oneBillPrices prices by the second in figures whose decimals never end
// (0.097/3600 a second), so that any path that rounds, or adds in float64,
// shows in the last places.
const oneBillPrices = `{"Items":[
 {"currencyCode":"USD","retailPrice":0.097,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":1.54,"armRegionName":"westeurope","meterName":"P4 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P4 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
]}`

// The same fleet's bill, per VM with its disk, from the four places that
// show one: the Cost Management query, GET /_azemu/billing/usage, the
// dashboard's fleet table and `azemu bill` (FOCUS CSV and the table).
func TestOneBillEverywhere(t *testing.T) {
	dir := t.TempDir()
	prices := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(prices, []byte(oneBillPrices), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	srv := startServer(t, dataDir, "--prices", prices)
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg = "rg-onebill"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	t0 := srv.now()
	names := []string{"steady", "stops", "parks"}
	var polls []func()
	for _, name := range names {
		vm := linuxVM("westeurope")
		vm.Properties.OSProfile.ComputerName = ptr(name)
		p, err := f.vms.BeginCreateOrUpdate(ctx, rg, name, vm, nil)
		if err != nil {
			t.Fatal(err)
		}
		polls = append(polls, func() { done(t, p) })
	}
	srv.advance(80 * time.Second)
	for _, p := range polls {
		p()
	}
	srv.advance(47*time.Minute + 13*time.Second)
	off, err := f.vms.BeginPowerOff(ctx, rg, "stops", nil)
	if err != nil {
		t.Fatal(err)
	}
	dealloc, err := f.vms.BeginDeallocate(ctx, rg, "parks", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.advance(time.Minute)
	done(t, off)
	done(t, dealloc)
	end := srv.advance(2*time.Hour + 7*time.Second)
	f.expect(rg, "stops", succeeded, pwStopped)

	// The usage endpoint's bill by VM, and which disk is whose.
	var usage struct {
		Value []struct {
			ResourceID string `json:"resourceId"`
			Kind       string `json:"kind"`
			ParentID   string `json:"parentId"`
		} `json:"value"`
		Bill struct {
			VMs []struct {
				ResourceID string         `json:"resourceId"`
				Name       string         `json:"name"`
				Total      billing.Amount `json:"total"`
			} `json:"vms"`
		} `json:"bill"`
	}
	window := "?from=" + t0.Format(time.RFC3339) + "&to=" + end.Format(time.RFC3339)
	if code := srv.do(http.MethodGet, "/_azemu/billing/usage"+window, nil, &usage); code != http.StatusOK {
		t.Fatalf("usage: HTTP %d", code)
	}
	// resources: each VM's ID and its disk's, lower case.
	resources := map[string][]string{}
	byName := map[string]*big.Rat{}
	for _, v := range usage.Bill.VMs {
		if v.Total.Unpriced || v.Total.Cost == nil {
			t.Fatalf("%s unpriced: %+v", v.Name, v.Total)
		}
		byName[v.Name] = v.Total.Cost
		resources[v.Name] = []string{strings.ToLower(v.ResourceID)}
	}
	for _, l := range usage.Value {
		for name, ids := range resources {
			if l.Kind == "Disk" && strings.EqualFold(l.ParentID, ids[0]) {
				resources[name] = append(ids, strings.ToLower(l.ResourceID))
			}
		}
	}
	sources := map[string]map[string]*big.Rat{"usage": byName}

	// Cost Management: cost per ResourceId over the same window.
	var query struct {
		Properties struct {
			Columns []struct{ Name string } `json:"columns"`
			Rows    [][]json.RawMessage     `json:"rows"`
		} `json:"properties"`
	}
	body := map[string]any{"type": "ActualCost", "timeframe": "Custom",
		"timePeriod": map[string]string{"from": t0.Format(time.RFC3339), "to": end.Format(time.RFC3339)},
		"dataset": map[string]any{"aggregation": map[string]any{"c": map[string]string{"name": "Cost", "function": "Sum"}},
			"grouping": []map[string]string{{"type": "Dimension", "name": "ResourceId"}}}}
	if code := srv.do(http.MethodPost, "/subscriptions/"+subscriptionID+"/providers/Microsoft.CostManagement/query?api-version=2023-11-01", body, &query); code != http.StatusOK {
		t.Fatalf("query: HTTP %d", code)
	}
	perID := map[string]*big.Rat{}
	for _, row := range query.Properties.Rows {
		var cost billing.Number
		var id string
		if err := json.Unmarshal(row[0], &cost); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(row[1], &id)
		perID[id] = cost.Rat()
	}
	sources["cost management"] = sumPerVM(resources, perID)

	// The dashboard's fleet table: each VM's cost so far, disks included.
	var page struct {
		Rows []struct {
			Name string         `json:"name"`
			Cost billing.Number `json:"cost"`
		} `json:"rows"`
	}
	if code := srv.do(http.MethodGet, "/_dashboard/api/vms", nil, &page); code != http.StatusOK {
		t.Fatalf("dashboard: HTTP %d", code)
	}
	sources["dashboard"] = map[string]*big.Rat{}
	for _, r := range page.Rows {
		sources["dashboard"][r.Name] = r.Cost.Rat()
	}

	// azemu bill --format csv: BilledCost per line item.
	out := runBill(t, srv, dataDir, "--format", "csv", "--from", t0.Format(time.RFC3339), "--to", end.Format(time.RFC3339))
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	perID = map[string]*big.Rat{}
	for _, r := range records[1:] {
		c, ok := new(big.Rat).SetString(r[0])
		if !ok {
			t.Fatalf("BilledCost %q", r[0])
		}
		perID[r[10]] = c
	}
	sources["azemu bill --format csv"] = sumPerVM(resources, perID)

	for _, name := range names {
		want := billing.Decimal(byName[name], 12)
		for src, got := range sources {
			if got[name] == nil || billing.Decimal(got[name], 12) != want {
				t.Errorf("%s: %s says %v, usage says %s", name, src, got[name], want)
			}
		}
		if byName[name].Sign() <= 0 {
			t.Errorf("%s costs nothing", name)
		}
	}
	// The table shows the same totals to 4 places.
	out = runBill(t, srv, dataDir, "--from", t0.Format(time.RFC3339), "--to", end.Format(time.RFC3339))
	for _, l := range strings.Split(out, "\n") {
		fields := strings.Fields(l)
		if len(fields) == 11 && byName[fields[0]] != nil {
			if want := byName[fields[0]].FloatString(4); fields[10] != want {
				t.Errorf("azemu bill: %s total %s, want %s\n%s", fields[0], fields[10], want, out)
			}
			delete(byName, fields[0])
		}
	}
	if len(byName) != 0 {
		t.Errorf("azemu bill left out %v:\n%s", byName, out)
	}
}

// sumPerVM adds the costs of each VM's resources.
func sumPerVM(resources map[string][]string, perID map[string]*big.Rat) map[string]*big.Rat {
	out := map[string]*big.Rat{}
	for name, ids := range resources {
		sum := new(big.Rat)
		for _, id := range ids {
			if c := perID[id]; c != nil {
				sum.Add(sum, c)
			}
		}
		out[name] = sum
	}
	return out
}

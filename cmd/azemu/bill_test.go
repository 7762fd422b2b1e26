package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/billing"
)

func sp(s string) *string { return &s }

const vmID = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"

// answer is a window with a priced VM with its disk and public IP, an
// unpriced VM, a disk and a public IP left without a VM.
func answer() usageAnswer {
	a := usageAnswer{From: "2026-01-01T00:00:00Z", To: "2026-01-01T02:00:00Z", Unpriced: 1, Value: []usageLine{
		{ResourceID: vmID, Name: "web", Kind: "VM", SubscriptionID: "s1", ResourceGroup: "rg", Location: "westeurope",
			MeterName: "D2s v3", ServiceName: "Virtual Machines", ServiceCategory: "Compute",
			Seconds: 5400, Unit: "1 Hour", Quantity: "1.5", Priced: true, UnitPrice: sp("0.36"), Currency: sp("USD"), Cost: sp("0.54"), CostExact: sp("27/50")},
		{ResourceID: vmID + "-disk", Name: "web-os", Kind: "Disk", SubscriptionID: "s1", ResourceGroup: "rg", Location: "westeurope",
			MeterName: "P4 LRS Disk", ServiceName: "Storage", ServiceCategory: "Storage",
			Seconds: 7200, Unit: "1/Month", Quantity: "0.0027397260", Priced: true, UnitPrice: sp("1.46"), Currency: sp("USD"), Cost: sp("0.004"), CostExact: sp("1/250")},
		{ResourceID: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/odd", Name: "odd", Kind: "VM",
			SubscriptionID: "s1", ResourceGroup: "rg", Location: "westeurope", MeterName: "B1s",
			Seconds: 7185, Unit: "1 Hour", Quantity: "1.9958333333"},
		{ResourceID: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/disks/left", Name: "left", Kind: "Disk",
			SubscriptionID: "s1", ResourceGroup: "rg", Location: "westeurope", MeterName: "P10 LRS Disk",
			Seconds: 7200, Unit: "1/Month", Quantity: "0.0027397260", Priced: true, UnitPrice: sp("7.3"), Currency: sp("USD"), Cost: sp("0.02"), CostExact: sp("1/50")},
		{ResourceID: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/web-ip", Name: "web-ip", Kind: "PublicIP",
			SubscriptionID: "s1", ResourceGroup: "rg", Location: "westeurope", MeterName: "Standard IPv4 Static Public IP", ServiceName: "Virtual Network",
			ServiceCategory: "Networking", Seconds: 7200, Unit: "1 Hour", Quantity: "2", Priced: true, UnitPrice: sp("0.005"), Currency: sp("USD"), Cost: sp("0.01"), CostExact: sp("1/100")},
		{ResourceID: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/spare", Name: "spare", Kind: "PublicIP",
			SubscriptionID: "s1", ResourceGroup: "rg", Location: "westeurope", MeterName: "Standard IPv4 Static Public IP", ServiceName: "Virtual Network",
			ServiceCategory: "Networking", Seconds: 3600, Unit: "1 Hour", Quantity: "1", Priced: true, UnitPrice: sp("0.005"), Currency: sp("USD"), Cost: sp("0.005"), CostExact: sp("1/200")},
	}}
	// The server's sums of the same lines (billing.BillByVM).
	bill := `{"vms":[
		{"name":"web","resourceGroup":"rg","location":"westeurope","sizes":["Standard_D2s_v3"],"runningSeconds":3610,"stoppedSeconds":1790,"unbilledSeconds":1800,
		 "compute":{"cost":0.54,"currency":"USD"},"disks":{"cost":0.004,"currency":"USD"},"network":{"cost":0.01,"currency":"USD"},"total":{"cost":0.554,"currency":"USD"}},
		{"name":"odd","resourceGroup":"rg","location":"westeurope","sizes":["Standard_B1s"],"runningSeconds":7185,"unbilledSeconds":15,
		 "compute":{"cost":null,"unpriced":true},"disks":{"cost":null},"total":{"cost":null,"unpriced":true}}],
		"orphanDisks":[{"name":"left","resourceGroup":"rg","location":"westeurope","tier":"P10","cost":{"cost":0.02,"currency":"USD"}}],
		"orphanPublicIPs":[{"name":"spare","resourceGroup":"rg","location":"westeurope","meter":"Standard IPv4 Static Public IP","cost":{"cost":0.005,"currency":"USD"}}],
		"compute":{"cost":0.54,"currency":"USD","unpriced":true},"disks":{"cost":0.024,"currency":"USD"},"network":{"cost":0.015,"currency":"USD"},"total":{"cost":0.579,"currency":"USD","unpriced":true}}`
	if err := json.Unmarshal([]byte(bill), &a.Bill); err != nil {
		panic(err)
	}
	return a
}

func fields(out, first string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == first {
			return strings.Join(f, " ")
		}
	}
	return ""
}

func TestBillTable(t *testing.T) {
	var b bytes.Buffer
	if err := writeBillTable(&b, answer()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for first, want := range map[string]string{
		// starting + running + stopping; stopped; deallocating + deallocated.
		"web":    "web rg Standard_D2s_v3 westeurope 1.00 0.50 0.50 0.5400 0.0040 0.0100 0.5540",
		"odd":    "odd rg Standard_B1s westeurope 2.00 0.00 0.00 unpriced 0.0000 0.0000 unpriced",
		"disk":   "disk left (no VM) rg P10 westeurope - - - - 0.0200 - 0.0200",
		"public": "public IP spare (no VM) rg Standard IPv4 Static Public IP westeurope - - - - - 0.0050 0.0050",
		"TOTAL":  "TOTAL unpriced 0.0240 0.0150 unpriced",
		"VM":     "VM RESOURCE GROUP SIZE REGION RUNNING H STOPPED H DEALLOCATED H COMPUTE (USD) DISKS (USD) PUBLIC IPS (USD) TOTAL (USD)",
	} {
		if got := fields(out, first); got != want {
			t.Errorf("line %s:\n got  %q\n want %q\n%s", first, got, want, out)
		}
	}
	if !strings.Contains(out, "1 line item(s) are unpriced") {
		t.Errorf("no unpriced note:\n%s", out)
	}

	// All priced: the totals are the server's.
	a := answer()
	a.Bill.VMs = slices.Delete(a.Bill.VMs, 1, 2)
	a.Bill.Compute.Unpriced, a.Bill.Total.Unpriced, a.Unpriced = false, false, 0
	b.Reset()
	if err := writeBillTable(&b, a); err != nil {
		t.Fatal(err)
	}
	out = b.String()
	if got := fields(out, "TOTAL"); got != "TOTAL 0.5400 0.0240 0.0150 0.5790" || strings.Contains(out, "unpriced") {
		t.Errorf("all priced:\n%s", out)
	}
}

func TestBillFOCUS(t *testing.T) {
	var b bytes.Buffer
	if err := writeFOCUS(&b, answer()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 || strings.Join(recs[0], ",") != strings.Join(focusColumns, ",") {
		t.Fatalf("csv: %v", recs)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	web, odd := recs[1], recs[3]
	for c, want := range map[string]string{"BilledCost": "0.54", "ListUnitPrice": "0.36", "ConsumedQuantity": "1.5", "ConsumedUnit": "Hours",
		"PricingUnit": "1 Hour", "ResourceId": strings.ToLower(vmID), "ResourceType": "Virtual machine", "SubAccountId": "/subscriptions/s1",
		"ChargePeriodEnd": "2026-01-01T02:00:00Z", "BillingCurrency": "USD", "x_PricingStatus": "Priced"} {
		if web[col[c]] != want {
			t.Errorf("web %s = %q, want %q", c, web[col[c]], want)
		}
	}
	// Unpriced: empty costs, never 0, and said so.
	for c, want := range map[string]string{"BilledCost": "", "EffectiveCost": "", "ListCost": "", "ListUnitPrice": "", "x_PricingStatus": "Unpriced", "SkuMeter": "B1s"} {
		if odd[col[c]] != want {
			t.Errorf("odd %s = %q, want %q", c, odd[col[c]], want)
		}
	}
	if recs[2][col["ConsumedUnit"]] != "Months" || recs[2][col["ServiceCategory"]] != "Storage" {
		t.Errorf("disk row %v", recs[2])
	}
	// A public IP: its own row, hours of the Virtual Network service.
	ip := recs[5]
	for c, want := range map[string]string{"BilledCost": "0.01", "ConsumedQuantity": "2", "ConsumedUnit": "Hours", "ResourceType": "Public IP address",
		"ServiceName": "Virtual Network", "ServiceCategory": "Networking", "SkuMeter": "Standard IPv4 Static Public IP", "x_PricingStatus": "Priced"} {
		if ip[col[c]] != want {
			t.Errorf("public IP %s = %q, want %q", c, ip[col[c]], want)
		}
	}
}

// TestBillAgainstServer runs the command against an HTTPS server trusted
// through --ca, as against azemu.
func TestBillAgainstServer(t *testing.T) {
	var gotQuery string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/_azemu/billing/usage":
			gotQuery = r.URL.RawQuery
			_ = json.NewEncoder(w).Encode(answer())
		case "/_azemu/billing/idle":
			_, _ = w.Write([]byte(`{"hoursPerMonth":730,"unpriced":0,"value":[{"resourceId":"` + vmID + `","name":"web","resourceGroup":"rg",
				"location":"westeurope","vmSize":"Standard_D2s_v3","stoppedSince":"2026-01-01T01:00:00Z","priced":true,"currency":"USD",
				"hourlyRate":"0.36","monthlyCost":"262.8","stillBilled":{"disks":1,"publicIPs":1,"perHour":{"cost":0.0073,"currency":"USD"}}}],
				"deallocated":[{"resourceId":"` + vmID + `2","name":"web2","resourceGroup":"rg","location":"westeurope","vmSize":"Standard_D2s_v3",
				"deallocatedSince":"2026-01-01T01:30:00Z","stillBilled":{"disks":1,"publicIPs":1,"disksPerHour":{"cost":0.002,"currency":"USD"},
				"publicIPsPerHour":{"cost":0.005,"currency":"USD"},"perHour":{"cost":0.007,"currency":"USD"},"perMonth":{"cost":5.11,"currency":"USD"}}}],
				"deallocatedTotal":{"disks":1,"publicIPs":1,"perHour":{"cost":0.007,"currency":"USD"},"perMonth":{"cost":5.11,"currency":"USD"}}}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":"InvalidParameter","message":"no"}}`))
		}
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"bill", "--server", srv.URL, "--ca", ca, "--from", "2026-01-01", "--to", "2026-01-01T02:00:00+01:00", "--format", "csv"}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if gotQuery != "from=2026-01-01T00%3A00%3A00Z&to=2026-01-01T01%3A00%3A00Z" {
		t.Fatalf("query %q", gotQuery)
	}
	if !strings.HasPrefix(out.String(), "BilledCost,EffectiveCost,") {
		t.Fatalf("output:\n%s", out.String())
	}
	out.Reset()
	if err := run([]string{"bill", "--server", srv.URL, "--ca", ca, "--idle"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if got := fields(out.String(), "web"); got != "web rg Standard_D2s_v3 westeurope 2026-01-01T01:00:00Z 0.36 USD 262.8 USD 0.0073 USD" {
		t.Fatalf("idle line %q:\n%s", got, out.String())
	}
	// The seed's asterisk: a deallocated VM still costs its disks and IPs.
	if got := fields(out.String(), "web2"); got != "web2 rg Standard_D2s_v3 westeurope 2026-01-01T01:30:00Z 1 (0.0020 USD) 1 (0.0050 USD) 0.0070 USD 5.11 USD" {
		t.Fatalf("deallocated line %q:\n%s", got, out.String())
	}
	// A server error is reported with its ARM code.
	err := run([]string{"bill", "--server", srv.URL + "/nope", "--ca", ca}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "InvalidParameter: no") {
		t.Fatalf("error %v", err)
	}
	// Without the CA the server is not trusted.
	if err := run([]string{"bill", "--server", srv.URL, "--ca", filepath.Join(t.TempDir(), "missing.pem")}, &out, &errOut); err == nil {
		t.Fatal("no error without the CA")
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--from", "yesterday"}, {"extra"}} {
		if err := run(append([]string{"bill", "--server", srv.URL, "--ca", ca}, bad...), &out, &errOut); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

func TestServePricesFlag(t *testing.T) {
	t.Setenv("AZEMU_PRICES", "/from/env.json")
	c, err := parseServe(nil, &bytes.Buffer{})
	if err != nil || c.prices != "/from/env.json" {
		t.Fatalf("env twin: %q %v", c.prices, err)
	}
	c, err = parseServe([]string{"--prices", "/from/flag.json"}, &bytes.Buffer{})
	if err != nil || c.prices != "/from/flag.json" {
		t.Fatalf("flag: %q %v", c.prices, err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	_ = os.WriteFile(good, []byte(`{"Items":[{"currencyCode":"USD","retailPrice":0.5,"armRegionName":"westeurope","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"}]}`), 0o600)
	p, err := loadPrices(good)
	if err != nil {
		t.Fatal(err)
	}
	if pr, ok := p.Lookup(billing.MeterKey{Location: "westeurope", SKU: "Standard_D2s_v3", OS: billing.OSLinux, Unit: billing.UnitHour}); !ok || pr.Exact != "0.5" {
		t.Fatalf("loaded sheet: %+v %v", pr, ok)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`[1,2]`), 0o600)
	for _, f := range []string{bad, filepath.Join(dir, "missing.json")} {
		if _, err := loadPrices(f); err == nil || !strings.Contains(err.Error(), "--prices") {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

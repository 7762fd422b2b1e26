package billing

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"embed"
)

func TestLookup(t *testing.T) {
	p := mustSheet(t, testSheet)
	vm := func(os string, spot, low bool) MeterKey {
		return MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: os, Spot: spot, LowPriority: low, Unit: UnitHour}
	}
	hybrid, _ := KeyFor(VM, Attrs{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Windows", LicenseType: "Windows_Server"})
	winSpot, _ := KeyFor(VM, Attrs{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Windows", Priority: "Spot"})
	tests := []struct {
		name   string
		k      MeterKey
		meter  string // MeterID of the row, "" for unpriced
		amount string
	}{
		{"linux", vm(OSLinux, false, false), "lin", "0.096"},
		{"windows", vm(OSWindows, false, false), "win", "0.188"},
		{"hybrid benefit pays linux", hybrid, "lin", "0.096"},
		{"linux spot", vm(OSLinux, true, false), "spot", "0.018816"},
		{"windows spot", winSpot, "winspot", "0.036848"},
		{"low priority", vm(OSLinux, false, true), "low", "0.0192"},
		{"windows low priority has no row", vm(OSWindows, false, true), "", ""},
		{"case-insensitive", MeterKey{Location: "EastUS", SKU: "standard_d2S_V3", OS: "linux", Unit: UnitHour}, "lin", "0.096"},
		{"other region", MeterKey{Location: "westus2", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour}, "", ""},
		{"unknown OS", vm("", false, false), "", ""},
		{"spot and low at once", vm(OSLinux, true, true), "", ""},
		{"premium disk", MeterKey{Location: "eastus", SKU: "P10", Unit: UnitMonth}, "p10", "19.71"},
		{"standard ssd disk", MeterKey{Location: "eastus", SKU: "E10", Unit: UnitMonth}, "e10", "9.6"},
		{"standard hdd disk", MeterKey{Location: "eastus", SKU: "S4", Unit: UnitMonth}, "s4", "1.54"},
		{"disk tier without row", MeterKey{Location: "eastus", SKU: "P30", Unit: UnitMonth}, "", ""},
		{"disk key with OS", MeterKey{Location: "eastus", SKU: "P10", OS: OSLinux, Unit: UnitMonth}, "", ""},
		{"unknown unit", MeterKey{Location: "eastus", SKU: "P10", Unit: "1 GB"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pr, ok := p.Lookup(tc.k)
			if ok != (tc.meter != "") || pr.MeterID != tc.meter || pr.Exact != tc.amount {
				t.Errorf("Lookup(%v) = %+v, %v; want meter %q at %s", tc.k, pr, ok, tc.meter, tc.amount)
			}
			if ok && (pr.Currency != "USD" || pr.ExactPrice().Sign() <= 0) {
				t.Errorf("price %+v", pr)
			}
		})
	}
	var nilSheet *PriceSheet
	if _, ok := nilSheet.Lookup(vm(OSLinux, false, false)); ok {
		t.Error("nil sheet priced something")
	}
}

func TestParseSelectsRows(t *testing.T) {
	const sheet = `{"Items":[
	 {"retailPrice":0.09,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","effectiveStartDate":"2016-01-01T00:00:00Z","meterId":"old"},
	 {"retailPrice":0.096,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","effectiveStartDate":"2017-12-15T00:00:00Z","meterId":"new"},
	 {"retailPrice":0.08,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","effectiveStartDate":"2017-01-01","meterId":"between"},
	 {"retailPrice":500,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Reservation","reservationTerm":"1 Year","effectiveStartDate":"2030-01-01T00:00:00Z","meterId":"ri"},
	 {"retailPrice":0.01,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"DevTestConsumption","effectiveStartDate":"2030-01-01T00:00:00Z","meterId":"devtest"},
	 {"retailPrice":0.02,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","reservationTerm":"3 Years","effectiveStartDate":"2030-01-01T00:00:00Z","meterId":"term"},
	 {"retailPrice":0.5,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Cloud Services DSv3 Series","serviceName":"Cloud Services","unitOfMeasure":"1 Hour","type":"Consumption","meterId":"cloudservices"},
	 {"retailPrice":1.18,"armRegionName":"eastus","meterName":"P10 LRS Disk Mount","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"mount"},
	 {"retailPrice":24.64,"armRegionName":"eastus","meterName":"P10 ZRS Disk","skuName":"P10 ZRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"zrs"},
	 {"retailPrice":7,"armRegionName":"eastus","meterName":"P10 Page Blob","skuName":"P10","productName":"Premium Page Blob","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"blob"},
	 {"retailPrice":19.71,"armRegionName":"eastus","meterName":"P10 Disks","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"p10old"},
	 {"retailPrice":3,"armRegionName":"eastus","meterName":"E10 LRS Disk","skuName":"E10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","meterId":"mismatch"},
	 {"retailPrice":0.0184,"armRegionName":"eastus","meterName":"Hot LRS Data Stored","productName":"Blob Storage","unitOfMeasure":"1 GB/Month","type":"Consumption"}
	]}`
	p := mustSheet(t, sheet)
	if pr, _ := p.Lookup(MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour}); pr.MeterID != "new" {
		t.Errorf("VM row %q, want the latest Consumption row", pr.MeterID)
	}
	if pr, _ := p.Lookup(MeterKey{Location: "eastus", SKU: "P10", Unit: UnitMonth}); pr.MeterID != "p10old" {
		t.Errorf("disk row %q, want the tier row (not mount, ZRS or page blob)", pr.MeterID)
	}
	if _, ok := p.Lookup(MeterKey{Location: "eastus", SKU: "E10", Unit: UnitMonth}); ok {
		t.Error("an E tier under a Premium product was taken")
	}
	if p.Len() != 2 || p.Items() != 13 {
		t.Errorf("Len %d Items %d", p.Len(), p.Items())
	}
}

func TestParsePagesAndProvenance(t *testing.T) {
	const pages = `{"x_source":"sheet-level","x_capturedAt":"2026-01-02","Items":[
	  {"retailPrice":0.096,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","unitOfMeasure":"1 Hour"}],
	  "NextPageLink":"https://prices.azure.com/api/retail/prices?$skip=100","Count":1}
	{"Items":[{"retailPrice":9.6,"armRegionName":"eastus","meterName":"E10 LRS Disk","productName":"Standard SSD Managed Disks","unitOfMeasure":"1/Month","x_source":"row-level","x_capturedAt":"2026-03-04"}],"NextPageLink":null}`
	p := mustSheet(t, pages)
	lin, ok1 := p.Lookup(MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour})
	e10, ok2 := p.Lookup(MeterKey{Location: "eastus", SKU: "E10", Unit: UnitMonth})
	if !ok1 || !ok2 {
		t.Fatalf("lookups %v %v", ok1, ok2)
	}
	if lin.Source != "sheet-level" || lin.CapturedAt != "2026-01-02" || e10.Source != "row-level" || e10.CapturedAt != "2026-03-04" {
		t.Errorf("provenance %q/%q, %q/%q", lin.Source, lin.CapturedAt, e10.Source, e10.CapturedAt)
	}
}

func TestParseErrors(t *testing.T) {
	vmRow := func(price string) string {
		return `{"Items":[{"retailPrice":` + price + `,"armRegionName":"eastus","armSkuName":"Standard_B1s","meterName":"B1s","productName":"Virtual Machines BS Series","unitOfMeasure":"1 Hour","type":"Consumption"}]}`
	}
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"whitespace", "  \n"},
		{"truncated", `{"Items":[{"retailPrice":0.1`},
		{"not an object", `[]`},
		{"a number", `42`},
		{"no Items", `{"Count":0}`},
		{"Items not an array", `{"Items":{}}`},
		{"item not an object", `{"Items":[1]}`},
		{"field of the wrong type", `{"Items":[{"armRegionName":7}]}`},
		{"trailing garbage", `{"Items":[]} x`},
		{"second page broken", `{"Items":[]} {"Items":[}`},
		{"price not a number", vmRow(`"abc"`)},
		{"price missing", `{"Items":[{"armRegionName":"eastus","armSkuName":"Standard_B1s","productName":"Virtual Machines BS Series","unitOfMeasure":"1 Hour"}]}`},
		{"negative price", vmRow(`-0.1`)},
		{"huge exponent", vmRow(`1e999999999`)},
		{"tiny exponent", vmRow(`1e-999999999`)},
		{"out of float range", vmRow(`1e400`)},
		{"too many digits", vmRow(`0.` + strings.Repeat("1", 50))},
		{"bad date", `{"Items":[{"retailPrice":1,"effectiveStartDate":"yesterday","armRegionName":"eastus","armSkuName":"Standard_B1s","productName":"Virtual Machines BS Series","unitOfMeasure":"1 Hour"}]}`},
		{"x_source not a string", `{"x_source":1,"Items":[]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePriceSheet(strings.NewReader(tc.in))
			if err == nil || p != nil {
				t.Fatalf("ParsePriceSheet(%q) = %v, %v; want an error", tc.in, p, err)
			}
			if !errors.Is(err, ErrPriceSheet) {
				t.Errorf("error %v does not wrap ErrPriceSheet", err)
			}
		})
	}
	for _, ok := range []string{`{"Items":[]}`, `{"Items":null}`, vmRow(`0`), vmRow(`"0.0104"`), vmRow(`1.04E-2`)} {
		if _, err := ParsePriceSheet(strings.NewReader(ok)); err != nil {
			t.Errorf("ParsePriceSheet(%s): %v", ok, err)
		}
	}
}

//go:embed prices/default.json
var defaultRaw embed.FS

// Every row of the embedded sheet prices a key and says where it came from,
// and the sheet prices a first-time fleet's usual sizes.
func TestDefaultPriceSheet(t *testing.T) {
	p := DefaultPriceSheet()
	if p != DefaultPriceSheet() {
		t.Error("DefaultPriceSheet parses more than once")
	}
	b, err := defaultRaw.ReadFile("prices/default.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Items []map[string]any
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Items) == 0 || p.Items() != len(raw.Items) || p.Len() != len(raw.Items) {
		t.Errorf("%d rows, %d items read, %d keys priced: every row must price exactly one key", len(raw.Items), p.Items(), p.Len())
	}
	for i, it := range raw.Items {
		for _, f := range []string{"x_source", "x_capturedAt", "x_retrievedAt", "x_provenance", "armRegionName", "currencyCode", "unitOfMeasure", "type"} {
			if s, _ := it[f].(string); s == "" {
				t.Errorf("row %d has no %s", i, f)
			}
		}
	}
	// Spot checks of rows quoted from their sources.
	for _, c := range []struct {
		k    MeterKey
		want string
	}{
		{MeterKey{Location: "westeurope", SKU: "Standard_D2s_v3", OS: OSWindows, Unit: UnitHour}, "0.212"},
		{MeterKey{Location: "westeurope", SKU: "P10", Unit: UnitMonth}, "21.68"},
		{MeterKey{Location: "eastus", SKU: "Standard_B1s", OS: OSLinux, Unit: UnitHour}, "0.0104"},
		{MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Spot: true, Unit: UnitHour}, "0.018816"},
		{MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour}, "0.096"},
		{MeterKey{Location: "westeurope", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour}, "0.12"},
		{MeterKey{Location: "uksouth", SKU: "Standard_B1s", OS: OSLinux, Unit: UnitHour}, "0.0118"},
		{MeterKey{Location: "northeurope", SKU: "Standard_D2s_v3", OS: OSWindows, Unit: UnitHour}, "0.199"},
		{MeterKey{Location: "northeurope", SKU: "Standard_D2s_v3", OS: OSLinux, Spot: true, Unit: UnitHour}, "0.019774"},
		{MeterKey{Location: "westeurope", SKU: "Standard_D2s_v3", OS: OSWindows, Spot: true, Unit: UnitHour}, "0.039178"},
		{MeterKey{Location: "eastus", SKU: "P4", Unit: UnitMonth}, "5.2795"},
		{MeterKey{Location: "westus2", SKU: "E10", Unit: UnitMonth}, "9.6"},
		{MeterKey{Location: "southeastasia", SKU: "S4", Unit: UnitMonth}, "1.536"},
	} {
		pr, ok := p.Lookup(c.k)
		if !ok || pr.Exact != c.want || pr.Source == "" || pr.CapturedAt == "" {
			t.Errorf("Lookup(%v) = %+v, %v; want %s with provenance", c.k, pr, ok, c.want)
		}
		// The source and date are shown to users (priceSource,
		// priceCapturedAt): they read as such, without the reviewer's notes.
		if !strings.HasPrefix(pr.Source, "Azure Retail Prices API") || strings.Contains(pr.Source, "github") ||
			!regexp.MustCompile(`^\d{4}-\d{2}-\d{2}( or (earlier|later))?$`).MatchString(pr.CapturedAt) {
			t.Errorf("Lookup(%v): source %q, captured %q: not for a user", c.k, pr.Source, pr.CapturedAt)
		}
	}
	// A first-time fleet's sizes are priced where it is likely to run.
	for _, region := range []string{"eastus", "westeurope", "westus2", "northeurope", "westus"} {
		for _, size := range []string{"Standard_D2s_v3", "Standard_B2s", "Standard_D2s_v5", "Standard_E2s_v5", "Standard_F2s_v2"} {
			if _, ok := p.Lookup(MeterKey{Location: region, SKU: size, OS: OSLinux, Unit: UnitHour}); !ok {
				t.Errorf("%s Linux in %s is unpriced", size, region)
			}
		}
	}
	// Every tier of the three tiered disk types is priced in every region
	// of the sheet: a default 30 GiB OS disk is priced wherever it runs.
	for _, region := range []string{"eastus", "eastus2", "westus", "westus2", "centralus", "southcentralus", "northeurope", "westeurope", "uksouth", "southeastasia"} {
		for _, sku := range []string{"Premium_LRS", "StandardSSD_LRS", "Standard_LRS"} {
			for _, gb := range []int{4, 8, 16, 30, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767} {
				tier, ok := DiskTier(sku, gb)
				if !ok {
					t.Fatalf("DiskTier(%s, %d)", sku, gb)
				}
				if _, ok := p.Lookup(MeterKey{Location: region, SKU: tier, Unit: UnitMonth}); !ok {
					t.Errorf("%s disk %s in %s is unpriced", sku, tier, region)
				}
			}
		}
	}
	// A size the sheet's sources leave ambiguous is unpriced, not free.
	if _, ok := p.Lookup(MeterKey{Location: "eastus", SKU: "Standard_D2as_v5", OS: OSLinux, Unit: UnitHour}); ok {
		t.Error("Standard_D2as_v5 priced: its source's rows are ambiguous")
	}
}

// RowKey names the price a row sets exactly when ParsePriceSheet indexes
// it, and two rows share a key exactly when they compete for one price.
func TestRowKey(t *testing.T) {
	rows := []string{
		`{"retailPrice":0.096,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"}`,
		`{"retailPrice":0.097,"armRegionName":"East US","armSkuName":"standard_d2s_v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"}`,
		`{"retailPrice":0.188,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","productName":"Virtual Machines DSv3 Series Windows","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"}`,
		`{"retailPrice":0.02,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3 Spot","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"}`,
		`{"retailPrice":525,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Reservation","reservationTerm":"1 Year"}`,
		`{"retailPrice":19.71,"armRegionName":"eastus","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","unitOfMeasure":"1/Month","type":"Consumption"}`,
		`{"retailPrice":1.18,"armRegionName":"eastus","meterName":"P10 LRS Disk Mount","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","unitOfMeasure":"1/Month","type":"Consumption"}`,
		`{"retailPrice":0.005,"armRegionName":"eastus","meterName":"Standard IPv4 Static Public IP","productName":"IP Addresses","serviceName":"Virtual Network","unitOfMeasure":"1 Hour","type":"Consumption"}`,
	}
	keys := map[string]int{}
	priced := 0
	for _, r := range rows {
		k, ok, err := RowKey([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		p := mustSheet(t, `{"Items":[`+r+`]}`)
		if ok != (p.Len() == 1) {
			t.Errorf("RowKey ok %v but the sheet prices %d keys: %s", ok, p.Len(), r)
		}
		if ok {
			keys[k]++
			priced++
		}
	}
	if priced != 6 || len(keys) != 5 {
		t.Errorf("%d rows keyed to %d keys %v; want 6 rows to 5 keys (the two eastus Linux D2s_v3 rows share one)", priced, len(keys), keys)
	}
	if _, _, err := RowKey([]byte(`{`)); err == nil {
		t.Error("a broken row keyed")
	}
}

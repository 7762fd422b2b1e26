package billing

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParsePriceSheet checks that parsing never panics, that every failure
// wraps ErrPriceSheet, and that a parsed sheet answers lookups and rates
// usage without panicking, never pricing a line it cannot find.
func FuzzParsePriceSheet(f *testing.F) {
	// Small seeds: the fuzzer minimises every input that finds new coverage,
	// and minimising a sheet of many rows eats the whole fuzzing time.
	f.Add([]byte(`{"Items":[{"currencyCode":"USD","retailPrice":0.096,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","meterName":"D2s v3 Spot","productName":"Virtual Machines DSv3 Series Windows","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","effectiveStartDate":"2017-12-15T00:00:00Z","x_source":"s","x_capturedAt":"d"}]}`))
	f.Add([]byte(`{"Items":[{"retailPrice":21.68,"armRegionName":"westeurope","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption","reservationTerm":""}],"NextPageLink":null}`))
	for _, s := range []string{
		``, `{}`, `{"Items":[]}`, `{"Items":null}`, `[]`, `{"Items":[{}]}`,
		`{"Items":[{"retailPrice":1e40,"armRegionName":"eastus","armSkuName":"Standard_B1s","productName":"Virtual Machines BS Series","unitOfMeasure":"1 Hour"}]}`,
		`{"Items":[{"retailPrice":-0,"armRegionName":"EAST US","meterName":"P1 LRS Disk","productName":"Premium SSD Managed Disks","unitOfMeasure":"1/Month"}]}`,
		`{"Items":[]}{"Items":[]}`, `{"Items":[]} 1`, `{"x_source":"a","Items":[],"x_capturedAt":"b"}`,
	} {
		f.Add([]byte(s))
	}
	keys := []MeterKey{
		{Location: "eastus", SKU: "Standard_B1s", OS: OSLinux, Unit: UnitHour},
		{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSWindows, Spot: true, Unit: UnitHour},
		{Location: "eastus", SKU: "P1", Unit: UnitMonth},
		{Location: "westeurope", SKU: "P10", Unit: UnitMonth},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePriceSheet(bytes.NewReader(data))
		if err != nil {
			if p != nil || !errors.Is(err, ErrPriceSheet) {
				t.Fatalf("ParsePriceSheet = %v, %v", p, err)
			}
			return
		}
		if p.Len() > p.Items() {
			t.Fatalf("%d keys from %d items", p.Len(), p.Items())
		}
		var us []Usage
		for _, k := range keys {
			if pr, ok := p.Lookup(k); ok && pr.Unit == "" {
				t.Fatalf("price without a unit: %+v", pr)
			}
			us = append(us, Usage{ResourceID: "r", MeterKey: k, Seconds: 3600})
		}
		for _, li := range Rate(us, p) {
			if li.Priced != (li.Cost != nil) || (li.Priced && li.Cost.Sign() < 0) {
				t.Fatalf("line %+v", li)
			}
			if _, ok := p.Lookup(li.MeterKey); li.Priced && !ok {
				t.Fatal("priced a key the sheet does not have")
			}
		}
	})
}

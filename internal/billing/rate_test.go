package billing

import (
	"math/big"
	"testing"
	"time"
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func TestRate(t *testing.T) {
	p := mustSheet(t, testSheet)
	vm, d := vmID("v"), diskID("d")
	win := linuxD2
	win.OSType = "Windows"
	hyb := win
	hyb.LicenseType = "Windows_Server"
	west := linuxD2
	west.Location = "westus2"
	from, to := t0, t0.Add(HoursPerMonth*time.Hour)
	tests := []struct {
		name string
		evs  []Event
		cost string // "" = unpriced
	}{
		{"linux hour", []Event{vmEv(vm, from, "running", linuxD2), vmEv(vm, from.Add(time.Hour), "deallocated", Attrs{})}, "0.096"},
		{"one second", []Event{vmEv(vm, from, "running", linuxD2), vmEv(vm, from.Add(time.Second), "deallocated", Attrs{})}, "96/3600000"},
		{"windows hour", []Event{vmEv(vm, from, "running", win), vmEv(vm, from.Add(time.Hour), "deallocated", Attrs{})}, "0.188"},
		{"hybrid benefit hour", []Event{vmEv(vm, from, "running", hyb), vmEv(vm, from.Add(time.Hour), "deallocated", Attrs{})}, "0.096"},
		{"deallocated all month costs zero", []Event{vmEv(vm, from.Add(-time.Hour), "deallocated", linuxD2)}, "0"},
		{"disk over 730 h is the monthly price", []Event{diskEv(d, from, "Premium_LRS", 100)}, "19.71"},
		{"disk half a month", []Event{diskEv(d, from, "Premium_LRS", 128), diskDel(d, from.Add(365*time.Hour))}, "9.855"},
		{"unpriced region", []Event{vmEv(vm, from, "running", west)}, ""},
		{"unpriced disk tier", []Event{diskEv(d, from, "Premium_LRS", 1024)}, ""},
		{"unpriced disk SKU", []Event{diskEv(d, from, "UltraSSD_LRS", 1024)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := Rate(meter(t, from, to, PerSecond, tc.evs...), p)
			if len(items) != 1 {
				t.Fatalf("%d items", len(items))
			}
			li := items[0]
			if tc.cost == "" {
				if li.Priced || li.Cost != nil {
					t.Errorf("priced %v cost %v; want unpriced with nil cost", li.Priced, li.Cost)
				}
				return
			}
			if !li.Priced || li.Cost == nil || li.Cost.Cmp(rat(tc.cost)) != 0 {
				t.Errorf("cost %v (priced %v), want exactly %s", li.Cost, li.Priced, tc.cost)
			}
		})
	}
}

func TestRateFloatFallbackAndTotals(t *testing.T) {
	u := []Usage{
		{ResourceID: "a", MeterKey: MeterKey{Location: "eastus", SKU: "P10", Unit: UnitMonth}, Seconds: HoursPerMonth * 3600},
		{ResourceID: "b", MeterKey: MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour}, Seconds: 7200},
		{ResourceID: "c", MeterKey: MeterKey{Location: "nowhere", SKU: "x", OS: OSLinux, Unit: UnitHour}, Seconds: 7200},
	}
	items := Rate(u, mustSheet(t, testSheet))
	tot, unpriced := Totals(items)
	if unpriced != 1 || len(tot) != 1 || tot["USD"].Cmp(rat("19.902")) != 0 {
		t.Errorf("totals %v, %d unpriced", tot, unpriced)
	}
	// Costs are independent values.
	items[0].Cost.SetInt64(1)
	if again := Rate(u, mustSheet(t, testSheet)); again[0].Cost.Cmp(rat("19.71")) != 0 {
		t.Error("modifying a cost leaked")
	}
	if r := (Price{Exact: "0.5"}).ExactPrice(); r.Cmp(rat("1/2")) != 0 {
		t.Errorf("exact price %v", r)
	}
}

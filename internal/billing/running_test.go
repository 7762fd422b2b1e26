package billing

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// A running account agrees exactly with the meter over the same history,
// at every instant, and says when a figure leaves out unpriced time.
func TestRunningAgreesWithMeter(t *testing.T) {
	sheet := mustSheet(t, testSheet)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const id = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
	events := []Event{
		{ResourceID: id, At: t0, Kind: VM, Attrs: linuxD2},
		{ResourceID: id, At: t0.Add(15*time.Second + 300*time.Millisecond), Kind: VM, PowerState: "starting"},
		{ResourceID: id, At: t0.Add(35 * time.Second), Kind: VM, PowerState: "running"},
		{ResourceID: id, At: t0.Add(time.Hour), Kind: VM, PowerState: "stopped"},
		{ResourceID: id, At: t0.Add(2*time.Hour + 700*time.Millisecond), Kind: VM, PowerState: "deallocated"},
		{ResourceID: id, At: t0.Add(3 * time.Hour), Kind: VM, PowerState: "running", Attrs: Attrs{Location: "eastus", VMSize: "Standard_D4s_v3", OSType: "Linux"}},
	}
	rates := NewRates(sheet)
	r := NewRunning(events[0], rates)
	for i, e := range events[1:] {
		r.Apply(e, rates)
		now := e.At.Add(17 * time.Minute)
		m := NewMeter(time.Time{}, now, PerSecond)
		for _, f := range events[:i+2] {
			if err := m.Add(f); err != nil {
				t.Fatal(err)
			}
		}
		var want Amount
		for _, li := range Rate(m.Usage(), sheet) {
			want.AddItem(li)
		}
		got, perHour := r.At(now)
		if got.Unpriced || got.Value().Rat().Cmp(want.Value().Rat()) != 0 {
			t.Errorf("after %s at %s: running %v, meter %v", e.PowerState, now, got.Value(), want.Value())
		}
		if billed := BilledPowerState(e.PowerState); billed != (perHour.Value().Rat().Sign() > 0) {
			t.Errorf("%s: per hour %v", e.PowerState, perHour.Value())
		}
	}
	// An unpriced size: the rate is unknown and so is the cost from then on.
	r.Apply(Event{ResourceID: id, At: t0.Add(4 * time.Hour), Kind: VM, PowerState: "running", Attrs: Attrs{Location: "eastus", VMSize: "Standard_Nope", OSType: "Linux"}}, rates)
	if soFar, perHour := r.At(t0.Add(5 * time.Hour)); !soFar.Unpriced || !perHour.Unpriced {
		t.Errorf("unpriced: %+v %+v", soFar, perHour)
	}
}

// Accounts of the same kind and attributes share one pricing, so a fleet
// keeps each distinct rate once, and an event without attributes keeps it.
func TestRunningAccountsSharePricing(t *testing.T) {
	rates := NewRates(mustSheet(t, testSheet))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vm := func(id string, attrs Attrs) Running {
		return NewRunning(Event{ResourceID: id, At: t0, Kind: VM, PowerState: "running", Attrs: attrs}, rates)
	}
	a, b := vm("a", linuxD2), vm("b", linuxD2)
	bigger := vm("c", Attrs{Location: "eastus", VMSize: "Standard_D4s_v3", OSType: "Linux"})
	disk := NewRunning(Event{ResourceID: "d", At: t0, Kind: Disk, Attrs: linuxD2}, rates)
	if a.tariff != b.tariff {
		t.Error("two VMs of the same attributes and power state keep two tariffs")
	}
	if a.tariff.p == bigger.tariff.p || a.tariff.p == disk.tariff.p {
		t.Error("a pricing is shared across sizes or kinds")
	}
	b.Apply(Event{ResourceID: "b", At: t0.Add(time.Hour), Kind: VM, PowerState: "stopped"}, rates)
	if b.tariff.p != a.tariff.p || b.Attrs() != linuxD2 || b.PowerState() != "stopped" {
		t.Errorf("after a power change: attrs %+v, power %q, shared %v", b.Attrs(), b.PowerState(), b.tariff.p == a.tariff.p)
	}
	if b.tariff == a.tariff {
		t.Error("two power states share a tariff")
	}
	if n := len(rates.shared); n != 3 {
		t.Errorf("%d pricings kept, want 3", n)
	}
	if n := len(rates.tariffs); n != 4 {
		t.Errorf("%d tariffs kept, want 4", n)
	}
}

// An account restored from its State, at any point of its history, goes on
// exactly as the original: the same cost at every instant after each later
// event, through a change of price and a stretch without one.
func TestRestoredRunningGoesOnAlike(t *testing.T) {
	sheet := mustSheet(t, testSheet)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const id = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
	events := []Event{
		{ResourceID: id, At: t0, Kind: VM, Attrs: linuxD2},
		{ResourceID: id, At: t0.Add(35 * time.Second), Kind: VM, PowerState: "running"},
		{ResourceID: id, At: t0.Add(time.Hour), Kind: VM, PowerState: "running", Attrs: Attrs{Location: "eastus", VMSize: "Standard_D4s_v3", OSType: "Linux"}},
		{ResourceID: id, At: t0.Add(2 * time.Hour), Kind: VM, PowerState: "running", Attrs: Attrs{Location: "eastus", VMSize: "Standard_Unpriced", OSType: "Linux"}},
		{ResourceID: id, At: t0.Add(3 * time.Hour), Kind: VM, PowerState: "stopped", Attrs: linuxD2},
		{ResourceID: id, At: t0.Add(4*time.Hour + 700*time.Millisecond), Kind: VM, PowerState: "deallocated"},
		{ResourceID: id, At: t0.Add(5 * time.Hour), Kind: VM, PowerState: "running"},
	}
	for cut := range events {
		rates := NewRates(sheet)
		orig := NewRunning(events[0], rates)
		for _, e := range events[1 : cut+1] {
			orig.Apply(e, rates)
		}
		state := orig.State()
		restored := RestoreRunning(state, NewRates(sheet)) // another ledger's rates
		got := restored.State()
		if got.Tariff == state.Tariff || got.Tariff.Kind() != state.Tariff.Kind() || got.Tariff.Attrs() != state.Tariff.Attrs() ||
			got.Tariff.PowerState() != state.Tariff.PowerState() {
			t.Fatalf("restored after event %d: tariff %+v, want one of its own like %+v", cut, *got.Tariff, *state.Tariff)
		}
		got.Tariff = state.Tariff
		if !reflect.DeepEqual(got, state) {
			t.Fatalf("restored after event %d: %+v, want %+v", cut, got, state)
		}
		for i, e := range events[cut+1:] {
			orig.Apply(e, rates)
			restored.Apply(e, rates)
			now := e.At.Add(17*time.Minute + time.Duration(i)*time.Second)
			wantSoFar, wantRate := orig.At(now)
			gotSoFar, gotRate := restored.At(now)
			if !reflect.DeepEqual(gotSoFar, wantSoFar) || !reflect.DeepEqual(gotRate, wantRate) {
				t.Errorf("restored after event %d, at %s: %v %v, want %v %v", cut, now, gotSoFar, gotRate, wantSoFar, wantRate)
			}
		}
	}
}

// The fingerprint of a price sheet changes with any price, and with
// nothing else.
func TestPriceSheetFingerprint(t *testing.T) {
	a, b := mustSheet(t, testSheet), mustSheet(t, testSheet)
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("one sheet read twice has two fingerprints")
	}
	changed := strings.Replace(testSheet, `"retailPrice":0.096`, `"retailPrice":0.097`, 1)
	if changed == testSheet {
		t.Fatal("the test sheet has no price of 0.096 to change")
	}
	if mustSheet(t, changed).Fingerprint() == a.Fingerprint() {
		t.Error("a sheet with another price has the same fingerprint")
	}
	if DefaultPriceSheet().Fingerprint() == a.Fingerprint() {
		t.Error("two different sheets have the same fingerprint")
	}
}

// A tariff's rate for n accounts is the sum of the n accounts' rates, in
// every case: billed or not, priced or not, any kind.
func TestTariffPerHourSumsItsAccounts(t *testing.T) {
	rates := NewRates(mustSheet(t, testSheet))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	unpriced := Attrs{Location: "eastus", VMSize: "Standard_Nope", OSType: "Linux"}
	cases := []struct {
		name  string
		event Event
	}{
		{"running", Event{Kind: VM, PowerState: "running", Attrs: linuxD2}},
		{"stopped (billed)", Event{Kind: VM, PowerState: "stopped", Attrs: linuxD2}},
		{"deallocated", Event{Kind: VM, PowerState: "deallocated", Attrs: linuxD2}},
		{"unpriced, running", Event{Kind: VM, PowerState: "running", Attrs: unpriced}},
		{"unpriced, deallocated", Event{Kind: VM, PowerState: "deallocated", Attrs: unpriced}},
		{"disk", Event{Kind: Disk, Attrs: Attrs{Location: "eastus", DiskSKU: "Premium_LRS", DiskSizeGB: 128}}},
	}
	for _, c := range cases {
		c.event.ResourceID, c.event.At = "r", t0
		r := NewRunning(c.event, rates)
		for _, n := range []int64{0, 1, 3} {
			var want Amount
			for range n {
				_, perHour := r.At(t0.Add(time.Hour))
				want.Merge(perHour)
			}
			got := r.Tariff().PerHour(n)
			if (got.Cost == nil) != (want.Cost == nil) || (got.Cost != nil && got.Cost.Cmp(want.Cost) != 0) ||
				got.Currency != want.Currency || got.Mixed != want.Mixed || got.Unpriced != want.Unpriced {
				t.Errorf("%s, %d accounts: %+v, want %+v", c.name, n, got, want)
			}
		}
	}
}

package billing

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// The brief's script: 1 h running, 1 h stopped, 1 h deallocated, 30 min
// running, deleted: 9,000 s billed, none of it while deallocated.
func TestScriptedHistory(t *testing.T) {
	id := vmID("vm1")
	d := diskID("vm1_OsDisk")
	evs := []Event{
		vmEv(id, t0.Add(-35*time.Second), "", linuxD2), // allocating during create
		diskEv(d, t0.Add(-35*time.Second), "Premium_LRS", 30),
		vmEv(id, t0.Add(-20*time.Second), "starting", Attrs{}),
		vmEv(id, t0, "running", Attrs{}),
		vmEv(id, t0.Add(time.Hour), "stopped", Attrs{}),
		vmEv(id, t0.Add(2*time.Hour), "deallocated", Attrs{}),
		vmEv(id, t0.Add(3*time.Hour), "running", Attrs{}),
		vmDel(id, t0.Add(3*time.Hour+30*time.Minute)),
	}
	// The window starts at t0: the create steps before it only set the state.
	us := meter(t, t0, t0.Add(5*time.Hour), PerSecond, evs...)
	vm := find(t, us, id, MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour})
	if vm.Seconds != 9000 {
		t.Errorf("billed %d s, want 9000", vm.Seconds)
	}
	want := map[string]int64{"running": 5400, "stopped": 3600, "deallocated": 3600}
	if !reflect.DeepEqual(vm.ByPowerState, want) {
		t.Errorf("by power state %v, want %v", vm.ByPowerState, want)
	}
	if !vm.Start.Equal(t0) || !vm.End.Equal(t0.Add(3*time.Hour+30*time.Minute)) {
		t.Errorf("billed from %v to %v", vm.Start, vm.End)
	}
	// The OS disk (30 GiB Premium: P4) outlives the VM: deleteOption Detach.
	disk := find(t, us, d, MeterKey{Location: "eastus", SKU: "P4", Unit: UnitMonth})
	if disk.Seconds != 5*3600 || disk.ByPowerState != nil {
		t.Errorf("disk: %d s %v, want 18000 s and no power states", disk.Seconds, disk.ByPowerState)
	}

	// The whole history, create included: +20 s starting.
	us = meter(t, t0.Add(-time.Hour), t0.Add(5*time.Hour), PerSecond, evs...)
	vm = find(t, us, id, MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour})
	want = map[string]int64{"": 15, "starting": 20, "running": 5400, "stopped": 3600, "deallocated": 3600}
	if vm.Seconds != 9020 || !reflect.DeepEqual(vm.ByPowerState, want) {
		t.Errorf("whole history: %d s %v, want 9020 s %v", vm.Seconds, vm.ByPowerState, want)
	}
}

func TestMeterCases(t *testing.T) {
	id := vmID("a")
	key := MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour}
	from, to := t0, t0.Add(time.Hour)
	tests := []struct {
		name    string
		g       Granularity
		evs     []Event
		seconds int64            // billed on key
		byPS    map[string]int64 // nil: not checked
		none    bool             // no line on key at all
	}{
		{name: "running throughout, started before the window",
			evs:     []Event{vmEv(id, t0.Add(-48*time.Hour), "running", linuxD2)},
			seconds: 3600, byPS: map[string]int64{"running": 3600}},
		{name: "deallocating and deallocated accrue nothing",
			evs: []Event{
				vmEv(id, t0.Add(-time.Minute), "deallocating", linuxD2),
				vmEv(id, t0.Add(20*time.Second), "deallocated", Attrs{}),
			},
			seconds: 0, byPS: map[string]int64{"deallocating": 20, "deallocated": 3580}},
		{name: "starting, stopping and stopped are billed",
			evs: []Event{
				vmEv(id, t0, "starting", linuxD2),
				vmEv(id, t0.Add(15*time.Second), "running", Attrs{}),
				vmEv(id, t0.Add(30*time.Minute), "stopping", Attrs{}),
				vmEv(id, t0.Add(30*time.Minute+10*time.Second), "stopped", Attrs{}),
			},
			seconds: 3600, byPS: map[string]int64{"starting": 15, "running": 1785, "stopping": 10, "stopped": 1790}},
		{name: "no power state yet is not billed",
			evs:     []Event{vmEv(id, t0, "", linuxD2), vmEv(id, t0.Add(15*time.Second), "starting", Attrs{})},
			seconds: 3585, byPS: map[string]int64{"": 15, "starting": 3585}},
		{name: "events after To change nothing",
			evs: []Event{
				vmEv(id, t0.Add(-time.Minute), "running", linuxD2),
				vmEv(id, t0.Add(2*time.Hour), "deallocated", Attrs{}),
				vmDel(id, t0.Add(3*time.Hour)),
			},
			seconds: 3600},
		{name: "deleted before the window: no line",
			evs:  []Event{vmEv(id, t0.Add(-2*time.Hour), "running", linuxD2), vmDel(id, t0.Add(-time.Hour))},
			none: true},
		{name: "created after the window: no line",
			evs:  []Event{vmEv(id, t0.Add(2*time.Hour), "running", linuxD2)},
			none: true},
		{name: "deleted and recreated under the same ID",
			evs: []Event{
				vmEv(id, t0, "running", linuxD2),
				vmDel(id, t0.Add(10*time.Minute)),
				vmEv(id, t0.Add(40*time.Minute), "running", linuxD2),
			},
			seconds: 1800},
		{name: "IDs compare case-insensitively",
			evs: []Event{
				vmEv(id, t0, "running", linuxD2),
				vmEv("/SUBSCRIPTIONS/"+sub+"/resourcegroups/rg1/providers/microsoft.compute/virtualmachines/A", t0.Add(10*time.Minute), "deallocated", Attrs{}),
			},
			seconds: 600},
		{name: "power states accept case and the PowerState/ prefix",
			evs: []Event{
				vmEv(id, t0, "PowerState/Running", linuxD2),
				vmEv(id, t0.Add(10*time.Minute), "DEALLOCATED", Attrs{}),
			},
			seconds: 600},
		{name: "sub-second instants are floored",
			evs: []Event{
				vmEv(id, t0.Add(1500*time.Millisecond), "running", linuxD2),
				vmEv(id, t0.Add(3999*time.Millisecond), "deallocated", Attrs{}),
			},
			seconds: 2},
		{name: "per minute floors to the minute", g: PerMinute,
			evs: []Event{
				vmEv(id, t0.Add(90*time.Second), "running", linuxD2),      // 1 min
				vmEv(id, t0.Add(199*time.Second), "deallocated", Attrs{}), // 3 min
			},
			seconds: 120},
		{name: "per minute: a run inside one minute bills nothing", g: PerMinute,
			evs: []Event{
				vmEv(id, t0.Add(5*time.Second), "running", linuxD2),
				vmEv(id, t0.Add(50*time.Second), "deallocated", Attrs{}),
			},
			seconds: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			us := meter(t, from, to, tc.g, tc.evs...)
			if tc.none {
				for _, u := range us {
					if u.MeterKey == key {
						t.Fatalf("unexpected line %s", dump([]Usage{u}))
					}
				}
				return
			}
			u := find(t, us, id, key)
			if u.Seconds != tc.seconds {
				t.Errorf("billed %d s, want %d%s", u.Seconds, tc.seconds, dump(us))
			}
			if tc.byPS != nil && !reflect.DeepEqual(u.ByPowerState, tc.byPS) {
				t.Errorf("by power state %v, want %v", u.ByPowerState, tc.byPS)
			}
			if u.ResourceID == "" || u.Kind != VM {
				t.Errorf("line %+v", u)
			}
		})
	}
}

func TestResizeSplitsMeters(t *testing.T) {
	id := vmID("r")
	d4 := linuxD2
	d4.VMSize = "Standard_D4s_v3"
	win := linuxD2
	win.OSType = "Windows"
	us := meter(t, t0, t0.Add(3*time.Hour), PerSecond,
		vmEv(id, t0, "running", linuxD2),
		vmEv(id, t0.Add(time.Hour), "stopping", Attrs{}),
		vmEv(id, t0.Add(time.Hour+10*time.Second), "stopped", d4), // resized while stopped
		vmEv(id, t0.Add(time.Hour+20*time.Second), "running", Attrs{}),
		vmEv(id, t0.Add(2*time.Hour), "running", linuxD2), // back again
	)
	if len(us) != 2 {
		t.Fatalf("want 2 lines (one per size), got %s", dump(us))
	}
	a := find(t, us, id, MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: OSLinux, Unit: UnitHour})
	b := find(t, us, id, MeterKey{Location: "eastus", SKU: "Standard_D4s_v3", OS: OSLinux, Unit: UnitHour})
	if a.Seconds != 3600+10+3600 || b.Seconds != 3600-10 {
		t.Errorf("D2 %d s, D4 %d s", a.Seconds, b.Seconds)
	}
	if a.Attrs.VMSize != "Standard_D2s_v3" || b.Attrs.VMSize != "Standard_D4s_v3" {
		t.Errorf("attrs %+v %+v", a.Attrs, b.Attrs)
	}
	if !a.Start.Equal(t0) || !a.End.Equal(t0.Add(3*time.Hour)) || !b.Start.Equal(t0.Add(time.Hour+10*time.Second)) || !b.End.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("spans %v-%v and %v-%v", a.Start, a.End, b.Start, b.End)
	}
}

func TestMeterKeys(t *testing.T) {
	tests := []struct {
		name string
		kind ResourceKind
		a    Attrs
		want MeterKey
	}{
		{"linux", VM, linuxD2, MeterKey{"eastus", "Standard_D2s_v3", OSLinux, false, false, UnitHour}},
		{"windows", VM, Attrs{Location: "East US", VMSize: "Standard_D2s_v3", OSType: "windows"}, MeterKey{"eastus", "Standard_D2s_v3", OSWindows, false, false, UnitHour}},
		{"hybrid benefit rates as linux", VM, Attrs{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Windows", LicenseType: "Windows_Server"}, MeterKey{"eastus", "Standard_D2s_v3", OSLinux, false, false, UnitHour}},
		{"spot", VM, Attrs{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Linux", Priority: "Spot"}, MeterKey{"eastus", "Standard_D2s_v3", OSLinux, true, false, UnitHour}},
		{"low", VM, Attrs{Location: "eastus", VMSize: "Standard_D2s_v3", OSType: "Linux", Priority: "low"}, MeterKey{"eastus", "Standard_D2s_v3", OSLinux, false, true, UnitHour}},
		{"unknown OS kept as given", VM, Attrs{Location: "eastus", VMSize: "Standard_D2s_v3"}, MeterKey{"eastus", "Standard_D2s_v3", "", false, false, UnitHour}},
		{"disk tier", Disk, Attrs{Location: "westeurope", DiskSKU: "Premium_LRS", DiskSizeGB: 100}, MeterKey{"westeurope", "P10", "", false, false, UnitMonth}},
		{"disk without tier", Disk, Attrs{Location: "westeurope", DiskSKU: "UltraSSD_LRS", DiskSizeGB: 100}, MeterKey{"westeurope", "UltraSSD_LRS", "", false, false, UnitMonth}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KeyFor(tc.kind, tc.a)
			if err != nil || got != tc.want {
				t.Errorf("KeyFor = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := KeyFor(VM, Attrs{Priority: "Premium"}); err == nil {
		t.Error("unknown priority accepted")
	}
}

func TestAddRefuses(t *testing.T) {
	id := vmID("x")
	m := NewMeter(t0, t0.Add(time.Hour), PerSecond)
	if err := m.Add(vmEv(id, t0.Add(time.Minute), "running", linuxD2)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		e    Event
		want error
	}{
		{"backwards in time", vmEv(id, t0, "stopped", Attrs{}), ErrOutOfOrder},
		{"no ID", vmEv("", t0.Add(time.Hour), "running", linuxD2), ErrInvalidEvent},
		{"no kind", Event{ResourceID: id, At: t0.Add(2 * time.Minute)}, ErrInvalidEvent},
		{"unknown power state", vmEv(id, t0.Add(2*time.Minute), "hibernating", Attrs{}), ErrInvalidEvent},
		{"unknown priority", vmEv(id, t0.Add(2*time.Minute), "running", Attrs{Location: "eastus", Priority: "Gold"}), ErrInvalidEvent},
		{"kind changes", diskEv(id, t0.Add(2*time.Minute), "Premium_LRS", 64), ErrInvalidEvent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Add(tc.e); !errors.Is(err, tc.want) {
				t.Errorf("Add = %v, want %v", err, tc.want)
			}
		})
	}
	// Refused events change nothing: still running from t0+1m.
	us := m.Usage()
	if len(us) != 1 || us[0].Seconds != 59*60 {
		t.Errorf("after refusals: %s", dump(us))
	}
	// The same instant as the last event is fine.
	if err := m.Add(vmEv(id, t0.Add(time.Minute), "running", Attrs{})); err != nil {
		t.Errorf("equal instant: %v", err)
	}
}

func TestUsageDoesNotChangeMeter(t *testing.T) {
	id := vmID("u")
	m := NewMeter(t0, t0.Add(time.Hour), PerSecond)
	_ = m.Add(vmEv(id, t0, "running", linuxD2))
	first := m.Usage()
	if !reflect.DeepEqual(first, m.Usage()) {
		t.Fatal("Usage is not repeatable")
	}
	_ = m.Add(vmEv(id, t0.Add(10*time.Minute), "deallocated", Attrs{}))
	us := m.Usage()
	if us[0].Seconds != 600 || first[0].Seconds != 3600 {
		t.Errorf("after more events: %d s (first %d s)", us[0].Seconds, first[0].Seconds)
	}
}

func TestUsageOrder(t *testing.T) {
	us := meter(t, t0, t0.Add(time.Hour), PerSecond,
		vmEv(vmID("b"), t0, "running", linuxD2),
		diskEv(diskID("z"), t0, "Standard_LRS", 32),
		vmEv(vmID("A"), t0, "running", linuxD2),
	)
	var got []string
	for _, u := range us {
		got = append(got, u.ResourceID)
	}
	want := []string{diskID("z"), vmID("A"), vmID("b")} // ".../disks/..." < ".../virtualmachines/..."
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// Churn before the window must not cost memory.
func TestDeletedBeforeWindowIsForgotten(t *testing.T) {
	m := NewMeter(t0, t0.Add(time.Hour), PerSecond)
	for i := range 1000 {
		id := vmID("churn") + string(rune('a'+i%26)) + time.Duration(i).String()
		_ = m.Add(vmEv(id, t0.Add(-2*time.Hour), "running", linuxD2))
		_ = m.Add(vmDel(id, t0.Add(-time.Hour)))
	}
	if n := m.Resources(); n != 0 || len(m.exact) != 0 {
		t.Errorf("%d resources (%d spellings) held after churn before the window", n, len(m.exact))
	}
}

package dashboard

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
)

// A disk follows its VM in the ledger: detached it belongs to none, attached
// elsewhere it is billed under its new VM alone, deleted it is gone, and
// the disks of several VMs never mix however much pricing they share.
func TestLedgerFollowsDisksBetweenVMs(t *testing.T) {
	prices, err := billing.ParsePriceSheet(strings.NewReader(`{"Items":[
 {"currencyCode":"USD","retailPrice":0.096,"armRegionName":"eastus","meterName":"D2s v3","skuName":"D2s v3","armSkuName":"Standard_D2s_v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":19.71,"armRegionName":"eastus","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	l := newLedger(prices)
	close(l.ready)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG/providers/Microsoft.Compute/"
	vmID := func(n int) string { return fmt.Sprintf("%svirtualMachines/Web-%d", rg, n) }
	diskID := func(n int) string { return fmt.Sprintf("%sdisks/Web-%d_OS", rg, n) }
	var seq int64
	ev := func(at time.Duration, id, op, prov, power, detail string) store.Event {
		seq++
		return store.Event{Seq: seq, VMID: id, At: t0.Add(at), ProvisioningState: prov, PowerState: power, OperationKind: op,
			Detail: []byte(detail)}
	}
	vmDetail := `{"vmSize":"Standard_D2s_v3","location":"eastus","osType":"Linux"}`
	diskOf := func(vm string) string {
		return fmt.Sprintf(`{"location":"eastus","diskSku":"Premium_LRS","diskSizeGB":128,"managedBy":%q}`, vm)
	}
	for n := range 3 {
		l.onChange(engine.Change{Events: []store.Event{
			ev(0, vmID(n), "create", "Creating", "", vmDetail),
			ev(0, diskID(n), "create", "Succeeded", "", diskOf(vmID(n))),
			ev(time.Minute, vmID(n), "create", "Succeeded", "running", vmDetail),
		}})
	}
	disksOf := func(vm int) []string {
		var ids []string
		for _, d := range l.disks(armid.Fold(vmID(vm)), t0.Add(time.Hour)) {
			if d.SKU != "Premium_LRS" || d.SizeGB != 128 || d.Tier != "P10" || d.Cost.Rat().Sign() <= 0 {
				t.Errorf("disk line %+v", d)
			}
			ids = append(ids, d.ID)
		}
		return ids
	}
	for n := range 3 {
		if got := disksOf(n); len(got) != 1 || got[0] != diskID(n) {
			t.Fatalf("VM %d's disks: %v", n, got)
		}
	}
	// Web-0's disk moves to Web-1: detached, then attached.
	l.onChange(engine.Change{Events: []store.Event{ev(2*time.Minute, diskID(0), "update", "Succeeded", "", diskOf(""))}})
	if got := disksOf(0); len(got) != 0 {
		t.Errorf("a detached disk is still Web-0's: %v", got)
	}
	l.onChange(engine.Change{Events: []store.Event{ev(3*time.Minute, diskID(0), "update", "Succeeded", "", diskOf(vmID(1)))}})
	if got := disksOf(1); len(got) != 2 || got[0] != diskID(0) || got[1] != diskID(1) {
		t.Errorf("Web-1's disks: %v", got)
	}
	// A power change of the disk's event kind without attributes keeps the
	// parent.
	l.onChange(engine.Change{Events: []store.Event{ev(4*time.Minute, vmID(1), "powerOff", "Succeeded", "stopped", vmDetail)}})
	if got := disksOf(1); len(got) != 2 {
		t.Errorf("Web-1's disks after a power change: %v", got)
	}
	l.onChange(engine.Change{Events: []store.Event{ev(5*time.Minute, diskID(1), "delete", "Deleted", "", diskOf(vmID(1)))}})
	if got := disksOf(1); len(got) != 1 || got[0] != diskID(0) {
		t.Errorf("Web-1's disks after one is deleted: %v", got)
	}
	if got := disksOf(2); len(got) != 1 || got[0] != diskID(2) {
		t.Errorf("Web-2's disks: %v", got)
	}
	// The moved disk cost the P10 monthly price over its hour, whichever VM
	// it was under.
	lines := l.disks(armid.Fold(vmID(1)), t0.Add(time.Hour))
	want := new(big.Rat).SetFrac64(1971, 100*billing.HoursPerMonth)
	if len(lines) != 1 || lines[0].Cost.Rat().Cmp(want) != 0 || lines[0].PerHour.Rat().Cmp(want) != 0 {
		t.Errorf("the moved disk's line %+v, want %v so far and per hour", lines, want.FloatString(6))
	}
}

// saveFleet names the VMs and OS disks the save tests bill: their IDs by
// number, a VM's event detail, and the detail of a disk managed by a VM.
func saveFleet() (vmID, diskID func(int) string, vmDetail string, diskOf func(vm string) string) {
	const rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG/providers/Microsoft.Compute/"
	vmID = func(n int) string { return fmt.Sprintf("%svirtualMachines/Web-%d", rg, n) }
	diskID = func(n int) string { return fmt.Sprintf("%sdisks/Web-%d_OS", rg, n) }
	vmDetail = `{"vmSize":"Standard_D2s_v3","location":"eastus","osType":"Linux"}`
	diskOf = func(vm string) string {
		return fmt.Sprintf(`{"location":"eastus","diskSku":"Premium_LRS","diskSizeGB":128,"managedBy":%q}`, vm)
	}
	return vmID, diskID, vmDetail, diskOf
}

// A save writes the accounts as they were when it began, while changes go
// on: to parts it has written and to parts it has not, new accounts, ended
// ones, a disk moved between parts. A ledger restored from it has every
// account the ledger had then, and the ledger that saved goes on as one
// that never saved.
func TestSaveWritesOneMoment(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vmID, diskID, vmDetail, diskOf := saveFleet()
	var seq int64
	var history []store.Event
	ev := func(at time.Duration, id, op, prov, power, detail string) store.Event {
		seq++
		e := store.Event{Seq: seq, VMID: id, At: t0.Add(at), ProvisioningState: prov, PowerState: power, OperationKind: op,
			Detail: []byte(detail)}
		history = append(history, e)
		return e
	}
	l := newLedger(billing.DefaultPriceSheet())
	l.seeded = true
	create := func(n int, at time.Duration) {
		l.onChange(engine.Change{Events: []store.Event{
			ev(at, vmID(n), "create", "Creating", "", vmDetail),
			ev(at, diskID(n), "create", "Succeeded", "", diskOf(vmID(n))),
			ev(at+time.Minute, vmID(n), "create", "Succeeded", "running", vmDetail),
		}})
	}
	const vms = 3 * savedPartSlots / 4 // two slots each: a part and a half
	for n := range vms {
		create(n, time.Duration(n)*time.Second)
	}
	now := t0.Add(48 * time.Hour)
	l.mu.Lock()
	want := l.describe(now)
	l.mu.Unlock()
	atStart := len(history)

	v, header, ok := l.beginSave(time.Time{}, true, 0, true)
	if !ok || len(v.parts) != 2 {
		t.Fatalf("a save of %d slots began: %v, in %d parts", len(l.accts), ok, len(v.parts))
	}
	change := func(events ...store.Event) { l.onChange(engine.Change{Events: events}) }
	change(ev(time.Hour, vmID(0), "powerOff", "Succeeded", "stopped", vmDetail),
		ev(time.Hour, diskID(vms-1), "update", "Succeeded", "", diskOf(vmID(1))), // from part 2 to part 1
		ev(time.Hour, diskID(5), "delete", "Deleted", "", diskOf(vmID(5))))
	parts := [][]byte{header}
	part, _ := l.savePart(v, 0)
	parts = append(parts, part)
	change(ev(2*time.Hour, vmID(2), "delete", "Deleted", "", vmDetail)) // in a part written
	create(vms, 3*time.Hour)                                            // in a slot freed
	create(vms+1, 3*time.Hour)                                          // in a new one
	change(ev(4*time.Hour, vmID(vms-2), "deallocate", "Succeeded", "deallocated", vmDetail))
	part, _ = l.savePart(v, 1)
	parts = append(parts, part)
	if v.parts[0].copied != nil || v.parts[1].copied != nil {
		t.Error("a written part keeps its copy")
	}

	restored, saved := restoreLedger(t, func(fn func([]byte) error) error {
		for _, p := range parts {
			if err := fn(p); err != nil {
				return err
			}
		}
		return nil
	})
	if saved.Last.Seq != history[atStart-1].Seq {
		t.Errorf("the save includes events up to %d, want %d", saved.Last.Seq, history[atStart-1].Seq)
	}
	if got := restored.describe(now); got != want {
		t.Errorf("restored from the save:\n%s\nwant the accounts when it began:\n%s", got, want)
	}
	// The accounts restored, and the events after the save, make the
	// ledger that saved, and one that read the whole history.
	for _, e := range history[atStart:] {
		restored.apply(e)
	}
	replayed := newLedger(billing.DefaultPriceSheet())
	for _, e := range history {
		replayed.apply(e)
	}
	l.mu.Lock()
	got := l.describe(now)
	l.mu.Unlock()
	if want := replayed.describe(now); got != want || restored.describe(now) != want {
		t.Errorf("after the save the ledger has\n%s\nrestored and caught up\n%s\nwant\n%s", got, restored.describe(now), want)
	}
}

// savedStore keeps saved accounts in memory, as a store does, and says
// which parts each save wrote; it fails a save when told to.
type savedStore struct {
	*memstore.Store
	wrote [][]int // the part numbers of each save, the whole ones marked by -1 first
	fail  bool
}

func (s *savedStore) Horizon() time.Time { return time.Time{} }

func (s *savedStore) SaveAccounts(ctx context.Context, save store.AccountsSave) error {
	if s.fail {
		return errors.New("the disk is gone")
	}
	var ns []int
	if save.Base == nil {
		ns = append(ns, -1)
	}
	for _, p := range save.Parts {
		ns = append(ns, p.N)
	}
	err := s.Store.SaveAccounts(ctx, save)
	if err == nil {
		s.wrote = append(s.wrote, ns)
	}
	return err
}

// restore reads a ledger from what st saved.
func (s *savedStore) restore(t *testing.T) *ledger {
	t.Helper()
	l, _ := restoreLedger(t, func(fn func([]byte) error) error { return s.Accounts(context.Background(), fn) })
	return l
}

// restoreLedger reads a ledger from the saved parts read gives.
func restoreLedger(t *testing.T, read func(func([]byte) error) error) (*ledger, savedHeader) {
	t.Helper()
	l := newLedger(billing.DefaultPriceSheet())
	rd := &savedReader{rates: l.rates, keyOf: l.keyOf,
		tariffs: func(ts []*billing.Tariff) error {
			for _, t := range ts {
				l.numberTariff(t)
			}
			return nil
		},
		slot: l.restoreSlot}
	if err := read(rd.part); err != nil {
		t.Fatal(err)
	}
	if err := rd.done(); err != nil {
		t.Fatal(err)
	}
	if err := l.checkLinks(); err != nil {
		t.Fatal(err)
	}
	return l, *rd.header
}

// A save writes the parts changed since the last save and the header
// alone, over the set the last one wrote; the whole set the first time,
// after a reset, and when another writer replaced it. Restored, it is the
// ledger's accounts at every step; a failed save loses no change.
func TestSaveWritesWhatChanged(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vmID, diskID, vmDetail, diskOf := saveFleet()
	var seq int64
	l := newLedger(billing.DefaultPriceSheet())
	l.seeded = true
	change := func(at time.Duration, id, op, prov, power, detail string) {
		seq++
		l.onChange(engine.Change{Events: []store.Event{{Seq: seq, VMID: id, At: t0.Add(at), ProvisioningState: prov,
			PowerState: power, OperationKind: op, Detail: []byte(detail)}}})
	}
	create := func(n int, at time.Duration) {
		change(at, vmID(n), "create", "Creating", "", vmDetail)
		change(at, diskID(n), "create", "Succeeded", "", diskOf(vmID(n)))
		change(at+time.Minute, vmID(n), "create", "Succeeded", "running", vmDetail)
	}
	const vms = 5 * savedPartSlots / 4 // two slots each: three parts
	for n := range vms {
		create(n, time.Duration(n)*time.Second)
	}
	st := &savedStore{Store: memstore.New()}
	now := t0.Add(48 * time.Hour)
	step := func(what string, want []int) {
		t.Helper()
		st.wrote = nil
		if err := l.save(ctx, st, true, false); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := st.wrote; len(got) != 1 || !slices.Equal(got[0], want) {
			t.Errorf("%s: the saves wrote parts %v, want %v", what, got, [][]int{want})
		}
		l.mu.Lock()
		live := l.describe(now)
		l.mu.Unlock()
		if got := st.restore(t).describe(now); got != live {
			t.Errorf("%s: restored\n%s\nwant\n%s", what, got, live)
		}
	}
	step("the first save", []int{-1, 0, 1, 2, 3})
	step("a save with nothing changed", []int{0})
	change(time.Hour, vmID(0), "powerOff", "Succeeded", "stopped", vmDetail)
	step("a VM of part 1 stopped", []int{0, 1})
	change(2*time.Hour, diskID(vms-1), "update", "Succeeded", "", diskOf(vmID(1))) // from part 3 to part 1
	step("a disk moved", []int{0, 1, 3})
	change(3*time.Hour, vmID(vms/2), "delete", "Deleted", "", vmDetail)
	change(3*time.Hour, diskID(vms/2), "delete", "Deleted", "", diskOf(""))
	step("a VM and its disk deleted", []int{0, 2})
	create(vms, 4*time.Hour) // in the slots freed
	create(vms+1, 4*time.Hour)
	step("VMs created", []int{0, 2, 3}) // in the slots freed, and after the last

	st.fail = true
	change(5*time.Hour, vmID(3*vms/4), "deallocate", "Succeeded", "deallocated", vmDetail)
	if err := l.save(ctx, st, true, false); err == nil {
		t.Fatal("a save to a failing store did not fail")
	}
	st.fail = false
	change(5*time.Hour, vmID(1), "start", "Succeeded", "running", vmDetail)
	step("after a failed save", []int{0, 1, 2})

	// Another writer's save: the next is whole.
	if err := st.Store.SaveAccounts(ctx, store.AccountsSave{Count: 1, Parts: []store.AccountsPart{{N: 0, Body: []byte("another's")}}}); err != nil {
		t.Fatal(err)
	}
	change(6*time.Hour, vmID(2), "powerOff", "Succeeded", "stopped", vmDetail)
	st.wrote = nil
	if err := l.save(ctx, st, true, false); err != nil {
		t.Fatal(err)
	}
	if len(st.wrote) != 1 || st.wrote[0][0] != -1 || len(st.wrote[0]) != 5 {
		t.Errorf("after another writer's save, the saves wrote %v, want one whole", st.wrote)
	}
	l.mu.Lock()
	live := l.describe(now)
	l.mu.Unlock()
	if got := st.restore(t).describe(now); got != live {
		t.Errorf("after another writer's save: restored\n%s\nwant\n%s", got, live)
	}

	// A reset: whole again.
	l.onChange(engine.Change{Reset: true})
	create(0, 7*time.Hour)
	step("after a reset", []int{-1, 0, 1})
}

// The fleet's rate (counted by tariff) is the VMs' compute and disk rates
// merged one by one, whatever their power states, prices and children: a
// public IP is left out of it, an unpriced running VM makes it a lower
// bound, and a second currency makes it mixed.
func TestLedgerPerHourMergesEveryVM(t *testing.T) {
	prices, err := billing.ParsePriceSheet(strings.NewReader(`{"Items":[
 {"currencyCode":"USD","retailPrice":0.096,"armRegionName":"eastus","meterName":"D2s v3","skuName":"D2s v3","armSkuName":"Standard_D2s_v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"EUR","retailPrice":0.2,"armRegionName":"westeurope","meterName":"D2s v3","skuName":"D2s v3","armSkuName":"Standard_D2s_v3","productName":"Virtual Machines DSv3 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"},
 {"currencyCode":"USD","retailPrice":19.71,"armRegionName":"eastus","meterName":"P10 LRS Disk","skuName":"P10 LRS","productName":"Premium SSD Managed Disks","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG/providers/"
	type vm struct {
		location, size, power string
		disk, ip              bool
	}
	cases := []struct {
		name string
		vms  []vm
	}{
		{"none", nil},
		{"running, with a disk and an IP", []vm{{"eastus", "Standard_D2s_v3", "running", true, true}, {"eastus", "Standard_D2s_v3", "running", true, false}}},
		{"some deallocated", []vm{{"eastus", "Standard_D2s_v3", "deallocated", true, false}, {"eastus", "Standard_D2s_v3", "running", false, false},
			{"eastus", "Standard_D2s_v3", "stopped", false, true}}},
		{"unpriced", []vm{{"eastus", "Standard_Nope", "running", false, false}, {"eastus", "Standard_D2s_v3", "running", true, false}}},
		{"unpriced, deallocated", []vm{{"eastus", "Standard_Nope", "deallocated", false, false}}},
		{"two currencies", []vm{{"westeurope", "Standard_D2s_v3", "running", false, false}, {"eastus", "Standard_D2s_v3", "running", true, false},
			{"westeurope", "Standard_D2s_v3", "deallocated", false, false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLedger(prices)
			close(l.ready)
			var seq int64
			ev := func(id, prov, power, detail string) store.Event {
				seq++
				return store.Event{Seq: seq, VMID: id, At: t0, ProvisioningState: prov, PowerState: power, OperationKind: "create", Detail: []byte(detail)}
			}
			var keys []string
			for n, v := range c.vms {
				id := fmt.Sprintf("%sMicrosoft.Compute/virtualMachines/vm-%d", rg, n)
				detail := fmt.Sprintf(`{"vmSize":%q,"location":%q,"osType":"Linux"}`, v.size, v.location)
				evs := []store.Event{ev(id, "Creating", "", detail), ev(id, "Succeeded", v.power, detail)}
				if v.disk {
					evs = append(evs, ev(fmt.Sprintf("%sMicrosoft.Compute/disks/vm-%d_os", rg, n), "Succeeded", "",
						fmt.Sprintf(`{"location":"eastus","diskSku":"Premium_LRS","diskSizeGB":128,"managedBy":%q}`, id)))
				}
				if v.ip {
					evs = append(evs, ev(fmt.Sprintf("%sMicrosoft.Network/publicIPAddresses/vm-%d-ip", rg, n), "Succeeded", "",
						fmt.Sprintf(`{"location":"eastus","publicIpSku":"Standard","allocationMethod":"Static","ipAddress":"10.0.0.1","vm":%q}`, id)))
				}
				l.onChange(engine.Change{Events: evs})
				keys = append(keys, armid.Fold(id))
			}
			keys = append(keys, armid.Fold(rg+"Microsoft.Compute/virtualMachines/gone"))
			var want billing.Amount
			for _, a := range l.vmAmounts(keys, t0.Add(time.Hour)) {
				want.Merge(a.computePerHour)
				want.Merge(a.disksPerHour)
			}
			got := l.perHour(keys)
			if (got.Cost == nil) != (want.Cost == nil) || (got.Cost != nil && got.Cost.Cmp(want.Cost) != 0) ||
				got.Currency != want.Currency || got.Mixed != want.Mixed || got.Unpriced != want.Unpriced {
				t.Errorf("per hour %+v, want %+v", got, want)
			}
		})
	}
}

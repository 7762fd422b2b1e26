package dashboard

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
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
		for _, d := range l.disks(store.Key(vmID(vm)), t0.Add(time.Hour)) {
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
	lines := l.disks(store.Key(vmID(1)), t0.Add(time.Hour))
	want := new(big.Rat).SetFrac64(1971, 100*billing.HoursPerMonth)
	if len(lines) != 1 || lines[0].Cost.Rat().Cmp(want) != 0 || lines[0].PerHour.Rat().Cmp(want) != 0 {
		t.Errorf("the moved disk's line %+v, want %v so far and per hour", lines, want.FloatString(6))
	}
}

// A save writes the accounts as they were when it began, while changes go
// on: to parts it has written and to parts it has not, new accounts, ended
// ones, a disk moved between parts. A ledger restored from it has every
// account the ledger had then, and the ledger that saved goes on as one
// that never saved.
func TestSaveWritesOneMoment(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG/providers/Microsoft.Compute/"
	vmID := func(n int) string { return fmt.Sprintf("%svirtualMachines/Web-%d", rg, n) }
	diskID := func(n int) string { return fmt.Sprintf("%sdisks/Web-%d_OS", rg, n) }
	vmDetail := `{"vmSize":"Standard_D2s_v3","location":"eastus","osType":"Linux"}`
	diskOf := func(vm string) string {
		return fmt.Sprintf(`{"location":"eastus","diskSku":"Premium_LRS","diskSizeGB":128,"managedBy":%q}`, vm)
	}
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

	v, header, ok := l.beginSave(time.Time{}, true, 0)
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

	restored := newLedger(billing.DefaultPriceSheet())
	rd := &savedReader{rates: restored.rates,
		tariffs: func(ts []*billing.Tariff) error {
			for _, t := range ts {
				restored.numberTariff(t)
			}
			return nil
		},
		slot: restored.restoreSlot}
	for _, p := range parts {
		if err := rd.part(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := rd.done(); err != nil {
		t.Fatal(err)
	}
	if err := restored.checkLinks(); err != nil {
		t.Fatal(err)
	}
	if rd.header.Last.Seq != history[atStart-1].Seq {
		t.Errorf("the save includes events up to %d, want %d", rd.header.Last.Seq, history[atStart-1].Seq)
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

package dashboard

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/store"
)

// BenchmarkLedgerHeap reports the heap a ledger keeps per VM (a VM and its
// OS disk, as `azemu seed` makes them), its keys and IDs aside: the engine
// holds those, and the ledger points at its copies. Then what a whole save
// of them allocates, holds when it writes (besides the ledger), and
// writes, per VM; and what the next save writes after 200 VMs changed.
//
//	go test -run '^$' -bench LedgerHeap -benchtime 1x ./internal/dashboard/
func BenchmarkLedgerHeap(b *testing.B) {
	const vms = 100_000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-%03d/providers/Microsoft.Compute/"
	sizes := []string{"Standard_D2s_v3", "Standard_D4s_v3", "Standard_B2s", "Standard_E2s_v3"}
	ids := map[string][2]string{} // the engine's key and ID, by ID
	keep := func(id string) string {
		ids[id] = [2]string{armid.Fold(id), id}
		return id
	}
	var changes []engine.Change
	var seq int64
	ev := func(at time.Duration, id, op, prov, power, detail string) store.Event {
		seq++
		return store.Event{Seq: seq, VMID: id, At: t0.Add(at), ProvisioningState: prov, PowerState: power, OperationKind: op,
			Detail: []byte(detail)}
	}
	for n := range vms {
		vm := keep(fmt.Sprintf(rg+"virtualMachines/vm-%06d", n/1000, n))
		disk := keep(fmt.Sprintf(rg+"disks/vm-%06d_OsDisk_1_%032x", n/1000, n, uint64(n)*0x9e3779b97f4a7c15))
		vmDetail := fmt.Sprintf(`{"vmSize":%q,"location":"eastus","osType":"Linux"}`, sizes[n%len(sizes)])
		power := []string{"running", "running", "stopped", "deallocated"}[n%4]
		at := time.Duration(n) * time.Second
		changes = append(changes, engine.Change{Events: []store.Event{
			ev(at, vm, "create", "Creating", "", vmDetail),
			ev(at, disk, "create", "Succeeded", "", fmt.Sprintf(`{"location":"eastus","diskSku":"Premium_LRS","diskSizeGB":128,"managedBy":%q}`, vm)),
			ev(at+time.Minute, vm, "create", "Succeeded", "running", vmDetail),
			ev(at+time.Hour, vm, "power", "Succeeded", power, vmDetail),
		}})
	}
	keyOf := func(id string) (string, string) {
		if k, ok := ids[id]; ok {
			return k[0], k[1]
		}
		return armid.Fold(id), id
	}
	prices := billing.DefaultPriceSheet()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := newLedger(prices)
		l.keyOf = keyOf
		for _, c := range changes {
			l.onChange(c)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/vms, "heap-B/VM")

		l.seeded = true
		st := &measuredSave{}
		runtime.GC()
		runtime.ReadMemStats(&st.before)
		if err := l.save(context.Background(), st, true, false); err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.TotalAlloc-st.before.TotalAlloc)/vms, "save-alloc-B/VM")
		b.ReportMetric(float64(st.held)/vms, "save-held-B/VM")
		b.ReportMetric(float64(st.saved)/vms, "saved-B/VM")
		for n := range 200 {
			l.onChange(engine.Change{Events: []store.Event{ev(100*time.Hour, changes[n].Events[0].VMID, "powerOff", "Succeeded", "stopped", "{}")}})
		}
		if err := l.save(context.Background(), st, true, false); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.saved), "next-saved-B")
		runtime.KeepAlive(l)
	}
}

// measuredSave measures a save as it writes: the heap it holds then, and
// the bytes it writes.
type measuredSave struct {
	before      runtime.MemStats
	held, saved int
}

func (m *measuredSave) Horizon() time.Time { return time.Time{} }

func (m *measuredSave) SaveAccounts(_ context.Context, save store.AccountsSave) error {
	var now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&now)
	m.held, m.saved = int(now.HeapAlloc)-int(m.before.HeapAlloc), 0
	for _, p := range save.Parts {
		m.saved += len(p.Body)
	}
	return nil
}

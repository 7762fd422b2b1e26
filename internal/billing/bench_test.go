package billing

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

const (
	benchVMs    = 100_000
	benchEvents = 20
)

// benchCycle is a realistic power cycle: 20 changes take a VM through
// start/stop/deallocate twice and a half.
var benchCycle = [benchEvents]string{
	"", "starting", "running", "stopping", "stopped", "starting", "running",
	"stopping", "deallocating", "deallocated", "stopped", "starting", "running",
	"stopping", "stopped", "deallocating", "deallocated", "stopped", "starting", "running",
}

// BenchmarkMeter100kVMs meters 100,000 VMs with 20 state changes each, fed in
// global time order (round by round), over a 30-day window. Events are made
// as they are fed, never held, as a store cursor would stream them.
func BenchmarkMeter100kVMs(b *testing.B) {
	ids := make([]string, benchVMs)
	for i := range ids {
		ids[i] = fmt.Sprintf("/subscriptions/%s/resourceGroups/RG%d/providers/Microsoft.Compute/virtualMachines/vm%06d", sub, i%50, i)
	}
	attrs := [2]Attrs{linuxD2, {Location: "eastus", VMSize: "Standard_D4s_v3", OSType: "Windows", Priority: "Regular"}}
	from := t0
	to := t0.Add(30 * 24 * time.Hour)
	round := (to.Sub(from) - time.Hour) / benchEvents
	var heapMeter, heapAfter, usageLines uint64
	heapInuse := func() uint64 {
		b.StopTimer()
		defer b.StartTimer()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	base := heapInuse() // the IDs and the test binary's own heap
	b.ReportAllocs()
	for b.Loop() {
		m := NewMeter(from, to, PerSecond)
		for r := range benchEvents {
			base := from.Add(time.Duration(r) * round)
			for i, id := range ids {
				e := Event{
					ResourceID: id,
					At:         base.Add(time.Duration(i) * (round / benchVMs)),
					Kind:       VM,
					PowerState: benchCycle[r],
				}
				if r == 0 || r == 10 { // created, then resized half way
					e.Attrs = attrs[(r/10+i)%2]
				}
				if err := m.Add(e); err != nil {
					b.Fatal(err)
				}
			}
		}
		heapMeter = heapInuse() - base // the meter's state
		us := m.Usage()
		usageLines = uint64(len(us))
		heapAfter = heapInuse() - base // the meter and its 200,000 lines
		runtime.KeepAlive(m)
		runtime.KeepAlive(us)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchVMs*benchEvents), "ns/event")
	b.ReportMetric(float64(heapMeter), "meter-heap-bytes")
	b.ReportMetric(float64(heapAfter), "meter+usage-heap-bytes")
	b.ReportMetric(float64(usageLines), "lines")
}

// BenchmarkMeterHistoryLength shows that memory does not grow with the
// length of the history: the same 10,000 VMs with 20 or 200 changes each.
func BenchmarkMeterHistoryLength(b *testing.B) {
	for _, perVM := range []int{20, 200} {
		b.Run(fmt.Sprintf("events=%d", perVM), func(b *testing.B) {
			const n = 10_000
			ids := make([]string, n)
			for i := range ids {
				ids[i] = vmID(fmt.Sprintf("vm%06d", i))
			}
			var heap uint64
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			b.ReportAllocs()
			for b.Loop() {
				m := NewMeter(t0, t0.Add(30*24*time.Hour), PerSecond)
				for r := range perVM {
					for i, id := range ids {
						e := Event{ResourceID: id, At: t0.Add(time.Duration(r)*time.Hour + time.Duration(i)*time.Millisecond), Kind: VM, PowerState: benchCycle[r%benchEvents]}
						if r == 0 {
							e.Attrs = linuxD2
						}
						if err := m.Add(e); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&ms)
				heap = ms.HeapInuse - base
				b.StartTimer()
				runtime.KeepAlive(m)
			}
			b.ReportMetric(float64(heap), "meter-heap-bytes")
		})
	}
}

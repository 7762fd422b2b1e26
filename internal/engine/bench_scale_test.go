package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// seedStore writes n running VMs straight into a SQLite store, in large
// transactions: the benchmarks below measure what grows with the fleet
// (start-up, listing), not how the fleet was made.
func seedStore(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "azemu.db")
	st, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Apply(ctx, store.Change{
		Subscriptions: []store.Subscription{{ID: testSub, CreatedAt: t0}},
		Groups:        []store.ResourceGroup{{SubscriptionID: testSub, Name: "rg", Location: "westus", Body: json.RawMessage(`{}`), Version: 1, CreatedAt: t0}},
	}); err != nil {
		b.Fatal(err)
	}
	spec := VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux"}
	state := lifecycle.State{Provisioning: lifecycle.Succeeded, Power: lifecycle.Running, ProvisionedAt: t0}
	const batch = 5000
	for i := 0; i < n; i += batch {
		var c store.Change
		for j := i; j < i+batch && j < n; j++ {
			name := fmt.Sprintf("vm%07d", j)
			doc, _ := json.Marshal(vmDoc{Machine: lifecycle.Machine{Name: name, State: state}, Spec: spec, VMID: newGUID(), TimeCreated: t0})
			// Each VM's model has strings of its own, as a fleet's do.
			model := jsonshape.Of(fmt.Appendf(nil, `{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},`+
				`"osProfile":{"computerName":"%s"},"storageProfile":{"osDisk":{"name":"%s_OsDisk_1_%s"}}}}`, name, name, newGUID()))
			c.VMs = append(c.VMs, store.VM{ID: vmID("rg", name), SubscriptionID: testSub, ResourceGroup: "rg", Name: name,
				Location: "westus", Model: model, State: doc, Version: 1, CreatedAt: t0, UpdatedAt: t0})
		}
		if err := st.Apply(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

func openBench(b *testing.B, path string) (*Engine, func()) {
	b.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := New(context.Background(), Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return eng, func() { st.Close() }
}

// BenchmarkStartUp loads a fleet of N VMs from SQLite into memory, as a
// restart does.
func BenchmarkStartUp(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("vms=%d", n), func(b *testing.B) {
			path := seedStore(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				eng, done := openBench(b, path)
				if got := eng.Stats().VMs; got != n {
					b.Fatalf("%d VMs loaded, want %d", got, n)
				}
				done()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/VM")
		})
	}
}

// BenchmarkStartUpSeeded is BenchmarkStartUp on a copy of a fleet that
// `azemu seed` made (VMs with disks, interfaces and full models), named by
// AZEMU_BENCH_DB (its azemu.db); without it, it is skipped.
func BenchmarkStartUpSeeded(b *testing.B) {
	path := copySeeded(b)
	b.ReportAllocs()
	for b.Loop() {
		_, done := openBench(b, path)
		done()
	}
}

// copySeeded copies the database AZEMU_BENCH_DB names into the benchmark's
// own directory, and returns the copy's path; without it, it skips b.
func copySeeded(b *testing.B) string {
	b.Helper()
	src := os.Getenv("AZEMU_BENCH_DB")
	if src == "" {
		b.Skip("AZEMU_BENCH_DB names no seeded database")
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "azemu.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkHeapSeeded loads a copy of the fleet AZEMU_BENCH_DB names (see
// BenchmarkStartUpSeeded) and reports the live heap the engine holds a VM
// after a collection (heap-B/vm): what the fleet's size costs in memory.
// With AZEMU_BENCH_HEAP set it also writes the heap profile there.
func BenchmarkHeapSeeded(b *testing.B) {
	path := copySeeded(b)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		eng, done := openBench(b, path)
		runtime.GC()
		runtime.ReadMemStats(&after)
		vms := eng.Stats().VMs
		if vms == 0 {
			b.Fatal("the fleet has no VMs")
		}
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(vms), "heap-B/vm")
		if out := os.Getenv("AZEMU_BENCH_HEAP"); out != "" {
			writeHeapProfile(b, out)
		}
		runtime.KeepAlive(eng)
		done()
	}
}

func writeHeapProfile(b *testing.B, path string) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListAll pages through every VM of a fleet of N, 100 a page, as
// listAll does.
func BenchmarkListAll(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("vms=%d", n), func(b *testing.B) {
			eng, done := openBench(b, seedStore(b, n))
			defer done()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				seen, after := 0, ""
				for {
					page, next := eng.ListVMs(nil, after, 100)
					seen += len(page)
					if next == "" {
						break
					}
					after = next
				}
				if seen != n {
					b.Fatalf("listed %d, want %d", seen, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/VM")
		})
	}
}

package engine_test

// Benchmarks of durable state changes (docs/benchmarks.md). They build
// their fleet inside the Benchmark functions, so a plain `go test` (with or
// without -race) never pays for it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
	"github.com/azemu/azemu/internal/store/sqlite"
)

const (
	benchVMs   = 1000
	benchSub   = "00000000-0000-0000-0000-0000000000b1"
	benchGroup = "bench"
)

// benchCountingStore counts the transactions committed to the store: all
// of them, and those that change a VM (write or delete its row).
type benchCountingStore struct {
	store.Store
	applies   atomic.Int64
	vmChanges atomic.Int64
}

func (s *benchCountingStore) Apply(ctx context.Context, cs ...store.Change) error {
	if err := s.Store.Apply(ctx, cs...); err != nil {
		return err
	}
	s.applies.Add(1)
	for _, c := range cs {
		if len(c.VMs)+len(c.DeletedVMs) > 0 {
			s.vmChanges.Add(1)
		}
	}
	return nil
}

// newBenchEngine returns an engine on a SQLite file in b.TempDir() with a
// manual clock, holding benchVMs VMs that are Succeeded and running.
func newBenchEngine(b *testing.B) (*engine.Engine, *benchCountingStore, []string) {
	b.Helper()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "azemu.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return newBenchEngineOn(b, st)
}

// newBenchEngineOn is newBenchEngine on the store st.
func newBenchEngineOn(b *testing.B, st store.Store) (*engine.Engine, *benchCountingStore, []string) {
	b.Helper()
	ctx := context.Background()
	cs := &benchCountingStore{Store: st}
	eng, err := engine.New(ctx, engine.Config{Store: cs, Manual: clock.NewManual(clock.DefaultManualStart), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(eng.Close)
	if err := enginetest.PutGroup(ctx, eng, benchSub, benchGroup, "westus"); err != nil {
		b.Fatal(err)
	}
	spec := engine.VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", GeneralizedImage: true, OSType: "Linux"}
	names := make([]string, benchVMs)
	for i := range names {
		names[i] = fmt.Sprintf("vm%04d", i)
		model, _ := json.Marshal(map[string]any{"location": "westus", "properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": spec.VMSize},
			"osProfile":       map[string]any{"computerName": names[i], "adminUsername": "azureuser"},
		}})
		_, _, err := enginetest.PutVM(ctx, eng, benchSub, benchGroup, names[i], model, spec)
		if err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			// Keep each batch of creates finishing together to 100 VMs.
			if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Second}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Hour}); err != nil {
		b.Fatal(err)
	}
	for _, name := range names {
		v, err := eng.GetVM(benchSub, benchGroup, name)
		if err != nil {
			b.Fatal(err)
		}
		if st := v.Machine.State; st.Provisioning != lifecycle.Succeeded || st.Power != lifecycle.Running || v.Machine.Run != nil {
			b.Fatalf("%s is not Succeeded/running: %+v", name, st)
		}
	}
	return eng, cs, names
}

// BenchmarkDurableStateChange measures VM state changes committed to
// SQLite before they are acknowledged, at the engine level, on a fleet of
// 1,000 running VMs. Each iteration acts on the next VM in turn,
// alternating powerOff and start for each VM. changes/s counts committed
// transactions that change a VM; commits/op counts every transaction.
//
// ActAndFire: the action is submitted and the manual clock advanced a
// minute, past its end: two VM state changes per iteration (the VM enters
// stopping or starting; the step fires and it settles stopped or running),
// plus the commit that records the manual clock.
//
// Act: the action is submitted only, so each one preempts the previous
// operation on that VM: one VM state change, and one commit, per iteration.
func BenchmarkDurableStateChange(b *testing.B) {
	for _, fire := range []bool{true, false} {
		name := "Act"
		if fire {
			name = "ActAndFire"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			eng, cs, names := newBenchEngine(b)
			start, startVM := cs.applies.Load(), cs.vmChanges.Load()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				actOnNext(ctx, b, eng, names, i)
				if fire {
					if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Minute}); err != nil {
						b.Fatal(err)
					}
				}
				i++
			}
			commits, changes := cs.applies.Load()-start, cs.vmChanges.Load()-startVM
			want := int64(i)
			if fire {
				want *= 2
			}
			if changes != want {
				b.Fatalf("%d VM state changes committed for %d iterations, want %d", changes, i, want)
			}
			b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
			b.ReportMetric(float64(commits)/float64(i), "commits/op")
		})
	}
}

// BenchmarkGroupCommit is BenchmarkDurableStateChange's Act case from 64
// writers at once (32 a core on two), each on VMs of its own: what group
// commit and the pipeline of batches give at the engine level, without
// HTTPS. changes/s counts the committed changes that change a VM;
// changes/commit how many share a transaction. A 409 (an action the VM's
// state no longer allows) is counted apart and not as a change.
func BenchmarkGroupCommit(b *testing.B) {
	ctx := context.Background()
	eng, cs, names := newBenchEngine(b)
	start, startVM := cs.applies.Load(), cs.vmChanges.Load()
	var writer, refused atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		own := int(writer.Add(1)) - 1
		for i := 0; pb.Next(); i++ {
			vm := names[(own+64*(i/2))%len(names)]
			kind := lifecycle.PowerOff
			if i%2 == 1 {
				kind = lifecycle.Start
			}
			if _, err := enginetest.Act(ctx, eng, benchSub, benchGroup, vm, lifecycle.Request{Kind: kind}); err != nil {
				var ee *engine.Error
				if !errors.As(err, &ee) || ee.Code != "OperationNotAllowed" {
					b.Errorf("%s %s: %v", kind, vm, err)
					return
				}
				refused.Add(1)
			}
		}
	})
	commits, changes := cs.applies.Load()-start, cs.vmChanges.Load()-startVM
	b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
	b.ReportMetric(float64(changes)/float64(max(commits, 1)), "changes/commit")
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}

// actOnNext runs the i'th action of the benchmarks' cycle: a powerOff or
// a start (alternating each pass over the fleet) of the next VM in turn,
// whose operation must still run.
func actOnNext(ctx context.Context, b *testing.B, eng *engine.Engine, names []string, i int) {
	b.Helper()
	vm := names[i%len(names)]
	kind := lifecycle.PowerOff
	if (i/len(names))%2 == 1 {
		kind = lifecycle.Start
	}
	op, err := enginetest.Act(ctx, eng, benchSub, benchGroup, vm, lifecycle.Request{Kind: kind})
	if err != nil {
		b.Fatalf("%s %s: %v", kind, vm, err)
	}
	if op.Done() {
		b.Fatalf("%s %s finished at once: nothing changed", kind, vm)
	}
}

// BenchmarkDecision measures the engine's own part of a durable state
// change, without SQLite: the Act case of BenchmarkDurableStateChange on
// the in-memory store, one writer. What it counts (instructions under
// cachegrind, allocations) is the decision, the overlay, the VM's state
// document and publishing the change.
func BenchmarkDecision(b *testing.B) {
	ctx := context.Background()
	eng, _, names := newBenchEngineOn(b, memstore.New())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		actOnNext(ctx, b, eng, names, i)
		i++
	}
}

// BenchmarkFireDueBatch measures one transaction that fires the steps of
// many VMs due at the same instant: each iteration powers off (or starts)
// every VM of the fleet, untimed, then advances the manual clock so that
// all their steps fire together, timed. ns/VM should stay flat as the
// batch grows if firing is linear in the batch size.
func BenchmarkFireDueBatch(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("vms=%d", n), func(b *testing.B) {
			ctx := context.Background()
			eng, cs, names := newBenchEngine(b)
			names = names[:n]
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				kind := lifecycle.PowerOff
				if i%2 == 1 {
					kind = lifecycle.Start
				}
				for _, vm := range names {
					if _, err := enginetest.Act(ctx, eng, benchSub, benchGroup, vm, lifecycle.Request{Kind: kind}); err != nil {
						b.Fatalf("%s %s: %v", kind, vm, err)
					}
				}
				before := cs.vmChanges.Load()
				b.StartTimer()
				if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Minute}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if got := cs.vmChanges.Load() - before; got != 1 {
					b.Fatalf("%d VM transactions for one batch, want 1", got)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/VM")
		})
	}
}

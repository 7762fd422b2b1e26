package main

// The commits workload of azemu bench: durable state changes through the
// engine itself on SQLite, without HTTPS, whose TLS alone would cap a small
// machine far below what the engine commits. It runs twice in each round,
// on a database of its own each time: with group commit, and with one
// change per store transaction, the baseline its ratio is to.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// The commits workload's two runs: group commit, and its baseline.
const (
	commitsGrouped = "commits"
	commitsSingle  = "commits-single"
)

// countingStore counts the store transactions committed and the changes
// they held.
type countingStore struct {
	store.Store
	transactions, changes atomic.Int64
}

func (s *countingStore) Apply(ctx context.Context, cs ...store.Change) error {
	if err := s.Store.Apply(ctx, cs...); err != nil {
		return err
	}
	s.transactions.Add(1)
	s.changes.Add(int64(len(cs)))
	return nil
}

// runCommits measures the commits workload once: on a new SQLite file at
// path, an engine (manual clock) with one VM per client, each client
// cycling its VM through powerOff, start, deallocate, start with Do, for
// warmup and then for d; every accepted action is one durable change.
// maxBatch is the engine's Config.MaxBatch. The measured part is profiled
// into the file profile names ("" for none).
func runCommits(ctx context.Context, path, name string, clients, maxBatch int, warmup, d time.Duration, profile string) workloadResult {
	res := workloadResult{Name: name}
	fail := func(err error) workloadResult {
		res.Err = err.Error()
		return res
	}
	db, err := sqlite.Open(path)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	counted := &countingStore{Store: db}
	eng, err := engine.New(ctx, engine.Config{Store: counted, Manual: clock.NewManual(clock.DefaultManualStart),
		Logger: slog.New(slog.DiscardHandler), MaxBatch: maxBatch})
	if err != nil {
		return fail(err)
	}
	defer eng.Close()
	group := "/subscriptions/" + benchSub + "/resourceGroups/" + benchGroup
	if _, err := eng.Do(ctx, engine.Command{ID: group, Verb: engine.VerbPut,
		Input: engine.GroupPut{Location: "westus"}}); err != nil {
		return fail(err)
	}
	ids := make([]string, clients)
	for c := range clients {
		name := benchVMName(c)
		ids[c] = group + "/providers/Microsoft.Compute/virtualMachines/" + name
		if _, err := eng.Do(ctx, engine.Command{ID: ids[c], Verb: engine.VerbPut, Input: engine.VMPut{Model: benchVMBody(benchSub, name),
			Spec: engine.VMSpec{Location: "westus", VMSize: "Standard_D2s_v3", OSType: "Linux", ComputerName: name}}}); err != nil {
			return fail(err)
		}
	}
	if _, err := eng.Do(ctx, engine.AdvanceClock{By: time.Hour}); err != nil {
		return fail(err)
	}
	actions := []lifecycle.Kind{lifecycle.PowerOff, lifecycle.Start, lifecycle.Deallocate, lifecycle.Start}
	drive := func(d time.Duration) workloadResult {
		out := workloadResult{Name: name}
		var changes, refused atomic.Int64
		var firstErr, firstRefusal atomic.Pointer[string]
		tx0, ch0 := counted.transactions.Load(), counted.changes.Load()
		var wg sync.WaitGroup
		cpu0, start := processCPU(), time.Now()
		deadline := start.Add(d)
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
					kind := actions[n%len(actions)]
					_, err := eng.Do(ctx, engine.Command{ID: ids[c], Verb: engine.VerbAct, Input: lifecycle.Request{Kind: kind}})
					var refusal *engine.Error
					switch {
					case err == nil:
						changes.Add(1)
					case errors.As(err, &refusal) && refusal.Code == "OperationNotAllowed":
						refused.Add(1)
						msg := fmt.Sprintf("%s: %s", kind, refusal.Message)
						firstRefusal.CompareAndSwap(nil, &msg)
					default:
						msg := err.Error()
						firstErr.CompareAndSwap(nil, &msg)
						return
					}
				}
			}()
		}
		wg.Wait()
		out.Elapsed, out.CPU = time.Since(start), processCPU()-cpu0
		out.Ops, out.Refused = changes.Load(), refused.Load()
		out.Transactions = counted.transactions.Load() - tx0
		out.Changes = counted.changes.Load() - ch0
		if msg := firstErr.Load(); msg != nil {
			out.Err = *msg
		}
		if msg := firstRefusal.Load(); msg != nil {
			out.Refusal = *msg
		}
		return out
	}
	if warmup > 0 {
		if w := drive(warmup); w.Err != "" {
			return w
		}
	}
	stop, err := startCPUProfile(profile)
	if err != nil {
		return fail(err)
	}
	defer stop()
	return drive(d)
}

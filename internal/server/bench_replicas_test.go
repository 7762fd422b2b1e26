package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/pgtest"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/postgres"
)

// benchReplicas starts n engines on one PostgreSQL store, as n servers
// would be, each with a group of its own to write. n = 0 is the baseline:
// one engine on the same store, hidden from it that others could share
// it, so it neither locks nor catches up.
func benchReplicas(b *testing.B, n int) []*engine.Engine {
	b.Helper()
	url := pgtest.Database(b)
	var out []*engine.Engine
	for i := range max(n, 1) {
		pg, err := postgres.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pg.Close() })
		var st store.Store = pg
		if n == 0 {
			st = struct{ store.Store }{pg}
		}
		e, err := engine.New(context.Background(), engine.Config{Store: st, Manual: clock.NewManual(clock.DefaultManualStart),
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(e.Close)
		if _, err := e.Do(context.Background(), engine.Command{ID: armid.ResourceGroupID(benchSub, fmt.Sprintf("rg%d", i)),
			Verb: engine.VerbPut, Input: engine.GroupPut{Location: "westeurope"}}); err != nil {
			b.Fatal(err)
		}
		out = append(out, e)
	}
	for _, e := range out {
		if err := e.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

const benchSub = "00000000-0000-0000-0000-0000000000b1"

// BenchmarkReplicaWrites measures durable state changes per second
// through one and through three replicas on one PostgreSQL store (pgtest's
// cluster, unix socket, PostgreSQL's defaults): two writers per replica,
// each change a resource group's tags put through Engine.Do, which takes
// the fleet lock, catches up, decides and commits. The changes/s figure
// is the fleet's, all replicas together. replicas=0 is one server that
// does neither, the baseline.
func BenchmarkReplicaWrites(b *testing.B) {
	for _, n := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			es := benchReplicas(b, n)
			n := len(es)
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range 2 * n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := es[w%n]
					id := armid.ResourceGroupID(benchSub, fmt.Sprintf("rg%d", w%n))
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if _, err := e.Do(context.Background(), engine.Command{ID: id, Verb: engine.VerbPut,
							Input: engine.GroupPut{Location: "westeurope", Tags: map[string]string{"n": fmt.Sprint(i)}}}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
		})
	}
}

// BenchmarkReplicaReads measures what a read costs each replica: the
// catch-up check every request makes (Engine.Sync: one read of the change
// sequence) and a group read from memory, with one and with three replicas
// reading at once, sixteen readers each, while nothing is written. The
// gets/s figure is per replica. replicas=0 is one server that makes no
// check, reading memory alone, the baseline.
func BenchmarkReplicaReads(b *testing.B) {
	for _, n := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			es := benchReplicas(b, n)
			n := len(es)
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range 16 * n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := es[w%n]
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if err := e.Sync(context.Background()); err != nil {
							b.Error(err)
							return
						}
						if _, ok := e.Group(benchSub, fmt.Sprintf("rg%d", w%n)); !ok {
							b.Error("group not found")
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/float64(n), "gets/s/replica")
		})
	}
}

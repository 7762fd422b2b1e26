package server_test

import (
	"context"
	"errors"
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
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) { benchReplicaWrites(b, n, 2) })
	}
}

// BenchmarkReplicaGroupCommit is BenchmarkReplicaWrites with 64 writers to
// each replica, each on a group of its own: what group commit, and the
// pipeline of batches, give on PostgreSQL, where a commit waits for the
// server and for its flush to disk.
func BenchmarkReplicaGroupCommit(b *testing.B) {
	for _, n := range []int{0, 1} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) { benchReplicaWrites(b, n, 64) })
	}
}

// benchReplicaWrites puts groups' tags from writers writers a replica on
// replicas replicas (0: the baseline, one server that does not share),
// each writer on a group of its own.
func benchReplicaWrites(b *testing.B, replicas, writers int) {
	es := benchReplicas(b, replicas)
	rate := spread(b, es, writers, func(e *engine.Engine, w int, i int64) error {
		_, err := e.Do(context.Background(), engine.Command{ID: armid.ResourceGroupID(benchSub, fmt.Sprintf("rg%d", w)), Verb: engine.VerbPut,
			Input: engine.GroupPut{Location: "westeurope", Tags: map[string]string{"n": fmt.Sprint(i)}}})
		return err
	})
	b.ReportMetric(rate, "changes/s")
}

// spread runs perReplica goroutines a replica of es, the w'th on
// es[w%len(es)], which between them call fn b.N times (i counting from
// 1), and returns the calls a second.
func spread(b *testing.B, es []*engine.Engine, perReplica int, fn func(e *engine.Engine, w int, i int64) error) float64 {
	b.Helper()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range perReplica * len(es) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := es[w%len(es)]
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := fn(e, w, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(b.N) / time.Since(start).Seconds()
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
			rate := spread(b, es, 16, func(e *engine.Engine, w int, _ int64) error {
				if err := e.Sync(context.Background()); err != nil {
					return err
				}
				if _, ok := e.Group(benchSub, fmt.Sprintf("rg%d", w%len(es))); !ok {
					return errors.New("group not found")
				}
				return nil
			})
			b.ReportMetric(rate/float64(len(es)), "gets/s/replica")
		})
	}
}

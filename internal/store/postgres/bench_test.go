package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/pgtest"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// BenchmarkDurableStateChange measures what one engine state change costs
// each backend, in the same run so that the two figures compare: a VM
// update, its event and an operation upsert, committed together, as
// changes/s. SQLite is the baseline (WAL, synchronous=NORMAL: a commit
// survives the process being killed, and costs no fsync). PostgreSQL runs on
// pgtest's cluster over a unix socket with its defaults (a commit is
// flushed to disk before it returns), and with synchronous_commit=off, the
// closer match to SQLite's setting. "writers=8" runs eight writers at once,
// each on its own VM: the engine has one writer today, replicas would have
// several.
func BenchmarkDurableStateChange(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			s, err := sqlite.Open(filepath.Join(b.TempDir(), "azemu.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) store.Store { return open(b, pgtest.Database(b)) }},
		{"postgres-async-commit", func(b *testing.B) store.Store {
			return open(b, pgtest.Database(b)+"&synchronous_commit=off")
		}},
	}
	for _, be := range backends {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", be.name, writers), func(b *testing.B) {
				s := be.open(b)
				defer s.Close()
				benchStateChanges(b, s, writers)
			})
		}
	}
}

func benchStateChanges(b *testing.B, s store.Store, writers int) {
	ctx := context.Background()
	// One VM per writer, created before the clock starts.
	vms := make([]store.Change, writers)
	for w := range vms {
		c := sample()
		c.VMs[0].ID = vmID(fmt.Sprintf("vm%d", w))
		c.Events[0].VMID = c.VMs[0].ID
		c.Operations[0].ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", w)
		if err := s.Apply(ctx, c); err != nil {
			b.Fatal(err)
		}
		vms[w] = c
	}
	// Exactly this many writers, sharing b.N between them.
	var taken atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		v, e, op := vms[w].VMs[0], vms[w].Events[0], vms[w].Operations[0]
		wg.Go(func() {
			for i := 0; taken.Add(1) <= int64(b.N); i++ {
				v.Version++
				v.UpdatedAt = v.UpdatedAt.Add(time.Millisecond)
				e.At = e.At.Add(time.Millisecond)
				op.Status = []string{"InProgress", "Succeeded"}[i%2]
				if err := s.Apply(ctx, store.Change{
					VMs: []store.VM{v}, Events: []store.Event{e}, Operations: []store.Operation{op},
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
}

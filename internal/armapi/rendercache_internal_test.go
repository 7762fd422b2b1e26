package armapi

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/kinds/resource"
)

func TestRenderCacheKeepsOneSnapshotWithinItsLimit(t *testing.T) {
	c := newRenderCache(100)
	v1 := &engine.VM{Meta: resource.Meta{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a"}}
	v2 := &engine.VM{Meta: v1.Meta} // the same VM after a change
	c.put(v1, answerVM, make([]byte, 40))
	if _, ok := c.get(v1, answerVM); !ok {
		t.Fatal("an answer just kept is not there")
	}
	if _, ok := c.get(v1, answerInstanceView); ok {
		t.Fatal("an answer of another kind was found")
	}
	if _, ok := c.get(v2, answerVM); ok {
		t.Fatal("the answer of an older snapshot was found for a newer one")
	}
	c.put(v2, answerVM, make([]byte, 50))
	if _, ok := c.get(v1, answerVM); ok || c.size != 50 || len(c.entries) != 1 {
		t.Fatalf("replacing a VM's answer: size %d, %d entries", c.size, len(c.entries))
	}
	other := &engine.VM{Meta: resource.Meta{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/b"}}
	c.put(other, answerVM, make([]byte, 60))
	if c.size > 100 || c.size != 60 || len(c.entries) != 1 {
		t.Fatalf("over the limit: size %d, %d entries", c.size, len(c.entries))
	}
	c.put(other, answerInstanceView, make([]byte, 101))
	if _, ok := c.get(other, answerInstanceView); ok || c.size != 60 {
		t.Fatalf("an answer larger than the whole cache was kept (size %d)", c.size)
	}
}

func TestRenderCachePutIfRoomDropsNothing(t *testing.T) {
	c := newRenderCache(100)
	a := &engine.VM{Meta: resource.Meta{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a"}}
	b := &engine.VM{Meta: resource.Meta{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/b"}}
	c.put(a, answerVM, make([]byte, 60))
	c.putIfRoom(b, answerVM, make([]byte, 50))
	if _, ok := c.get(b, answerVM); ok {
		t.Fatal("an answer was kept past the limit")
	}
	if _, ok := c.get(a, answerVM); !ok || c.size != 60 {
		t.Fatalf("an answer was dropped for one kept if there is room (size %d)", c.size)
	}
	c.putIfRoom(b, answerVM, make([]byte, 40))
	if _, ok := c.get(b, answerVM); !ok || c.size != 100 {
		t.Fatalf("an answer with room was not kept (size %d)", c.size)
	}
	// A newer snapshot's answer replaces the older one's when it fits.
	a2 := &engine.VM{Meta: a.Meta}
	c.putIfRoom(a2, answerVM, make([]byte, 70))
	if _, ok := c.get(a2, answerVM); ok || c.size != 100 {
		t.Fatalf("a larger answer was kept past the limit (size %d)", c.size)
	}
	c.putIfRoom(a2, answerVM, make([]byte, 55))
	if _, ok := c.get(a2, answerVM); !ok || c.size != 95 || len(c.entries) != 2 {
		t.Fatalf("replacing a VM's answer: size %d, %d entries", c.size, len(c.entries))
	}
}

// checkRenderCache holds c to its bookkeeping: size is what the kept
// answers take, within the limit.
func checkRenderCache(t *testing.T, c *renderCache) {
	t.Helper()
	sum := 0
	for _, r := range c.entries {
		sum += len(r.body)
	}
	if c.size != sum || c.size > c.limit {
		t.Fatalf("%d answers, size %d, answers take %d, limit %d", len(c.entries), c.size, sum, c.limit)
	}
}

func TestRenderCacheKeepsItsBookkeepingUnderChurn(t *testing.T) {
	c := newRenderCache(1000)
	vms := make([]*engine.VM, 12)
	for i := range vms {
		vms[i] = &engine.VM{Meta: resource.Meta{ID: fmt.Sprintf("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm%d", i)}}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		v := vms[r.IntN(len(vms))]
		if r.IntN(4) == 0 {
			v = &engine.VM{Meta: v.Meta} // a newer snapshot of the same VM
			vms[slices.IndexFunc(vms, func(w *engine.VM) bool { return w.ID == v.ID })] = v
		}
		a := vmAnswer(r.IntN(2))
		body := make([]byte, 1+r.IntN(400))
		if r.IntN(3) == 0 {
			c.putIfRoom(v, a, body)
		} else {
			c.put(v, a, body)
			// An answer just put is kept: the room is made from the others.
			if got, ok := c.get(v, a); !ok || len(got) != len(body) {
				t.Fatalf("the answer just put is not kept (%v)", ok)
			}
		}
		checkRenderCache(t, c)
	}
}

// BenchmarkRenderCachePutFull keeps answers of a fleet larger than the
// cache: every put drops others.
func BenchmarkRenderCachePutFull(b *testing.B) {
	const fleet = 100000
	vms := make([]*engine.VM, fleet)
	for i := range vms {
		vms[i] = &engine.VM{Meta: resource.Meta{ID: fmt.Sprintf("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/seed-rg-%05d/providers/Microsoft.Compute/virtualMachines/seed-vm-%07d", i/1000, i)}}
	}
	c := newRenderCache(renderCacheLimit)
	body := make([]byte, 2300)
	for i := range fleet {
		c.put(vms[i], answerVMInstanceView, body)
	}
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		c.put(vms[r.IntN(fleet)], answerVMInstanceView, body)
	}
}

func TestRenderCacheAdmitsAShareOnceFull(t *testing.T) {
	c := newRenderCache(admitRoom + 1000)
	admitted := func() int {
		n := 0
		for range 8000 {
			if c.admits() {
				n++
			}
		}
		return n
	}
	if n := admitted(); n != 8000 {
		t.Fatalf("a cache with room admitted %d of 8,000 answers", n)
	}
	c.put(&engine.VM{Meta: resource.Meta{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a"}}, answerVM, make([]byte, 1001))
	// 1,000 expected; a fair draw stays well within 800-1,200.
	if n := admitted(); n < 800 || n > 1200 {
		t.Fatalf("a full cache admitted %d of 8,000 answers, want about %d", n, 8000/admitOneIn)
	}
}

// TestAnswersNotKeptAreTheRendering reads a fleet whose answers do not fit
// the cache, from several clients at once: an answer rendered into a
// pooled buffer and not kept, or kept, is the rendering's byte for byte,
// and no answer is written over by a later one.
func TestAnswersNotKeptAreTheRendering(t *testing.T) {
	s, h, paths := getFleet(t, 30)
	s.renders = newRenderCache(admitRoom + 8<<10)
	suffixes := map[vmAnswer]string{answerVM: "?api-version=2025-04-01", answerVMInstanceView: "?api-version=2025-04-01&$expand=instanceView",
		answerInstanceView: "/instanceView?api-version=2025-04-01"}
	want := map[string][]byte{}
	for _, p := range paths {
		vm, err := s.eng.GetVM(testFleetSub, "bench", p[strings.LastIndexByte(p, '/')+1:])
		if err != nil {
			t.Fatal(err)
		}
		for a, suffix := range suffixes {
			body, err := s.renderVMAnswer(context.Background(), vm, a, nil)
			if err != nil {
				t.Fatal(err)
			}
			want[p+suffix] = body
		}
	}
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 3))
			for range 600 {
				u := paths[r.IntN(len(paths))] + suffixes[[]vmAnswer{answerVM, answerVMInstanceView, answerInstanceView}[r.IntN(3)]]
				req := httptest.NewRequest("GET", u, nil)
				req.Header.Set("Authorization", "Bearer x")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), want[u]) {
					t.Errorf("GET %s: %d\n%s\nwant\n%s", u, rec.Code, rec.Body, want[u])
					return
				}
			}
		}()
	}
	wg.Wait()
	s.renders.mu.RLock()
	defer s.renders.mu.RUnlock()
	checkRenderCache(t, s.renders)
	if len(s.renders.entries) == 0 || len(s.renders.entries) >= len(want) {
		t.Errorf("the cache keeps %d answers of %d: the test wants it full", len(s.renders.entries), len(want))
	}
}

package armapi

import (
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

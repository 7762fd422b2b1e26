package armapi

import (
	"math/rand/v2"
	"sync"

	"github.com/azemu/azemu/internal/engine"
)

// vmAnswer is which answer of a VM a rendering is.
type vmAnswer uint8

const (
	answerVM             vmAnswer = iota // GET VM
	answerVMInstanceView                 // GET VM ?$expand=instanceView
	answerVMUserData                     // GET VM ?$expand=userData
	answerInstanceView                   // GET VM/instanceView
	answerStatusOnly                     // its item in listAll statusOnly=true, with no newline
)

// tagged reports whether a GET of answer a sends the VM's ETag, as a GET
// of the VM does and one of its instance view does not.
func (a vmAnswer) tagged() bool {
	return a == answerVM || a == answerVMInstanceView || a == answerVMUserData
}

// renderCache keeps the JSON of a VM's GET answers, rendered from one
// snapshot of it: GETs are the most frequent calls, and a VM's answer is
// the same until it changes. The engine publishes a new snapshot on every
// change, so an answer is kept with the snapshot it was rendered from and
// is used only while that snapshot is the current one: a change
// invalidates it without any bookkeeping. Answers that depend on more than
// the snapshot (a VM with extensions) are not kept.
//
// The cache holds at most limit bytes: past it, a put drops other answers
// (those of deleted VMs and superseded snapshots among them) first.
type renderCache struct {
	mu      sync.RWMutex
	entries map[renderKey]rendering
	size    int
	limit   int
}

type renderKey struct {
	id     string
	answer vmAnswer
}

type rendering struct {
	vm   *engine.VM // the snapshot it was rendered from
	body []byte
	// etag and length are the values of the answer's ETag and
	// Content-Length headers (nil when it sends none, or when a listing
	// kept it), made once rather than on every GET that reads it.
	etag, length []string
}

// renderCacheLimit bounds the cache. Rendering an answer costs a few
// microseconds (vmrender.go), so the cache need only hold the answers read
// most often: 32 MB is about 25,000 VMs' GET answers or 7,000 VMs' three
// answers, a small part of the memory a large fleet is allowed.
const renderCacheLimit = 32 << 20

func newRenderCache(limit int) *renderCache {
	return &renderCache{entries: map[renderKey]rendering{}, limit: limit}
}

// get returns the answer rendered from vm, if it is kept.
func (c *renderCache) get(vm *engine.VM, a vmAnswer) ([]byte, bool) {
	e, ok := c.getRendering(vm, a)
	return e.body, ok
}

// getRendering returns the answer rendered from vm with its headers'
// values, if it is kept.
func (c *renderCache) getRendering(vm *engine.VM, a vmAnswer) (rendering, bool) {
	c.mu.RLock()
	e, ok := c.entries[renderKey{vm.ID, a}]
	c.mu.RUnlock()
	if !ok || e.vm != vm {
		return rendering{}, false
	}
	return e, true
}

// admitRoom is how far below its limit the cache keeps every answer
// rendered; past it, admits keeps one in admitOneIn.
const (
	admitRoom  = 64 << 10
	admitOneIn = 8
)

// admits says whether an answer rendered on a miss is to be kept: always
// while the cache has room, and one in admitOneIn once it is full. A
// fleet larger than the cache misses as often either way (the answers
// kept are a sample of it), and keeping every miss dropped another
// answer each time and left the new one to the garbage collector; an
// answer not kept is rendered into a pooled buffer instead. What is read
// most still gets in, admitOneIn times more slowly.
func (c *renderCache) admits() bool {
	c.mu.RLock()
	full := c.size+admitRoom > c.limit
	c.mu.RUnlock()
	return !full || rand.Uint32N(admitOneIn) == 0
}

// put keeps body as vm's answer a, with the values of the headers a GET
// of it sends. body must not be changed afterwards.
func (c *renderCache) put(vm *engine.VM, a vmAnswer, body []byte) {
	if len(body) > c.limit {
		return
	}
	e := rendering{vm: vm, body: body, length: contentLength(body)}
	if a.tagged() {
		e.etag = []string{vm.ETag()}
	}
	k := renderKey{vm.ID, a}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[k]; ok {
		c.size -= len(old.body)
	}
	for c.size+len(body) > c.limit && len(c.entries) > 0 {
		// Any answer but k's own will do (its size is already taken
		// off): Go's map iteration starts at a random place.
		for dk, dv := range c.entries {
			if dk == k {
				continue
			}
			c.size -= len(dv.body)
			delete(c.entries, dk)
			break
		}
	}
	c.entries[k] = e
	c.size += len(body)
}

// putIfRoom keeps body as vm's answer a only if the cache has room for
// it without dropping another answer: what a listing renders, so that
// walking a fleet larger than the cache does not replace the answers GETs
// read with ones read once a walk.
func (c *renderCache) putIfRoom(vm *engine.VM, a vmAnswer, body []byte) {
	k := renderKey{vm.ID, a}
	c.mu.RLock()
	full := c.size-len(c.entries[k].body)+len(body) > c.limit
	c.mu.RUnlock()
	if full {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.entries[k]
	if c.size-len(old.body)+len(body) > c.limit {
		return
	}
	if ok {
		c.size -= len(old.body)
	}
	c.entries[k] = rendering{vm: vm, body: body}
	c.size += len(body)
}

package jsonwire

import "sync"

// Interner hands out one copy of each string the fleet repeats (a
// location, a size, an image's OS name, a state word), so that a million
// stored documents read back share their words instead of holding a copy
// each. It is bounded: past MaxInterned distinct strings, or for a string
// longer than MaxInternedLen, it copies as a plain read would. Safe for
// concurrent use.
type Interner struct {
	mu sync.Mutex
	m  map[string]string
}

// The Interner's bounds: enough for every location, size, image and
// scale set of a large fleet, small enough that names unique to a VM
// cannot make it grow without end.
const (
	MaxInterned    = 8192
	MaxInternedLen = 256
)

// NewInterner returns an empty Interner.
func NewInterner() *Interner { return &Interner{m: map[string]string{}} }

// Bytes returns b as a string, the interned copy when there is one.
func (in *Interner) Bytes(b []byte) string {
	if len(b) > MaxInternedLen {
		return string(b)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < MaxInterned {
		in.m[s] = s
	}
	return s
}

// String returns s, or the interned copy of it when there is one; like
// Bytes, it keeps s when there is room and s is short.
func (in *Interner) String(s string) string {
	if len(s) > MaxInternedLen {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if t, ok := in.m[s]; ok {
		return t
	}
	if len(in.m) < MaxInterned {
		in.m[s] = s
	}
	return s
}

// Len is how many strings the Interner holds.
func (in *Interner) Len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.m)
}

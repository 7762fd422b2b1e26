package engine

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"sync"
)

// draws is the engine's one source of randomness: fault probabilities and,
// with a seed, every ID. Seeded, a run repeats exactly; unseeded, it is
// seeded from the operating system.
type draws struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newDraws(seed uint64) *draws {
	if seed == 0 {
		var b [16]byte
		if _, err := crand.Read(b[:]); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		return &draws{r: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])))}
	}
	return &draws{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Float64 draws a number in [0, 1).
func (d *draws) Float64() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Float64()
}

// guid draws a version-4 GUID.
func (d *draws) guid() string {
	var b [16]byte
	d.mu.Lock()
	binary.LittleEndian.PutUint64(b[:8], d.r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], d.r.Uint64())
	d.mu.Unlock()
	return formatGUID(b)
}

// newGUID returns a random version-4 GUID in lower case, from the
// operating system's randomness. The engine's own IDs come from
// Config.NewID (Engine.NewID), which a seed makes repeatable.
func newGUID() string {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return formatGUID(b)
}

func formatGUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	// Every response gets one: hex by hand rather than through Sprintf.
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

package armapi

import (
	"math/rand/v2"
	"sync"
)

// requestIDs hands out the x-ms-request-id of every answer: lower-case
// version-4 GUIDs. Every request takes one, so they come from a fast
// generator rather than the operating system's: unseeded, the runtime's
// own (ChaCha8 per thread, seeded from the OS at start, no lock); seeded,
// a PCG stream of the seed apart from the engine's, so that a seeded run
// repeats its request IDs and a GET never moves the IDs the engine hands
// out to what a later change creates.
type requestIDs struct {
	mu  sync.Mutex
	pcg *rand.PCG // nil: the runtime's generator
}

// requestIDStream sets the seeded stream apart from the engine's
// (engine.newDraws uses seed^0x9e3779b97f4a7c15).
const requestIDStream = 0x5851f42d4c957f2d

func newRequestIDs(seed uint64) *requestIDs {
	if seed == 0 {
		return &requestIDs{}
	}
	return &requestIDs{pcg: rand.NewPCG(seed, seed^requestIDStream)}
}

// next draws the next request ID.
func (g *requestIDs) next() string {
	var hi, lo uint64
	if g.pcg == nil {
		hi, lo = rand.Uint64(), rand.Uint64()
	} else {
		g.mu.Lock()
		hi, lo = g.pcg.Uint64(), g.pcg.Uint64()
		g.mu.Unlock()
	}
	return guidString(hi, lo)
}

// guidString writes 128 bits as a version-4, variant-1 GUID in lower case:
// the version and variant bits are set over the drawn ones, 122 stay
// random.
func guidString(hi, lo uint64) string {
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4: the 13th hex digit
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10: the 17th digit's top bits
	var out [36]byte
	putHex(out[0:8], hi>>32)
	out[8] = '-'
	putHex(out[9:13], hi>>16)
	out[13] = '-'
	putHex(out[14:18], hi)
	out[18] = '-'
	putHex(out[19:23], lo>>48)
	out[23] = '-'
	putHex(out[24:36], lo)
	return string(out[:])
}

const hexDigits = "0123456789abcdef"

// putHex writes the low 4*len(dst) bits of v into dst as hex digits.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

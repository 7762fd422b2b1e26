package armapi

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"

	"github.com/azemu/azemu/internal/armid"
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
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi&^(0xf<<12)|0x4<<12) // version 4: the 13th hex digit
	binary.BigEndian.PutUint64(b[8:], lo&^(0x3<<62)|0x2<<62) // variant 10: the 17th digit's top bits
	return armid.GUIDText(b)
}

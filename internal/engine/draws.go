package engine

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/armid"
)

// draws is the engine's one source of randomness: fault probabilities,
// operation IDs' random bits and, with a seed, every other ID. Seeded, a
// run repeats exactly; unseeded, it is seeded from the operating system.
type draws struct {
	mu sync.Mutex
	r  *rand.Rand
	// opMS and opSeq are the millisecond and counter of the last
	// operation ID (operationID).
	opMS, opSeq uint64
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

// Operation IDs are time-ordered: the store keys its operations by ID, and
// random GUIDs land all over that index, so each commit rewrote pages
// across it; IDs that sort in the order they are made append at its end.
//
// The layout is a version-7 UUID's (RFC 9562): 48 bits of Unix
// milliseconds, then a 42-bit counter (12 bits where version 7 keeps
// random bits, then 30 after the variant), then 32 random bits. The
// counter starts at a random value below 2^41 in each new millisecond and
// counts up within one, so IDs made at one instant of a manual clock
// still sort in the order they were made. A time earlier than the last
// ID's counts on from the last (a step decided at its due time, a clock
// set back), and a counter run out borrows the next millisecond: an ID
// always sorts after every ID made before it by this engine.
const (
	opSeqBits = 42
	opMSMax   = 1<<48 - 1
)

// operationID draws the next operation ID for a change at time at.
func (d *draws) operationID(at time.Time) string {
	ms := uint64(0)
	if m := at.UnixMilli(); m > 0 {
		ms = min(uint64(m), opMSMax)
	}
	d.mu.Lock()
	switch {
	case ms > d.opMS:
		d.opMS, d.opSeq = ms, d.r.Uint64()>>(64-opSeqBits+1)
	case d.opSeq+1 < 1<<opSeqBits:
		d.opSeq++
	default:
		d.opMS, d.opSeq = d.opMS+1, d.r.Uint64()>>(64-opSeqBits+1)
	}
	ms, seq, low := d.opMS, d.opSeq, d.r.Uint32()
	d.mu.Unlock()
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], ms<<16) // the top 48 bits
	b[6] = 0x70 | byte(seq>>38)&0x0f
	b[7] = byte(seq >> 30)
	b[8] = 0x80 | byte(seq>>24)&0x3f
	b[9] = byte(seq >> 16)
	b[10] = byte(seq >> 8)
	b[11] = byte(seq)
	binary.BigEndian.PutUint32(b[12:], low)
	return armid.GUIDText(b)
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

// formatGUID writes 16 random bytes as a version-4 GUID.
func formatGUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return armid.GUIDText(b)
}

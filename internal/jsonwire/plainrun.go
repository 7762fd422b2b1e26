package jsonwire

import (
	"encoding/binary"
	"math/bits"
)

// PlainRun returns the index of the first byte of s at or after i that a
// JSON string does not hold as it is (encoding/json's form): a quote, a
// backslash, a control character, a byte past ASCII (which may need
// checking as UTF-8), and with escapeHTML '<', '>' and '&'; len(s) when
// there is none. It reads eight bytes at a time: the strings of a
// document are mostly such runs, and every render and store write asks.
func PlainRun(s string, i int, escapeHTML bool) int {
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if m := special(w, escapeHTML); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if stops(s[i], escapeHTML) {
			return i
		}
	}
	return len(s)
}

// PlainRunBytes is PlainRun of a byte slice.
func PlainRunBytes(s []byte, i int, escapeHTML bool) int {
	for ; i+8 <= len(s); i += 8 {
		if m := special(binary.LittleEndian.Uint64(s[i:i+8]), escapeHTML); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if stops(s[i], escapeHTML) {
			return i
		}
	}
	return len(s)
}

// stops reports whether PlainRun stops at c.
func stops(c byte, escapeHTML bool) bool {
	return c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || escapeHTML && (c == '<' || c == '>' || c == '&')
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special marks (in its high bit) each byte of w, eight bytes read
// little-endian, that PlainRun stops at. Only the lowest mark is exact (a
// borrow runs on above a byte marked rightly), which is the one PlainRun
// reads.
func special(w uint64, escapeHTML bool) uint64 {
	m := w | (w-0x20*ones)&^w | zeroes(w^'"'*ones) | zeroes(w^'\\'*ones)
	if escapeHTML {
		m |= zeroes(w^'<'*ones) | zeroes(w^'>'*ones) | zeroes(w^'&'*ones)
	}
	return m & highs
}

// zeroes marks the zero bytes of x (the lowest exactly), and more above
// a zero: each mark has its high bit set, and other bits too.
func zeroes(x uint64) uint64 { return (x - ones) &^ x }

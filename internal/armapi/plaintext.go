package armapi

import "encoding/binary"

// plainText reports whether b is printable ASCII (0x20 to 0x7f) without a
// backslash: then every JSON string in it is written as encodeJSON writes
// what it reads as (no escapes to check), and ends at its next quote. It
// reads eight bytes at a time, as a VM's rendering asks it of its whole
// model.
func plainText(b []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// A byte past ASCII, one under 0x20 (w-0x20 borrows into its
		// high bit) or a backslash (w^0x5c has a zero byte).
		bs := w ^ 0x5c*ones
		if (w|(w-0x20*ones)|(bs-ones)&^bs)&highs != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

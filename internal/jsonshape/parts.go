package jsonshape

import (
	"bytes"
	"errors"
	"fmt"
)

// A store keeps a Doc as two parts (Parts): its shape's text, once for
// every Doc of the shape, and the Doc's own part. ParseShape and
// Shape.Doc make the Doc again from them, without the document's bytes
// and without splitting it anew; they check what they read, so that a
// corrupt or truncated part is an error.

// Parts is d as a store keeps it. For a shaped Doc, shape is its shape's
// text (the document that made the shape, its defaults in place; every
// Doc of the shape gives the same text) and own its own part, ok true.
// For a Doc kept whole, own is its bytes and ok false; for a nil Doc both
// are empty and ok false. The strings are d's own: nothing is copied.
func (d Doc) Parts() (shape, own string, ok bool) {
	switch d.shape {
	case nil:
		return "", "", false
	case whole:
		return "", d.own, false
	}
	return d.shape.full, d.own, true
}

// Shape is a shape read back from its text, to make the Docs of the own
// parts kept with it.
type Shape struct {
	// read is the shape the text describes, whose defaults the own parts
	// were written against.
	read *shape
	// held is the table's shape of the same skeleton: read itself, or one
	// made first by another document, with other defaults; nil when the
	// table is full.
	held *shape
}

// ErrCorrupt is wrapped by the errors of ParseShape and Shape.Doc: what
// they were given was not written by Parts.
var ErrCorrupt = errors.New("jsonshape: not a shape or own part Parts wrote")

// ParseShape reads a shape's text (Parts). It fails when the text cannot
// be one: it holds the slot mark, or a string left open.
func ParseShape(text string) (Shape, error) {
	b := []byte(text)
	if bytes.IndexByte(b, slotMark) >= 0 {
		return Shape{}, fmt.Errorf("%w: the shape holds a NUL byte", ErrCorrupt)
	}
	skeleton, values, ok := split(b, nil, nil)
	if !ok {
		return Shape{}, fmt.Errorf("%w: the shape leaves a string open", ErrCorrupt)
	}
	held := intern(skeleton, values)
	if held != nil && held.full == text {
		return Shape{read: held, held: held}, nil
	}
	return Shape{read: newShape(skeleton, values), held: held}, nil
}

// Slots is how many string values the shape has.
func (s Shape) Slots() int { return len(s.read.slots) }

// Doc is the document of own, the own part (Parts) of a Doc of s. It
// fails when own is not one: truncated, or naming slots, strings or
// lengths s does not have, or making a value that would not read back as
// the string it stands for. It keeps own.
func (s Shape) Doc(own string) (Doc, error) {
	if s.read == nil {
		return Doc{}, fmt.Errorf("%w: no shape", ErrCorrupt)
	}
	if err := s.read.check(own); err != nil {
		return Doc{}, err
	}
	d := Doc{shape: s.read, own: own}
	if s.held != s.read {
		// Written against other defaults than the table's shape has (or
		// the table is full): the Doc is made as Of makes it, so that it
		// compares Equal with the same document made there.
		return Of(d.Bytes()), nil
	}
	return d, nil
}

// check reads own as AppendTo would, and fails where AppendTo would read
// past what own and sh hold, or where a value would hold a NUL, an
// unescaped quote, or end in an escaping backslash.
func (sh *shape) check(own string) error {
	// The values of the entries, one after the other, and where the last
	// ones lie in it, the latest first.
	var room [512]byte
	values := room[:0]
	var recent [maxBack][2]int
	slot, entries := -1, 0
	for own != "" {
		var f [5]uint64 // gap, bases, prefix, suffix, length
		for i := range f {
			var ok bool
			if f[i], own, ok = readUvarint(own); !ok {
				return fmt.Errorf("%w: an entry of the own part is cut short", ErrCorrupt)
			}
		}
		gap, bases, pre, suf, n := f[0], f[1], f[2], f[3], f[4]
		if gap >= uint64(len(sh.slots)-slot-1) {
			return fmt.Errorf("%w: the own part names a slot past the shape's %d", ErrCorrupt, len(sh.slots))
		}
		slot += 1 + int(gap)
		sp := sh.slots[slot]
		written := uint64(min(entries, maxBack))
		preBase, sufBase := bases&0xf, bases>>4
		if preBase > written || sufBase > written {
			return fmt.Errorf("%w: the own part takes from a string it has not written", ErrCorrupt)
		}
		// Each base as a span of sh.full (0) or of values.
		base := func(b uint64) (start, end int, inValues bool) {
			if b == 0 {
				return sp.start, sp.end, false
			}
			return recent[b-1][0], recent[b-1][1], true
		}
		ps, pe, pv := base(preBase)
		ss, se, sv := base(sufBase)
		if pre > uint64(pe-ps) || suf > uint64(se-ss) || n > uint64(len(own)) {
			return fmt.Errorf("%w: the own part takes more bytes than there are", ErrCorrupt)
		}
		if uint64(len(values))+pre+n+suf > maxShaped {
			return fmt.Errorf("%w: the own part makes a document longer than any split", ErrCorrupt)
		}
		start := len(values)
		if pv {
			values = append(values, values[ps:ps+int(pre)]...)
		} else {
			values = append(values, sh.full[ps:ps+int(pre)]...)
		}
		values = append(values, own[:n]...)
		own = own[n:]
		if sv {
			values = append(values, values[se-int(suf):se]...)
		} else {
			values = append(values, sh.full[se-int(suf):se]...)
		}
		if !stringContents(values[start:]) {
			return fmt.Errorf("%w: the own part makes a value that is not a string's", ErrCorrupt)
		}
		copy(recent[1:], recent[:maxBack-1])
		recent[0] = [2]int{start, len(values)}
		entries++
	}
	return nil
}

// stringContents reports whether v can stand between a string's quotes
// as split found it: no NUL, no unescaped quote, and no backslash left to
// escape the closing one.
func stringContents(v []byte) bool {
	if bytes.IndexByte(v, slotMark) >= 0 {
		return false
	}
	backslashes := 0
	for _, c := range v {
		switch c {
		case '\\':
			backslashes++
			continue
		case '"':
			if backslashes%2 == 0 {
				return false
			}
		}
		backslashes = 0
	}
	return backslashes%2 == 0
}

// readUvarint reads an unsigned varint as appendOwn writes it; ok is false
// when s ends inside it or it overflows 64 bits.
func readUvarint(s string) (x uint64, rest string, ok bool) {
	var shift uint
	for i := 0; i < len(s) && i < 10; i++ {
		c := s[i]
		if c < 0x80 {
			if i == 9 && c > 1 {
				return 0, "", false
			}
			return x | uint64(c)<<shift, s[i+1:], true
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, "", false
}

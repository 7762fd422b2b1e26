// Package jsonshape keeps JSON documents that share a shape in little
// memory. A fleet made by one template, CLI command or Terraform module
// writes models that differ only in a few strings (names, computer names,
// disk names with their GUIDs): everything else, keys, numbers, layout and
// most string values, repeats from one document to the next.
//
// A Doc is a document split in two. Its shape, shared by every document
// with the same skeleton and kept once, is the document with each string
// value's contents (not an object's keys) replaced by a slot mark, a byte
// that JSON text never holds raw, together with each slot's value in the
// document that first made the shape (its defaults). The Doc's own part
// holds only the slots whose values differ from the defaults, each written
// as a prefix of one earlier string, new bytes and a suffix of another, so
// that "seed-vm-0000042-nic" beside a default of "seed-vm-0000000-nic"
// costs two bytes and a few lengths.
//
// Any bytes round-trip exactly: a document the scan cannot split (one
// holding the slot mark, or a string left open) is kept as it is. Shapes
// are interned in a table bounded in size; a shape that no Doc holds any
// more is collected, and leaves the table.
//
// A store keeps a Doc as its two parts (parts.go): the shape's text once,
// and each Doc's own part, from which the Doc is made again without
// splitting it anew.
package jsonshape

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"
)

// slotMark stands for a string value's contents in a skeleton: JSON text
// never holds a raw NUL, so a document holding one is kept whole.
const slotMark = 0

// Doc is one JSON document, immutable. The zero Doc is a nil document.
type Doc struct {
	// shape is nil for a nil document, whole for a document kept as it
	// is (in own), or the document's shape.
	shape *shape
	// own is the document's bytes (whole), or its slots that differ from
	// the shape's defaults (see appendOwn).
	own string
}

// shape is a skeleton shared by documents, with each slot's default.
type shape struct {
	skeleton string // the table's key
	// full is the document of the defaults: the skeleton with each slot's
	// default in place, so that a document is written as runs of it
	// between the slots it changes.
	full  string
	slots []span // where each slot's default lies in full
}

type span struct{ start, end int }

// def is slot i's default.
func (sh *shape) def(i int) string { return sh.full[sh.slots[i].start:sh.slots[i].end] }

// maxShaped is the longest document split; a longer one is kept whole. It
// bounds what an own part read back may make (Shape.Doc): each value may
// copy earlier ones, so a few bytes of a corrupt part could otherwise
// make a document of any length.
const maxShaped = 1 << 24

// whole marks a Doc kept as its bytes.
var whole = &shape{}

// maxShapes bounds the shapes kept at once. A shape costs what a document
// does, so a fleet whose every document has a skeleton of its own costs
// about what it would kept whole; past the bound, documents are kept whole.
// (A variable, for tests.)
var maxShapes = 1 << 16

// table interns shapes by skeleton. It holds them weakly: a shape leaves
// once no Doc holds it.
var table = struct {
	sync.Mutex
	shapes map[string]weak.Pointer[shape]
}{shapes: map[string]weak.Pointer[shape]{}}

// scratch is the room a document is split in.
type scratch struct {
	skeleton []byte
	values   [][]byte
	own      []byte
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

func (s *scratch) release() {
	clear(s.values[:cap(s.values)]) // keep no reference to the document
	scratches.Put(s)
}

// Of is the document b (nil when b is nil). It keeps no reference to b.
func Of(b []byte) Doc {
	if b == nil {
		return Doc{}
	}
	if len(b) > maxShaped || bytes.IndexByte(b, slotMark) >= 0 {
		return Doc{shape: whole, own: string(b)}
	}
	s := scratches.Get().(*scratch)
	defer s.release()
	sh := matchRecent(b, s)
	if sh == nil {
		var ok bool
		s.skeleton, s.values, ok = split(b, s.skeleton[:0], s.values[:0])
		if !ok {
			return Doc{shape: whole, own: string(b)}
		}
		if sh = intern(s.skeleton, s.values); sh == nil {
			return Doc{shape: whole, own: string(b)}
		}
		remember(sh)
	}
	s.own = appendOwn(s.own[:0], sh, s.values)
	if len(s.own) == 0 {
		return Doc{shape: sh}
	}
	return Doc{shape: sh, own: string(s.own)}
}

// recent are the shapes of the last documents split: the next document of
// a fleet most often has one of them, and is matched against it, which
// costs less than splitting it and finding its skeleton in the table.
// Each is the table's shape of its skeleton, as it holds it.
var recent [4]atomic.Pointer[shape]

// remember makes sh the first of recent.
func remember(sh *shape) {
	for i := len(recent) - 1; i > 0; i-- {
		recent[i].Store(recent[i-1].Load())
	}
	recent[0].Store(sh)
}

// matchRecent is the shape of recent that b has, with b's values in
// s.values; nil when it has none of them.
func matchRecent(b []byte, s *scratch) *shape {
	for i := range recent {
		if sh := recent[i].Load(); sh != nil {
			var ok bool
			if s.values, ok = match(b, sh, s.values[:0]); ok {
				return sh
			}
		}
	}
	return nil
}

// match appends b's string values to values when b, which holds no slot
// mark, has sh's skeleton: when its runs between sh's slots are those of
// sh, and each slot holds a string. split would give b that skeleton then,
// as its scan reads the same bytes but inside the string values, and each
// of those ends where the slot does.
func match(b []byte, sh *shape, values [][]byte) ([][]byte, bool) {
	pos, i := 0, 0 // in sh.full, in b
	for _, sp := range sh.slots {
		run := sh.full[pos:sp.start] // up to the slot's opening quote
		if len(b)-i < len(run) || string(b[i:i+len(run)]) != run {
			return values, false
		}
		i += len(run)
		end := stringEnd(b, i)
		if end < 0 {
			return values, false
		}
		values = append(values, b[i:end])
		i, pos = end, sp.end
	}
	return values, string(b[i:]) == sh.full[pos:]
}

// split writes b's skeleton to skeleton and appends its string values (in
// b) to values; false when b, which holds no slot mark, cannot be split: a
// string is left open.
func split(b []byte, skeleton []byte, values [][]byte) ([]byte, [][]byte, bool) {
	// The runs between strings are short: a loop over their bytes costs
	// less than a call to find each quote.
	done := 0 // b[:done] is in skeleton or values
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		end := stringEnd(b, i+1)
		if end < 0 {
			return nil, nil, false
		}
		// A string followed by a colon is a key: it stays in the skeleton.
		if !isKey(b[end+1:]) {
			skeleton = append(append(skeleton, b[done:i+1]...), slotMark)
			values = append(values, b[i+1:end])
			done = end
		}
		i = end
	}
	return append(skeleton, b[done:]...), values, true
}

// stringEnd is the index of the quote that closes the string whose
// contents begin at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		q += i
		// The quote is escaped when an odd number of backslashes
		// precede it.
		n := 0
		for j := q - 1; j >= i && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		i = q + 1
	}
}

// isKey reports whether what follows a string starts with a colon.
func isKey(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

// intern is the shape of skeleton, made with values as its defaults when
// there is none; nil when the table is full.
func intern(skeleton []byte, values [][]byte) *shape {
	table.Lock()
	defer table.Unlock()
	if sh := table.shapes[string(skeleton)].Value(); sh != nil {
		return sh
	}
	if len(table.shapes) >= maxShapes {
		return nil
	}
	sh := newShape(skeleton, values)
	table.shapes[sh.skeleton] = weak.Make(sh)
	runtime.AddCleanup(sh, forget, sh.skeleton)
	return sh
}

// newShape is the shape of skeleton with values as its defaults, outside
// the table.
func newShape(skeleton []byte, values [][]byte) *shape {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	// The full document is one allocation, and the defaults parts of it.
	sh := &shape{skeleton: string(skeleton), slots: make([]span, len(values))}
	full := make([]byte, 0, len(skeleton)-len(values)+n)
	rest := skeleton
	for i, v := range values {
		j := bytes.IndexByte(rest, slotMark)
		full = append(full, rest[:j]...)
		sh.slots[i] = span{len(full), len(full) + len(v)}
		full = append(full, v...)
		rest = rest[j+1:]
	}
	sh.full = string(append(full, rest...))
	return sh
}

// forget drops a collected shape's entry, unless a new shape of the same
// skeleton has taken its place.
func forget(skeleton string) {
	table.Lock()
	defer table.Unlock()
	if table.shapes[skeleton].Value() == nil {
		delete(table.shapes, skeleton)
	}
}

// Shapes is how many shapes the table holds (some may be waiting to be
// collected): for tests and measurements.
func Shapes() int {
	table.Lock()
	defer table.Unlock()
	return len(table.shapes)
}

// The own part of a shaped Doc is a sequence of entries, one for each slot
// whose value differs from its default, in slot order. An entry is five
// unsigned varints and some bytes:
//
//   - gap: the number of slots since the previous entry's (or since the
//     first slot) that take their defaults;
//   - bases: which strings the value's prefix and suffix are taken from,
//     the prefix's in the low four bits, the suffix's above: 0 is the
//     slot's default, n the value of the entry n before this one;
//   - prefix and suffix: how many bytes are taken from each;
//   - the length of the bytes between them, and those bytes.
//
// The bases are the slot's default and the values of the last few
// entries: a disk's name is the end of its ID, written a slot before.
const maxBack = 7

func appendOwn(own []byte, sh *shape, values [][]byte) []byte {
	var recent [maxBack][]byte // the values of the last entries, the latest first
	entries, last := 0, -1
	for i, v := range values {
		def := sh.def(i)
		if string(v) == def {
			continue
		}
		bases := min(entries, maxBack)
		// The longest prefix, then the longest suffix of what is left.
		pre, preBase := commonPrefix(v, def), 0
		for k := range bases {
			if n := commonPrefix(v, recent[k]); n > pre {
				pre, preBase = n, k+1
			}
		}
		rest := v[pre:]
		suf, sufBase := commonSuffix(rest, def), 0
		for k := range bases {
			if n := commonSuffix(rest, recent[k]); n > suf {
				suf, sufBase = n, k+1
			}
		}
		mid := rest[:len(rest)-suf]
		own = binary.AppendUvarint(own, uint64(i-last-1))
		own = binary.AppendUvarint(own, uint64(preBase|sufBase<<4))
		own = binary.AppendUvarint(own, uint64(pre))
		own = binary.AppendUvarint(own, uint64(suf))
		own = binary.AppendUvarint(own, uint64(len(mid)))
		own = append(own, mid...)
		copy(recent[1:], recent[:maxBack-1])
		recent[0] = v
		entries++
		last = i
	}
	return own
}

func commonPrefix[T string | []byte](a []byte, b T) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func commonSuffix[T string | []byte](a []byte, b T) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[len(a)-1-i] != b[len(b)-1-i] {
			return i
		}
	}
	return n
}

// IsNil reports whether d is a nil document.
func (d Doc) IsNil() bool { return d.shape == nil }

// AppendTo appends d's bytes to dst.
func (d Doc) AppendTo(dst []byte) []byte {
	switch d.shape {
	case nil:
		return dst
	case whole:
		return append(dst, d.own...)
	}
	sh, own := d.shape, d.own
	// Where the last entries' values were written in dst, the latest
	// first.
	var recent [maxBack][2]int
	pos, slot := 0, -1 // what of sh.full is written; the last entry's slot
	for own != "" {
		var gap, bases, pre, suf, n uint64
		gap, own = uvarint(own)
		bases, own = uvarint(own)
		pre, own = uvarint(own)
		suf, own = uvarint(own)
		n, own = uvarint(own)
		slot += 1 + int(gap)
		sp := sh.slots[slot]
		dst = append(dst, sh.full[pos:sp.start]...)
		start := len(dst)
		if b := bases & 0xf; b == 0 {
			dst = append(dst, sh.full[sp.start:sp.start+int(pre)]...)
		} else {
			at := recent[b-1][0]
			dst = append(dst, dst[at:at+int(pre)]...)
		}
		dst = append(dst, own[:n]...)
		own = own[n:]
		if b := bases >> 4; b == 0 {
			dst = append(dst, sh.full[sp.end-int(suf):sp.end]...)
		} else {
			end := recent[b-1][1]
			dst = append(dst, dst[end-int(suf):end]...)
		}
		copy(recent[1:], recent[:maxBack-1])
		recent[0] = [2]int{start, len(dst)}
		pos = sp.end
	}
	return append(dst, sh.full[pos:]...)
}

func uvarint(s string) (uint64, string) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<shift, s[i+1:]
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return x, ""
}

// Bytes is d's bytes, in a new slice (nil for a nil document).
func (d Doc) Bytes() []byte {
	if d.shape == nil {
		return nil
	}
	return d.AppendTo(make([]byte, 0, d.Len()))
}

// Len is the length of d's bytes.
func (d Doc) Len() int {
	switch d.shape {
	case nil:
		return 0
	case whole:
		return len(d.own)
	}
	// The document of the defaults, and what the entries change of it.
	n := len(d.shape.full)
	own, slot := d.own, -1
	for own != "" {
		var gap, pre, suf, mid uint64
		gap, own = uvarint(own)
		_, own = uvarint(own)
		pre, own = uvarint(own)
		suf, own = uvarint(own)
		mid, own = uvarint(own)
		own = own[mid:]
		slot += 1 + int(gap)
		sp := d.shape.slots[slot]
		n += int(pre+mid+suf) - (sp.end - sp.start)
	}
	return n
}

// Own is how many bytes d keeps of its own, beside its shared shape: what
// a fleet's documents cost, for measurements.
func (d Doc) Own() int { return len(d.own) }

// Equal reports whether d and e hold the same bytes.
func (d Doc) Equal(e Doc) bool {
	if d.shape == e.shape && d.own == e.own {
		return true
	}
	// A skeleton has one shape at a time while a Doc holds it, and a
	// shape writes a document's own part one way: two shaped documents
	// of different shapes or own parts differ.
	if d.shape != whole && e.shape != whole {
		return false
	}
	if d.IsNil() || e.IsNil() {
		return false
	}
	return d.Len() == e.Len() && bytes.Equal(d.Bytes(), e.Bytes())
}

// String is d's bytes as a string.
func (d Doc) String() string { return string(d.AppendTo(nil)) }

// MarshalJSON writes d as json.RawMessage does: its bytes, or null.
func (d Doc) MarshalJSON() ([]byte, error) {
	if d.IsNil() {
		return []byte("null"), nil
	}
	return d.Bytes(), nil
}

// UnmarshalJSON keeps data, as json.RawMessage does, but for a JSON null,
// which is a nil document: what MarshalJSON writes for one.
func (d *Doc) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*d = Doc{}
		return nil
	}
	*d = Of(data)
	return nil
}

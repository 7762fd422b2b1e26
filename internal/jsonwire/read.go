package jsonwire

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Decoder reads one document in the canonical shape a Writer writes: no
// whitespace, the members of each object in the order its reader asks for
// them (any may be missing), no nulls. It never guesses: on anything else
// (an unknown or repeated member, another order, whitespace, null, a
// number or escape it does not read as encoding/json would, invalid UTF-8)
// it stops, and OK reports false, so that its caller reads the document
// with encoding/json instead. A value it does read is the one json.Unmarshal
// gives for the same bytes.
type Decoder struct {
	data   []byte
	pos    int
	failed bool
	intern *Interner
}

// NewDecoder reads data, interning the strings its reader asks to intern
// in in (nil: none).
func NewDecoder(data []byte, in *Interner) *Decoder {
	return &Decoder{data: data, intern: in}
}

// OK reports whether the whole document was read in the canonical shape.
func (d *Decoder) OK() bool { return !d.failed && d.pos == len(d.data) }

// Failed reports whether the decoder has given up.
func (d *Decoder) Failed() bool { return d.failed }

// fail gives up; every later read returns a zero value.
func (d *Decoder) fail() { d.failed = true }

func (d *Decoder) peek() byte {
	if d.failed || d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

func (d *Decoder) expect(c byte) bool {
	if d.peek() != c {
		d.fail()
		return false
	}
	d.pos++
	return true
}

// Open reads the '{' that starts an object.
func (d *Decoder) Open() *Decoder {
	d.expect('{')
	return d
}

// Close reads the '}' that ends an object: any member not asked for makes
// the decoder give up.
func (d *Decoder) Close() { d.expect('}') }

// Member reads the name of the member called name when that member comes
// next in the object, and reports whether it did; it reads nothing when
// another member or the object's end comes next.
func (d *Decoder) Member(name string) bool {
	if d.failed || d.pos == 0 {
		return false
	}
	at := d.pos
	if d.data[at-1] != '{' {
		if at >= len(d.data) || d.data[at] != ',' {
			return false
		}
		at++
	}
	end := at + len(name) + 3
	if end > len(d.data) || d.data[at] != '"' || string(d.data[at+1:end-2]) != name || d.data[end-2] != '"' || d.data[end-1] != ':' {
		return false
	}
	d.pos = end
	return true
}

// array reads the '[' that starts an array; a false return (no array
// there) makes the decoder give up.
func (d *Decoder) array() bool { return d.expect('[') }

// more reads what separates one element of an array from the next and
// reports whether another follows; false at the array's end (read) or when
// the decoder has given up.
func (d *Decoder) more() bool {
	switch d.peek() {
	case ']':
		d.pos++
		return false
	case ',':
		if d.data[d.pos-1] == '[' {
			d.fail()
			return false
		}
		d.pos++
		return true
	case 0:
		d.fail()
		return false
	}
	if d.data[d.pos-1] != '[' {
		d.fail()
		return false
	}
	return true
}

// null reads a null when one comes next, and reports whether it did: a
// Writer writes null for a nil slice, which json.Unmarshal reads as nil.
func (d *Decoder) null() bool {
	if d.failed || len(d.data)-d.pos < 4 || string(d.data[d.pos:d.pos+4]) != "null" {
		return false
	}
	d.pos += 4
	return true
}

// readBool reads true or false.
func (d *Decoder) readBool() bool {
	rest := d.data[min(d.pos, len(d.data)):]
	switch {
	case d.failed:
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.pos += 4
		return true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.pos += 5
		return false
	default:
		d.fail()
	}
	return false
}

// number reads a number's literal as JSON's grammar has it, and reports
// whether it is an integer (no fraction, no exponent).
func (d *Decoder) number() (lit []byte, integer bool) {
	if d.failed {
		return nil, false
	}
	start, i, data := d.pos, d.pos, d.data
	digits := func() int {
		n := 0
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case digits() == 0:
		d.fail()
		return nil, false
	}
	integer = true
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			d.fail()
			return nil, false
		}
		integer = false
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.fail()
			return nil, false
		}
		integer = false
	}
	d.pos = i
	return data[start:i], integer
}

// readInt reads an integer that fits an int64 (encoding/json refuses a
// fraction or an exponent for an integer field).
func (d *Decoder) readInt() int64 {
	lit, integer := d.number()
	if d.failed {
		return 0
	}
	if !integer {
		d.fail() // json refuses it
		return 0
	}
	if len(lit) > 18 {
		n, err := strconv.ParseInt(string(lit), 10, 64)
		if err != nil {
			d.fail()
		}
		return n
	}
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	var n int64
	for _, c := range lit {
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// readFloat reads a float64 as encoding/json does (strconv.ParseFloat of the
// literal).
func (d *Decoder) readFloat() float64 {
	lit, integer := d.number()
	if d.failed {
		return 0
	}
	if integer && lit[0] != '-' && len(lit) <= 15 {
		var n int64
		for _, c := range lit {
			n = n*10 + int64(c-'0')
		}
		return float64(n) // exact below 2^53
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		d.fail()
		return 0
	}
	return f
}

func (d *Decoder) readString() string { return d.str(nil) }

func (d *Decoder) readWord() string { return d.str(d.intern) }

func (d *Decoder) str(in *Interner) string {
	if d.peek() != '"' {
		d.fail()
		return ""
	}
	// The plain run first, eight bytes at a time: most of a document's
	// bytes are in its strings (IDs, names), and a start reads a
	// million documents.
	i := PlainRunBytes(d.data, d.pos+1, false)
	switch {
	case i == len(d.data):
		d.fail()
		return ""
	case d.data[i] == '"':
		raw := d.data[d.pos+1 : i]
		d.pos = i + 1
		if in != nil {
			return in.Bytes(raw)
		}
		return string(raw)
	}
	return d.escaped(in)
}

// escaped reads a string with escapes or non-ASCII text, as
// encoding/json unquotes it; invalid UTF-8 (which json replaces) makes the
// decoder give up.
func (d *Decoder) escaped(in *Interner) string {
	var out []byte
	i := d.pos + 1
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			if in != nil {
				return in.Bytes(out)
			}
			return string(out)
		case c < ' ':
			d.fail()
			return ""
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				d.fail()
				return ""
			}
			out = append(out, d.data[i:i+size]...)
			i += size
			continue
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(d.data) {
			break
		}
		switch e := d.data[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(d.data[i:])
			if r < 0 {
				d.fail()
				return ""
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A pair when a low surrogate follows; U+FFFD otherwise,
				// leaving what follows to be read on its own.
				if dec := utf16.DecodeRune(r, hex4(d.data[i:])); dec != utf8.RuneError {
					out = utf8.AppendRune(out, dec)
					i += 6
					continue
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			d.fail()
			return ""
		}
		i += 2
	}
	d.fail()
	return ""
}

// hex4 is the code unit of a \uXXXX escape at the start of s; -1 when
// there is none.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// readTime reads a time as time.Time's UnmarshalJSON does: the string's bytes,
// unescaped, in RFC 3339.
func (d *Decoder) readTime() time.Time {
	if d.peek() != '"' {
		d.fail()
		return time.Time{}
	}
	for i := d.pos + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			var t time.Time
			if len(d.data[d.pos+1:i]) == len("2006-01-02T15:04:05Z") {
				if t, ok := utcSeconds(d.data[d.pos+1 : i]); ok {
					d.pos = i + 1
					return t
				}
			}
			if err := t.UnmarshalText(d.data[d.pos+1 : i]); err != nil {
				d.fail()
				return time.Time{}
			}
			d.pos = i + 1
			return t
		case c == '\\' || c < ' ':
			d.fail() // json hands the escaped bytes to time, which refuses them
			return time.Time{}
		}
	}
	d.fail()
	return time.Time{}
}

// utcSeconds reads the commonest stored time, whole seconds in UTC
// (2006-01-02T15:04:05Z), faster than time's general parser; ok is false
// for anything else, or a date or time out of range.
func utcSeconds(s []byte) (time.Time, bool) {
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(b []byte) int {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(s[0:4]), num(s[5:7]), num(s[8:10])
	hour, minute, second := num(s[11:13]), num(s[14:16]), num(s[17:19])
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || second < 0 || second > 59 {
		return time.Time{}, false
	}
	if day > 28 && day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// readRawMessage reads any JSON value as it stands, as encoding/json fills a
// json.RawMessage: a copy of its bytes (null too).
func (d *Decoder) readRawMessage() json.RawMessage {
	if d.failed {
		return nil
	}
	end := valueEnd(d.data, d.pos)
	if end < 0 || !json.Valid(d.data[d.pos:end]) {
		d.fail()
		return nil
	}
	m := json.RawMessage(append([]byte(nil), d.data[d.pos:end]...))
	d.pos = end
	return m
}

// valueEnd finds where the JSON value starting at data[i] ends, without
// checking it (json.Valid does); -1 when it does not start there.
func valueEnd(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case ' ', '\t', '\n', '\r', ',', ':', '}', ']':
		return -1
	case '"':
		for j := i + 1; j < len(data); j++ {
			switch data[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end := valueEnd(data, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// member reads the member called name into dst by read, when it comes
// next.
func member[T any](d *Decoder, name string, dst *T, read func(*Decoder) T) *Decoder {
	if d.Member(name) {
		*dst = read(d)
	}
	return d
}

// Str reads a string member, when it comes next.
func (d *Decoder) Str(name string, dst *string) *Decoder {
	return member(d, name, dst, (*Decoder).readString)
}

// Word reads a string member the fleet repeats (a location, a size, a
// state word), when it comes next: the decoder's interner gives back one
// copy for all.
func (d *Decoder) Word(name string, dst *string) *Decoder {
	return member(d, name, dst, (*Decoder).readWord)
}

// Int reads an integer member, when it comes next.
func (d *Decoder) Int(name string, dst *int) *Decoder {
	return member(d, name, dst, func(d *Decoder) int { return int(d.readInt()) })
}

// Int64 reads a 64-bit integer member, when it comes next.
func (d *Decoder) Int64(name string, dst *int64) *Decoder {
	return member(d, name, dst, (*Decoder).readInt)
}

// Bool reads a boolean member, when it comes next.
func (d *Decoder) Bool(name string, dst *bool) *Decoder {
	return member(d, name, dst, (*Decoder).readBool)
}

// Float reads a float64 member, when it comes next.
func (d *Decoder) Float(name string, dst *float64) *Decoder {
	return member(d, name, dst, (*Decoder).readFloat)
}

// Time reads a time member, when it comes next.
func (d *Decoder) Time(name string, dst *time.Time) *Decoder {
	return member(d, name, dst, (*Decoder).readTime)
}

// RawMessage reads a json.RawMessage member, when it comes next.
func (d *Decoder) RawMessage(name string, dst *json.RawMessage) *Decoder {
	return member(d, name, dst, (*Decoder).readRawMessage)
}

// Strings reads an array of strings, when it comes next.
func (d *Decoder) Strings(name string, dst *[]string) *Decoder {
	return d.strings(name, dst, nil)
}

// Words reads an array of strings the fleet repeats, when it comes next.
func (d *Decoder) Words(name string, dst *[]string) *Decoder {
	return d.strings(name, dst, d.intern)
}

func (d *Decoder) strings(name string, dst *[]string, in *Interner) *Decoder {
	if d.Member(name) && d.array() {
		*dst = []string{}
		for d.more() {
			*dst = append(*dst, d.str(in))
		}
	}
	return d
}

// ReadArray reads an array member, when it comes next, each element by
// read; null reads as nil, as json.Unmarshal reads it into a slice.
func ReadArray[T any](d *Decoder, name string, dst *[]T, read func(*T, *Decoder)) {
	if !d.Member(name) || d.null() || !d.array() {
		return
	}
	// Room for one: most arrays of a VM's document (its disks, its
	// interfaces) hold one element.
	*dst = make([]T, 0, 1)
	for d.more() {
		*dst = append(*dst, *new(T))
		read(&(*dst)[len(*dst)-1], d)
	}
}

// ReadPointer reads an object member into a new T, when it comes next.
func ReadPointer[T any](d *Decoder, name string, dst **T, read func(*T, *Decoder)) {
	if d.Member(name) {
		*dst = new(T)
		read(*dst, d)
	}
}

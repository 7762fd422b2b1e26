// Package jsonwire writes and reads stored JSON documents by hand, without
// reflection, in exactly encoding/json's form: a Writer's output is
// byte-for-byte what json.Marshal writes for the same value (HTML-safe
// string escaping, invalid UTF-8 as \ufffd, times in RFC 3339 with
// nanoseconds, floats as ES6 numbers, raw messages compacted), and a
// Decoder reads documents in that canonical shape (the members in order,
// no whitespace) and gives up, rather than guess, on anything else, so
// that its caller falls back to encoding/json for the rest.
//
// The types of a stored document write and read themselves with it in the
// package that owns them; each keeps a test and a fuzz target that compare
// it with encoding/json. It does no I/O.
package jsonwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Writer appends one JSON document to a buffer. Its first error (a time
// outside RFC 3339's years, a float json cannot write, an invalid raw
// message: json.Marshal's errors for the same values) sticks and is
// returned by Bytes.
type Writer struct {
	buf []byte
	err error
}

// NewWriter returns a Writer appending to buf.
func NewWriter(buf []byte) *Writer { return &Writer{buf: buf} }

// Bytes returns the document written, or the first error.
func (w *Writer) Bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	return w.buf, nil
}

// Open starts an object (or writes '{' where a member's value starts).
func (w *Writer) Open() *Writer {
	w.buf = append(w.buf, '{')
	return w
}

// Close ends an object.
func (w *Writer) Close() { w.buf = append(w.buf, '}') }

// Member starts the member name of the object being written, for a value
// its caller writes next (an object: Open ... Close). Names are the
// field's JSON names, which need no escaping.
func (w *Writer) Member(name string) *Writer {
	if n := len(w.buf); n > 0 && w.buf[n-1] != '{' && w.buf[n-1] != '[' {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, '"')
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '"', ':')
	return w
}

// Str writes a string member.
func (w *Writer) Str(name, v string) *Writer {
	w.Member(name)
	w.buf = AppendString(w.buf, v, true)
	return w
}

// OmitEmpty writes a string member unless it is empty (omitempty).
func (w *Writer) OmitEmpty(name, v string) *Writer {
	if v == "" {
		return w
	}
	return w.Str(name, v)
}

// Int writes an integer member.
func (w *Writer) Int(name string, v int64) *Writer {
	w.Member(name)
	w.buf = strconv.AppendInt(w.buf, v, 10)
	return w
}

// OmitZero writes an integer member unless it is 0 (omitempty).
func (w *Writer) OmitZero(name string, v int64) *Writer {
	if v == 0 {
		return w
	}
	return w.Int(name, v)
}

// Bool writes a boolean member.
func (w *Writer) Bool(name string, v bool) *Writer {
	w.Member(name)
	w.buf = strconv.AppendBool(w.buf, v)
	return w
}

// Flag writes a boolean member when it is true (omitempty).
func (w *Writer) Flag(name string, v bool) *Writer {
	if !v {
		return w
	}
	return w.Bool(name, v)
}

// Float writes a float64 member as encoding/json does.
func (w *Writer) Float(name string, f float64) *Writer {
	b, err := AppendFloat(w.Member(name).buf, f)
	w.buf = b
	w.fail(err)
	return w
}

// Time writes a time member as time.Time's MarshalJSON does.
func (w *Writer) Time(name string, t time.Time) *Writer {
	b, err := AppendTime(w.Member(name).buf, t)
	w.buf = b
	w.fail(err)
	return w
}

// OmitZeroTime writes a time member unless it is the zero time
// (omitzero).
func (w *Writer) OmitZeroTime(name string, t time.Time) *Writer {
	if t.IsZero() {
		return w
	}
	return w.Time(name, t)
}

// RawMessage writes a json.RawMessage member, compacted as encoding/json
// writes it, unless it is empty (omitempty).
func (w *Writer) RawMessage(name string, m json.RawMessage) *Writer {
	if len(m) == 0 {
		return w
	}
	b, err := AppendRawMessage(w.Member(name).buf, m)
	w.buf = b
	w.fail(err)
	return w
}

// Strings writes an array of strings unless it is empty (omitempty).
func (w *Writer) Strings(name string, s []string) *Writer {
	if len(s) == 0 {
		return w
	}
	w.Member(name)
	w.buf = append(w.buf, '[')
	for i, v := range s {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = AppendString(w.buf, v, true)
	}
	w.buf = append(w.buf, ']')
	return w
}

// WriteArray writes an array member of items, each by write; nothing when
// there are none and omitEmpty is set, null for nil otherwise, as
// encoding/json does.
func WriteArray[T any](w *Writer, name string, items []T, omitEmpty bool, write func(*T, *Writer)) {
	switch {
	case len(items) == 0 && omitEmpty:
		return
	case items == nil:
		w.Member(name)
		w.buf = append(w.buf, "null"...)
		return
	}
	w.Member(name)
	w.buf = append(w.buf, '[')
	for i := range items {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		write(&items[i], w)
	}
	w.buf = append(w.buf, ']')
}

// WritePointer writes the member v points to, by write; nothing when v
// is nil (omitempty).
func WritePointer[T any](w *Writer, name string, v *T, write func(*T, *Writer)) {
	if v != nil {
		write(v, w.Member(name))
	}
}

func (w *Writer) fail(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

const hex = "0123456789abcdef"

// AppendString appends s as encoding/json writes a string: quoted, with
// '"', '\\' and control characters escaped, U+2028 and U+2029 escaped as
// \u202X, each byte of invalid UTF-8 replaced by \ufffd, and, with
// escapeHTML (as json.Marshal does; an Encoder may be told not to), '<',
// '>' and '&' escaped as \u00XX.
func AppendString(dst []byte, s string, escapeHTML bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// The run written as it is, found eight bytes at a time.
		if i = PlainRun(s, i, escapeHTML); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFloat appends f as encoding/json writes a float64: the shortest
// decimal that reads back as f, in exponent form below 1e-6 and from 1e21,
// without a leading zero in a negative exponent. NaN and infinities are
// errors, as they are to json.Marshal.
func AppendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, errors.New("jsonwire: unsupported value: " + strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-07 is written e-7.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// AppendTime appends t as time.Time's MarshalJSON writes it: RFC 3339 with
// nanoseconds, quoted; a year outside 0-9999 is an error.
func AppendTime(dst []byte, t time.Time) ([]byte, error) {
	out, err := t.AppendText(append(dst, '"'))
	if err != nil {
		return dst, errors.New("jsonwire: " + err.Error())
	}
	return append(out, '"'), nil
}

// AppendRawMessage appends m as encoding/json writes a json.RawMessage:
// compacted, with '<', '>', '&', U+2028 and U+2029 escaped; "null" when m
// is nil; an error when m is not valid JSON.
func AppendRawMessage(dst []byte, m json.RawMessage) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	if compactSafe(m) && json.Valid(m) {
		return append(dst, m...), nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, m); err != nil {
		return dst, errors.New("jsonwire: raw message: " + err.Error())
	}
	out := bytes.NewBuffer(dst)
	json.HTMLEscape(out, compact.Bytes())
	return out.Bytes(), nil
}

// compactSafe reports whether m, if valid, is already as encoding/json
// writes it: no whitespace outside strings, nothing to escape for HTML.
func compactSafe(m []byte) bool {
	in := false
	for i := 0; i < len(m); i++ {
		switch c := m[i]; {
		case c == '<' || c == '>' || c == '&' || c == 0xE2:
			return false
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

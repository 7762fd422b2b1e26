package jsonwire

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestAppendStringMatchesJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"\/`, "\b\f\n\r\t\x00\x1f\x7f", "<a href='x'>&amp;</a>",
		"\u2028\u2029", "\xff", "a\xc3", "\xed\xa0\x80", "é中😀", "\xf4\x90\x80\x80", "\U0010ffff"} {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s, true); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, json writes %s", s, got, want)
		}
	}
}

func TestAppendFloatMatchesJSON(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 60, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789e15,
		math.MaxFloat64, math.SmallestNonzeroFloat64, -2.5e-300, 1.0000000000000002} {
		want, _ := json.Marshal(f)
		got, err := AppendFloat(nil, f)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("AppendFloat(%v) = %s, %v; json writes %s", f, got, err, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := AppendFloat(nil, f); err == nil {
			t.Errorf("AppendFloat(%v): no error; json refuses it", f)
		}
	}
}

func TestAppendTimeMatchesJSON(t *testing.T) {
	for _, tm := range []time.Time{{}, time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.FixedZone("x", -3*3600-1800)), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)} {
		want, _ := json.Marshal(tm)
		got, err := AppendTime([]byte("x"), tm)
		if err != nil || !bytes.Equal(got[1:], want) {
			t.Errorf("AppendTime(%v) = %s, %v; json writes %s", tm, got, err, want)
		}
	}
	got, err := AppendTime([]byte("x"), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err == nil || string(got) != "x" {
		t.Errorf("AppendTime(year 10000) = %q, %v; want an error and nothing written", got, err)
	}
}

func TestAppendRawMessageMatchesJSON(t *testing.T) {
	for _, m := range []json.RawMessage{nil, json.RawMessage("null"), json.RawMessage(`{"a":[1,2]}`),
		json.RawMessage(" { \"a\" : \"<\u2028>\" ,\n\"b\":[ ] } "), json.RawMessage(`"\u003c"`)} {
		want, _ := json.Marshal(m)
		got, err := AppendRawMessage(nil, m)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("AppendRawMessage(%q) = %s, %v; json writes %s", m, got, err, want)
		}
	}
	for _, m := range []json.RawMessage{{}, json.RawMessage(" "), json.RawMessage(`{"a":}`), json.RawMessage(`1 2`)} {
		if _, err := AppendRawMessage(nil, m); err == nil {
			t.Errorf("AppendRawMessage(%q): no error; json refuses it", m)
		}
	}
}

func TestInternerIsBounded(t *testing.T) {
	in := NewInterner()
	a, b := in.Bytes([]byte("eastus")), in.Bytes([]byte("eastus"))
	if a != "eastus" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("interned %q and %q: two copies", a, b)
	}
	for i := range MaxInterned + 100 {
		in.Bytes([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
	}
	if n := in.Len(); n != MaxInterned {
		t.Errorf("the interner holds %d strings, want its bound %d", n, MaxInterned)
	}
	// String hands out the same copies as Bytes, and past the bound keeps
	// nothing more.
	if s := in.String(string([]byte("east")) + "us"); unsafe.StringData(s) != unsafe.StringData(a) {
		t.Errorf("String(eastus) is not the copy Bytes interned")
	}
	if in.String("westus"); in.Len() != MaxInterned {
		t.Errorf("String kept a string past the bound: %d strings", in.Len())
	}
	long := bytes.Repeat([]byte("x"), MaxInternedLen+1)
	if s := in.Bytes(long); s != string(long) {
		t.Errorf("a long string read back as %q", s)
	}
}

// FuzzString holds the string writer and reader to encoding/json: any
// string written as json writes it, and any quoted literal read as json
// reads it (or given up on).
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "eastus", `a\"b`, `\u00e9\ud83d\ude00\ud83d\u0041\/\b\f\n\r\t`, "\xff", "<>&\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s, true); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, json writes %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatal(err)
		}
		if d := NewDecoder(want, nil); d.str(nil) != back || !d.OK() {
			t.Fatalf("what json writes of %q, %s, does not read back by hand", s, want)
		}
		for _, lit := range [][]byte{want, []byte(`"` + s + `"`)} {
			var jsonRead string
			jsonErr := json.Unmarshal(lit, &jsonRead)
			for _, in := range []*Interner{nil, NewInterner()} {
				d := NewDecoder(lit, in)
				got := d.str(d.intern)
				if d.OK() && (jsonErr != nil || got != jsonRead) {
					t.Fatalf("read %s as %q; json reads %q, %v", lit, got, jsonRead, jsonErr)
				}
			}
		}
	})
}

// plainRunByBytes is PlainRun read byte by byte.
func plainRunByBytes(s string, i int, escapeHTML bool) int {
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || escapeHTML && strings.IndexByte("<>&", c) >= 0 {
			return i
		}
	}
	return len(s)
}

func checkPlainRun(t *testing.T, s string) {
	t.Helper()
	for i := 0; i <= len(s); i++ {
		for _, html := range []bool{false, true} {
			want := plainRunByBytes(s, i, html)
			if got := PlainRun(s, i, html); got != want {
				t.Fatalf("PlainRun(%q, %d, %v) = %d, want %d", s, i, html, got, want)
			}
			if got := PlainRunBytes([]byte(s), i, html); got != want {
				t.Fatalf("PlainRunBytes([]byte(%q), %d, %v) = %d, want %d", s, i, html, got, want)
			}
		}
	}
}

func TestPlainRun(t *testing.T) {
	for _, s := range []string{"", "plain", `{"a":"b c"}`, "0123456789abcdef~\x7f", "0123456789abcdef\x1f", "0123456\\", "01234567\x80",
		"\x00", " !\"#$%&'()*+,-./", "ab\u00e9cdefgh", "abcdefg<", "\x1f\x20\x20\x20\x20\x20\x20\x20\x20", "\x00\x20!\"", "aaaaaaaa&", "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\xff"} {
		checkPlainRun(t, s)
	}
}

func FuzzPlainRun(f *testing.F) {
	f.Add(`{"properties":{"k":"v"}}`)
	f.Add("0123456789\x1f\x20<>&\\\"\x80")
	f.Fuzz(checkPlainRun)
}

package jsonshape

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// fromParts makes d again from its parts, as a store reading them does.
func fromParts(t *testing.T, d Doc) Doc {
	t.Helper()
	text, own, ok := d.Parts()
	if !ok {
		t.Fatalf("%q has no shape", d)
	}
	sh, err := ParseShape(text)
	if err != nil {
		t.Fatalf("ParseShape(%q): %v", text, err)
	}
	got, err := sh.Doc(strings.Clone(own))
	if err != nil {
		t.Fatalf("Doc(%q) of %q: %v", own, text, err)
	}
	return got
}

// A fleet's documents, made again from their parts, are byte for byte
// the documents, Equal to them, and share the one shape.
func TestPartsRoundTrip(t *testing.T) {
	var docs []Doc
	for i := range 20 {
		b := seedModel(i, guid(i))
		if i%3 == 0 {
			b = bytes.Replace(b, []byte(`"diskSizeGB":127`), []byte(`"diskSizeGB":30`), 1)
		}
		docs = append(docs, Of(b))
	}
	for _, doc := range []string{`{}`, `"a"`, `{"a":"x\\\"y","b":["","\\\\"]}`, `[1,2,"three"]`} {
		docs = append(docs, Of([]byte(doc)))
	}
	for _, d := range docs {
		got := fromParts(t, d)
		if got.String() != d.String() || got.Len() != d.Len() || !got.Equal(d) {
			t.Fatalf("made again from its parts, %q is %q", d, got)
		}
		if got.shape != d.shape {
			t.Fatalf("made again from its parts, %q has another shape", d)
		}
	}
	if text, own, ok := (Doc{}).Parts(); ok || text != "" || own != "" {
		t.Errorf("a nil Doc's parts: %q %q %v", text, own, ok)
	}
	whole := Of([]byte("{\"a\":\"\x00\"}"))
	if text, own, ok := whole.Parts(); ok || text != "" || own != whole.String() {
		t.Errorf("a whole Doc's parts: %q %q %v, want its bytes", text, own, ok)
	}
}

// A shape kept by a store may have other defaults than the table's shape
// of the same skeleton (made first, in this process, by another
// document): its Docs still read back exactly, as Of makes them.
func TestPartsAgainstOtherDefaults(t *testing.T) {
	first := Of(seedModel(100, guid(100)))
	// The store's shape was made by document 101, and document 102's own
	// part written against it.
	skeleton, values, ok := split(seedModel(101, guid(101)), nil, nil)
	if !ok {
		t.Fatal("split")
	}
	stored := newShape(skeleton, values)
	_, values102, _ := split(seedModel(102, guid(102)), nil, nil)
	own := appendOwn(nil, stored, values102)

	sh, err := ParseShape(stored.full)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sh.Doc(string(own))
	if err != nil {
		t.Fatal(err)
	}
	want := Of(seedModel(102, guid(102)))
	if d.String() != want.String() || !d.Equal(want) || d.shape != first.shape {
		t.Fatalf("document 102 from a shape of other defaults: %q, want %q in the table's shape", d, want)
	}
	// The defaults themselves: an empty own part.
	if d, err := sh.Doc(""); err != nil || d.String() != stored.full {
		t.Fatalf("the shape's own document: %q, %v", d, err)
	}
}

// A shape's text or an own part that Parts did not write is an error,
// never a panic, and never a document of another skeleton.
func TestCorruptParts(t *testing.T) {
	for _, text := range []string{"{\"a\":\"\x00\"}", `{"a":"open`, `"`} {
		if _, err := ParseShape(text); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ParseShape(%q) = %v, want ErrCorrupt", text, err)
		}
	}
	Of([]byte(`{"a":"xyz","b":"uvw"}`))
	sh, err := ParseShape(`{"a":"xyz","b":"uvw"}`)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(fields ...uint64) string {
		var b []byte
		for _, f := range fields {
			b = binary.AppendUvarint(b, f)
		}
		return string(b)
	}
	good := entry(0, 0, 1, 1, 1) + "Q" // "xQz"
	if d, err := sh.Doc(good); err != nil || d.String() != `{"a":"xQz","b":"uvw"}` {
		t.Fatalf("a good own part: %q, %v", d, err)
	}
	if d, err := sh.Doc(entry(0, 0, 0, 0, 3) + `x\\` + entry(0, 1, 3, 0, 0)); err != nil || d.String() != `{"a":"x\\","b":"x\\"}` {
		t.Fatalf("a value taken from the one before: %q, %v", d, err)
	}
	for name, own := range map[string]string{
		"truncated":                good[:3],
		"truncated bytes":          entry(0, 0, 1, 1, 2) + "Q",
		"a varint past 64 bits":    strings.Repeat("\xff", 10) + "\x7f",
		"a varint never ended":     "\x80\x80",
		"a slot past the shape's":  entry(2, 0, 0, 0, 0),
		"a second entry past":      good + entry(1, 0, 0, 0, 0),
		"a prefix of nothing":      entry(0, 1, 1, 0, 0),
		"a suffix of nothing":      entry(0, 1<<4, 0, 1, 0),
		"a base past the last 7":   good + entry(0, 8, 0, 0, 0),
		"a prefix too long":        entry(0, 0, 4, 0, 0),
		"a suffix too long":        entry(0, 0, 0, 4, 0),
		"an unescaped quote":       entry(0, 0, 0, 0, 1) + `"`,
		"an escaping backslash":    entry(0, 0, 0, 0, 1) + `\`,
		"a NUL":                    entry(0, 0, 0, 0, 1) + "\x00",
		"a quote made of two runs": entry(0, 0, 0, 0, 3) + `x\\` + entry(0, 1, 3, 0, 1) + `"`,
	} {
		if d, err := sh.Doc(own); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Doc(%q) = %q, %v, want ErrCorrupt", name, own, d, err)
		}
	}
	if _, err := (Shape{}).Doc(""); !errors.Is(err, ErrCorrupt) {
		t.Errorf("the zero Shape's Doc: %v, want ErrCorrupt", err)
	}
}

// FuzzParts: any document made again from its parts reads back exactly;
// and any own part given to a shape is an error, or a document of the
// shape's skeleton whose length and bytes agree, never a panic.
func FuzzParts(f *testing.F) {
	own := func(first, doc []byte) []byte {
		Of(first)
		_, o, _ := Of(doc).Parts()
		return []byte(o)
	}
	f.Add(seedModel(0, guid(0)), seedModel(1, guid(1)), own(seedModel(0, guid(0)), seedModel(1, guid(1))))
	f.Add([]byte(`{"a":"x","b":"y"}`), []byte(`{"a":"xx","b":"x"}`), own([]byte(`{"a":"x","b":"y"}`), []byte(`{"a":"xx","b":"x"}`)))
	f.Add([]byte(`["a\\","b\""]`), []byte(`["a\\\\","\"b\""]`), []byte("\x00\x00\x01\x00\x01\\"))
	f.Add([]byte(`{"a":"xyz"}`), []byte(`{"a":"`), []byte("\x00\x11\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, a, b, own []byte) {
		Of(a)
		db := Of(b)
		if text, o, ok := db.Parts(); ok {
			sh, err := ParseShape(text)
			if err != nil {
				t.Fatalf("ParseShape of Parts: %v", err)
			}
			d, err := sh.Doc(o)
			if err != nil || d.String() != string(b) || !d.Equal(db) {
				t.Fatalf("%q made again from its parts: %q, %v", b, d, err)
			}
		}
		sh, err := ParseShape(string(a))
		if err != nil {
			return
		}
		d, err := sh.Doc(string(own))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Doc(%q) = %v, want ErrCorrupt", own, err)
			}
			return
		}
		got := d.Bytes()
		if d.Len() != len(got) {
			t.Fatalf("Doc(%q).Len() = %d, its bytes %d", own, d.Len(), len(got))
		}
		skeleton, _, ok := split(got, nil, nil)
		if !ok || bytes.IndexByte(got, slotMark) >= 0 || string(skeleton) != sh.read.skeleton {
			t.Fatalf("Doc(%q) = %q, not of the shape's skeleton %q", own, got, sh.read.skeleton)
		}
	})
}

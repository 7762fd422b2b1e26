package armid

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// FuzzParse checks that Parse never panics, that String's output parses back
// to the same ID and the same string, and that Key agrees with Equal.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/subscriptions/" + sub,
		"/subscriptions/" + sub + "/resourcegroups/RG/",
		"/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
		"/SUBSCRIPTIONS/s/RESOURCEGROUPS/r/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/ss/VIRTUALMACHINES/0/extensions/e",
		"/subscriptions/s/providers/Microsoft.Compute/locations/westus/operations/op",
		"/subscriptions/s/providers/microsoft.compute",
		"/subscriptions/s/resourceGroups/rg/providers/X.Y/a/b/providers/Z/c/d",
		"/subscriptions/s/resourceGroups/rg/providers/X.Y/a/b/",
		"/subscriptions/s//",
		"/ſubscriptions/s/resourceGroups/ΣΣ",
		"/subscriptions/\xff/resourceGroups/İ",
		"",
		"/",
		"subscriptions/s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Key must agree with Equal whether or not s parses. SimpleFold moves
		// every rune to another member of its case orbit, the hardest variant.
		variants := []string{
			s, s + "/", strings.TrimSuffix(s, "/"),
			strings.ToUpper(s), strings.ToLower(s), strings.ToTitle(s),
			strings.Map(unicode.SimpleFold, s),
		}
		for _, v := range variants {
			if eq, keyEq := Equal(s, v), Key(s) == Key(v); eq != keyEq {
				t.Fatalf("Equal(%q, %q) = %v but Key equality is %v (%q, %q)", s, v, eq, keyEq, Key(s), Key(v))
			}
			// FoldAll's ASCII path is strings.ToLower's; Fold is FoldAll
			// with each segment Canonical; Canonical is the table's entry
			// for the folded segment.
			want := foldRunes(v)
			if isASCII(v) {
				want = strings.ToLower(v)
			}
			if got := FoldAll(v); got != want {
				t.Fatalf("FoldAll(%q) = %q, want %q", v, got, want)
			}
			segs := strings.Split(want, "/")
			for i, seg := range segs {
				segs[i] = Canonical(seg)
			}
			if got, want := Fold(v), strings.Join(segs, "/"); got != want {
				t.Fatalf("Fold(%q) = %q, want %q", v, got, want)
			}
			if got := Fold(v) == Fold(s); got != strings.EqualFold(v, s) {
				t.Fatalf("Fold(%q) == Fold(%q) is %v, EqualFold says %v", v, s, got, !got)
			}
			want = v
			if c, ok := canonical[foldRunes(v)]; ok {
				want = c
			}
			if got := Canonical(v); got != want {
				t.Fatalf("Canonical(%q) = %q, want %q", v, got, want)
			}
		}

		id, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidID", s, err)
			}
			return
		}
		str := id.String()
		id2, err := Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, str, err)
		}
		if !reflect.DeepEqual(id, id2) {
			t.Fatalf("Parse(String(Parse(%q))) = %#v, want %#v", s, id2, id)
		}
		if str2 := id2.String(); str2 != str {
			t.Fatalf("String not stable: %q then %q", str, str2)
		}
		if !Equal(s, str) || Key(s) != Key(str) {
			t.Fatalf("%q and its canonical form %q differ by Equal or Key", s, str)
		}
		if id.Type() == "" || id.Name() == "" {
			t.Fatalf("parsed ID %q has type %q, name %q", s, id.Type(), id.Name())
		}
		// Walking up must end at the subscription, through IDs that parse.
		for depth := 0; ; depth++ {
			p, ok := id.Parent()
			if !ok {
				if id.Type() != typeSubscription {
					t.Fatalf("%q: no parent above %q", s, id)
				}
				break
			}
			if depth > len(s) {
				t.Fatalf("%q: Parent does not terminate", s)
			}
			if _, err := Parse(p.String()); err != nil {
				t.Fatalf("%q: parent %q does not parse: %v", s, p, err)
			}
			id = p
		}
	})
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

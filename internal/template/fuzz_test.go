package template

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzExpression feeds the expression parser and evaluator arbitrary text:
// it must answer a value or an error, never panic or loop, and a parsed
// expression must parse the same way again.
func FuzzExpression(f *testing.F) {
	for _, seed := range []string{
		"concat('a', 'b')", "parameters('prefix')", "variables('disks')[1].name", "'it''s'",
		"resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'default')",
		"if(equals(1, 1), 'a', 'b')", "json('[1, {\"a\": null}]')[1].a", "format('{0:D3}', 7)",
		"range(0, 5)[4]", "union(createObject('a', 1), createObject('b', 2)).b", "-9223372036854775808",
		"a(", "'", "x.y", "((", "padLeft('1', 100000)", "split('a', '')",
		`{"a": [1, {"b": "c\\"}]}`, "{a: 1, // c\n b: [2,],}",
	} {
		f.Add(seed)
	}
	p, err := mustPlan()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		// The relaxed reader leaves strict JSON as it is.
		// Valid JSON that Go cannot hold (a number past float64, such as
		// 1E700) is refused either way, so only decodable text is compared.
		var a, b any
		if json.Unmarshal([]byte(src), &a) == nil {
			if err := json.Unmarshal(Relaxed([]byte(src)), &b); err != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("%q relaxed to %q: %v", src, Relaxed([]byte(src)), err)
			}
		} else {
			_ = Relaxed([]byte(src))
		}
		n, err := ParseExpression(src)
		if err != nil {
			return
		}
		if _, err := ParseExpression(src); err != nil {
			t.Fatalf("%q parsed once, then failed: %v", src, err)
		}
		ev := &evaluator{p: p}
		v, err := ev.eval(n)
		if err == nil && v != nil {
			if s, ok := v.(string); ok && len(s) > maxString {
				t.Fatalf("%q produced %d bytes", src, len(s))
			}
		}
	})
}

func mustPlan() (*Plan, error) {
	tmpl, err := Parse([]byte(exprTemplate))
	if err != nil {
		return nil, err
	}
	return tmpl.Expand(testScope, nil)
}

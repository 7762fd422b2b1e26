package template

import (
	"encoding/json"
	"testing"
)

func TestRelaxed(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1}`, `{"a":1}`},
		// What the Azure CLI sends: the template's text under a bare name.
		{`{"properties": {"mode": "Incremental"}, template:{"contentVersion": "1.0.0.0"}}`,
			`{"properties":{"mode":"Incremental"},"template":{"contentVersion":"1.0.0.0"}}`},
		{"{\n  // a comment\n  \"a\": [1, 2,], /* more */ \"b\": \"// not a comment\",\n}", `{"a":[1,2],"b":"// not a comment"}`},
		{`{"s": "a \"quoted\" /* text */", "t": [true, null]}`, `{"s":"a \"quoted\" /* text */","t":[true,null]}`},
		{`{$schema: "x", _k9: {n: [{m: 1}]}}`, `{"$schema":"x","_k9":{"n":[{"m":1}]}}`},
	}
	for _, tt := range tests {
		var v any
		if err := json.Unmarshal(Relaxed([]byte(tt.in)), &v); err != nil {
			t.Fatalf("%s: %v in %s", tt.in, err, Relaxed([]byte(tt.in)))
		}
		got, _ := json.Marshal(v)
		if string(got) != tt.want {
			t.Errorf("%s relaxed to %s, want %s", tt.in, got, tt.want)
		}
	}
	// Comments keep lines and columns.
	in := "{\n /* x\n y */ \"a\": 1}"
	if got := string(Relaxed([]byte(in))); len(got) != len(in) || got[1] != '\n' || got[7] != '\n' {
		t.Errorf("%q relaxed to %q", in, got)
	}
}

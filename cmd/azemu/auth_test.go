package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseServeAuth(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--auth", "strict"}, "--auth strict needs --principals FILE"},
		{[]string{"--auth", "sometimes"}, "--auth must be open or strict"},
		{[]string{"--principals", "p.json"}, "--principals is for --auth strict"},
		{[]string{"--subscription", "mine"}, "--subscription must be a GUID"},
		{[]string{"--auth", "strict", "--principals", "p.json"}, ""},
	} {
		c2, err := parseServe(c.args, io.Discard)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%v: %v", c.args, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: %v, want %q", c.args, err, c.err)
		case c.err == "" && (c2.auth != "strict" || c2.principals != "p.json" || c2.subscription != "00000000-0000-0000-0000-000000000001"):
			t.Errorf("%v: %+v", c.args, c2)
		}
	}
}

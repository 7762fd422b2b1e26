package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"installed at a tag", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.3.0"}},
			"azemu v0.3.0 go1.26.0"},
		{"built in a clone", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "684d9c2f0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
			{Key: "vcs.time", Value: "2026-11-27T06:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"azemu (devel) (revision 684d9c2f0a1b, 2026-11-27T06:00:00Z, modified) go1.26.0"},
		{"pseudo-version, clean tree", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261127060000-684d9c2f0a1b"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "684d9c2f0a1b"}, {Key: "vcs.modified", Value: "false"}}},
			"azemu v0.0.0-20261127060000-684d9c2f0a1b (revision 684d9c2f0a1b)"},
		{"no build info", nil, "azemu (no build info)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.info); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestVersionCommand: `azemu version` and `azemu --version` print the same
// line, from this binary's own build info.
func TestVersionCommand(t *testing.T) {
	var outs []string
	for _, arg := range []string{"version", "--version"} {
		var stdout, stderr bytes.Buffer
		if err := run([]string{arg}, &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v (%s)", arg, err, stderr.String())
		}
		outs = append(outs, stdout.String())
	}
	info, _ := debug.ReadBuildInfo()
	if want := versionLine(info) + "\n"; outs[0] != want || outs[1] != want {
		t.Fatalf("version printed %q and %q, want %q", outs[0], outs[1], want)
	}
	if !strings.HasPrefix(outs[0], "azemu ") || strings.Contains(outs[0], "dev\n") {
		t.Fatalf("version line %q", outs[0])
	}
}

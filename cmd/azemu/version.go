package main

import (
	"runtime/debug"
	"strings"
)

// versionLine is what `azemu version` prints, read from the build info Go
// stamps into every binary: the module version (a tag, or a pseudo-version
// for `go install module@commit`, or "(devel)" for a build in a clone) and,
// for a build in a clone, the VCS revision, its time, and whether the tree
// had uncommitted changes.
func versionLine(info *debug.BuildInfo) string {
	if info == nil {
		return "azemu (no build info)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var b strings.Builder
	b.WriteString("azemu " + version)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		b.WriteString(" (revision " + rev)
		if at != "" {
			b.WriteString(", " + at)
		}
		if modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	if info.GoVersion != "" {
		b.WriteString(" " + info.GoVersion)
	}
	return b.String()
}

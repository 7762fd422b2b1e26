package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/store/sqlite"
)

// azemu vacuum prints the file's size before and after; it refuses a
// PostgreSQL store, and a data dir with no database, with a clear error.
func TestVacuumCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "azemu.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"vacuum", "--data-dir", dir}, &out, &errOut); err != nil {
		t.Fatalf("vacuum: %v (%s)", err, errOut.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "vacuumed "+filepath.Join(dir, "azemu.db")+": ") ||
		!strings.Contains(got, " MB before (") || !strings.Contains(got, " MB after\n") || strings.Contains(got, "migrated") {
		t.Errorf("vacuum printed %q", got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"vacuum", "--data-dir", dir, "--store", "postgres://u:p@127.0.0.1:5432/db"}, "packs a SQLite file"},
		{[]string{"vacuum", "--data-dir", t.TempDir()}, "no database at"},
		{[]string{"vacuum", "--data-dir", dir, "extra"}, `unexpected argument "extra"`},
	} {
		out.Reset()
		if err := run(c.args, &out, &errOut); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
}

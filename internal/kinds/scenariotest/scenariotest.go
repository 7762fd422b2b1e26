// Package scenariotest runs a resource kind's scenario scripts: each
// testdata/scenarios/NAME.scenario is run by the kind's own interpreter and
// its transcript compared with NAME.golden beside it (-update rewrites
// them). Scripts drive the pure modules only, so they need no database.
// It also holds a kind's hand reader of its stored documents to
// encoding/json (SameDecoding).
package scenariotest

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/resource"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Start is the time every scenario begins at.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Step interprets one command of a script (its fields, comments and blank
// lines removed) and writes what happened to out.
type Step func(fields []string, out *strings.Builder) error

// Run runs every scenario under dir/testdata/scenarios with a fresh
// interpreter from newStep each.
func Run(t *testing.T, newStep func() Step) {
	t.Helper()
	files, err := filepath.Glob("testdata/scenarios/*.scenario")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".scenario"), func(t *testing.T) {
			got, err := transcript(file, newStep())
			if err != nil {
				t.Fatal(err)
			}
			Compare(t, strings.TrimSuffix(file, ".scenario")+".golden", got)
		})
	}
}

// Compare checks got against the golden file at path; with -update it
// rewrites the file instead.
func Compare(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what the code gives (run with -update after checking):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func transcript(path string, step Step) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			out.WriteString(text + "\n")
			continue
		}
		out.WriteString("> " + text + "\n")
		if err := step(strings.Fields(text), &out); err != nil {
			return "", fmt.Errorf("%s:%d: %v", path, line, err)
		}
	}
	return out.String(), sc.Err()
}

// Offset formats a time as its distance from Start.
func Offset(at time.Time) string {
	d := at.Sub(Start)
	if d == 0 {
		return "0s"
	}
	return "+" + d.String()
}

// IDs returns a deterministic NewID: id1, id2, ...
func IDs() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("id%d", n)
	}
}

// Args splits key=value fields; a bare field is a flag with value "".
func Args(fields []string) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		out[k] = v
	}
	return out
}

// Short names a resource in a transcript by its types and names below the
// provider ("disks/d1", "virtualMachines/web/extensions/x"), or by its
// group ("resourceGroups/rg").
func Short(id string) string {
	p, err := armid.Parse(id)
	if err != nil {
		return id
	}
	if len(p.Types) == 0 {
		if p.ResourceGroup != "" {
			return "resourceGroups/" + p.ResourceGroup
		}
		return id
	}
	var parts []string
	for i := range min(len(p.Types), len(p.Names)) {
		parts = append(parts, p.Types[i]+"/"+p.Names[i])
	}
	return strings.Join(parts, "/")
}

// WriteEffects writes a decision's effects, one line each, in the order a
// runtime applies them.
func WriteEffects(out *strings.Builder, eff resource.Effects) {
	for _, s := range eff.Put {
		fmt.Fprintf(out, "  put %s\n", Short(s.ResourceID()))
	}
	for _, s := range eff.Removed {
		fmt.Fprintf(out, "  removed %s\n", Short(s.ResourceID()))
	}
	for _, ev := range eff.Events {
		fmt.Fprintf(out, "  event %s %s %s", Offset(ev.At), Short(ev.ResourceID), ev.ProvisioningState)
		if ev.PowerState != "" {
			fmt.Fprintf(out, " %s", ev.PowerState)
		}
		fmt.Fprintf(out, " by %s", ev.OperationKind)
		if ev.OperationID != "" {
			fmt.Fprintf(out, " (%s)", ev.OperationID)
		}
		if len(ev.Detail) > 0 {
			fmt.Fprintf(out, " %s", ev.Detail)
		}
		out.WriteString("\n")
	}
	for _, op := range eff.Started {
		fmt.Fprintf(out, "  operation %s InProgress: %s on %s\n", op.ID, op.Kind, Short(op.TargetID))
	}
	for _, end := range eff.Ended {
		fmt.Fprintf(out, "  operation %s %s %s", end.ID, end.Status, Offset(end.At))
		if end.Error != nil {
			fmt.Fprintf(out, " %s", end.Error.Code)
		}
		out.WriteString("\n")
	}
	for _, c := range eff.Commands {
		fmt.Fprintf(out, "  command %s %s", c.Verb, Short(c.Target))
		if c.OperationID != "" {
			fmt.Fprintf(out, " as %s", c.OperationID)
		}
		if s, ok := c.Args.(fmt.Stringer); ok {
			fmt.Fprintf(out, " %s", s)
		} else if c.Args != nil {
			fmt.Fprintf(out, " %+v", c.Args)
		}
		out.WriteString("\n")
	}
	for _, d := range eff.Due {
		fmt.Fprintf(out, "  due %s %s\n", Short(d.Target), Offset(d.At))
	}
}

// WriteError writes a refusal, or returns an error that is not one.
func WriteError(out *strings.Builder, err error) error {
	var refusal *resource.Error
	if !errors.As(err, &refusal) {
		return err
	}
	fmt.Fprintf(out, "  refused %s: %s\n", refusal.Code, refusal.Message)
	return nil
}

package template

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestTemplates expands each template under testdata/templates with its
// parameters and compares the plan (IDs, what each waits for, the bodies
// to PUT) and the outputs, or the error, with its golden file. reference()
// answers from a fixed fake, so the run is exact.
func TestTemplates(t *testing.T) {
	files, err := filepath.Glob("testdata/templates/*.json")
	if err != nil || len(files) == 0 {
		t.Fatal("no templates", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var in struct {
				Template   json.RawMessage `json:"template"`
				Parameters json.RawMessage `json:"parameters"`
			}
			if err := json.Unmarshal(data, &in); err != nil {
				t.Fatal(err)
			}
			got := run(in.Template, in.Parameters)
			golden := filepath.Join("testdata", "templates", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from its golden file:\n%s", name, got)
			}
			if strings.HasPrefix(name, "error-") != bytes.HasPrefix(got, []byte("error")) {
				t.Errorf("%s: an error- template must fail, and only those", name)
			}
		})
	}
}

func fakeReference(id, apiVersion string) ([]byte, bool, error) {
	name := id[strings.LastIndex(id, "/")+1:]
	b, err := json.Marshal(map[string]any{"id": id, "name": name, "properties": map[string]any{
		"provisioningState": "Succeeded",
		"ipAddress":         "ip-of-" + name,
		"ipConfigurations":  []any{map[string]any{"properties": map[string]any{"privateIPAddress": "10.0.0.4"}}},
	}})
	return b, true, err
}

func run(template, parameters json.RawMessage) []byte {
	var b bytes.Buffer
	fail := func(err error) []byte {
		fmt.Fprintf(&b, "error %v\n", err)
		return b.Bytes()
	}
	tmpl, err := Parse(template)
	if err != nil {
		return fail(err)
	}
	values, err := ParameterValues(parameters)
	if err != nil {
		return fail(err)
	}
	plan, err := tmpl.Expand(testScope, values)
	if err != nil {
		return fail(err)
	}
	for _, r := range plan.Resources {
		fmt.Fprintf(&b, "resource %s\n  apiVersion %s\n", r.ID, r.APIVersion)
		if r.Loop != "" {
			fmt.Fprintf(&b, "  loop %s[%d]\n", r.Loop, r.LoopIndex)
		}
		for _, d := range r.DependsOn {
			fmt.Fprintf(&b, "  dependsOn %s\n", d)
		}
		body, err := plan.Body(r, fakeReference)
		if err != nil {
			return fail(err)
		}
		j, _ := json.MarshalIndent(body, "  ", "  ")
		fmt.Fprintf(&b, "  body %s\n", j)
	}
	outputs, err := plan.Outputs(fakeReference)
	if err != nil {
		return fail(err)
	}
	j, _ := json.MarshalIndent(outputs, "", "  ")
	fmt.Fprintf(&b, "outputs %s\n", j)
	return b.Bytes()
}

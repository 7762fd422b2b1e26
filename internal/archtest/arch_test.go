package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/azemu/azemu/"

// layers says which project packages each package may import. A package not
// listed here fails the test: adding one means placing it in the layers.
var layers = map[string][]string{
	"internal/armerror":        {},
	"internal/jsonwire":        {},
	"internal/jsonshape":       {},
	"internal/lifecycle":       {"internal/armerror", "internal/jsonwire"},
	"internal/armid":           {},
	"internal/clock":           {},
	"internal/certs":           {},
	"internal/crosssite":       {"internal/armerror"},
	"internal/archtest":        {},
	"internal/billing":         {"internal/lifecycle"},
	"internal/authz":           {"internal/armid"},
	"internal/identity":        {"internal/authz", "internal/certs"},
	"internal/catalog":         {},
	"internal/template":        {"internal/armerror", "internal/armid", "internal/catalog"},
	"internal/store":           {"internal/lifecycle", "internal/armid", "internal/jsonshape"},
	"internal/store/sqlite":    {"internal/store", "internal/armid", "internal/jsonshape"},
	"internal/store/memstore":  {"internal/store", "internal/jsonshape"},
	"internal/enginetest":      {"internal/engine", "internal/clock", "internal/store", "internal/store/memstore", "internal/armid", "internal/lifecycle"},
	"internal/store/storetest": {"internal/store", "internal/jsonshape"},
	"internal/store/postgres":  {"internal/store", "internal/jsonshape"},
	"internal/pgtest":          {},
	"internal/engine":          {"internal/armerror", "internal/jsonwire", "internal/jsonshape", "internal/lifecycle", "internal/armid", "internal/clock", "internal/store", "internal/billing", "internal/kinds/resource", "internal/kinds/disk", "internal/kinds/extension", "internal/kinds/group", "internal/kinds/scaleset", "internal/kinds/deployment", "internal/kinds/vnet", "internal/kinds/nsg", "internal/kinds/nic", "internal/kinds/publicip", "internal/kinds/vm", "internal/kinds/loadbalancer"},
	"internal/armapi":          {"internal/armerror", "internal/jsonwire", "internal/jsonshape", "internal/template", "internal/kinds/resource", "internal/kinds/deployment", "internal/catalog", "internal/crosssite", "internal/engine", "internal/lifecycle", "internal/armid", "internal/clock", "internal/store", "internal/billing", "internal/identity", "internal/authz"},
	"internal/dashboard":       {"internal/armerror", "internal/authz", "internal/crosssite", "internal/engine", "internal/lifecycle", "internal/billing", "internal/store", "internal/armid"},
	"internal/metrics":         {"internal/engine"},
	"internal/server":          {"internal/armerror", "internal/armapi", "internal/dashboard", "internal/metrics", "internal/engine", "internal/store", "internal/store/sqlite", "internal/store/postgres", "internal/billing", "internal/certs", "internal/clock", "internal/identity", "internal/authz"},
	"azemutest":                {"internal/server", "internal/engine", "internal/billing", "internal/lifecycle", "internal/store", "internal/clock"},
	"cmd/azemu":                {"*"},
	"cmd/azemu-prices":         {"internal/billing"},
	"e2e":                      {"*"},
	"examples/sdk":             {"*"},
	// The examples use the Azure SDK alone, as a user's code would; only
	// their tests use azemutest.
	"examples/scheduler":  {},
	"examples/autoscaler": {},
	"examples/finops":     {},
}

// kindLayers places the resource modules, one package per kind over the
// shared vocabulary, and the scenario runner their tests share.
var kindLayers = map[string][]string{
	"internal/kinds/resource":     {"internal/armerror"},
	"internal/kinds/disk":         {"internal/armid", "internal/jsonwire", "internal/kinds/resource"},
	"internal/kinds/extension":    {"internal/armid", "internal/kinds/resource", "internal/lifecycle"},
	"internal/kinds/group":        {"internal/armid", "internal/kinds/resource"},
	"internal/kinds/scaleset":     {"internal/armid", "internal/kinds/resource", "internal/lifecycle"},
	"internal/kinds/deployment":   {"internal/armid", "internal/kinds/resource"},
	"internal/kinds/scenariotest": {"internal/armid", "internal/kinds/resource"},
	"internal/kinds/network":      {"internal/armid", "internal/kinds/resource"},
	"internal/kinds/vnet":         {"internal/armid", "internal/kinds/resource", "internal/kinds/network"},
	"internal/kinds/nsg":          {"internal/armid", "internal/kinds/resource", "internal/kinds/network"},
	"internal/kinds/publicip":     {"internal/armid", "internal/jsonwire", "internal/kinds/resource", "internal/kinds/network"},
	"internal/kinds/nic":          {"internal/armid", "internal/jsonwire", "internal/kinds/resource", "internal/kinds/network", "internal/kinds/publicip"},
	"internal/kinds/vm":           {"internal/armid", "internal/jsonwire", "internal/jsonshape", "internal/kinds/resource", "internal/lifecycle", "internal/kinds/disk", "internal/kinds/extension", "internal/kinds/nic", "internal/kinds/publicip", "internal/kinds/scaleset"},
	"internal/kinds/loadbalancer": {"internal/armid", "internal/kinds/resource", "internal/kinds/network", "internal/kinds/publicip"},
}

// pure packages take time and IDs as arguments: no I/O, no clock.
var pure = []string{"internal/armerror", "internal/jsonwire", "internal/jsonshape", "internal/lifecycle", "internal/armid", "internal/billing", "internal/authz", "internal/catalog", "internal/template"}

// kindsDir holds one pure module per resource kind, and the scenario runner
// their tests share (which reads script files, so is not pure).
const kindsDir = "internal/kinds/"

func kindModules(pkgs map[string]*pkg) []string {
	var out []string
	for name := range pkgs {
		if strings.HasPrefix(name, kindsDir) && name != kindsDir+"scenariotest" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// forbiddenInModules are the project packages a resource module must not
// reach: it decides, and the engine, the store and HTTP carry it out.
var forbiddenInModules = []string{"internal/store", "internal/store/sqlite", "internal/store/storetest", "internal/engine",
	"internal/armapi", "internal/dashboard", "internal/server", "internal/metrics", "internal/clock", "net/http"}

var forbiddenInPure = []string{"net", "net/http", "database/sql", "os", "os/exec", "io/fs", "crypto/rand", "math/rand", "math/rand/v2"}

type pkg struct {
	imports map[string]bool // project-relative for project packages, else the import path
	timeNow []string        // positions of time.Now calls
}

func loadPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		p := pkgs[rel]
		if p == nil {
			p = &pkg{imports: map[string]bool{}}
			pkgs[rel] = p
		}
		timeName := ""
		for _, imp := range f.Imports {
			ip := strings.Trim(imp.Path.Value, `"`)
			p.imports[strings.TrimPrefix(ip, module)] = true
			if ip == "time" {
				timeName = "time"
				if imp.Name != nil {
					timeName = imp.Name.Name
				}
			}
		}
		if timeName != "" {
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == timeName && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
						p.timeNow = append(p.timeNow, fset.Position(sel.Pos()).String())
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestImportsPointDown(t *testing.T) {
	pkgs := loadPackages(t)
	var names []string
	for name := range pkgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		allowed, ok := layers[name]
		if !ok {
			allowed, ok = kindLayers[name]
		}
		if !ok {
			t.Errorf("package %s is not placed in the layers of arch_test.go", name)
			continue
		}
		if len(allowed) == 1 && allowed[0] == "*" {
			continue
		}
		for imp := range pkgs[name].imports {
			if !strings.HasPrefix(imp, "internal/") && !strings.HasPrefix(imp, "cmd/") {
				continue
			}
			if !contains(allowed, imp) {
				t.Errorf("%s imports %s, which its layer does not allow", name, imp)
			}
		}
	}
}

func TestResourceModulesDecideOnly(t *testing.T) {
	pkgs := loadPackages(t)
	modules := kindModules(pkgs)
	if len(modules) == 0 {
		t.Fatal("no resource modules found under " + kindsDir)
	}
	for _, name := range modules {
		for imp := range pkgs[name].imports {
			if contains(forbiddenInModules, imp) {
				t.Errorf("resource module %s imports %s", name, imp)
			}
		}
	}
}

func TestPureCoreDoesNoIO(t *testing.T) {
	pkgs := loadPackages(t)
	for _, name := range append(append([]string(nil), pure...), kindModules(pkgs)...) {
		p := pkgs[name]
		if p == nil {
			t.Errorf("pure package %s not found", name)
			continue
		}
		for imp := range p.imports {
			if contains(forbiddenInPure, imp) {
				t.Errorf("pure package %s imports %s", name, imp)
			}
			if strings.Contains(imp, ".") && !strings.HasPrefix(imp, "internal/") {
				t.Errorf("pure package %s imports %s, outside the standard library", name, imp)
			}
		}
		for _, pos := range p.timeNow {
			t.Errorf("pure package %s reads the clock at %s", name, pos)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

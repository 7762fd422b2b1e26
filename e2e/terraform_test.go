package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The OpenTofu release and the azurerm provider (its master, after 5.2.0)
// that TestTerraform drives. Both are built from the Go module proxy's
// source: no registry is reached.
const (
	tofuModule     = "github.com/opentofu/opentofu"
	tofuVersion    = "v1.10.6"
	azurermModule  = "github.com/hashicorp/terraform-provider-azurerm"
	azurermVersion = "v1.44.1-0.20260824201233-fae580791926"
	// mirrorVersion is what the mirror calls the provider built from
	// azurermVersion (master after the 4.x releases; the build says "dev").
	mirrorVersion = "4.999.0"
)

// terraformTools are the binaries TestTerraform runs.
type terraformTools struct {
	tofu        string // the tofu command
	providerDir string // holds terraform-provider-azurerm, served from a filesystem mirror
}

// terraformCache is where the built binaries are kept between runs,
// outside the repository: $AZEMU_TERRAFORM_CACHE, or azemu-terraform in the
// user's cache directory.
func terraformCache() (string, error) {
	if dir := os.Getenv("AZEMU_TERRAFORM_CACHE"); dir != "" {
		return dir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "azemu-terraform"), nil
}

// findTerraformTools returns the cached tofu and provider, building what is
// missing. TestTerraform runs only when AZEMU_TERRAFORM is set: a cold build
// of the provider takes longer than the rest of the suite.
func findTerraformTools(t *testing.T) terraformTools {
	t.Helper()
	if os.Getenv("AZEMU_TERRAFORM") == "" {
		t.Skip("set AZEMU_TERRAFORM=1 to run OpenTofu and the azurerm provider against azemu (the first run builds both)")
	}
	cache, err := terraformCache()
	if err != nil {
		t.Fatal(err)
	}
	tools := terraformTools{
		tofu:        filepath.Join(cache, "tofu-"+tofuVersion, "tofu"),
		providerDir: filepath.Join(cache, "azurerm-"+azurermVersion),
	}
	buildCached(t, tofuModule, tofuVersion, "./cmd/tofu", tools.tofu)
	buildCached(t, azurermModule, azurermVersion, ".", filepath.Join(tools.providerDir, "terraform-provider-azurerm"))
	return tools
}

// buildCached builds pkg of module@version into out unless out exists. The
// module is fetched with `go mod download` and built in a writable copy of
// its directory: `go install` refuses modules with replace directives, as
// OpenTofu's go.mod has.
func buildCached(t *testing.T, module, version, pkg, out string) {
	t.Helper()
	if _, err := os.Stat(out); err == nil {
		return
	}
	began := time.Now()
	t.Logf("building %s@%s (once; kept in %s)", module, version, filepath.Dir(out))
	var dl struct{ Dir, Error string }
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = t.TempDir() // outside this module: its go.mod must not matter
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	text, err := cmd.Output()
	if jerr := json.Unmarshal(text, &dl); err != nil || jerr != nil || dl.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %v %s", module, version, err, jerr, dl.Error)
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.CopyFS(src, os.DirFS(dl.Dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := out + ".building"
	build := exec.Command("go", "build", "-trimpath", "-o", tmp, pkg)
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=")
	if text, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s@%s: %v\n%s", module, version, err, text)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s in %v", filepath.Base(out), time.Since(began).Round(time.Second))
}

// tofuRunner runs tofu in one working directory as a user would: the
// provider configured only by metadata_host, a service principal and the
// subscription (the example's variables), and azemu's CA in SSL_CERT_FILE.
type tofuRunner struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newTofu(t *testing.T, tools terraformTools, srv *server) *tofuRunner {
	t.Helper()
	dir := t.TempDir()
	examples, err := filepath.Glob("../examples/terraform/*.tf")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example configuration: %v", err)
	}
	for _, f := range examples {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The provider built from source stands in for the registry's, from a
	// filesystem mirror: with dev_overrides alone, init still asks the
	// registry. The build calls itself "dev", so the mirror gives it a
	// version of its own, after the newest release its source follows.
	mirror := filepath.Join(t.TempDir(), "mirror")
	pdir := filepath.Join(mirror, "registry.opentofu.org", "hashicorp", "azurerm", mirrorVersion, "linux_amd64")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tools.providerDir, "terraform-provider-azurerm"), filepath.Join(pdir, "terraform-provider-azurerm")); err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(t.TempDir(), "tofurc")
	rc := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n    include = [\"registry.opentofu.org/hashicorp/azurerm\"]\n  }\n  direct {\n    exclude = [\"registry.opentofu.org/hashicorp/azurerm\"]\n  }\n}\n", mirror)
	if err := os.WriteFile(cli, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.base, "https://")
	env := []string{}
	for _, kv := range os.Environ() {
		// Nothing of the machine's Azure or Terraform setup may leak in.
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "ARM_") || strings.HasPrefix(k, "TF_") || k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"TF_CLI_CONFIG_FILE="+cli,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"TF_LOG=DEBUG",
		"TF_LOG_PATH="+filepath.Join(dir, "tofu.log"),
		"SSL_CERT_FILE="+filepath.Join(srv.dataDir, "tls", "ca.pem"),
		"TF_VAR_azemu_host="+host,
	)
	return &tofuRunner{t: t, bin: tools.tofu, dir: dir, env: env}
}

// try runs one tofu command and returns what it printed and its exit code.
func (tf *tofuRunner) try(args ...string) (string, int) {
	tf.t.Helper()
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf.bin, append(args, "-no-color")...)
	cmd.Dir, cmd.Env = tf.dir, tf.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	tf.t.Logf("%5.1fs tofu %s", time.Since(began).Seconds(), strings.Join(args, " "))
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	tf.t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, out.String())
	return "", -1
}

// run runs a tofu command that must succeed.
func (tf *tofuRunner) run(args ...string) string {
	tf.t.Helper()
	out, code := tf.try(args...)
	if code != 0 {
		tf.t.Fatalf("tofu %s: exit %d\n%s\nthe provider's last requests:\n%s", strings.Join(args, " "), code, out, tf.lastRequests())
	}
	return out
}

// planClean requires a plan with no changes: any drift means a GET answers
// in another shape than the provider wrote.
func (tf *tofuRunner) planClean(vars ...string) {
	tf.t.Helper()
	out, code := tf.try(append([]string{"plan", "-input=false", "-detailed-exitcode"}, vars...)...)
	if code != 0 {
		tf.t.Fatalf("tofu plan: exit %d (2: changes; 1: an error), want no changes:\n%s", code, out)
	}
	if !strings.Contains(out, "No changes.") {
		tf.t.Fatalf("tofu plan said no more than exit 0:\n%s", out)
	}
}

// lastRequests is the end of the debug log: the provider's requests and
// azemu's answers before a failure.
func (tf *tofuRunner) lastRequests() string {
	b, _ := os.ReadFile(filepath.Join(tf.dir, "tofu.log"))
	const keep = 12000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

// outputs reads the configuration's outputs.
func (tf *tofuRunner) outputs() map[string]string {
	tf.t.Helper()
	var raw map[string]struct{ Value any }
	out := tf.run("output", "-json")
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		tf.t.Fatalf("tofu output: %v in %s", err, out)
	}
	got := map[string]string{}
	for k, v := range raw {
		got[k] = fmt.Sprint(v.Value)
	}
	return got
}

// usage is the part of GET /_azemu/billing/usage TestTerraform reads.
type usage struct {
	Value []struct {
		ResourceID          string           `json:"resourceId"`
		Kind                string           `json:"kind"`
		ParentID            string           `json:"parentId"`
		Seconds             int64            `json:"seconds"`
		SecondsByPowerState map[string]int64 `json:"secondsByPowerState"`
		BilledFrom          *time.Time       `json:"billedFrom"`
		BilledTo            *time.Time       `json:"billedTo"`
	} `json:"value"`
}

func (s *server) usage(from time.Time) usage {
	s.t.Helper()
	var u usage
	if code := s.do(http.MethodGet, "/_azemu/billing/usage?from="+url.QueryEscape(from.Format(time.RFC3339Nano)), nil, &u); code != http.StatusOK {
		s.t.Fatalf("billing usage: HTTP %d", code)
	}
	return u
}

// powerState is a VM's PowerState/ code from its instance view.
func (s *server) powerState(vmID string) string {
	s.t.Helper()
	var iv struct{ Statuses []struct{ Code string } }
	if code := s.do(http.MethodGet, vmID+"/instanceView?api-version=2024-07-01", nil, &iv); code != http.StatusOK {
		s.t.Fatalf("instance view of %s: HTTP %d", vmID, code)
	}
	for _, st := range iv.Statuses {
		if p, ok := strings.CutPrefix(st.Code, "PowerState/"); ok {
			return p
		}
	}
	return ""
}

// waitPower waits on the real clock for a VM to reach a power state.
func (s *server) waitPower(vmID, want string) time.Time {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if got := s.powerState(vmID); got == want {
			return s.now()
		} else if time.Now().After(deadline) {
			s.t.Fatalf("%s: power state %q, want %q", vmID, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTerraform applies examples/terraform with OpenTofu and the azurerm
// provider, re-plans it clean, changes it, and destroys it, as a user would
// against Azure. It runs with AZEMU_TERRAFORM set; the first run builds
// tofu and the provider into the cache (see findTerraformTools).
func TestTerraform(t *testing.T) {
	tools := findTerraformTools(t)
	srv := startServer(t, t.TempDir(), "--clock", "real", "--speed", "1000")
	tf := newTofu(t, tools, srv)
	began := srv.now()

	tf.run("init", "-input=false")
	tf.run("apply", "-input=false", "-auto-approve")
	tf.planClean()

	out := tf.outputs()
	webID := out["web_id"]
	if !strings.HasSuffix(webID, "/providers/Microsoft.Compute/virtualMachines/web") {
		t.Fatalf("web_id output: %q", webID)
	}
	if got := srv.powerState(webID); got != "running" {
		t.Fatalf("web after apply: %q, want running", got)
	}

	// The provider does not manage power state: a VM deallocated through
	// the API plans clean, and stops billing compute.
	if code := srv.do(http.MethodPost, webID+"/deallocate?api-version=2024-07-01", nil, nil); code != http.StatusAccepted {
		t.Fatalf("deallocate: HTTP %d", code)
	}
	deallocated := srv.waitPower(webID, "deallocated")
	before := computeSeconds(t, srv.usage(began), webID)
	tf.planClean()
	after := computeSeconds(t, srv.usage(began), webID)
	if before != after || srv.now().Sub(deallocated) < time.Second {
		t.Fatalf("web's billed compute went from %ds to %ds while deallocated", before, after)
	}
	if code := srv.do(http.MethodPost, webID+"/start?api-version=2024-07-01", nil, nil); code != http.StatusAccepted {
		t.Fatalf("start: HTTP %d", code)
	}
	srv.waitPower(webID, "running")

	// A change: resize the Linux VM, scale the Uniform set to 3.
	change := []string{"-var", "web_size=Standard_D4s_v3", "-var", "pool_instances=3"}
	tf.run(append([]string{"apply", "-input=false", "-auto-approve"}, change...)...)
	tf.planClean(change...)
	var vm struct {
		Properties struct{ HardwareProfile struct{ VMSize string } }
	}
	srv.do(http.MethodGet, webID+"?api-version=2024-07-01", nil, &vm)
	if vm.Properties.HardwareProfile.VMSize != "Standard_D4s_v3" {
		t.Fatalf("web's size after the change: %q", vm.Properties.HardwareProfile.VMSize)
	}

	tf.run(append([]string{"destroy", "-input=false", "-auto-approve"}, change...)...)
	destroyed := srv.now()

	// Nothing is left, and the bill shows each VM and disk from its
	// creation to its deletion.
	var left struct{ Value []struct{ ID string } }
	srv.do(http.MethodGet, "/subscriptions/"+defaultSubscription+"/resources?api-version=2021-04-01", nil, &left)
	if len(left.Value) != 0 {
		t.Fatalf("after destroy, resources are left: %v", left.Value)
	}
	var groups struct{ Value []struct{ Name string } }
	srv.do(http.MethodGet, "/subscriptions/"+defaultSubscription+"/resourcegroups?api-version=2021-04-01", nil, &groups)
	if len(groups.Value) != 0 {
		t.Fatalf("after destroy, groups are left: %v", groups.Value)
	}
	bill := srv.usage(began)
	kinds := map[string]int{}
	instances := 0
	for _, it := range bill.Value {
		if it.BilledFrom == nil || it.BilledTo == nil || !it.BilledFrom.Before(*it.BilledTo) || it.BilledTo.After(destroyed) {
			t.Errorf("%s: billed from %v to %v, destroyed at %v", it.ResourceID, it.BilledFrom, it.BilledTo, destroyed)
		}
		kinds[it.Kind]++
		if strings.Contains(strings.ToLower(it.ParentID), "/virtualmachinescalesets/pool") {
			instances++
		}
	}
	// web, win, pool's 3 instances and flex's member; their OS disks and
	// web's data disk.
	if kinds["VM"] < 6 || kinds["Disk"] < 7 || instances < 3 {
		t.Errorf("the bill holds %v line items, %d of pool's instances:\n%+v", kinds, instances, bill.Value)
	}
}

// computeSeconds is how many seconds of compute a VM is billed in a usage
// answer.
func computeSeconds(t *testing.T, u usage, vmID string) int64 {
	t.Helper()
	for _, it := range u.Value {
		if it.Kind == "VM" && strings.EqualFold(it.ResourceID, vmID) {
			return it.Seconds
		}
	}
	t.Fatalf("no compute line for %s in %+v", vmID, u.Value)
	return 0
}

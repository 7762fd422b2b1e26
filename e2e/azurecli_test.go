package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
)

// defaultSubscription is the one az login finds on a fresh server.
const defaultSubscription = "00000000-0000-0000-0000-000000000001"

// azCLI runs Debian's azure-cli against one server, as a user would: its
// own configuration directory, azemu's CA, nothing else changed.
type azCLI struct {
	t   *testing.T
	bin string
	env []string
}

// newAzCLI finds Debian 12's az on PATH; without it the test is skipped,
// or fails under CI.
func newAzCLI(t *testing.T, srv *server) *azCLI {
	t.Helper()
	bin, err := exec.LookPath("az")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("az (Debian's azure-cli) is not installed; .ci/run installs it")
		}
		t.Skip("az (Debian's azure-cli) is not installed")
	}
	return azCLIAt(t, srv, bin)
}

// azCLIAt configures the az at bin for one server: its own configuration
// directory, azemu's CA, nothing else changed.
func azCLIAt(t *testing.T, srv *server, bin string) *azCLI {
	t.Helper()
	dir := t.TempDir()
	env := []string{}
	for _, kv := range os.Environ() {
		// A CA bundle or config dir set on the machine must not leak in.
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AZURE_") || k == "REQUESTS_CA_BUNDLE" || k == "SSL_CERT_FILE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AZURE_CONFIG_DIR="+filepath.Join(dir, "config"),
		"AZURE_EXTENSION_DIR="+filepath.Join(dir, "extensions"),
		"AZURE_CORE_COLLECT_TELEMETRY=false",
		"AZURE_CORE_NO_COLOR=true",
		"REQUESTS_CA_BUNDLE="+filepath.Join(srv.dataDir, "tls", "ca.pem"))
	return &azCLI{t: t, bin: bin, env: env}
}

// run runs one az command and returns its standard output; a failure
// fails the test with what az said.
func (a *azCLI) run(args ...string) string {
	a.t.Helper()
	out, err := a.try(args...)
	if err != nil {
		a.t.Fatalf("az %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (a *azCLI) try(args ...string) (string, error) {
	began := time.Now()
	defer func() { a.t.Logf("%4.1fs az %s", time.Since(began).Seconds(), strings.Join(args, " ")) }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = a.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%v\n%s", err, stderr.String())
	}
	return stdout.String(), nil
}

// json runs an az command with JSON output and decodes it into out.
func (a *azCLI) json(out any, args ...string) {
	a.t.Helper()
	text := a.run(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(text), out); err != nil {
		a.t.Fatalf("az %s: %v in %q", strings.Join(args, " "), err, text)
	}
}

// str runs an az command whose --query picks one string.
func (a *azCLI) str(args ...string) string {
	a.t.Helper()
	var s string
	a.json(&s, args...)
	return s
}

// strs runs an az command whose --query picks a list of strings, sorted.
func (a *azCLI) strs(args ...string) []string {
	a.t.Helper()
	var list []string
	a.json(&list, args...)
	sort.Strings(list)
	return list
}

func same(got []string, want ...string) bool {
	sort.Strings(want)
	return strings.Join(got, ",") == strings.Join(want, ",")
}

// TestAzureCLI drives Debian's Azure CLI (2.45) through sign-in, groups,
// VMs, scale sets, disks, generic resources and the catalog, asserting what
// each command prints. The server runs on the real clock at 1000 times
// Azure's speed, so the CLI waits for its operations as it does on Azure.
func TestAzureCLI(t *testing.T) {
	capacity := filepath.Join(t.TempDir(), "capacity.json")
	if err := os.WriteFile(capacity, []byte(`{"westeurope": {"DSv3": 40}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, t.TempDir(), "--clock", "real", "--speed", "1000", "--capacity", capacity)
	az := newAzCLI(t, srv)
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	start := time.Now()
	defer func() { t.Logf("the Azure CLI test took %v", time.Since(start).Round(time.Second)) }()

	// Sign in: the cloud is registered from the Resource Manager endpoint alone.
	az.run("cloud", "register", "-n", "azemu", "--endpoint-resource-manager", srv.base, "--profile", "2020-09-01-hybrid")
	az.run("cloud", "set", "-n", "azemu")
	var accounts []struct {
		ID, TenantID, State string
		User                struct{ Name, Type string }
	}
	az.json(&accounts, "login", "--service-principal", "-u", "cli-app", "-p", "cli-secret", "--tenant", tenant)
	if len(accounts) != 1 || accounts[0].ID != defaultSubscription || accounts[0].TenantID != tenant ||
		accounts[0].User.Type != "servicePrincipal" || accounts[0].User.Name != "cli-app" {
		t.Fatalf("az login: %+v", accounts)
	}
	var account struct{ ID, EnvironmentName, TenantID string }
	az.json(&account, "account", "show")
	if account.ID != defaultSubscription || account.EnvironmentName != "azemu" || account.TenantID != tenant {
		t.Fatalf("az account show: %+v", account)
	}

	// Resource groups.
	if got := az.str("group", "create", "-n", "cli-rg", "-l", "westeurope", "--query", "properties.provisioningState"); got != "Succeeded" {
		t.Fatalf("group create: %s", got)
	}
	az.run("group", "create", "-n", "cli-gone", "-l", "northeurope")
	if got := az.strs("group", "list", "--query", "[].name"); !same(got, "cli-rg", "cli-gone") {
		t.Fatalf("group list: %v", got)
	}
	if got := az.str("group", "show", "-n", "cli-gone", "--query", "location"); got != "northeurope" {
		t.Fatalf("group show: %s", got)
	}
	az.run("group", "delete", "-n", "cli-gone", "--yes")
	if got := az.strs("group", "list", "--query", "[].name"); !same(got, "cli-rg") {
		t.Fatalf("group list after delete: %v", got)
	}

	// A VM and a Uniform scale set, made with the SDK: az vm create sends a
	// template deployment, which azemu does not serve.
	ctx := context.Background()
	vms, err := armcompute.NewVirtualMachinesClient(defaultSubscription, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	vmPoller, err := vms.BeginCreateOrUpdate(ctx, "cli-rg", "web", linuxVM("westeurope"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vmPoller.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sets, err := armcompute.NewVirtualMachineScaleSetsClient(defaultSubscription, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	setPoller, err := sets.BeginCreateOrUpdate(ctx, "cli-rg", "ss", scaleSet(armcompute.OrchestrationModeUniform, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setPoller.PollUntilDone(ctx, nil); err != nil {
		t.Fatal(err)
	}
	vmID := "/subscriptions/" + defaultSubscription + "/resourceGroups/cli-rg/providers/Microsoft.Compute/virtualMachines/web"

	// VMs.
	if got := az.strs("vm", "list", "-g", "cli-rg", "--query", "[].name"); !same(got, "web") {
		t.Fatalf("vm list: %v", got)
	}
	var shown struct {
		ID              string
		HardwareProfile struct{ VMSize string }
		StorageProfile  struct{ ImageReference struct{ Offer string } }
	}
	az.json(&shown, "vm", "show", "-g", "cli-rg", "-n", "web")
	if shown.ID != vmID || shown.HardwareProfile.VMSize != "Standard_D2s_v3" || shown.StorageProfile.ImageReference.Offer != "ubuntu-24_04-lts" {
		t.Fatalf("vm show: %+v", shown)
	}
	// The power state after each command, read through the REST API (az vm
	// get-instance-view reads the same, once, below).
	power := func() string {
		t.Helper()
		var iv struct{ Statuses []struct{ Code string } }
		if code := srv.do(http.MethodGet, vmID+"/instanceView?api-version=2020-06-01", nil, &iv); code != http.StatusOK {
			t.Fatalf("instance view: HTTP %d", code)
		}
		prov, pw := "", ""
		for _, st := range iv.Statuses {
			if strings.HasPrefix(st.Code, "PowerState/") {
				pw = st.Code
			} else if strings.HasPrefix(st.Code, "ProvisioningState/") {
				prov = st.Code
			}
		}
		if prov != "ProvisioningState/succeeded" {
			t.Fatalf("the command returned at %s %s", prov, pw)
		}
		return pw
	}
	if got := az.strs("vm", "get-instance-view", "-g", "cli-rg", "-n", "web", "--query", "instanceView.statuses[].code"); !same(got, "ProvisioningState/succeeded", "PowerState/running") {
		t.Fatalf("vm get-instance-view: %v", got)
	}
	for _, step := range []struct{ command, want string }{
		{"stop", "PowerState/stopped"},
		{"start", "PowerState/running"},
		{"deallocate", "PowerState/deallocated"},
		{"start", "PowerState/running"},
		{"restart", "PowerState/running"},
	} {
		az.run("vm", step.command, "-g", "cli-rg", "-n", "web")
		if got := power(); got != step.want {
			t.Fatalf("after vm %s: %s, want %s", step.command, got, step.want)
		}
	}
	// The restart went through stopping and starting.
	var history struct {
		Value []struct{ Operation, PowerState string }
	}
	if code := srv.do(http.MethodGet, "/_azemu/vms"+vmID+"/history", nil, &history); code != http.StatusOK {
		t.Fatalf("history: HTTP %d", code)
	}
	restarted := map[string]bool{}
	for _, h := range history.Value {
		if h.Operation == "restart" {
			restarted[h.PowerState] = true
		}
	}
	if !restarted["stopping"] || !restarted["starting"] || !restarted["running"] {
		t.Fatalf("the restart's history: %+v", history)
	}

	// The CLI's GET-modify-PUT, without the image reference.
	if got := az.str("vm", "update", "-g", "cli-rg", "-n", "web", "--set", "tags.x=y", "--query", "tags.x"); got != "y" {
		t.Fatalf("vm update: %s", got)
	}
	if got := az.str("vm", "resize", "-g", "cli-rg", "-n", "web", "--size", "Standard_D4s_v3", "--query", "hardwareProfile.vmSize"); got != "Standard_D4s_v3" {
		t.Fatalf("vm resize: %s", got)
	}
	var model struct {
		Properties struct {
			HardwareProfile struct{ VMSize string }
			StorageProfile  struct{ ImageReference struct{ Offer string } }
		}
	}
	srv.do(http.MethodGet, vmID+"?api-version=2020-06-01", nil, &model)
	if model.Properties.HardwareProfile.VMSize != "Standard_D4s_v3" || model.Properties.StorageProfile.ImageReference.Offer != "ubuntu-24_04-lts" || power() != "PowerState/running" {
		t.Fatalf("after resize: %+v, %s", model, power())
	}

	// Scale sets.
	if got := az.strs("vmss", "list-instances", "-g", "cli-rg", "-n", "ss", "--query", "[].instanceId"); !same(got, "0", "1") {
		t.Fatalf("vmss list-instances: %v", got)
	}
	setID := "/subscriptions/" + defaultSubscription + "/resourceGroups/cli-rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
	var viewed struct {
		VirtualMachine struct {
			StatusesSummary []struct {
				Code  string
				Count int
			}
		}
	}
	az.json(&viewed, "vmss", "get-instance-view", "-g", "cli-rg", "-n", "ss")
	powerCounts := func() map[string]int {
		out := map[string]int{}
		for _, s := range viewed.VirtualMachine.StatusesSummary {
			if strings.HasPrefix(s.Code, "PowerState/") {
				out[s.Code] = s.Count
			}
		}
		return out
	}
	// After each command, the same view through the REST API.
	summary := func() map[string]int {
		t.Helper()
		if code := srv.do(http.MethodGet, setID+"/instanceView?api-version=2020-06-01", nil, &viewed); code != http.StatusOK {
			t.Fatalf("scale set instance view: HTTP %d", code)
		}
		return powerCounts()
	}
	if got := powerCounts(); got["PowerState/running"] != 2 || len(got) != 1 {
		t.Fatalf("vmss get-instance-view: %v", got)
	}
	for _, step := range []struct{ command, want string }{
		{"stop", "PowerState/stopped"},
		{"start", "PowerState/running"},
		{"deallocate", "PowerState/deallocated"},
	} {
		az.run("vmss", step.command, "-g", "cli-rg", "-n", "ss")
		if got := summary(); got[step.want] != 2 || len(got) != 1 {
			t.Fatalf("after vmss %s: %v, want 2 %s", step.command, got, step.want)
		}
	}
	if got := az.str("vmss", "scale", "-g", "cli-rg", "-n", "ss", "--new-capacity", "3", "--query", "to_string(sku.capacity)"); got != "3" {
		t.Fatalf("vmss scale: %s", got)
	}
	if got := summary(); got["PowerState/deallocated"] != 2 || got["PowerState/running"] != 1 {
		t.Fatalf("after vmss scale: %v", got)
	}
	if got := az.str("vmss", "update", "-g", "cli-rg", "-n", "ss", "--set", "tags.team=cli", "--query", "tags.team"); got != "cli" {
		t.Fatalf("vmss update: %s", got)
	}

	// Disks.
	var disk struct {
		DiskSizeGB int `json:"diskSizeGb"`
		SKU        struct{ Name string }
	}
	az.json(&disk, "disk", "create", "-g", "cli-rg", "-n", "data1", "--size-gb", "10", "--sku", "StandardSSD_LRS")
	if disk.DiskSizeGB != 10 || disk.SKU.Name != "StandardSSD_LRS" {
		t.Fatalf("disk create: %+v", disk)
	}
	disks := az.strs("disk", "list", "-g", "cli-rg", "--query", "[].name")
	if len(disks) != 5 || !containsCode(disks, "data1") { // the VM's and three instances' OS disks, and data1
		t.Fatalf("disk list: %v", disks)
	}
	az.run("disk", "delete", "-g", "cli-rg", "-n", "data1", "--yes")
	if code := srv.do(http.MethodGet, "/subscriptions/"+defaultSubscription+"/resourceGroups/cli-rg/providers/Microsoft.Compute/disks/data1?api-version=2019-07-01", nil, nil); code != http.StatusNotFound {
		t.Fatalf("the deleted disk: HTTP %d", code)
	}

	// Generic resources: the api-version comes from provider metadata.
	if got := az.strs("resource", "list", "-g", "cli-rg", "--resource-type", "Microsoft.Compute/virtualMachineScaleSets", "--query", "[].name"); !same(got, "ss") {
		t.Fatalf("resource list --resource-type: %v", got)
	}
	if got := az.strs("resource", "list", "-g", "cli-rg", "--query", "[].type"); len(got) != 6 {
		t.Fatalf("resource list: %v", got) // the VM, the set and four disks
	}
	if got := az.str("resource", "show", "--ids", vmID, "--query", "properties.hardwareProfile.vmSize"); got != "Standard_D4s_v3" {
		t.Fatalf("resource show: %s", got)
	}
	var tags map[string]string
	az.json(&tags, "resource", "tag", "--ids", vmID, "--tags", "env=dev", "--query", "tags")
	if len(tags) != 1 || tags["env"] != "dev" {
		t.Fatalf("resource tag: %v", tags)
	}
	if got := az.strs("resource", "list", "--tag", "env=dev", "--query", "[].id"); !same(got, vmID) {
		t.Fatalf("resource list --tag: %v", got)
	}

	// What Azure offers.
	var sizes []struct {
		Name          string
		NumberOfCores int
		MemoryInMB    int
	}
	az.json(&sizes, "vm", "list-sizes", "-l", "westeurope")
	found := false
	for _, s := range sizes {
		if s.Name == "Standard_D4s_v3" {
			found = s.NumberOfCores == 4 && s.MemoryInMB == 16384
		}
	}
	if !found || len(sizes) < 50 {
		t.Fatalf("vm list-sizes: %d sizes, Standard_D4s_v3 right: %v", len(sizes), found)
	}
	var usage []struct {
		CurrentValue string
		Limit        string
		Name         struct{ Value string }
	}
	az.json(&usage, "vm", "list-usage", "-l", "westeurope")
	got := map[string]string{}
	for _, u := range usage {
		got[u.Name.Value] = u.CurrentValue + "/" + u.Limit
	}
	// web (4 cores) and the new instance (2) run; two instances are deallocated.
	if got["standardDSv3Family"] != "6/40" || got["cores"] != "6/10000" || got["virtualMachineScaleSets"] != "1/2500" {
		t.Fatalf("vm list-usage: %v", got)
	}
	urns := az.strs("vm", "image", "list", "--all", "-l", "westeurope", "--query", "[].urn")
	if !containsPrefix(urns, "Canonical:ubuntu-24_04-lts:server:") || !containsPrefix(urns, "MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2:") ||
		!containsPrefix(urns, "Canonical:UbuntuServer:18.04-LTS:") || len(urns) < 40 {
		t.Fatalf("vm image list --all: %d images: %v", len(urns), urns)
	}

	// The group goes with everything in it.
	az.run("group", "delete", "-n", "cli-rg", "--yes")
	var left struct{ Value []struct{ ID string } }
	srv.do(http.MethodGet, "/subscriptions/"+defaultSubscription+"/resources?api-version=2019-10-01", nil, &left)
	if code := srv.do(http.MethodGet, "/subscriptions/"+defaultSubscription+"/resourceGroups/cli-rg?api-version=2019-10-01", nil, nil); code != http.StatusNotFound || len(left.Value) != 0 {
		t.Fatalf("after group delete: HTTP %d, resources left %v", code, left.Value)
	}
}

func containsCode(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

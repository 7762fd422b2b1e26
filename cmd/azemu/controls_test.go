package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/azemu/azemu/azemutest"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/identity"
	"github.com/azemu/azemu/internal/server"
)

// azemuAt runs the command line against srv, trusting its CA the default
// way: through the data directory the server wrote it to.
func azemuAt(t *testing.T, srv *azemutest.Server, args ...string) (string, error) {
	t.Helper()
	dataDir := filepath.Dir(filepath.Dir(srv.CAFile()))
	var out, errOut bytes.Buffer
	err := run(append(args, "--endpoint", srv.URL(), "--data-dir", dataDir), &out, &errOut)
	return out.String(), err
}

func mustAzemu(t *testing.T, srv *azemutest.Server, args ...string) string {
	t.Helper()
	out, err := azemuAt(t, srv, args...)
	if err != nil {
		t.Fatalf("azemu %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// createVMs creates VMs in group rg through the SDK, without waiting.
func createVMs(t *testing.T, srv *azemutest.Server, rg string, names ...string) *armcompute.VirtualMachinesClient {
	t.Helper()
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		_, err := vms.BeginCreateOrUpdate(ctx, rg, name, armcompute.VirtualMachine{
			Location: to.Ptr("eastus"),
			Properties: &armcompute.VirtualMachineProperties{
				HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypesStandardD2SV3)},
				StorageProfile: &armcompute.StorageProfile{ImageReference: &armcompute.ImageReference{
					Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest")}},
				OSProfile: &armcompute.OSProfile{ComputerName: to.Ptr(name), AdminUsername: to.Ptr("azureuser"), AdminPassword: to.Ptr("Passw0rd!cli")},
				NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
					ID: to.Ptr("/subscriptions/" + srv.SubscriptionID() + "/resourceGroups/" + rg + "/providers/Microsoft.Network/networkInterfaces/" + name)}}},
			},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	return vms
}

// row finds the table row that starts with first, as its fields.
func row(out, first string) string { return fields(out, first) }

func TestClockCommands(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	out := mustAzemu(t, srv, "clock")
	if got := row(out, azemutest.DefaultClockStart.Format(time.RFC3339)); got != "2026-01-01T00:00:00Z manual 1" {
		t.Fatalf("azemu clock:\n%s", out)
	}
	createVMs(t, srv, "rg", "web")
	// Flags may follow the duration.
	out = mustAzemu(t, srv, "clock", "advance", "90s", "--output", "json")
	var clk clockAnswer
	if err := json.Unmarshal([]byte(out), &clk); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if want := azemutest.DefaultClockStart.Add(90 * time.Second); !clk.Now.Equal(want) || !srv.Now().Equal(want) || clk.Mode != "manual" {
		t.Fatalf("after advance 90s: %+v, the server at %s", clk, srv.Now())
	}
	// Every step due in those 90 s fired: the create is over.
	if h := srv.History(srv.VMID("rg", "web")); h[len(h)-1].ProvisioningState != "Succeeded" || h[len(h)-1].PowerState != "running" {
		t.Fatalf("history after 90 s: %+v", h[len(h)-1])
	}
	for _, bad := range [][]string{{"clock", "advance", "soon"}, {"clock", "advance", "-1s"}, {"clock", "advance"}, {"clock", "back"}, {"clock", "--output", "yaml"}} {
		if _, err := azemuAt(t, srv, bad...); err == nil {
			t.Errorf("azemu %v: no error", bad)
		}
	}
	// A real clock cannot be advanced: the server says why.
	real := azemutest.New(t, azemutest.WithRealClock(1))
	if _, err := azemuAt(t, real, "clock", "advance", "1s"); err == nil || !strings.Contains(err.Error(), "real") {
		t.Fatalf("advance of a real clock: %v", err)
	}
}

func TestFaultCommands(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	if out := mustAzemu(t, srv, "faults", "list"); !strings.Contains(out, "No fault") {
		t.Fatalf("no faults:\n%s", out)
	}
	out := mustAzemu(t, srv, "faults", "add", "--operation", "start", "--resource", "web-*", "--error", "AllocationFailed", "--count", "1")
	registered := srv.Faults()
	if len(registered) != 1 || registered[0].Error != "AllocationFailed" || registered[0].Resource != "web-*" || registered[0].Count != 1 {
		t.Fatalf("registered %+v", registered)
	}
	if got := row(out, registered[0].ID); got != registered[0].ID+" error start web-* AllocationFailed 1 -" {
		t.Fatalf("added:\n%s", out)
	}
	mustAzemu(t, srv, "faults", "add", "--kind", "throttle", "--operation", "GET", "--probability", "0.5")
	var listed []map[string]any
	out = mustAzemu(t, srv, "faults", "list", "--output", "json")
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 || listed[1]["kind"] != "throttle" || listed[1]["probability"] != 0.5 {
		t.Fatalf("listed %v (%v):\n%s", listed, err, out)
	}
	// The server's refusal comes back with Azure's code.
	if _, err := azemuAt(t, srv, "faults", "add", "--operation", "start", "--error", "NoSuchError"); err == nil || !strings.Contains(err.Error(), "InvalidParameter") {
		t.Fatalf("an unknown code: %v", err)
	}
	if _, err := azemuAt(t, srv, "faults", "add", "--operation", "start", "--error", "AllocationFailed", "--count", "0"); err == nil {
		t.Fatal("--count 0 taken")
	}
	if out := mustAzemu(t, srv, "faults", "clear", registered[0].ID); !strings.HasPrefix(out, "1 fault(s) removed") {
		t.Fatalf("clear one:\n%s", out)
	}
	if _, err := azemuAt(t, srv, "faults", "clear", registered[0].ID); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("clear of a removed fault: %v", err)
	}
	if out := mustAzemu(t, srv, "faults", "clear"); !strings.HasPrefix(out, "1 fault(s) removed") || len(srv.Faults()) != 0 {
		t.Fatalf("clear all:\n%s\nleft %+v", out, srv.Faults())
	}
}

func TestVMCommandsAndReset(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	vms := createVMs(t, srv, "rg", "web", "batch", "db")
	srv.Advance(2 * time.Minute)
	ctx := context.Background()
	if _, err := vms.BeginPowerOff(ctx, "rg", "batch", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := vms.BeginDeallocate(ctx, "rg", "db", nil); err != nil {
		t.Fatal(err)
	}
	srv.Advance(5 * time.Second)
	out := mustAzemu(t, srv, "vm", "list")
	for name, want := range map[string]string{
		"web":   "web rg Standard_D2s_v3 eastus Succeeded running yes -",
		"batch": "batch rg Standard_D2s_v3 eastus Updating stopping yes powerOff",
		"db":    "db rg Standard_D2s_v3 eastus Updating stopping yes deallocate",
	} {
		if got := row(out, name); got != want {
			t.Errorf("%s: %q, want %q\n%s", name, got, want, out)
		}
	}
	srv.Advance(time.Minute)
	out = mustAzemu(t, srv, "vm", "list")
	if got := row(out, "batch"); got != "batch rg Standard_D2s_v3 eastus Succeeded stopped yes -" {
		t.Errorf("batch, stopped: %q\n%s", got, out)
	}
	if got := row(out, "db"); got != "db rg Standard_D2s_v3 eastus Succeeded deallocated no -" {
		t.Errorf("db, deallocated: %q\n%s", got, out)
	}
	if !strings.Contains(out, "3 VM(s), 2 billed, 1 stopped but still allocated") {
		t.Errorf("summary:\n%s", out)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(mustAzemu(t, srv, "vm", "list", "--output", "json", "--subscription", srv.SubscriptionID(), "--resource-group", "RG")), &listed); err != nil || len(listed) != 3 {
		t.Fatalf("json list: %v %v", listed, err)
	}

	out = mustAzemu(t, srv, "vm", "history", "db")
	if !strings.HasPrefix(out, srv.VMID("rg", "db")) {
		t.Fatalf("history names the VM:\n%s", out)
	}
	// The create's steps, then the deallocate's: 10 s stopping (billed),
	// then 20 s deallocating and deallocated (not billed).
	start := azemutest.DefaultClockStart
	for at, want := range map[time.Duration]string{
		15 * time.Second:               "Creating starting yes create ProvisioningState/creating",
		2 * time.Minute:                "Updating stopping yes deallocate ProvisioningState/updating",
		2*time.Minute + 10*time.Second: "Updating deallocating no deallocate ProvisioningState/updating",
		2*time.Minute + 30*time.Second: "Succeeded deallocated no deallocate ProvisioningState/succeeded",
	} {
		stamp := start.Add(at).Format(time.RFC3339)
		if got := row(out, stamp); got != stamp+" "+want {
			t.Errorf("at %s: %q, want %q", stamp, got, stamp+" "+want)
		}
	}
	var events []map[string]any
	if err := json.Unmarshal([]byte(mustAzemu(t, srv, "vm", "history", srv.VMID("rg", "db"), "--output", "json")), &events); err != nil ||
		len(events) != len(srv.History(srv.VMID("rg", "db"))) {
		t.Fatalf("json history: %d events, %v", len(events), err)
	}
	if _, err := azemuAt(t, srv, "vm", "history", "nosuch"); err == nil || !strings.Contains(err.Error(), "no VM is named") {
		t.Fatalf("history of an unknown VM: %v", err)
	}
	createVMs(t, srv, "other", "web")
	if _, err := azemuAt(t, srv, "vm", "history", "web"); err == nil || !strings.Contains(err.Error(), "2 VMs are named") {
		t.Fatalf("history of an ambiguous name: %v", err)
	}
	if out := mustAzemu(t, srv, "vm", "history", "web", "--resource-group", "other", "--subscription", srv.SubscriptionID()); !strings.HasPrefix(out, srv.VMID("other", "web")) {
		t.Fatalf("history with its group:\n%s", out)
	}

	if out := mustAzemu(t, srv, "reset"); !strings.Contains(out, "All state is gone") {
		t.Fatalf("reset:\n%s", out)
	}
	if out := mustAzemu(t, srv, "vm", "list"); !strings.HasPrefix(out, "No VM.") {
		t.Fatalf("after reset:\n%s", out)
	}
}

// Without the server's CA nothing is sent.
func TestControlsNeedTheCA(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	var out, errOut bytes.Buffer
	err := run([]string{"clock", "--endpoint", srv.URL(), "--data-dir", t.TempDir()}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--ca") {
		t.Fatalf("without the CA: %v", err)
	}
	if err := run([]string{"clock", "--endpoint", srv.URL(), "--ca", srv.CAFile()}, &out, &errOut); err != nil {
		t.Fatalf("with --ca: %v", err)
	}
}

// A server in the strict mode takes the controls only from a principal
// that may use them: the command line signs in with --client-id and
// --client-secret through the server's own token service.
func TestControlsSignInToAStrictServer(t *testing.T) {
	t.Parallel()
	dir, err := authz.ParseDirectory([]byte(`{"principals": [
		{"name": "ops", "clientId": "ops-app", "clientSecret": "ops-secret", "admin": true},
		{"name": "ci", "clientId": "ci-app", "clientSecret": "ci-secret",
		 "roles": [{"role": "Contributor", "scope": "/subscriptions/00000000-0000-0000-0000-000000000001"}]}]}`), identity.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	srv, err := server.Start(context.Background(), server.Config{Listen: "127.0.0.1:0", DataDir: dataDir,
		ManualStart: azemutest.DefaultClockStart, Principals: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	azemu := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(append(args, "--endpoint", srv.URL(), "--data-dir", dataDir), &out, &errOut)
		return out.String(), err
	}
	if _, err := azemu("clock", "advance", "1m"); err == nil || !strings.Contains(err.Error(), "AuthenticationFailed") {
		t.Fatalf("without signing in: %v", err)
	}
	if _, err := azemu("reset", "--client-id", "ci-app", "--client-secret", "ci-secret"); err == nil || !strings.Contains(err.Error(), "AuthorizationFailed") {
		t.Fatalf("a Contributor resetting the emulator: %v", err)
	}
	if _, err := azemu("reset", "--client-id", "ops-app", "--client-secret", "wrong"); err == nil {
		t.Fatal("a wrong secret signed in")
	}
	if _, err := azemu("reset", "--client-id", "ops-app"); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("a client ID without its secret: %v", err)
	}
	out, err := azemu("clock", "advance", "1m", "--client-id", "ops-app", "--client-secret", "ops-secret")
	if err != nil {
		t.Fatalf("the admin: %v", err)
	}
	if got := row(out, "2026-01-01T00:01:00Z"); got != "2026-01-01T00:01:00Z manual 1" {
		t.Fatalf("the admin's advance:\n%s", out)
	}
	if _, err := azemu("faults", "list", "--client-id", "ops-app", "--client-secret", "ops-secret"); err != nil {
		t.Fatalf("the admin's faults list: %v", err)
	}
}

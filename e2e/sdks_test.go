package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sdkRun is what e2e/js/lifecycle.mjs and e2e/python/lifecycle.py print:
// the statuses they read through their SDK after each step.
type sdkRun struct {
	VM struct {
		ProvisioningState string   `json:"provisioningState"`
		Created           []string `json:"created"`
		PoweredOff        []string `json:"poweredOff"`
		Started           []string `json:"started"`
		Restarted         []string `json:"restarted"`
		Deallocated       []string `json:"deallocated"`
		StartedAgain      []string `json:"startedAgain"`
		AfterFailure      []string `json:"afterFailure"`
	} `json:"vm"`
	ScaleSet struct {
		ProvisioningState string         `json:"provisioningState"`
		Instances         []string       `json:"instances"`
		Created           map[string]int `json:"created"`
		PoweredOff        map[string]int `json:"poweredOff"`
		Started           map[string]int `json:"started"`
		Restarted         map[string]int `json:"restarted"`
		Deallocated       map[string]int `json:"deallocated"`
	} `json:"scaleSet"`
	StatusOnly map[string][]string `json:"statusOnly"`
	Refused    sdkError            `json:"refused"`
	Failed     sdkError            `json:"failed"`
	Remaining  []string            `json:"remaining"`
}

type sdkError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TestSDKLifecycles runs the same lifecycle through the JS SDK (the current
// major of @azure/arm-compute and 22.x) and the Python SDK (Debian's
// azure-mgmt-compute 29): a VM and a Uniform scale set are created, their
// instance views and listAll(statusOnly) read, every power action run
// through the SDK's poller, a refused operation (restart of a deallocated
// VM) and a failed one (a fault fails a redeploy) reported as each SDK
// reports them. The server runs a real clock at 1000 times Azure's speed,
// so each step ends within the first poll.
func TestSDKLifecycles(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--clock", "real", "--speed", "1000")
	ca := filepath.Join(srv.dataDir, "tls", "ca.pem")
	runs := []struct {
		name, sub string
		cmd       func(t *testing.T) *exec.Cmd
	}{
		{"js-current", "1a1a1a1a-0000-4000-8000-000000000001", func(t *testing.T) *exec.Cmd {
			return exec.Command(nodeWithAzure(t), filepath.Join("js", "lifecycle.mjs"), srv.base, "@azure/arm-compute", "1a1a1a1a-0000-4000-8000-000000000001")
		}},
		{"js-22", "1a1a1a1a-0000-4000-8000-000000000002", func(t *testing.T) *exec.Cmd {
			return exec.Command(nodeWithAzure(t), filepath.Join("js", "lifecycle.mjs"), srv.base, "arm-compute-22", "1a1a1a1a-0000-4000-8000-000000000002")
		}},
		{"python", "1a1a1a1a-0000-4000-8000-000000000003", func(t *testing.T) *exec.Cmd {
			return exec.Command(pythonWithAzure(t), filepath.Join("python", "lifecycle.py"), srv.base, "1a1a1a1a-0000-4000-8000-000000000003")
		}},
	}
	t.Run("sdks", func(t *testing.T) {
		for _, run := range runs {
			sdkLifecycle(t, srv, run.name, run.sub, ca, run.cmd)
		}
	})
	// The default (info) log has one line per state change.
	for _, want := range []string{"virtualMachines/web provisioning=ProvisioningState/succeeded power=deallocated operation=deallocate",
		"virtualMachines/web provisioning=ProvisioningState/updating power=stopping operation=powerOff"} {
		if !strings.Contains(srv.logText(), `msg="state change" resource=/subscriptions/1a1a1a1a-0000-4000-8000-000000000003/resourceGroups/rg-py/providers/Microsoft.Compute/`+want) {
			t.Errorf("no state change line %q in the log:\n%s", want, srv.logText())
		}
	}
}

func sdkLifecycle(t *testing.T, srv *server, name, sub, ca string, command func(*testing.T) *exec.Cmd) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		cmd := command(t)
		// The fault fails this subscription's next redeploy of web.
		fault := map[string]any{"operation": "redeploy", "error": "AllocationFailed", "count": 1,
			"resource": "/subscriptions/" + sub + "/resourceGroups/*/providers/Microsoft.Compute/virtualMachines/web"}
		if code := srv.do(http.MethodPost, "/_azemu/faults", fault, nil); code != http.StatusCreated {
			t.Fatalf("registering the fault: HTTP %d", code)
		}
		// The clients' own CA variables, overriding any the machine sets.
		cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+ca, "NODE_EXTRA_CA_CERTS="+ca, "SSL_CERT_FILE="+ca)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		var got sdkRun
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("%v in %q (stderr %s)", err, stdout.String(), stderr.String())
		}
		checkSDKRun(t, got)
	})
}

func checkSDKRun(t *testing.T, got sdkRun) {
	t.Helper()
	running := []string{"ProvisioningState/succeeded", "PowerState/running"}
	setOf := func(power string) map[string]int {
		return map[string]int{"ProvisioningState/succeeded": 2, "PowerState/" + power: 2}
	}
	same := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	vm := got.VM
	same("VM provisioningState", vm.ProvisioningState, "Succeeded")
	same("VM created", vm.Created, running)
	same("VM poweredOff", vm.PoweredOff, []string{"ProvisioningState/succeeded", "PowerState/stopped"})
	same("VM started", vm.Started, running)
	same("VM restarted", vm.Restarted, running)
	same("VM deallocated", vm.Deallocated, []string{"ProvisioningState/succeeded", "PowerState/deallocated"})
	same("VM started again", vm.StartedAgain, running)
	// AllocationFailed fails a redeploy as it deallocates.
	same("VM after the failed redeploy", vm.AfterFailure, []string{"ProvisioningState/failed/AllocationFailed", "PowerState/deallocating"})
	same("listAll(statusOnly)", got.StatusOnly, map[string][]string{"web": running})

	set := got.ScaleSet
	same("scale set provisioningState", set.ProvisioningState, "Succeeded")
	same("scale set instances", set.Instances, []string{"0", "1"})
	same("scale set created", set.Created, setOf("running"))
	same("scale set poweredOff", set.PoweredOff, setOf("stopped"))
	same("scale set started", set.Started, setOf("running"))
	same("scale set restarted", set.Restarted, setOf("running"))
	same("scale set deallocated", set.Deallocated, setOf("deallocated"))

	if got.Refused.Status != http.StatusConflict || got.Refused.Code != "OperationNotAllowed" ||
		!strings.Contains(got.Refused.Message, "deallocated") {
		t.Errorf("restart of a deallocated VM: %+v, want 409 OperationNotAllowed", got.Refused)
	}
	// The SDKs report a failed operation differently: Python with the
	// operation's error code, JS with the code in the poller's message.
	if !strings.Contains(got.Failed.Message, "AllocationFailed") || (got.Failed.Code != "" && got.Failed.Code != "AllocationFailed") {
		t.Errorf("failed redeploy: %+v, want AllocationFailed", got.Failed)
	}
	same("VMs left after the deletes", len(got.Remaining), 0)
}

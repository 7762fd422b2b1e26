package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/azemu/azemu/internal/pgtest"
)

const replicasRG = "rg-replicas"

// replicaCommand is one step of the replicas test: an SDK call through the
// replica `via`, or a clock advance through it.
type replicaCommand struct {
	via     int
	verb    string // group, create, start, powerOff, deallocate, delete, setStart, setPowerOff, setDeallocate, advance
	name    string
	advance time.Duration
}

// outcome is what a command got: its HTTP status and error code, and the
// URL of the operation it started.
type outcome struct {
	status int
	code   string
	op     string
}

// replicaVM is a VM of the replicas test's group, with an interface of its own.
func replicaVM(name string) armcompute.VirtualMachine {
	v := linuxVM("westeurope")
	v.Properties.OSProfile.ComputerName = ptr(name)
	v.Properties.NetworkProfile.NetworkInterfaces[0].ID = ptr("/subscriptions/" + subscriptionID + "/resourceGroups/" + replicasRG +
		"/providers/Microsoft.Network/networkInterfaces/" + name)
	return v
}

// replicaCommands draws the commands: a group and a scale set, then VM
// creates, power actions, deletes and the set's batch actions on random
// targets through random replicas, with the clock advanced through random
// replicas in between.
func replicaCommands(rng *rand.Rand, n int) []replicaCommand {
	cmds := []replicaCommand{{via: 0, verb: "group"}, {via: 1, verb: "createSet", name: "set"}}
	var names []string
	for i := 0; len(cmds) < n; i++ {
		via := rng.IntN(3)
		switch r := rng.IntN(10); {
		case r < 2 || len(names) == 0:
			name := fmt.Sprintf("vm%d", i)
			names = append(names, name)
			cmds = append(cmds, replicaCommand{via: via, verb: "create", name: name})
		case r < 6:
			verbs := []string{"start", "powerOff", "deallocate", "delete"}
			cmds = append(cmds, replicaCommand{via: via, verb: verbs[rng.IntN(len(verbs))], name: names[rng.IntN(len(names))]})
		case r < 7:
			verbs := []string{"setStart", "setPowerOff", "setDeallocate"}
			cmds = append(cmds, replicaCommand{via: via, verb: verbs[rng.IntN(len(verbs))], name: "set"})
		default:
			cmds = append(cmds, replicaCommand{via: via, verb: "advance", advance: time.Duration(3+rng.IntN(60)) * time.Second})
		}
	}
	return cmds
}

// sdkClients are one replica's SDK clients.
type sdkClients struct {
	srv    *server
	groups *armresources.ResourceGroupsClient
	vms    *armcompute.VirtualMachinesClient
	sets   scaleSetClients
}

func clientsOf(t *testing.T, srv *server) sdkClients {
	f := newFleet(t, srv)
	return sdkClients{srv: srv, groups: f.groups, vms: f.vms, sets: newScaleSetClients(t, srv)}
}

// run sends one command through c and returns what it got.
func (c sdkClients) run(t *testing.T, cmd replicaCommand) outcome {
	t.Helper()
	if cmd.verb == "advance" {
		c.srv.advance(cmd.advance)
		return outcome{status: http.StatusOK}
	}
	var resp *http.Response
	ctx := policy.WithCaptureResponse(context.Background(), &resp)
	var err error
	switch cmd.verb {
	case "group":
		_, err = c.groups.CreateOrUpdate(ctx, replicasRG, armresources.ResourceGroup{Location: ptr("westeurope")}, nil)
	case "create":
		_, err = c.vms.BeginCreateOrUpdate(ctx, replicasRG, cmd.name, replicaVM(cmd.name), nil)
	case "start":
		_, err = c.vms.BeginStart(ctx, replicasRG, cmd.name, nil)
	case "powerOff":
		_, err = c.vms.BeginPowerOff(ctx, replicasRG, cmd.name, nil)
	case "deallocate":
		_, err = c.vms.BeginDeallocate(ctx, replicasRG, cmd.name, nil)
	case "delete":
		_, err = c.vms.BeginDelete(ctx, replicasRG, cmd.name, nil)
	case "createSet":
		_, err = c.sets.sets.BeginCreateOrUpdate(ctx, replicasRG, cmd.name, scaleSet(armcompute.OrchestrationModeUniform, 2), nil)
	case "setStart":
		_, err = c.sets.sets.BeginStart(ctx, replicasRG, cmd.name, nil)
	case "setPowerOff":
		_, err = c.sets.sets.BeginPowerOff(ctx, replicasRG, cmd.name, nil)
	case "setDeallocate":
		_, err = c.sets.sets.BeginDeallocate(ctx, replicasRG, cmd.name, nil)
	default:
		t.Fatalf("no command %q", cmd.verb)
	}
	var re *azcore.ResponseError
	switch {
	case errors.As(err, &re):
		return outcome{status: re.StatusCode, code: re.ErrorCode}
	case err != nil:
		t.Fatalf("%s %s through replica %d: %v", cmd.verb, cmd.name, cmd.via, err)
	}
	out := outcome{status: resp.StatusCode, op: resp.Header.Get("Azure-AsyncOperation")}
	if i := strings.Index(out.op, "/subscriptions/"); i >= 0 {
		out.op = out.op[i:] // the same operation through any replica
	}
	return out
}

// The acceptance test of replicas: PostgreSQL and three azemu processes
// serving one fleet, the Go SDK sending random commands through all three,
// one replica SIGKILLed with plans in flight and restarted later. Then:
// every command got what one server gives it (the same commands run
// against one server on SQLite), every acknowledged write is there, every
// history is the one server's (each step once, at its due time), no
// operation is left InProgress, and the bill is the one server's.
func TestReplicasServeOneFleet(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	cmds := replicaCommands(rand.New(rand.NewPCG(seed, seed)), 70)
	store := pgtest.Database(t)

	// Three replicas sharing the first's CA and keys, as docs/replicas.md
	// starts them.
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	first := startServer(t, dirs[0], "--store", store)
	for _, dir := range dirs[1:] {
		for _, sub := range []string{"tls", "identity"} {
			if out, err := exec.Command("cp", "-r", filepath.Join(dirs[0], sub), dir+"/").CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
		}
	}
	replicas := []sdkClients{clientsOf(t, first)}
	for _, dir := range dirs[1:] {
		replicas = append(replicas, clientsOf(t, startServer(t, dir, "--store", store)))
	}

	// The one server the replicas must agree with.
	one := clientsOf(t, startServer(t, t.TempDir()))
	var want []outcome
	for _, cmd := range cmds {
		want = append(want, one.run(t, cmd))
	}
	one.srv.advance(2 * time.Hour)

	// The replicas; the third is killed after a third of the commands,
	// right after it started a plan, and restarted after two thirds.
	killAt, restartAt := len(cmds)/3, 2*len(cmds)/3
	for killAt < len(cmds) && (cmds[killAt].via != 2 || cmds[killAt].verb == "advance") {
		killAt++
	}
	down := false
	var acked []string // operations acknowledged
	for i, cmd := range cmds {
		if i == restartAt && down {
			replicas[2] = clientsOf(t, startServer(t, dirs[2], "--store", store))
			down = false
		}
		via := cmd.via
		if down && via == 2 {
			via = i % 2
		}
		got := replicas[via].run(t, cmd)
		if got.status != want[i].status || got.code != want[i].code {
			t.Errorf("command %d, %s %s through replica %d: HTTP %d %s; one server answers HTTP %d %s",
				i, cmd.verb, cmd.name, via, got.status, got.code, want[i].status, want[i].code)
		}
		if got.op != "" {
			acked = append(acked, got.op)
		}
		if i == killAt {
			replicas[2].srv.kill()
			down = true
			t.Logf("replica 2 killed after command %d (%s %s)", i, cmd.verb, cmd.name)
		}
	}
	if down {
		replicas[2] = clientsOf(t, startServer(t, dirs[2], "--store", store))
	}
	replicas[1].srv.advance(2 * time.Hour)

	// Every replica answers what the one server answers.
	wantBill := billOf(t, one.srv)
	for r, c := range replicas {
		s := c.srv
		if got := billOf(t, s); got.text != wantBill.text {
			t.Errorf("replica %d's bill:\n%s\none server's:\n%s", r, got.text, wantBill.text)
		}
		for _, id := range wantBill.vms {
			if strings.Contains(id, "/virtualMachineScaleSets/") {
				continue // the history endpoint takes VMs; the bill covers instances
			}
			got, exp := historyOf(t, s, id), historyOf(t, one.srv, id)
			if got != exp {
				t.Errorf("replica %d, history of %s:\n%s\none server's:\n%s", r, id, got, exp)
			}
			checkHistory(t, s, id)
		}
		for _, cmd := range cmds {
			if cmd.verb == "create" {
				code := s.do(http.MethodGet, "/subscriptions/"+subscriptionID+"/resourceGroups/"+replicasRG+
					"/providers/Microsoft.Compute/virtualMachines/"+cmd.name+"?api-version=2025-04-01", nil, nil)
				exp := one.srv.do(http.MethodGet, "/subscriptions/"+subscriptionID+"/resourceGroups/"+replicasRG+
					"/providers/Microsoft.Compute/virtualMachines/"+cmd.name+"?api-version=2025-04-01", nil, nil)
				if code != exp {
					t.Errorf("replica %d, GET %s: HTTP %d; one server: HTTP %d", r, cmd.name, code, exp)
				}
			}
		}
		for _, op := range acked {
			var st struct {
				Status string `json:"status"`
			}
			if code := s.do(http.MethodGet, op, nil, &st); code != http.StatusOK || st.Status == "" || st.Status == "InProgress" {
				t.Errorf("replica %d, acknowledged operation %s: HTTP %d %q", r, op, code, st.Status)
			}
		}
		var health struct {
			Fleet struct {
				OperationsInProgress int `json:"operationsInProgress"`
			} `json:"fleet"`
		}
		if code := s.do(http.MethodGet, "/_azemu/health", nil, &health); code != http.StatusOK || health.Fleet.OperationsInProgress != 0 {
			t.Errorf("replica %d: HTTP %d, %d operations in progress", r, code, health.Fleet.OperationsInProgress)
		}
	}
	t.Logf("%d commands, %d operations acknowledged, %d VMs' histories and bills compared on three replicas", len(cmds), len(acked), len(wantBill.vms))
}

// bill is the usage endpoint's bill by VM, as text, and the VMs it names.
type bill struct {
	text string
	vms  []string
}

func billOf(t *testing.T, s *server) bill {
	t.Helper()
	var usage struct {
		Bill struct {
			VMs []struct {
				ResourceID string          `json:"resourceId"`
				Name       string          `json:"name"`
				Total      json.RawMessage `json:"total"`
				Compute    json.RawMessage `json:"compute"`
			} `json:"vms"`
		} `json:"bill"`
	}
	if code := s.do(http.MethodGet, "/_azemu/billing/usage", nil, &usage); code != http.StatusOK {
		t.Fatalf("usage: HTTP %d", code)
	}
	var b bill
	var lines []string
	for _, v := range usage.Bill.VMs {
		b.vms = append(b.vms, v.ResourceID)
		lines = append(lines, fmt.Sprintf("%s compute %s total %s", v.ResourceID, v.Compute, v.Total))
	}
	b.text = strings.Join(lines, "\n")
	return b
}

// historyOf is a VM's history as text: each step's time, code and power
// state (operation IDs differ from server to server).
func historyOf(t *testing.T, s *server, id string) string {
	t.Helper()
	var out struct {
		Value []historyEvent `json:"value"`
	}
	code := s.do(http.MethodGet, "/_azemu/vms"+id+"/history", nil, &out)
	var lines []string
	for _, e := range out.Value {
		lines = append(lines, fmt.Sprintf("%s %s %s", e.Time.Format(time.RFC3339Nano), e.Code, e.PowerState))
	}
	return fmt.Sprintf("HTTP %d\n%s", code, strings.Join(lines, "\n"))
}

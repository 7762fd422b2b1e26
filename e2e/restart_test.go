package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/azemu/azemu/internal/pgtest"
)

type historyEvent struct {
	Seq               int64     `json:"seq"`
	Time              time.Time `json:"time"`
	ProvisioningState string    `json:"provisioningState"`
	Code              string    `json:"code"`
	PowerState        string    `json:"powerState"`
	OperationID       string    `json:"operationId"`
	Operation         string    `json:"operation"`
}

func (s *server) history(vmID string) []historyEvent {
	s.t.Helper()
	var out struct {
		Value []historyEvent `json:"value"`
	}
	if code := s.do(http.MethodGet, "/_azemu/vms"+vmID+"/history", nil, &out); code != http.StatusOK {
		s.t.Fatalf("history: HTTP %d", code)
	}
	return out.Value
}

func (s *server) now() time.Time {
	s.t.Helper()
	var out struct {
		Now time.Time `json:"now"`
	}
	if code := s.do(http.MethodGet, "/_azemu/clock", nil, &out); code != http.StatusOK {
		s.t.Fatalf("clock: HTTP %d", code)
	}
	return out.Now
}

// A SIGKILL in the middle of a transition loses nothing: the restarted
// server shows the same state at the same instant, finishes the plan on
// schedule, and the history holds every step exactly once.
func TestKillMidTransitionResumes(t *testing.T) {
	dir := t.TempDir()
	killMidTransition(t, func() string { return dir })
}

// The same on a PostgreSQL store. Each restart gets a new, empty data dir,
// so what it resumes can only come from the database; and the killed
// server's session ends with it, so the restarted one claims the database
// at once.
func TestKillMidTransitionResumesOnPostgres(t *testing.T) {
	killMidTransition(t, t.TempDir, "--store", pgtest.Database(t))
}

// killMidTransition runs the scenario, restarting each time with dataDir()
// and the extra flags.
func killMidTransition(t *testing.T, dataDir func() string, extra ...string) {
	srv := startServer(t, dataDir(), extra...)
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg, vm = "rg-e2e", "vm1"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.vms.BeginCreateOrUpdate(ctx, rg, vm, linuxVM("westeurope"), nil); err != nil {
		t.Fatal(err)
	}
	start := srv.now()
	srv.advance(45 * time.Second) // 10 s into OS provisioning
	f.expect(rg, vm, osInProgress, pwRunning)
	srv.kill()

	srv = startServer(t, dataDir(), extra...)
	f = newFleet(t, srv)
	if got := srv.now(); !got.Equal(start.Add(45 * time.Second)) {
		t.Fatalf("clock after restart: %v, want %v", got, start.Add(45*time.Second))
	}
	f.expect(rg, vm, osInProgress, pwRunning)
	srv.advance(30 * time.Second)
	f.expect(rg, vm, osComplete, pwRunning)
	srv.advance(5 * time.Second)
	f.expect(rg, vm, succeeded, pwRunning)

	// A second kill, during a deallocation.
	if _, err := f.vms.BeginDeallocate(ctx, rg, vm, nil); err != nil {
		t.Fatal(err)
	}
	srv.advance(12 * time.Second)
	f.expect(rg, vm, updating, pwDeallocing)
	srv.kill()

	srv = startServer(t, dataDir(), extra...)
	f = newFleet(t, srv)
	f.expect(rg, vm, updating, pwDeallocing)
	srv.advance(18 * time.Second)
	f.expect(rg, vm, succeeded, pwDeallocated)

	id := "/subscriptions/" + subscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + vm
	type step struct {
		at    time.Duration
		code  string
		power string
	}
	want := []step{
		{0, "ProvisioningState/creating", ""},
		{15 * time.Second, "ProvisioningState/creating", "starting"},
		{35 * time.Second, "ProvisioningState/creating/osProvisioningInProgress", "running"},
		{75 * time.Second, "ProvisioningState/creating/osProvisioningComplete", "running"},
		{80 * time.Second, "ProvisioningState/succeeded", "running"},
		{80 * time.Second, "ProvisioningState/updating", "stopping"},
		{90 * time.Second, "ProvisioningState/updating", "deallocating"},
		{110 * time.Second, "ProvisioningState/succeeded", "deallocated"},
	}
	got := srv.history(id)
	if len(got) != len(want) {
		t.Fatalf("history has %d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if !g.Time.Equal(start.Add(w.at)) || g.Code != w.code || g.PowerState != w.power {
			t.Errorf("event %d: %s %s %s, want +%s %s %s", i, g.Time.Sub(start), g.Code, g.PowerState, w.at, w.code, w.power)
		}
		if i > 0 && g.Seq <= got[i-1].Seq {
			t.Errorf("event %d: seq %d not after %d", i, g.Seq, got[i-1].Seq)
		}
	}
	srv.stop()
}

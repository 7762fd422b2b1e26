package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcehealth/armresourcehealth"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/azemu/azemu/internal/lifecycle"
)

// addFault registers a fault through POST /_azemu/faults and returns its ID.
func (s *server) addFault(body map[string]any) string {
	s.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if code := s.do(http.MethodPost, "/_azemu/faults", body, &out); code != http.StatusCreated || out.ID == "" {
		s.t.Fatalf("POST /_azemu/faults %v: HTTP %d, id %q", body, code, out.ID)
	}
	return out.ID
}

// faultCount is how many faults are registered.
func (s *server) faultCount() int {
	s.t.Helper()
	var out struct {
		Value []json.RawMessage `json:"value"`
	}
	if code := s.do(http.MethodGet, "/_azemu/faults", nil, &out); code != http.StatusOK {
		s.t.Fatalf("GET /_azemu/faults: HTTP %d", code)
	}
	return len(out.Value)
}

// use points the server's helpers at subtest t until it ends: a subtest
// must not fail its parent.
func (s *server) use(t *testing.T) {
	old := s.t
	s.t = t
	t.Cleanup(func() { s.t = old })
}

// pollFn waits for a long-running operation the clock has already
// finished: with PollUntilDone, as a user would, or (untilDone false)
// with Poll and Result, which skip PollUntilDone's initial wait of
// Retry-After (1 s) and so keep the setup steps quick.
type pollFn func(untilDone bool) error

func lro[T any](p *runtime.Poller[T], err error) (pollFn, error) {
	if err != nil {
		return nil, err
	}
	return func(untilDone bool) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if untilDone {
			_, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
			return err
		}
		for i := 0; !p.Done(); i++ {
			if i == 3 {
				return errors.New("the operation is still running after the clock passed its end")
			}
			if _, err := p.Poll(ctx); err != nil {
				return err
			}
		}
		_, err := p.Result(ctx)
		return err
	}, nil
}

// vmAction starts an operation on a VM through the SDK.
type vmAction struct {
	name string
	run  func(f *fleet, rg, vm string) (pollFn, error)
}

var (
	createVM = vmAction{"create", func(f *fleet, rg, vm string) (pollFn, error) {
		return lro(f.vms.BeginCreateOrUpdate(context.Background(), rg, vm, linuxVM("westeurope"), nil))
	}}
	startVM = vmAction{"start", func(f *fleet, rg, vm string) (pollFn, error) {
		return lro(f.vms.BeginStart(context.Background(), rg, vm, nil))
	}}
	powerOffVM = vmAction{"powerOff", func(f *fleet, rg, vm string) (pollFn, error) {
		return lro(f.vms.BeginPowerOff(context.Background(), rg, vm, nil))
	}}
	deallocateVM = vmAction{"deallocate", func(f *fleet, rg, vm string) (pollFn, error) {
		return lro(f.vms.BeginDeallocate(context.Background(), rg, vm, nil))
	}}
)

// run starts the action, moves the clock by d and returns what the
// poller's PollUntilDone returns.
func (f *fleet) run(a vmAction, rg, vm string, d time.Duration) error {
	f.t.Helper()
	return f.start(a, rg, vm, d)(true)
}

func (f *fleet) start(a vmAction, rg, vm string, d time.Duration) pollFn {
	f.t.Helper()
	poll, err := a.run(f, rg, vm)
	if err != nil {
		f.t.Fatalf("%s %s: %v", a.name, vm, err)
	}
	f.srv.advance(d)
	return poll
}

// mustRun runs an action that must succeed.
func (f *fleet) mustRun(a vmAction, rg, vm string, d time.Duration) {
	f.t.Helper()
	if err := f.start(a, rg, vm, d)(false); err != nil {
		f.t.Fatalf("%s %s: %v", a.name, vm, err)
	}
}

// provisioningAndPower reads the instance view through the SDK: its
// provisioning status and its power code ("" when it shows none).
func (f *fleet) provisioningAndPower(rg, vm string) (*armcompute.InstanceViewStatus, string) {
	f.t.Helper()
	iv, err := f.vms.InstanceView(context.Background(), rg, vm, nil)
	if err != nil {
		f.t.Fatalf("instance view of %s: %v", vm, err)
	}
	var prov *armcompute.InstanceViewStatus
	power := ""
	for _, s := range iv.Statuses {
		switch {
		case strings.HasPrefix(*s.Code, "ProvisioningState/"):
			prov = s
		case strings.HasPrefix(*s.Code, "PowerState/"):
			power = *s.Code
		}
	}
	if prov == nil {
		f.t.Fatalf("instance view of %s has no provisioning status", vm)
	}
	return prov, power
}

// expectFailed checks that err is the SDK's ResponseError with code, and
// that the VM shows the failure as Azure does, with the power state left.
func (f *fleet) expectFailed(err error, rg, vm, code, power string) {
	f.t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.ErrorCode != code {
		f.t.Fatalf("poller: want a ResponseError %s, got %v", code, err)
	}
	prov, pw := f.provisioningAndPower(rg, vm)
	msg, _ := lifecycle.FaultMessage(code, vm)
	if *prov.Code != "ProvisioningState/failed/"+code || prov.Level == nil || *prov.Level != armcompute.StatusLevelTypesError ||
		prov.DisplayStatus == nil || *prov.DisplayStatus != "Provisioning failed" || prov.Message == nil || *prov.Message != msg {
		f.t.Fatalf("provisioning status: code %s level %v display %v message %v; want failed/%s, Error, %q",
			*prov.Code, deref(prov.Level), deref(prov.DisplayStatus), deref(prov.Message), code, msg)
	}
	if pw != power {
		f.t.Fatalf("power state after %s: %q, want %q", code, pw, power)
	}
	got, err := f.vms.Get(context.Background(), rg, vm, nil)
	if err != nil || *got.Properties.ProvisioningState != "Failed" {
		f.t.Fatalf("GET after %s: %v %v", code, err, got.Properties)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// expectState checks the VM's provisioning code and power code.
func (f *fleet) expectState(rg, vm, prov, power string) {
	f.t.Helper()
	p, pw := f.provisioningAndPower(rg, vm)
	if *p.Code != prov || pw != power {
		f.t.Fatalf("%s: %s %q, want %s %q", vm, *p.Code, pw, prov, power)
	}
}

const (
	running     = "PowerState/running"
	starting    = "PowerState/starting"
	stopping    = "PowerState/stopping"
	deallocated = "PowerState/deallocated"
	okState     = "ProvisioningState/succeeded"
)

// TestInjectedFaultsWithSDK injects each failure code the lifecycle knows
// where Azure meets it, and follows it through the SDK: the poller's
// error, the instance view, and a retry once the fault is gone.
func TestInjectedFaultsWithSDK(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg = "rg-faults"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	type step struct {
		action vmAction
		d      time.Duration
		power  string // the power code after it
	}
	cases := []struct {
		code    string
		from    []step   // brings the VM where the fault applies
		trigger vmAction // the operation the fault fails
		d       time.Duration
		power   string // the power state the failure leaves
		// keep: the fault has no count; the retry first fails again, then
		// the fault is removed by ID.
		keep  bool
		retry []step
	}{
		{code: "AllocationFailed", from: []step{{createVM, 80 * time.Second, running}, {deallocateVM, 30 * time.Second, deallocated}},
			trigger: startVM, d: 10 * time.Second, power: deallocated,
			retry: []step{{startVM, 27 * time.Second, running}}},
		// A create that fails to allocate never got a power state; a PUT
		// of the same body retries the whole create, as Azure does.
		{code: "ZonalAllocationFailed", trigger: createVM, d: 15 * time.Second, power: "",
			retry: []step{{createVM, 80 * time.Second, running}}},
		{code: "OverConstrainedAllocationRequest", from: []step{{createVM, 80 * time.Second, running}, {deallocateVM, 30 * time.Second, deallocated}},
			trigger: startVM, d: 10 * time.Second, power: deallocated,
			retry: []step{{startVM, 27 * time.Second, running}}},
		// OS provisioning fails after the guest is up: the VM is left running.
		{code: "OSProvisioningTimedOut", trigger: createVM, d: 75 * time.Second, power: running,
			retry: []step{{createVM, 5 * time.Second, running}}},
		{code: "OSProvisioningClientError", trigger: createVM, d: 75 * time.Second, power: running,
			retry: []step{{createVM, 5 * time.Second, running}}},
		{code: "VMStartTimedOut", from: []step{{createVM, 80 * time.Second, running}, {powerOffVM, 10 * time.Second, "PowerState/stopped"}},
			trigger: startVM, d: 15 * time.Second, power: starting,
			retry: []step{{startVM, 15 * time.Second, running}}},
		{code: "VMExtensionProvisioningError", trigger: createVM, d: 80 * time.Second, power: running,
			retry: []step{{createVM, 5 * time.Second, running}}},
		{code: "InternalOperationError", from: []step{{createVM, 80 * time.Second, running}},
			trigger: deallocateVM, d: 10 * time.Second, power: stopping, keep: true,
			retry: []step{{deallocateVM, 30 * time.Second, deallocated}}},
	}
	tested := map[string]bool{}
	for _, tc := range cases {
		tested[tc.code] = true
		t.Run(tc.code, func(t *testing.T) {
			srv.use(t)
			f := newFleet(t, srv)
			vm := "vm-" + strings.ToLower(tc.code)
			for _, s := range tc.from {
				f.mustRun(s.action, rg, vm, s.d)
				f.expectState(rg, vm, okState, s.power)
			}
			fault := map[string]any{"operation": tc.trigger.name, "resource": vm, "error": tc.code}
			if !tc.keep {
				fault["count"] = 1
			}
			id := srv.addFault(fault)

			f.expectFailed(f.run(tc.trigger, rg, vm, tc.d), rg, vm, tc.code, tc.power)
			if tc.keep {
				// Still registered: the same operation fails the same way.
				f.expectFailed(f.run(tc.trigger, rg, vm, tc.d), rg, vm, tc.code, tc.power)
				if code := srv.do(http.MethodDelete, "/_azemu/faults/"+id, nil, nil); code != http.StatusOK {
					t.Fatalf("DELETE fault: HTTP %d", code)
				}
			}
			if n := srv.faultCount(); n != 0 {
				t.Fatalf("%d faults still registered", n)
			}
			for _, s := range tc.retry {
				f.mustRun(s.action, rg, vm, s.d)
				f.expectState(rg, vm, okState, s.power)
			}
		})
	}
	for _, code := range lifecycle.FaultCodes() {
		if !tested[code] {
			t.Errorf("fault code %s has no end-to-end case", code)
		}
	}

	t.Run("powerStateUnavailable", func(t *testing.T) {
		srv.use(t)
		f := newFleet(t, srv)
		listAll := func() (withPower, without int) {
			t.Helper()
			pager := f.vms.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{StatusOnly: ptr("true")})
			for pager.More() {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range page.Value {
					has, prov := false, false
					for _, s := range v.Properties.InstanceView.Statuses {
						has = has || strings.HasPrefix(*s.Code, "PowerState/")
						prov = prov || strings.HasPrefix(*s.Code, "ProvisioningState/")
					}
					if !prov {
						t.Fatalf("%s lost its provisioning status too", *v.Name)
					}
					if has {
						withPower++
					} else {
						without++
					}
				}
			}
			return withPower, without
		}
		all, none := listAll()
		if all != len(cases) || none != 0 {
			t.Fatalf("before the fault: %d VMs with a power state, %d without", all, none)
		}
		srv.addFault(map[string]any{"kind": "powerStateUnavailable", "probability": 1})
		if with, without := listAll(); with != 0 || without != all {
			t.Fatalf("probability 1: %d VMs with a power state, %d without", with, without)
		}
		if code := srv.do(http.MethodDelete, "/_azemu/faults", nil, nil); code != http.StatusOK {
			t.Fatalf("DELETE faults: HTTP %d", code)
		}
		if with, _ := listAll(); with != all {
			t.Fatalf("after removing the fault: %d with a power state", with)
		}
	})

	t.Run("throttle", func(t *testing.T) {
		srv.use(t)
		f := newFleet(t, srv)
		srv.addFault(map[string]any{"kind": "throttle", "operation": "*", "count": 2})
		for i := range 2 {
			_, err := f.vms.Get(ctx, rg, "vm-allocationfailed", nil)
			var re *azcore.ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusTooManyRequests || re.ErrorCode != "TooManyRequests" {
				t.Fatalf("request %d: want 429 TooManyRequests, got %v", i, err)
			}
			if ra := re.RawResponse.Header.Get("Retry-After"); ra != "1" {
				t.Fatalf("request %d: Retry-After %q", i, ra)
			}
		}
		if _, err := f.vms.Get(ctx, rg, "vm-allocationfailed", nil); err != nil {
			t.Fatalf("third request: %v", err)
		}
	})
}

// TestCapacityWithSDK: capacity for two D2s_v3 in westeurope. Two VMs run;
// one is deallocated and a third takes its cores; the deallocated one then
// cannot start (AllocationFailed), while a merely stopped VM, which kept
// its host, restarts.
func TestCapacityWithSDK(t *testing.T) {
	capacity := filepath.Join(t.TempDir(), "capacity.json")
	if err := os.WriteFile(capacity, []byte(`{"West Europe": {"DSv3": 4}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, t.TempDir(), "--capacity", capacity)
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg = "rg-capacity"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	f.mustRun(createVM, rg, "a", 80*time.Second)
	f.mustRun(createVM, rg, "b", 80*time.Second)
	f.mustRun(deallocateVM, rg, "a", 30*time.Second)
	f.mustRun(createVM, rg, "c", 80*time.Second)
	f.expectState(rg, "c", okState, running)

	f.expectFailed(f.run(startVM, rg, "a", 10*time.Second), rg, "a", "AllocationFailed", deallocated)

	f.mustRun(powerOffVM, rg, "b", 10*time.Second)
	f.mustRun(startVM, rg, "b", 15*time.Second)
	f.expectState(rg, "b", okState, running)

	// Once c gives its cores back, a starts.
	f.mustRun(deallocateVM, rg, "c", 30*time.Second)
	f.mustRun(startVM, rg, "a", 27*time.Second)
	f.expectState(rg, "a", okState, running)
}

// TestRateLimitsWithSDK: a write budget of 3 an hour. The remaining-writes
// header counts down, the fourth write is refused with 429 and the wait
// until a token is back, and the manual clock refills the bucket.
func TestRateLimitsWithSDK(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--rate-limits", "writes=3")
	f := newFleet(t, srv)
	const hdr = "x-ms-ratelimit-remaining-subscription-writes"
	put := func() (*http.Response, error) {
		var resp *http.Response
		ctx := policy.WithCaptureResponse(context.Background(), &resp)
		_, err := f.groups.CreateOrUpdate(ctx, "rg-limits", armresources.ResourceGroup{Location: ptr("westeurope")}, nil)
		return resp, err
	}
	for i, want := range []string{"2", "1", "0"} {
		resp, err := put()
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if got := resp.Header.Get(hdr); got != want {
			t.Fatalf("write %d: %s %q, want %s", i, hdr, got, want)
		}
	}
	// Reads are not limited here.
	if _, err := f.groups.Get(context.Background(), "rg-limits", nil); err != nil {
		t.Fatal(err)
	}
	_, err := put()
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusTooManyRequests || re.ErrorCode != "SubscriptionRequestsThrottled" {
		t.Fatalf("fourth write: want 429, got %v", err)
	}
	if ra := re.RawResponse.Header.Get("Retry-After"); ra != "1200" {
		t.Fatalf("fourth write: Retry-After %q, want 1200 (a token of 3 an hour)", ra)
	}
	srv.advance(20 * time.Minute)
	resp, err := put()
	if err != nil || resp.Header.Get(hdr) != "0" {
		t.Fatalf("after the refill: %v", err)
	}
}

// keyPaths collects every key path of a JSON document: a.b for objects,
// a[] for array elements.
func keyPaths(v any, prefix string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			p := prefix + "." + k
			out[p] = true
			keyPaths(child, p, out)
		}
	case []any:
		for _, child := range x {
			keyPaths(child, prefix+"[]", out)
		}
	}
}

// expectKeysKept checks that the SDK value, marshalled again, has every key
// the server sent: none was dropped as unknown to the SDK's model.
func expectKeysKept(t *testing.T, what string, raw []byte, decoded any) {
	t.Helper()
	var sent, kept any
	if err := json.Unmarshal(raw, &sent); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	again, err := json.Marshal(decoded)
	if err != nil {
		t.Fatalf("%s: marshal: %v", what, err)
	}
	if err := json.Unmarshal(again, &kept); err != nil {
		t.Fatal(err)
	}
	sentKeys, keptKeys := map[string]bool{}, map[string]bool{}
	keyPaths(sent, "", sentKeys)
	keyPaths(kept, "", keptKeys)
	var lost []string
	for k := range sentKeys {
		if !keptKeys[k] {
			lost = append(lost, k)
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		t.Errorf("%s: keys the SDK type does not know: %v", what, lost)
	}
	if len(sentKeys) < 5 {
		t.Errorf("%s: only %d keys: %s", what, len(sentKeys), raw)
	}
}

// TestPayloadsFitSDKTypes decodes the VM, its instance view and its
// Resource Health with the official SDK types and checks that nothing the
// server sends is unknown to them, for a running VM and a failed one.
func TestPayloadsFitSDKTypes(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg = "rg-payloads"
	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	health, err := armresourcehealth.NewAvailabilityStatusesClient(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	f.mustRun(createVM, rg, "ok", 80*time.Second)
	srv.addFault(map[string]any{"operation": "create", "resource": "failed", "error": "OSProvisioningTimedOut", "count": 1})
	f.expectFailed(f.run(createVM, rg, "failed", 75*time.Second), rg, "failed", "OSProvisioningTimedOut", running)

	for _, vm := range []string{"ok", "failed"} {
		var resp *http.Response
		capture := policy.WithCaptureResponse(ctx, &resp)
		got, err := f.vms.Get(capture, rg, vm, &armcompute.VirtualMachinesClientGetOptions{Expand: ptr(armcompute.InstanceViewTypesInstanceView)})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := runtime.Payload(resp)
		expectKeysKept(t, vm+": VirtualMachine", raw, got.VirtualMachine)

		iv, err := f.vms.InstanceView(capture, rg, vm, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = runtime.Payload(resp)
		expectKeysKept(t, vm+": VirtualMachineInstanceView", raw, iv.VirtualMachineInstanceView)

		id := strings.TrimPrefix(*got.ID, "/")
		status, err := health.GetByResource(capture, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = runtime.Payload(resp)
		expectKeysKept(t, vm+": AvailabilityStatus", raw, status.AvailabilityStatus)
		want := map[string]armresourcehealth.AvailabilityStateValues{
			"ok": armresourcehealth.AvailabilityStateValuesAvailable, "failed": armresourcehealth.AvailabilityStateValuesDegraded}[vm]
		if p := status.Properties; p == nil || p.AvailabilityState == nil || *p.AvailabilityState != want || p.OccurredTime == nil || p.ReportedTime == nil {
			t.Fatalf("%s: availability %+v", vm, p)
		}

		pager := health.NewListPager(id, nil)
		pages := 0
		for pager.More() {
			page, err := pager.NextPage(capture)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ = runtime.Payload(resp)
			expectKeysKept(t, vm+": AvailabilityStatusListResult", raw, page.AvailabilityStatusListResult)
			pages++
		}
		if pages == 0 {
			t.Fatalf("%s: no availability history", vm)
		}
	}
}

// TestFaultsFileAtStart: --faults registers the file's faults, replacing
// what the last run kept, so a restart with the same file starts alike.
func TestFaultsFileAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "faults.json")
	if err := os.WriteFile(file, []byte(`[
		{"operation": "start", "resource": "web-*", "error": "AllocationFailed", "count": 1},
		{"kind": "throttle", "operation": "DELETE", "count": 1}
	]`), 0o600); err != nil {
		t.Fatal(err)
	}
	list := func(srv *server) []map[string]any {
		t.Helper()
		var out struct {
			Value []map[string]any `json:"value"`
		}
		if code := srv.do(http.MethodGet, "/_azemu/faults", nil, &out); code != http.StatusOK {
			t.Fatalf("GET /_azemu/faults: HTTP %d", code)
		}
		return out.Value
	}
	srv := startServer(t, dir, "--faults", file)
	if got := list(srv); len(got) != 2 || got[0]["error"] != "AllocationFailed" || got[1]["kind"] != "throttle" {
		t.Fatalf("at start: %v", got)
	}
	// The throttle fires once on a DELETE, as registered.
	var body map[string]any
	path := "/subscriptions/" + subscriptionID + "/resourceGroups/nope?api-version=2021-04-01"
	if code := srv.do(http.MethodDelete, path, nil, &body); code != http.StatusTooManyRequests {
		t.Fatalf("DELETE: HTTP %d %v", code, body)
	}
	srv.addFault(map[string]any{"kind": "powerStateUnavailable"})
	if n := srv.faultCount(); n != 2 {
		t.Fatalf("after a throttle fired and one was added: %d faults", n)
	}
	srv.stop()

	srv = startServer(t, dir, "--faults", file)
	if got := list(srv); len(got) != 2 || got[0]["error"] != "AllocationFailed" || got[1]["kind"] != "throttle" || got[1]["count"] != 1.0 {
		t.Fatalf("after a restart with the file: %v", got)
	}
	srv.stop()
	// Without --faults the kept list stays.
	srv = startServer(t, dir)
	if n := srv.faultCount(); n != 2 {
		t.Fatalf("restart without --faults: %d faults", n)
	}
	srv.stop()

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"operation": "start", "error": "DiskFull"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(azemuBin, "serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--faults", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "fault 0") {
		t.Fatalf("an invalid fault file: %v\n%s", err, out)
	}
}

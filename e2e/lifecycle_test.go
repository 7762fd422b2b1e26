package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

const subscriptionID = "6b3a6c6e-3c1e-4f0a-9d4e-2f3f9c1a7b10"

// fleet bundles the SDK clients for one server.
type fleet struct {
	t      *testing.T
	srv    *server
	groups *armresources.ResourceGroupsClient
	vms    *armcompute.VirtualMachinesClient
}

func newFleet(t *testing.T, srv *server) *fleet {
	t.Helper()
	groups, err := armresources.NewResourceGroupsClient(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(subscriptionID, staticToken{}, srv.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	return &fleet{t: t, srv: srv, groups: groups, vms: vms}
}

func linuxVM(location string) armcompute.VirtualMachine {
	nic := "/subscriptions/" + subscriptionID + "/resourceGroups/rg-e2e/providers/Microsoft.Network/networkInterfaces/nic1"
	return armcompute.VirtualMachine{
		Location: ptr(location),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: ptr(armcompute.VirtualMachineSizeTypesStandardD2SV3)},
			StorageProfile: &armcompute.StorageProfile{ImageReference: &armcompute.ImageReference{
				Publisher: ptr("Canonical"), Offer: ptr("ubuntu-24_04-lts"), SKU: ptr("server"), Version: ptr("latest")}},
			OSProfile:      &armcompute.OSProfile{ComputerName: ptr("vm1"), AdminUsername: ptr("azureuser"), AdminPassword: ptr("Passw0rd!e2e")},
			NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{ID: ptr(nic)}}},
		},
	}
}

// codes reads the VM's instance view through the SDK and returns its
// status codes with their display strings.
func (f *fleet) codes(rg, name string) []string {
	f.t.Helper()
	iv, err := f.vms.InstanceView(context.Background(), rg, name, nil)
	if err != nil {
		f.t.Fatalf("instance view: %v", err)
	}
	var out []string
	for _, s := range iv.Statuses {
		out = append(out, *s.Code+" "+*s.DisplayStatus)
	}
	return out
}

// expect checks the instance view's statuses, in order.
func (f *fleet) expect(rg, name string, want ...string) {
	f.t.Helper()
	got := f.codes(rg, name)
	if joinCodes(got) != joinCodes(want) {
		f.t.Fatalf("statuses:\n got  %s\n want %s", joinCodes(got), joinCodes(want))
	}
}

const (
	creating      = "ProvisioningState/creating Creating"
	osInProgress  = "ProvisioningState/creating/osProvisioningInProgress OS Provisioning In progress"
	osComplete    = "ProvisioningState/creating/osProvisioningComplete OS Provisioning Complete"
	succeeded     = "ProvisioningState/succeeded Provisioning succeeded"
	updating      = "ProvisioningState/updating Updating"
	deleting      = "ProvisioningState/deleting Deleting"
	pwStarting    = "PowerState/starting VM starting"
	pwRunning     = "PowerState/running VM running"
	pwStopping    = "PowerState/stopping VM stopping"
	pwStopped     = "PowerState/stopped VM stopped"
	pwDeallocing  = "PowerState/deallocating VM deallocating"
	pwDeallocated = "PowerState/deallocated VM deallocated"
)

// done waits for a poller the way a user would: PollUntilDone, after the
// clock has moved past the operation's end.
func done[T any](t *testing.T, p *runtime.Poller[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
	if err != nil {
		t.Fatalf("PollUntilDone: %v", err)
	}
	return res
}

func TestVMLifecycleWithSDK(t *testing.T) {
	srv := startServer(t, t.TempDir())
	f := newFleet(t, srv)
	ctx := context.Background()
	const rg, vm = "rg-e2e", "vm1"

	if _, err := f.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}

	// Create from a generalized image: every step, exactly.
	create, err := f.vms.BeginCreateOrUpdate(ctx, rg, vm, linuxVM("westeurope"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.expect(rg, vm, creating)
	srv.advance(15 * time.Second)
	f.expect(rg, vm, creating, pwStarting)
	srv.advance(20 * time.Second)
	f.expect(rg, vm, osInProgress, pwRunning)
	srv.advance(40 * time.Second)
	f.expect(rg, vm, osComplete, pwRunning)
	srv.advance(5 * time.Second)
	f.expect(rg, vm, succeeded, pwRunning)
	created := done(t, create)
	if *created.Properties.ProvisioningState != "Succeeded" || *created.Name != vm {
		t.Fatalf("created VM: %+v", created.Properties)
	}

	// powerOff: stopping for 10s, then stopped (still allocated).
	powerOff, err := f.vms.BeginPowerOff(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.expect(rg, vm, updating, pwStopping)
	srv.advance(10 * time.Second)
	f.expect(rg, vm, succeeded, pwStopped)
	done(t, powerOff)

	// start from stopped.
	start, err := f.vms.BeginStart(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.expect(rg, vm, updating, pwStarting)
	srv.advance(15 * time.Second)
	f.expect(rg, vm, succeeded, pwRunning)
	done(t, start)

	// deallocate from running: stopping, deallocating, deallocated.
	dealloc, err := f.vms.BeginDeallocate(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.expect(rg, vm, updating, pwStopping)
	srv.advance(10 * time.Second)
	f.expect(rg, vm, updating, pwDeallocing)
	srv.advance(20 * time.Second)
	f.expect(rg, vm, succeeded, pwDeallocated)
	done(t, dealloc)

	// restart on a deallocated VM is refused with Azure's code and message.
	_, err = f.vms.BeginRestart(ctx, rg, vm, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict || re.ErrorCode != "OperationNotAllowed" {
		t.Fatalf("restart on deallocated: %v", err)
	}

	// start from deallocated: allocation, a brief stopped, starting.
	start, err = f.vms.BeginStart(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.expect(rg, vm, updating, pwDeallocated)
	srv.advance(10 * time.Second)
	f.expect(rg, vm, updating, pwStopped)
	srv.advance(2 * time.Second)
	f.expect(rg, vm, updating, pwStarting)
	srv.advance(15 * time.Second)
	f.expect(rg, vm, succeeded, pwRunning)
	done(t, start)

	// restart: stopping, starting.
	restart, err := f.vms.BeginRestart(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.expect(rg, vm, updating, pwStopping)
	srv.advance(5 * time.Second)
	f.expect(rg, vm, updating, pwStarting)
	srv.advance(15 * time.Second)
	f.expect(rg, vm, succeeded, pwRunning)
	done(t, restart)

	// listAll with statusOnly carries the power state.
	pager := f.vms.NewListAllPager(&armcompute.VirtualMachinesClientListAllOptions{StatusOnly: ptr("true")})
	var power []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Value {
			// Identity and status only, as Compute answers statusOnly.
			if v.ID == nil || v.Name == nil || v.Location == nil || v.Tags != nil || v.Properties.StorageProfile != nil ||
				v.Properties.OSProfile != nil || v.Properties.InstanceView.VMAgent != nil {
				t.Fatalf("listAll statusOnly carries more than the VM's identity and statuses: %+v", v.Properties)
			}
			for _, s := range v.Properties.InstanceView.Statuses {
				if len(*s.Code) > 11 && (*s.Code)[:11] == "PowerState/" {
					power = append(power, *v.Name+"="+*s.Code)
				}
			}
		}
	}
	if joinCodes(power) != "vm1=PowerState/running" {
		t.Fatalf("listAll statusOnly: %v", power)
	}

	// start then an immediate deallocate: the start is preempted.
	if _, err := f.vms.BeginPowerOff(ctx, rg, vm, &armcompute.VirtualMachinesClientBeginPowerOffOptions{SkipShutdown: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	srv.advance(2 * time.Second)
	f.expect(rg, vm, succeeded, pwStopped)
	start, err = f.vms.BeginStart(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	dealloc, err = f.vms.BeginDeallocate(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = start.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
	if !errors.As(err, &re) || re.ErrorCode != "OperationPreempted" {
		t.Fatalf("preempted start: want OperationPreempted, got %v", err)
	}
	f.expect(rg, vm, updating, pwStopping)
	srv.advance(30 * time.Second)
	f.expect(rg, vm, succeeded, pwDeallocated)
	done(t, dealloc)

	// delete: deleting (a deallocated VM stays deallocated meanwhile), then gone.
	del, err := f.vms.BeginDelete(ctx, rg, vm, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.expect(rg, vm, deleting, pwDeallocated)
	srv.advance(20 * time.Second)
	done(t, del)
	_, err = f.vms.Get(ctx, rg, vm, nil)
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.ErrorCode != "ResourceNotFound" {
		t.Fatalf("GET after delete: %v", err)
	}

	// The resource group goes the same way, through its own poller.
	delGroup, err := f.groups.BeginDelete(ctx, rg, nil)
	if err != nil {
		t.Fatal(err)
	}
	done(t, delGroup)
	if resp, err := f.groups.CheckExistence(ctx, rg, nil); err != nil || resp.Success {
		t.Fatalf("group still exists: %v %v", resp.Success, err)
	}

	// What the run did shows in the Prometheus metrics, without a token.
	req, _ := http.NewRequest(http.MethodGet, srv.base+"/metrics", nil)
	resp, err := srv.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`azemu_http_requests_total{code="202",method="POST"}`, `azemu_state_changes_total{power_state="deallocated"}`, "azemu_operations_in_progress 0"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("/metrics (HTTP %d) lacks %s", resp.StatusCode, want)
		}
	}
	srv.stop()
}

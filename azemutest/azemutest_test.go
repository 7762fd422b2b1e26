package azemutest_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/azemu/azemu/azemutest"
)

// prices is a sheet of round figures, so that every cost below is exact:
// a D2s v3 in eastus costs 0.36 an hour, a P4 disk 1.46 a month.
var prices = []byte(`{"Items":[
 {"currencyCode":"USD","retailPrice":0.36,"armRegionName":"eastus","meterName":"D2s v3","productName":"Virtual Machines DSv3 Series","skuName":"D2s v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","armSkuName":"Standard_D2s_v3"},
 {"currencyCode":"USD","retailPrice":1.46,"armRegionName":"eastus","meterName":"P4 LRS Disk","productName":"Premium SSD Managed Disks","skuName":"P4 LRS","serviceName":"Storage","unitOfMeasure":"1/Month","type":"Consumption"}
]}`)

// clients are the SDK clients a test uses, configured from the server alone.
type clients struct {
	groups *armresources.ResourceGroupsClient
	vms    *armcompute.VirtualMachinesClient
}

func newClients(t *testing.T, srv *azemutest.Server) clients {
	t.Helper()
	groups, err := armresources.NewResourceGroupsClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return clients{groups, vms}
}

func (c clients) group(t *testing.T, name string) {
	t.Helper()
	if _, err := c.groups.CreateOrUpdate(context.Background(), name, armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatal(err)
	}
}

func vm(name string) armcompute.VirtualMachine {
	return armcompute.VirtualMachine{
		Location: to.Ptr("eastus"),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypesStandardD2SV3)},
			StorageProfile: &armcompute.StorageProfile{ImageReference: &armcompute.ImageReference{
				Publisher: to.Ptr("Canonical"), Offer: to.Ptr("ubuntu-24_04-lts"), SKU: to.Ptr("server"), Version: to.Ptr("latest")}},
			OSProfile: &armcompute.OSProfile{ComputerName: to.Ptr(name), AdminUsername: to.Ptr("azureuser"), AdminPassword: to.Ptr("Passw0rd!kit")},
			NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
				ID: to.Ptr("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/" + name)}}},
		},
	}
}

// powerState reads a VM's power state code through the SDK.
func (c clients) powerState(t *testing.T, rg, name string) string {
	t.Helper()
	iv, err := c.vms.InstanceView(context.Background(), rg, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range iv.Statuses {
		if len(*s.Code) > 11 && (*s.Code)[:11] == "PowerState/" {
			return (*s.Code)[11:]
		}
	}
	return ""
}

// Two servers in one process, each with a clock of its own: advancing one
// moves nothing in the other, and neither sees the other's resources.
func TestTwoServersKeepTheirOwnClocks(t *testing.T) {
	t.Parallel()
	later := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	a := azemutest.New(t)
	b := azemutest.New(t, azemutest.WithClockStart(later))
	if a.URL() == b.URL() {
		t.Fatalf("both servers at %s", a.URL())
	}
	if !a.Now().Equal(azemutest.DefaultClockStart) || !b.Now().Equal(later) {
		t.Fatalf("clocks start at %s and %s", a.Now(), b.Now())
	}
	ctx := context.Background()
	// Each server is its own token service: the stock credential gets a
	// JWT from each, signed with each one's own key.
	scope := policy.TokenRequestOptions{Scopes: []string{"https://management.core.windows.net//.default"}}
	ta, err := a.Credential().GetToken(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.Credential().GetToken(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(ta.Token, ".") != 2 || ta.Token == tb.Token {
		t.Fatalf("tokens %q and %q", ta.Token, tb.Token)
	}
	ca, cb := newClients(t, a), newClients(t, b)
	for _, c := range []clients{ca, cb} {
		c.group(t, "rg")
		if _, err := c.vms.BeginCreateOrUpdate(ctx, "rg", "web", vm("web"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Advance(90 * time.Second); !got.Equal(azemutest.DefaultClockStart.Add(90 * time.Second)) {
		t.Fatalf("a's clock after 90 s: %s", got)
	}
	if !b.Now().Equal(later) {
		t.Fatalf("b's clock moved with a's: %s", b.Now())
	}
	if ps := ca.powerState(t, "rg", "web"); ps != "running" {
		t.Fatalf("a's VM after 90 s: %q", ps)
	}
	if ps := cb.powerState(t, "rg", "web"); ps != "" {
		t.Fatalf("b's VM, its clock unmoved: %q", ps)
	}
	// Each server's history is its own, stamped with its own clock.
	ha, hb := a.History(a.VMID("rg", "web")), b.History(b.VMID("rg", "web"))
	if len(ha) <= len(hb) || !ha[0].Time.Equal(azemutest.DefaultClockStart) || !hb[0].Time.Equal(later) {
		t.Fatalf("histories:\na %+v\nb %+v", ha, hb)
	}
	if _, err := cb.vms.Get(ctx, "rg", "web", nil); err != nil {
		t.Fatal(err)
	}
	a.Reset()
	if _, err := ca.vms.Get(ctx, "rg", "web", nil); !notFound(err) {
		t.Fatalf("a's VM after a's reset: %v", err)
	}
	if _, err := cb.vms.Get(ctx, "rg", "web", nil); err != nil {
		t.Fatalf("b's VM after a's reset: %v", err)
	}
}

func notFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == 404
}

// The manual clock, the history and the bill agree to the second: a VM
// that runs an hour and is then stopped (still billed) and deallocated
// (not billed) costs exactly its billed seconds at the sheet's rate.
func TestBillFollowsTheManualClock(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t, azemutest.WithPrices(prices))
	c := newClients(t, srv)
	ctx := context.Background()
	c.group(t, "rg")
	t0 := srv.Now()
	create, err := c.vms.BeginCreateOrUpdate(ctx, "rg", "web", vm("web"), nil)
	if err != nil {
		t.Fatal(err)
	}
	running := srv.AdvanceUntil(func() bool {
		_, err := create.Poll(ctx)
		return err == nil && create.Done()
	})
	// A create from an image: 15 s allocating, 20 s starting, 45 s of OS
	// provisioning: done 80 s in.
	if want := t0.Add(80 * time.Second); !running.Equal(want) {
		t.Fatalf("create done at %s, want %s", running, want)
	}
	if _, err := create.Result(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Advance(time.Hour)
	off, err := c.vms.BeginPowerOff(ctx, "rg", "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := azemutest.PollUntilDone(srv, off); err != nil {
		t.Fatal(err)
	}
	stopped := srv.Now()
	srv.Advance(30 * time.Minute)
	dealloc, err := c.vms.BeginDeallocate(ctx, "rg", "web", nil)
	if err != nil {
		t.Fatal(err)
	}
	deallocating := srv.Now()
	if _, err := azemutest.PollUntilDone(srv, dealloc); err != nil {
		t.Fatal(err)
	}
	end := srv.Advance(time.Hour)

	var billed time.Duration
	h := srv.History(srv.VMID("rg", "web"))
	for i, e := range h {
		if !e.Billed {
			continue
		}
		next := end
		if i+1 < len(h) {
			next = h[i+1].Time
		}
		billed += next.Sub(e.Time)
	}
	// Billed from starting (15 s in) until the deallocate begins.
	if want := deallocating.Sub(t0.Add(15 * time.Second)); billed != want {
		t.Fatalf("billed %s by the history, want %s (stopped at %s)", billed, want, stopped)
	}
	bill := srv.Bill(t0, end)
	lines := bill.Of(srv.VMID("rg", "web"))
	if len(lines) != 1 || lines[0].Seconds != int64(billed/time.Second) || lines[0].SecondsByPowerState["stopped"] == 0 {
		t.Fatalf("the VM's bill: %+v", lines)
	}
	want := new(big.Rat).SetFrac64(int64(billed/time.Second)*36, 100*3600)
	if got := bill.Compute(); got == nil || got.Cmp(want) != 0 {
		t.Fatalf("compute %v, want %v", got, want)
	}
	if bill.Total().Cmp(bill.Compute()) <= 0 {
		t.Fatalf("the OS disk is not billed: total %v, compute %v", bill.Total(), bill.Compute())
	}
}

// An injected AllocationFailed fails the next create as Azure's does, and
// a capacity set at run time refuses what goes past it.
func TestFaultsAndCapacity(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t)
	c := newClients(t, srv)
	ctx := context.Background()
	c.group(t, "rg")
	id := srv.InjectFault(azemutest.Fault{Operation: "create", Resource: "web", Error: "AllocationFailed", Count: 1})
	if f := srv.Faults(); len(f) != 1 || f[0].ID != id || f[0].Count != 1 {
		t.Fatalf("faults: %+v", f)
	}
	create, err := c.vms.BeginCreateOrUpdate(ctx, "rg", "web", vm("web"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = azemutest.PollUntilDone(srv, create)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.ErrorCode != "AllocationFailed" {
		t.Fatalf("create with the fault: %v", err)
	}
	if f := srv.Faults(); len(f) != 0 {
		t.Fatalf("a spent fault stays: %+v", f)
	}

	srv.SetCapacity(azemutest.Capacity{"East US": {"standardDSv3Family": 2}})
	first, err := c.vms.BeginCreateOrUpdate(ctx, "rg", "one", vm("one"), nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.vms.BeginCreateOrUpdate(ctx, "rg", "two", vm("two"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Minute)
	if _, err := first.PollUntilDone(ctx, nil); err != nil {
		t.Fatalf("the create within capacity: %v", err)
	}
	if _, err := second.PollUntilDone(ctx, nil); !errors.As(err, &re) || re.ErrorCode != "AllocationFailed" {
		t.Fatalf("the create past capacity: %v", err)
	}
	srv.SetCapacity(nil)
	again, err := c.vms.BeginCreateOrUpdate(ctx, "rg", "two", vm("two"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Minute)
	if _, err := again.PollUntilDone(ctx, nil); err != nil {
		t.Fatalf("the create once unlimited: %v", err)
	}

	srv.InjectFault(azemutest.Fault{Kind: azemutest.FaultThrottle, Operation: "GET", Count: 1})
	srv.InjectFault(azemutest.Fault{Operation: "deallocate", Error: "InternalOperationError"})
	if f := srv.Faults(); len(f) != 2 {
		t.Fatalf("faults: %+v", f)
	}
	srv.ClearFaults()
	if f := srv.Faults(); len(f) != 0 {
		t.Fatalf("faults after ClearFaults: %+v", f)
	}
}

// On the real clock time moves by itself, at the speed asked for.
func TestRealClock(t *testing.T) {
	t.Parallel()
	srv := azemutest.New(t, azemutest.WithRealClock(400))
	c := newClients(t, srv)
	ctx := context.Background()
	c.group(t, "rg")
	before := time.Now()
	create, err := c.vms.BeginCreateOrUpdate(ctx, "rg", "web", vm("web"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := azemutest.PollUntilDone(srv, create); err != nil {
		t.Fatal(err)
	}
	if srv.Now().Before(before) {
		t.Fatalf("the server's clock %s is behind the real one %s", srv.Now(), before)
	}
	if ps := c.powerState(t, "rg", "web"); ps != "running" {
		t.Fatalf("after the create: %q", ps)
	}
}

// A seed makes a server's IDs repeat: the same requests to two servers with
// one seed give a VM the same vmId, and another seed gives another.
func TestSeedRepeatsIDs(t *testing.T) {
	t.Parallel()
	vmID := func(seed uint64) string {
		srv := azemutest.New(t, azemutest.WithSeed(seed))
		c := newClients(t, srv)
		c.group(t, "rg")
		poller, err := c.vms.BeginCreateOrUpdate(context.Background(), "rg", "seeded", vm("seeded"), nil)
		if err != nil {
			t.Fatal(err)
		}
		created, err := azemutest.PollUntilDone(srv, poller)
		if err != nil {
			t.Fatal(err)
		}
		if created.Properties == nil || created.Properties.VMID == nil || *created.Properties.VMID == "" {
			t.Fatal("the created VM has no vmId")
		}
		return *created.Properties.VMID
	}
	a, b, other := vmID(7), vmID(7), vmID(8)
	if a != b {
		t.Errorf("seed 7 gave vmIds %s and %s", a, b)
	}
	if a == other {
		t.Errorf("seeds 7 and 8 gave the same vmId %s", a)
	}
}

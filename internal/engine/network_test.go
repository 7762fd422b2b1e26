package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/store/memstore"
)

func netID(typ, name string) string {
	return armid.ResourceGroupID(testSub, "rg") + "/providers/Microsoft.Network/" + typ + "/" + name
}

// nicCmd puts interface name on the subnet of network net, at address
// static when it is set.
func nicCmd(name, static string) Command {
	c := nic.IPConfigSpec{Name: "ipconfig1", Subnet: netID("virtualNetworks", "net") + "/subnets/default", Allocation: nic.Dynamic, Version: "IPv4"}
	if static != "" {
		c.Allocation, c.PrivateIP = nic.Static, static
	}
	return Command{ID: netID("networkInterfaces", name), Verb: VerbPut,
		Input: NetworkInterfaceSpec{Location: "westus", IPConfigs: []nic.IPConfigSpec{c}}}
}

// putNet makes network net in group rg, westus, with one subnet default
// over all of prefix.
func putNet(t *testing.T, r *rig, prefix string) {
	t.Helper()
	if _, err := r.eng.Do(context.Background(), Command{ID: netID("virtualNetworks", "net"), Verb: VerbPut, Input: VirtualNetworkPut{
		Spec:    VirtualNetworkSpec{Location: "westus", AddressPrefixes: []string{prefix}},
		Subnets: []Subnet{{Name: "default", AddressPrefix: prefix}}}}); err != nil {
		t.Fatal(err)
	}
}

// addressOf is the private address interface name holds.
func addressOf(t *testing.T, r *rig, name string) string {
	t.Helper()
	s, ok := r.eng.Resource(NetworkInterfaceType, netID("networkInterfaces", name))
	if !ok {
		t.Fatalf("no interface %s", name)
	}
	return s.(*NetworkInterface).IPConfigs[0].Address
}

// The engine answers which interface holds an address of a subnet from an
// index rather than from every interface of the fleet: interfaces decided
// in one batch see each other's addresses, a deleted one's address is
// free again, and a restart rebuilds the index from the store.
func TestInterfacesTakeTheFreeAddressesOfTheirSubnet(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	ctx := context.Background()
	// 10.0.0.0/29: Azure keeps .0 to .3 and .7, which leaves .4, .5 and .6.
	putNet(t, r, "10.0.0.0/29")
	if _, err := r.eng.Do(ctx, nicCmd("a", "")); err != nil {
		t.Fatal(err)
	}
	// b and c are decided in one batch, after a: each sees the addresses
	// held before the batch and by the batch's interfaces before it.
	out := batchOf(t, r, gate, []Command{nicCmd("b", ""), nicCmd("c", ""), nicCmd("full", "")}, nil)
	for i, o := range out[:2] {
		if o.err != nil {
			t.Fatalf("interface %d of the batch: %v", i, o.err)
		}
	}
	var ee *Error
	if !errors.As(out[2].err, &ee) || ee.Code != "SubnetIsFull" {
		t.Errorf("a fourth interface in a subnet of three addresses: %v, want SubnetIsFull", out[2].err)
	}
	got := []string{addressOf(t, r, "a"), addressOf(t, r, "b"), addressOf(t, r, "c")}
	check(t, "addresses", got, []string{"10.0.0.4", "10.0.0.5", "10.0.0.6"})

	staticErr := func(name, addr, wantCode string) {
		t.Helper()
		_, err := r.eng.Do(ctx, nicCmd(name, addr))
		if !errors.As(err, &ee) || ee.Code != wantCode {
			t.Errorf("interface %s at %s: %v, want %s", name, addr, err, wantCode)
		}
	}
	staticErr("d", "10.0.0.5", "PrivateIPAddressIsAllocated")
	if _, err := r.eng.Do(ctx, Command{ID: netID("networkInterfaces", "b"), Verb: VerbDelete}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Do(ctx, nicCmd("d", "10.0.0.5")); err != nil {
		t.Fatalf("the address of a deleted interface: %v", err)
	}
	// An update keeps the interface's own address, which is not another's.
	if _, err := r.eng.Do(ctx, nicCmd("a", "")); err != nil {
		t.Fatal(err)
	}
	check(t, "a's address after its update", addressOf(t, r, "a"), "10.0.0.4")

	r.restart(r.clk.Now())
	staticErr("e", "10.0.0.6", "PrivateIPAddressIsAllocated")
	staticErr("e", "10.0.0.4", "PrivateIPAddressIsAllocated")
	_, err := r.eng.Do(ctx, nicCmd("e", ""))
	if !errors.As(err, &ee) || ee.Code != "SubnetIsFull" {
		t.Errorf("a new interface in a full subnet after a restart: %v, want SubnetIsFull", err)
	}
	// The network's subnet cannot go while interfaces use it.
	_, err = r.eng.Do(ctx, Command{ID: netID("virtualNetworks", "net"), Verb: VerbPut, Input: VirtualNetworkPut{
		Spec: VirtualNetworkSpec{Location: "westus", AddressPrefixes: []string{"10.0.0.0/29"}}, Subnets: []Subnet{}}})
	if !errors.As(err, &ee) || ee.Code != "InUseSubnetCannotBeDeleted" {
		t.Errorf("removing a used subnet: %v, want InUseSubnetCannotBeDeleted", err)
	}
}

// An interface takes the lowest free address of its subnet even where the
// engine's run of held addresses (subnetAddrs) says otherwise: below an
// address let go, one let go earlier in the same batch, and its own
// address when an update renames its configuration.
func TestAnInterfaceTakesTheLowestFreeAddress(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	ctx := context.Background()
	putNet(t, r, "10.0.0.0/28")
	do := func(c Command) {
		t.Helper()
		if _, err := r.eng.Do(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b", "c", "d"} {
		do(nicCmd(n, ""))
	}
	check(t, "the first four", []string{addressOf(t, r, "a"), addressOf(t, r, "b"), addressOf(t, r, "c"), addressOf(t, r, "d")},
		[]string{"10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"})

	do(Command{ID: netID("networkInterfaces", "b"), Verb: VerbDelete})
	do(nicCmd("e", ""))
	check(t, "after b let go of its address", addressOf(t, r, "e"), "10.0.0.5")

	// The batch lets c go, then decides f: the index, which knows only
	// what is committed, still has c at .6.
	out := batchOf(t, r, gate, []Command{{ID: netID("networkInterfaces", "c"), Verb: VerbDelete}, nicCmd("f", "")}, nil)
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("command %d of the batch: %v", i, o.err)
		}
	}
	check(t, "an address let go earlier in the batch", addressOf(t, r, "f"), "10.0.0.6")

	// d (.7) renames its only configuration: the address it held is free
	// for it, and the lowest.
	do(nicCmd("g", ""))
	renamed := nicCmd("d", "")
	spec := renamed.Input.(NetworkInterfaceSpec)
	spec.IPConfigs[0].Name = "other"
	renamed.Input = spec
	do(renamed)
	check(t, "d's address after renaming its configuration", addressOf(t, r, "d"), "10.0.0.7")
	check(t, "g's address", addressOf(t, r, "g"), "10.0.0.8")
	do(nicCmd("h", ""))
	check(t, "the next interface", addressOf(t, r, "h"), "10.0.0.9")
}

// A subnet's and a security group's interfaces are read from the engine's
// indexes, which follow every put, update and delete and are rebuilt by a
// restart.
func TestInterfacesOfASubnetAndASecurityGroup(t *testing.T) {
	r, gate := gatedRig(t)
	r.group("rg")
	ctx := context.Background()
	putNet(t, r, "10.0.0.0/24")
	nsgID := netID("networkSecurityGroups", "nsg")
	if _, err := r.eng.Do(ctx, Command{ID: nsgID, Verb: VerbPut, Input: SecurityGroupPut{Spec: SecurityGroupSpec{Location: "westus"}}}); err != nil {
		t.Fatal(err)
	}
	put := func(name, nsg string) {
		t.Helper()
		c := nicCmd(name, "")
		spec := c.Input.(NetworkInterfaceSpec)
		spec.NSG = nsg
		c.Input = spec
		if _, err := r.eng.Do(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	names := func(nics []*NetworkInterface) []string {
		out := []string{}
		for _, n := range nics {
			out = append(out, n.Name)
		}
		return out
	}
	subnet := netID("virtualNetworks", "net") + "/subnets/default"
	want := func(step string, inSubnet, behind []string) {
		t.Helper()
		check(t, step+": the subnet's", names(r.eng.NICsIn(strings.ToUpper(subnet))), inSubnet)
		check(t, step+": the group's", names(r.eng.NICsBehind(strings.ToUpper(nsgID))), behind)
	}
	put("c", nsgID)
	put("a", nsgID)
	put("b", "")
	want("made", []string{"a", "b", "c"}, []string{"a", "c"})
	put("c", "")
	want("c leaves the group", []string{"a", "b", "c"}, []string{"a"})
	if _, err := r.eng.Do(ctx, Command{ID: netID("networkInterfaces", "a"), Verb: VerbDelete}); err != nil {
		t.Fatal(err)
	}
	want("a deleted", []string{"b", "c"}, []string{})
	put("b", nsgID)
	want("b joins the group", []string{"b", "c"}, []string{"b"})

	// Deleting the group reads its users from the same index, and from
	// the interfaces decided before it in its batch.
	var ee *Error
	deleteNSG := Command{ID: nsgID, Verb: VerbDelete}
	if _, err := r.eng.Do(ctx, deleteNSG); !errors.As(err, &ee) || ee.Code != "InUseNetworkSecurityGroupCannotBeDeleted" || !strings.Contains(ee.Message, netID("networkInterfaces", "b")) {
		t.Fatalf("deleting the group b uses: %v", err)
	}
	withNSG := func(name, nsg string) Command {
		c := nicCmd(name, "")
		spec := c.Input.(NetworkInterfaceSpec)
		spec.NSG = nsg
		c.Input = spec
		return c
	}
	out := batchOf(t, r, gate, []Command{withNSG("b", ""), withNSG("c", nsgID), deleteNSG}, nil)
	if !errors.As(out[2].err, &ee) || ee.Code != "InUseNetworkSecurityGroupCannotBeDeleted" || !strings.Contains(ee.Message, netID("networkInterfaces", "c")) ||
		strings.Contains(ee.Message, netID("networkInterfaces", "b")) {
		t.Fatalf("deleting the group after b left it and c joined it in the batch: %v", out[2].err)
	}
	out = batchOf(t, r, gate, []Command{withNSG("c", ""), deleteNSG}, nil)
	if out[1].err != nil {
		t.Fatalf("deleting the group once c left it in the batch: %v", out[1].err)
	}
	want("the group deleted", []string{"b", "c"}, []string{})
	nsg2 := netID("networkSecurityGroups", "nsg2")
	if _, err := r.eng.Do(ctx, Command{ID: nsg2, Verb: VerbPut, Input: SecurityGroupPut{Spec: SecurityGroupSpec{Location: "westus"}}}); err != nil {
		t.Fatal(err)
	}
	put("b", nsg2)
	r.restart(r.clk.Now())
	check(t, "after a restart: the subnet's", names(r.eng.NICsIn(subnet)), []string{"b", "c"})
	check(t, "after a restart: the second group's", names(r.eng.NICsBehind(nsg2)), []string{"b"})
}

// fullSubnet is an engine whose subnet holds n interfaces, given their
// addresses from its start, and the PUT that updates one of them keeping
// its address: what a VM's start or deallocation sends its interface.
func fullSubnet(tb testing.TB, n int) (*Engine, Command) {
	tb.Helper()
	ctx := context.Background()
	eng, err := New(ctx, Config{Store: memstore.New(), Manual: clock.NewManual(t0)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(eng.Close)
	if err := putGroup(ctx, eng, testSub, "rg", "westus"); err != nil {
		tb.Fatal(err)
	}
	if _, err := eng.Do(ctx, Command{ID: netID("virtualNetworks", "net"), Verb: VerbPut, Input: VirtualNetworkPut{
		Spec:    VirtualNetworkSpec{Location: "westus", AddressPrefixes: []string{"10.0.0.0/16"}},
		Subnets: []Subnet{{Name: "default", AddressPrefix: "10.0.0.0/16"}}}}); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if _, err := eng.Do(ctx, nicCmd(fmt.Sprintf("nic-%04d", i), "")); err != nil {
			tb.Fatal(err)
		}
	}
	return eng, nicCmd(fmt.Sprintf("nic-%04d", n/50), "")
}

// An update of an interface that keeps its address leaves its subnet's
// run of held addresses whole: letting the address go and holding it
// again walked the run back to its end, an allocation an address, on
// every update (5,023 allocations an update in a subnet of 5,000 against
// 122 without the walk). Allocations are counted, not timed.
func TestInterfaceUpdateKeepsItsSubnetsRun(t *testing.T) {
	eng, update := fullSubnet(t, 5000)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := eng.Do(ctx, update); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1000 {
		t.Errorf("an update of one interface among 5,000 made %.0f allocations, want a few hundred at most", allocs)
	}
}

// BenchmarkInterfaceUpdateInAFullSubnet times fullSubnet's update among
// 5,000 interfaces. It should cost the same whatever the subnet holds.
func BenchmarkInterfaceUpdateInAFullSubnet(b *testing.B) {
	eng, update := fullSubnet(b, 5000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Do(ctx, update); err != nil {
			b.Fatal(err)
		}
	}
}

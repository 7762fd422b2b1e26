package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/azemu/azemu/internal/jsonwire"
	"github.com/azemu/azemu/internal/kinds/disk"
	"github.com/azemu/azemu/internal/kinds/nic"
	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/vm"
	"github.com/azemu/azemu/internal/lifecycle"
)

// vmDocCases cover every field of a VM's state document and every kind of
// state it keeps: idle and running plans, failures, held steps, scale-set
// instances, interfaces created from templates with public IPs, data
// disks, and the strings, times and floats encoding/json treats
// specially.
func vmDocCases() map[string]vmDoc {
	at := time.Date(2026, 11, 27, 21, 38, 36, 0, time.UTC)
	created := time.Date(2026, 11, 27, 21, 36, 26, 0, time.UTC)
	windows := VMSpec{Location: "eastus", VMSize: "Standard_D2s_v5", GeneralizedImage: true, OSType: "Windows",
		Disks: []disk.Ref{{Name: "seed-vm-0000000_OsDisk_1", ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/seed-vm-0000000_OsDisk_1",
			CreateOption: "FromImage", SizeGB: 127, SKU: "Premium_LRS", DeleteOption: "Detach", OS: true}},
		NICs:         []vm.NICRef{{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/seed-vm-0000000-nic", Primary: true}},
		ComputerName: "vm0000000", OSName: "Windows Server 2022 Datacenter", OSVersion: "10.0.20348"}
	createPlan := lifecycle.Plan{Kind: lifecycle.Create, Steps: []lifecycle.Step{
		{Provisioning: lifecycle.Creating, Duration: 15 * time.Second},
		{Provisioning: lifecycle.Creating, Power: lifecycle.Starting, Duration: 20 * time.Second},
		{Provisioning: lifecycle.Creating, OS: lifecycle.OSProvisioningInProgress, Power: lifecycle.Running, Duration: 40 * time.Second},
		{Provisioning: lifecycle.Creating, OS: lifecycle.OSProvisioningComplete, Power: lifecycle.Running, Duration: 5 * time.Second},
	}, End: lifecycle.State{Provisioning: lifecycle.Succeeded, Power: lifecycle.Running}}
	failure := &lifecycle.Failure{Code: "AllocationFailed", Message: `Allocation failed. We do not have sufficient capacity for the requested VM size "Standard_D2s_v5" <in> this region & zone.`}
	scaleSetNIC := vm.NICRef{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web/virtualMachines/3/networkInterfaces/nic",
		Primary: true, DeleteOption: "Delete", Create: &vm.NICTemplate{
			Spec: nic.Spec{Location: "westeurope", NSG: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/web-nsg",
				AcceleratedNetworking: true, IPForwarding: true,
				IPConfigs: []nic.IPConfigSpec{
					{Name: "ipconfig1", Subnet: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default",
						Allocation: "Dynamic", Version: "IPv4", Primary: true, PublicIP: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/web-3-pip",
						Pools: []string{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be"}},
					{Name: "ipconfig2", Subnet: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default",
						PrivateIP: "10.0.0.9", Allocation: "Static", Version: "IPv4"},
				},
				Model: json.RawMessage(`{ "tags" : {"team": "a<b>&c \u2028"},  "properties": {"dnsSettings": {"dnsServers": []}} }`)},
			PublicIPs: []vm.PublicIPTemplate{{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/web-3-pip",
				Spec: publicip.Spec{Location: "westeurope", SKU: "Standard", Tier: "Regional", Allocation: "Static", Version: "IPv4",
					IdleTimeout: 4, DeleteOption: "Delete", Model: json.RawMessage(`{"zones":["1","2"]}`)}}},
		}}
	return map[string]vmDoc{
		"zero": {},
		"idle windows from the seed": {Machine: lifecycle.Machine{Name: "seed-vm-0000000", State: lifecycle.State{
			Provisioning: lifecycle.Succeeded, Power: lifecycle.Stopped, ProvisionedAt: at}},
			Spec: windows, VMID: "0f8fad5b-d9cb-469f-a165-70867728950e", TimeCreated: created},
		"creating, held for extensions, waiting": {Machine: lifecycle.Machine{Name: "web1",
			State: lifecycle.State{Provisioning: lifecycle.Creating, OS: lifecycle.OSProvisioningComplete, Power: lifecycle.Running, ProvisionedAt: at},
			Run: &lifecycle.Run{OperationID: "op-1", Plan: createPlan, Step: 3, StepStarted: at.Add(time.Minute), Speed: 1,
				HoldUntil: at.Add(5 * time.Minute)}},
			Spec: windows, VMID: "id", TimeCreated: created, Waiting: []string{"ext-op-1", "ext-op-2"}},
		"failing at a step, at speed 60": {Machine: lifecycle.Machine{Name: "web2",
			State: lifecycle.State{Provisioning: lifecycle.Creating, Power: lifecycle.Starting, ProvisionedAt: at},
			Run:   &lifecycle.Run{OperationID: "op-2", Plan: createPlan, Step: 1, StepStarted: at, Speed: 60, Failure: failure, FailAt: 2}},
			Spec: VMSpec{Location: "westus", VMSize: "Standard_B1s", OSType: "Linux"}, VMID: "id2", TimeCreated: created},
		"failed, hibernated, generalized": {Machine: lifecycle.Machine{Name: "web3", State: lifecycle.State{
			Provisioning: lifecycle.Failed, Power: lifecycle.Deallocated, Failure: failure, Generalized: true, Hibernated: true, ProvisionedAt: at}},
			Spec: VMSpec{Location: "westus", VMSize: "Standard_B1s", OSType: "Linux", HibernationEnabled: true}, VMID: "id3", TimeCreated: created},
		"deleting a spot instance of a scale set": {Machine: lifecycle.Machine{Name: "web_3",
			State: lifecycle.State{Provisioning: lifecycle.Deleting, Power: lifecycle.Deallocating, ProvisionedAt: at},
			Run: &lifecycle.Run{OperationID: "op-3", Plan: lifecycle.Plan{Kind: lifecycle.Delete, Steps: []lifecycle.Step{
				{Provisioning: lifecycle.Deleting, Power: lifecycle.Deallocating, Duration: 1500 * time.Millisecond}},
				End: lifecycle.State{Provisioning: lifecycle.Deleting}, Removes: true}, StepStarted: at, Speed: 0.25}},
			Spec: VMSpec{Location: "westeurope", VMSize: "Standard_D4s_v5", OSType: "Linux", LicenseType: "RHEL_BYOS",
				Priority: "Spot", EvictionPolicy: "Delete", ScaleSetID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web",
				Disks: []disk.Ref{{Name: "os", CreateOption: "FromImage", OS: true},
					{Name: "data0", ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/data0", CreateOption: "Empty", SizeGB: 1024, SKU: "StandardSSD_LRS", DeleteOption: "Delete"},
					{Name: "data1", CreateOption: "Attach"}},
				NICs: []vm.NICRef{scaleSetNIC, {ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/second"}}},
			VMID: "id4", TimeCreated: created},
		"an interface template without configurations": {Machine: lifecycle.Machine{Name: "n"},
			Spec: VMSpec{NICs: []vm.NICRef{{ID: "x", Create: &vm.NICTemplate{}}, {ID: "y", Create: &vm.NICTemplate{Spec: nic.Spec{IPConfigs: []nic.IPConfigSpec{}}}}}}},
		"a raw model of null": {Spec: VMSpec{NICs: []vm.NICRef{{ID: "x", Create: &vm.NICTemplate{Spec: nic.Spec{Model: json.RawMessage("null")},
			PublicIPs: []vm.PublicIPTemplate{{ID: "p", Spec: publicip.Spec{Model: json.RawMessage(` "a\u003c" `)}}}}}}}},
		"strings json escapes": {Machine: lifecycle.Machine{Name: "a\"b\\c/d\be\ff\ng\rh\ti\x00j\x1fk\x7fl<m>n&o\u2028p\u2029q\xffr\xc3s€t😀u",
			State: lifecycle.State{Provisioning: "Odd <word>", Failure: &lifecycle.Failure{Code: "Ünïcode", Message: "\xed\xa0\x80 surrogate half"}}},
			Spec: VMSpec{Location: "east us & west", VMSize: "<script>", ComputerName: "\u00e9\u4e2d"},
			VMID: "'single'", Waiting: []string{"", "x"}},
		"times in other zones, with nanoseconds, at the edges": {Machine: lifecycle.Machine{Name: "t",
			State: lifecycle.State{Provisioning: lifecycle.Succeeded, ProvisionedAt: time.Date(2026, 2, 28, 23, 59, 59, 123456789, time.FixedZone("", 5*3600+30*60))},
			Run: &lifecycle.Run{OperationID: "o", Plan: lifecycle.Plan{Kind: lifecycle.Restart}, StepStarted: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
				Speed: 1e-7, HoldUntil: time.Date(0, 1, 1, 0, 0, 0, 1, time.FixedZone("west", -8*3600))}},
			TimeCreated: time.Date(2024, 2, 29, 12, 0, 0, 100, time.UTC)},
		"speeds json writes with exponents": {Machine: lifecycle.Machine{Run: &lifecycle.Run{Speed: 1e21, Step: -3, FailAt: math.MaxInt64 / 3,
			Plan: lifecycle.Plan{Steps: []lifecycle.Step{{Duration: -1}, {Duration: math.MaxInt64}}}}}},
		"a negative fractional speed": {Machine: lifecycle.Machine{Run: &lifecycle.Run{Speed: -123.456e-3}}},
	}
}

// TestVMDocMatchesEncodingJSON holds the hand-written codec to
// encoding/json: the same bytes out, the same value back, and the fast
// path taken for everything it writes.
func TestVMDocMatchesEncodingJSON(t *testing.T) {
	for name, doc := range vmDocCases() {
		t.Run(name, func(t *testing.T) {
			if !checkEncodesAsJSON(t, doc) {
				t.Fatal("json.Marshal refuses the case")
			}
		})
	}
}

// TestVMDocRefusesWhatJSONRefuses checks that encode fails where
// json.Marshal does: a time past year 9999, a speed json cannot write, a
// raw model that is not JSON.
func TestVMDocRefusesWhatJSONRefuses(t *testing.T) {
	for name, doc := range map[string]vmDoc{
		"year 10000":    {TimeCreated: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"NaN speed":     {Machine: lifecycle.Machine{Run: &lifecycle.Run{Speed: math.NaN()}}},
		"infinite":      {Machine: lifecycle.Machine{Run: &lifecycle.Run{Speed: math.Inf(-1)}}},
		"invalid model": {Spec: VMSpec{NICs: []vm.NICRef{{Create: &vm.NICTemplate{Spec: nic.Spec{Model: json.RawMessage(`{"a":`)}}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if checkEncodesAsJSON(t, doc) {
				t.Fatal("json.Marshal wrote it")
			}
		})
	}
}

// checkEncodesAsJSON fails unless encode writes doc as json.Marshal does
// (or fails where it fails), and what it writes reads back by the fast
// path, as json reads it. It reports whether json wrote doc.
func checkEncodesAsJSON(t *testing.T, doc vmDoc) bool {
	t.Helper()
	want, wantErr := json.Marshal(doc)
	got, err := doc.encode()
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("encode: error %v, json's %v", err, wantErr)
	}
	if err != nil {
		return false
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encode:\n got %s\nwant %s", got, want)
	}
	if !readVMState(got, jsonwire.NewInterner(), &VM{}) {
		t.Fatalf("the fast path gave up on %s", got)
	}
	checkDecodesAsJSON(t, got)
	return true
}

// decodeDoc reads a document as decodeVM does, into a vmDoc.
func decodeDoc(data []byte, words *jsonwire.Interner) (vmDoc, error) {
	var v VM
	err := decodeVMState(data, words, &v)
	return vmDoc{Machine: v.Machine, Spec: v.Spec, VMID: v.VMID, TimeCreated: v.TimeCreated, Waiting: v.Waiting}, err
}

// checkDecodesAsJSON fails unless decodeVMState reads data as json.Unmarshal
// does: the same value, or an error for an error.
func checkDecodesAsJSON(t *testing.T, data []byte) {
	t.Helper()
	var want vmDoc
	wantErr := json.Unmarshal(data, &want)
	got, err := decodeDoc(data, jsonwire.NewInterner())
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decode %q: error %v, json's %v", data, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decode %q:\n got %#v\nwant %#v", data, got, want)
	}
}

// TestVMDocReadsOtherShapes reads documents the fast path gives up on:
// encoding/json reads them instead, with the same result.
func TestVMDocReadsOtherShapes(t *testing.T) {
	canonical, _ := json.Marshal(vmDocCases()["deleting a spot instance of a scale set"])
	var indented bytes.Buffer
	if err := json.Indent(&indented, canonical, "", "  "); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"indented":          indented.String(),
		"other key order":   `{"vmId":"v","machine":{"state":{"provisionedAt":"2026-01-01T00:00:00Z","provisioning":"Succeeded"},"name":"n"}}`,
		"unknown member":    `{"machine":{"name":"n","color":"blue"},"vmId":"v"}`,
		"keys in any case":  `{"Machine":{"NAME":"n"},"VMID":"v"}`,
		"repeated member":   `{"vmId":"a","vmId":"b"}`,
		"nulls":             `{"machine":{"name":null,"run":null},"spec":{"disks":null},"waiting":null}`,
		"escaped key":       `{"vm\u0049d":"v"}`,
		"escaped time":      `{"timeCreated":"\u0032026-01-01T00:00:00Z"}`,
		"surrogate escapes": `{"vmId":"\ud83d\ude00 \ud83d \udc00x \ud83d\u0041"}`,
		"invalid utf-8":     "{\"vmId\":\"a\xffb\"}",
		"float step":        `{"machine":{"run":{"step":1.0}}}`,
		"big speed":         `{"machine":{"run":{"speed":1e400}}}`,
		"long integer":      `{"machine":{"run":{"step":12345678901234567890}}}`,
		"old document":      `{"machine":{"name":"n","state":{"provisioning":"Succeeded","provisionedAt":"2025-01-01T00:00:00+01:00"}},"spec":{"location":"eastus","vmSize":"Standard_B1s"},"vmId":"v","timeCreated":"2025-01-01T00:00:00.5Z"}`,
		"trailing garbage":  `{"vmId":"v"}x`,
		"truncated":         string(canonical[:len(canonical)/2]),
		"not an object":     `[]`,
		"empty":             ``,
		"leap day invalid":  `{"timeCreated":"2025-02-29T00:00:00Z"}`,
		"hour 24":           `{"timeCreated":"2025-02-28T24:00:00Z"}`,
	} {
		t.Run(name, func(t *testing.T) { checkDecodesAsJSON(t, []byte(data)) })
	}
}

// TestVMDocInternsFleetWords checks that documents read with one interner
// share the words the fleet repeats and keep their own names.
func TestVMDocInternsFleetWords(t *testing.T) {
	doc := vmDocCases()["idle windows from the seed"]
	a, _ := doc.encode()
	doc.Machine.Name = "seed-vm-0000001"
	b, _ := doc.encode()
	words := jsonwire.NewInterner()
	x, err := decodeDoc(a, words)
	if err != nil {
		t.Fatal(err)
	}
	y, err := decodeDoc(b, words)
	if err != nil {
		t.Fatal(err)
	}
	same := func(s, u string) bool { return len(s) > 0 && len(s) == len(u) && unsafeData(s) == unsafeData(u) }
	for name, pair := range map[string][2]string{
		"location": {x.Spec.Location, y.Spec.Location}, "size": {x.Spec.VMSize, y.Spec.VMSize},
		"os name": {x.Spec.OSName, y.Spec.OSName}, "sku": {x.Spec.Disks[0].SKU, y.Spec.Disks[0].SKU},
		"power": {string(x.Machine.State.Power), string(y.Machine.State.Power)},
	} {
		if !same(pair[0], pair[1]) {
			t.Errorf("%s: two copies of %q", name, pair[0])
		}
	}
	if x.Machine.Name == y.Machine.Name {
		t.Errorf("names read alike: %q", x.Machine.Name)
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

// fleetDoc builds a document from fuzz input: every field drawn from the
// bytes, strings from a list of awkward ones or the bytes themselves.
type fleetDoc struct{ data []byte }

func (g *fleetDoc) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *fleetDoc) bool() bool { return g.byte()&1 == 1 }

func (g *fleetDoc) u64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = g.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

var awkward = []string{"", "eastus", "Standard_D2s_v5", "<>&", "\u2028\u2029", "\xff\xfe", "\"\\/", "\x00\x01\b\f\n\r\t\x1f\x7f", "é😀", "\xed\xa0\x80", "\xf4\x90\x80\x80"}

func (g *fleetDoc) string() string {
	n := int(g.byte())
	if n < 2*len(awkward) {
		return awkward[n%len(awkward)]
	}
	n %= 24
	n = min(n, len(g.data))
	s := string(g.data[:n])
	g.data = g.data[n:]
	return s
}

func (g *fleetDoc) strings() []string {
	switch n := g.byte() % 5; n {
	case 0:
		return nil
	case 1:
		return []string{}
	default:
		out := make([]string, n-1)
		for i := range out {
			out[i] = g.string()
		}
		return out
	}
}

func (g *fleetDoc) time() time.Time {
	switch g.byte() % 4 {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(int64(g.u64()%(1<<34)), 0).UTC()
	case 2:
		return time.Unix(int64(g.u64()%(1<<36))-1<<35, int64(g.u64()%1e9)).In(time.FixedZone("", (int(g.byte())-128)*60*7))
	default:
		return time.Unix(int64(g.u64()), int64(g.u64())).UTC() // years out of range too
	}
}

func (g *fleetDoc) float() float64 {
	switch g.byte() % 4 {
	case 0:
		return 1
	case 1:
		return float64(g.byte()) / 8
	default:
		return math.Float64frombits(g.u64()) // NaN and infinities too
	}
}

func (g *fleetDoc) raw() json.RawMessage {
	switch g.byte() % 4 {
	case 0:
		return nil
	case 1:
		return json.RawMessage(`{"tags": {"a": "<b>"}, "zones": [ "1" ]}`)
	case 2:
		return json.RawMessage(g.string()) // mostly invalid
	default:
		return json.RawMessage("null")
	}
}

func (g *fleetDoc) failure() *lifecycle.Failure {
	if !g.bool() {
		return nil
	}
	return &lifecycle.Failure{Code: g.string(), Message: g.string()}
}

func (g *fleetDoc) state() lifecycle.State {
	return lifecycle.State{Provisioning: lifecycle.Provisioning(g.string()), OS: lifecycle.OSProvisioning(g.string()),
		Power: lifecycle.Power(g.string()), Failure: g.failure(), Generalized: g.bool(), Hibernated: g.bool(), ProvisionedAt: g.time()}
}

func (g *fleetDoc) run() *lifecycle.Run {
	if !g.bool() {
		return nil
	}
	r := &lifecycle.Run{OperationID: g.string(), Plan: lifecycle.Plan{Kind: lifecycle.Kind(g.string()), End: g.state(), Removes: g.bool()},
		Step: int(int64(g.u64())), StepStarted: g.time(), Speed: g.float(), Failure: g.failure(), FailAt: int(g.byte()) - 2, HoldUntil: g.time()}
	switch n := g.byte() % 4; n {
	case 0:
	case 1:
		r.Plan.Steps = []lifecycle.Step{}
	default:
		for range n {
			r.Plan.Steps = append(r.Plan.Steps, lifecycle.Step{Provisioning: lifecycle.Provisioning(g.string()),
				OS: lifecycle.OSProvisioning(g.string()), Power: lifecycle.Power(g.string()), Duration: time.Duration(g.u64())})
		}
	}
	return r
}

func (g *fleetDoc) nicRef() vm.NICRef {
	r := vm.NICRef{ID: g.string(), Primary: g.bool(), DeleteOption: g.string()}
	if g.bool() {
		r.Create = &vm.NICTemplate{Spec: nic.Spec{Location: g.string(), NSG: g.string(), AcceleratedNetworking: g.bool(),
			IPForwarding: g.bool(), Model: g.raw()}}
		if g.bool() {
			r.Create.Spec.IPConfigs = []nic.IPConfigSpec{}
		}
		for range g.byte() % 3 {
			r.Create.Spec.IPConfigs = append(r.Create.Spec.IPConfigs, nic.IPConfigSpec{Name: g.string(), Subnet: g.string(),
				PrivateIP: g.string(), Allocation: g.string(), Version: g.string(), Primary: g.bool(), PublicIP: g.string(), Pools: g.strings()})
		}
		for range g.byte() % 3 {
			r.Create.PublicIPs = append(r.Create.PublicIPs, vm.PublicIPTemplate{ID: g.string(), Spec: publicip.Spec{Location: g.string(),
				SKU: g.string(), Tier: g.string(), Allocation: g.string(), Version: g.string(), IdleTimeout: int(int8(g.byte())),
				DeleteOption: g.string(), Model: g.raw()}})
		}
	}
	return r
}

func (g *fleetDoc) doc() vmDoc {
	doc := vmDoc{Machine: lifecycle.Machine{Name: g.string(), State: g.state(), Run: g.run()},
		Spec: VMSpec{Location: g.string(), VMSize: g.string(), GeneralizedImage: g.bool(), OSType: g.string(), LicenseType: g.string(),
			Priority: g.string(), EvictionPolicy: g.string(), HibernationEnabled: g.bool(), ScaleSetID: g.string(),
			ComputerName: g.string(), OSName: g.string(), OSVersion: g.string()},
		VMID: g.string(), TimeCreated: g.time(), Waiting: g.strings()}
	if g.bool() {
		doc.Spec.Disks = []disk.Ref{}
	}
	for range g.byte() % 4 {
		doc.Spec.Disks = append(doc.Spec.Disks, disk.Ref{Name: g.string(), ID: g.string(), CreateOption: g.string(),
			SizeGB: int(int16(g.u64())), SKU: g.string(), DeleteOption: g.string(), OS: g.bool()})
	}
	for range g.byte() % 3 {
		doc.Spec.NICs = append(doc.Spec.NICs, g.nicRef())
	}
	return doc
}

// FuzzVMDocEncoding holds the hand-written encoder to json.Marshal over
// documents drawn from the fuzz input: the same bytes, or an error for an
// error; and what it writes reads back by the fast path as json reads it.
func FuzzVMDocEncoding(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{1}, 400))
	f.Add(bytes.Repeat([]byte{0xff, 3, 0x17, 0x80}, 200))
	f.Add([]byte(strings.Repeat("a\x00\x05\x7f\x16", 120)))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEncodesAsJSON(t, (&fleetDoc{data: data}).doc())
	})
}

// FuzzVMDocDecoding holds decodeVMState to json.Unmarshal over any bytes,
// starting from stored documents of every kind.
func FuzzVMDocDecoding(f *testing.F) {
	for _, doc := range vmDocCases() {
		data, _ := json.Marshal(doc)
		f.Add(data)
	}
	f.Add([]byte(`{"machine":{"name":"n","state":{"provisioning":"Succeeded","provisionedAt":"2025-01-01T00:00:00+01:00"}},"vmId":"v","timeCreated":"2025-01-01T00:00:00.5Z"}`))
	f.Add([]byte(`{"vmId":"\ud83d\ude00 \ud83d \udc00x \u00e9\/\b","timeCreated":"2025-02-29T00:00:00Z"}`))
	f.Add([]byte(`{"machine":{"run":{"step":-0,"speed":-0.0e+1,"failAt":1e2}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodesAsJSON(t, data)
	})
}

// FuzzOperationErrorEncoding holds the hand-written writer of an
// operation's error to json.Marshal.
func FuzzOperationErrorEncoding(f *testing.F) {
	f.Add("OperationPreempted", "Operation execution has been preempted by a more recent operation.")
	f.Add("", "")
	f.Add("<&>\x00", "\xff\u2028\"")
	f.Fuzz(func(t *testing.T, code, message string) {
		e := &OperationError{Code: code, Message: message}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := operationErrorJSON(e); !bytes.Equal(got, want) {
			t.Fatalf("%+v written as\n%s\nwant\n%s", e, got, want)
		}
	})
}

// BenchmarkVMDoc measures writing and reading the seed's state document
// by hand against encoding/json in the same run (allocations per op are
// what the write path and a start pay per VM).
func BenchmarkVMDoc(b *testing.B) {
	doc := vmDocCases()["idle windows from the seed"]
	data, _ := json.Marshal(doc)
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := doc.encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var back vmDoc
			if err := json.Unmarshal(data, &back); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/hand", func(b *testing.B) {
		b.ReportAllocs()
		words := jsonwire.NewInterner()
		for b.Loop() {
			if err := decodeVMState(data, words, &VM{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

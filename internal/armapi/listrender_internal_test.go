package armapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
	"github.com/azemu/azemu/internal/store/memstore"
)

// The list pages as the handlers wrote them before listrender.go: each
// item a map or struct, the page a map, all written by encodeJSON. The
// new pages must be the same bytes.

// referencePage is writeList's encoding of a page.
func referencePage(value []any, link string) []byte {
	if value == nil {
		value = []any{}
	}
	body := map[string]any{"value": value}
	if link != "" {
		body["nextLink"] = link
	}
	b, err := encodeJSON(body)
	if err != nil {
		panic(err)
	}
	return b
}

// statusOnlyVM is one VM of listAll statusOnly=true as the handler built
// it, for encodeJSON.
type statusOnlyVM struct {
	ID         string               `json:"id"`
	Location   string               `json:"location"`
	Name       string               `json:"name"`
	Properties statusOnlyProperties `json:"properties"`
	Type       string               `json:"type"`
}

type statusOnlyProperties struct {
	HardwareProfile   struct{}       `json:"hardwareProfile"`
	InstanceView      statusOnlyView `json:"instanceView"`
	ProvisioningState string         `json:"provisioningState"`
	VMID              string         `json:"vmId"`
}

type statusOnlyView struct {
	PlatformFaultDomain *int               `json:"platformFaultDomain,omitempty"`
	Statuses            []lifecycle.Status `json:"statuses"`
}

func referenceStatusOnlyPage(vms []*engine.VM, link string, powerStateGone func() bool) []byte {
	value := make([]any, 0, len(vms))
	for _, v := range vms {
		item := statusOnlyVM{Name: v.Name, ID: v.ID, Type: "Microsoft.Compute/virtualMachines", Location: v.Spec.Location,
			Properties: statusOnlyProperties{VMID: v.VMID, ProvisioningState: string(v.Machine.State.Provisioning),
				InstanceView: statusOnlyView{Statuses: v.Machine.State.Statuses()}}}
		if v.Machine.State.Power.Allocated() {
			zero := 0
			item.Properties.InstanceView.PlatformFaultDomain = &zero
		}
		if powerStateGone() {
			item.Properties.InstanceView.Statuses = withoutPowerState(item.Properties.InstanceView.Statuses)
		}
		value = append(value, item)
	}
	return referencePage(value, link)
}

func referenceVMPage(vms []*engine.VM, link string, withInstanceView bool) []byte {
	value := make([]any, 0, len(vms))
	for _, v := range vms {
		body := renderVM(v, withInstanceView)
		delete(body["properties"].(map[string]any), "userData")
		value = append(value, body)
	}
	return referencePage(value, link)
}

// referenceInstance is a Uniform instance as the scale set VM API showed
// it, for its GET and its list.
func referenceInstance(set *engine.ScaleSet, v *engine.VM, withInstanceView bool) map[string]any {
	out := renderVM(v, withInstanceView)
	id := v.ID[strings.LastIndex(v.ID, "/")+1:]
	out["name"] = set.Name + "_" + id
	out["type"] = engine.ScaleSetType + "/virtualMachines"
	out["instanceId"] = id
	delete(out, "managedBy")
	out["sku"] = map[string]any{"name": v.Spec.VMSize, "tier": "Standard"}
	props := out["properties"].(map[string]any)
	props["latestModelApplied"] = true
	delete(props, "virtualMachineScaleSet")
	return out
}

func referenceInstancePage(set *engine.ScaleSet, members []*engine.VM, withInstanceView bool) []byte {
	value := make([]any, 0, len(members))
	for _, v := range members {
		value = append(value, referenceInstance(set, v, withInstanceView))
	}
	return referencePage(value, "")
}

// listServer is a server on an empty engine: its VMs have no
// extensions, so their list items go through the render cache.
func listServer(t testing.TB) *Server {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.Config{Store: memstore.New(), Manual: clock.NewManual(clock.DefaultManualStart),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	return New(Config{Engine: eng, Logger: slog.New(slog.DiscardHandler)})
}

// checkListPages compares every kind of page over vms, rendered both
// ways; withoutPower picks the VMs whose power state a fault hides.
func checkListPages(t testing.TB, s *Server, vms []*engine.VM, link string, withoutPower func(i int) bool) {
	t.Helper()
	fail := func(what string, got, want []byte) {
		t.Helper()
		var models []string
		for _, v := range vms {
			models = append(models, fmt.Sprintf("%s: %q", v.ID, v.Model))
		}
		t.Fatalf("%s, link %q, VMs:\n%s\n got %s\nwant %s", what, link, strings.Join(models, "\n"), got, want)
	}
	var m int
	want := referenceStatusOnlyPage(vms, link, func() bool { m++; return withoutPower(m - 1) })
	// Without the cache, then twice with it: rendered (and kept), then
	// kept.
	for _, kept := range []*renderCache{nil, s.statusOnly, s.statusOnly} {
		var n int
		if got := statusOnlyPage(vms, link, func() bool { n++; return withoutPower(n - 1) }, kept); !bytes.Equal(got, want) {
			fail(fmt.Sprintf("statusOnly page (kept %v)", kept != nil), got, want)
		}
	}
	for _, a := range []vmAnswer{answerVM, answerVMInstanceView} {
		want := referenceVMPage(vms, link, a == answerVMInstanceView)
		// Twice: rendered (and kept), then from the render cache.
		for _, pass := range []string{"rendered", "kept"} {
			if got := s.vmPage(vms, link, a); !bytes.Equal(got, want) {
				fail(fmt.Sprintf("VM page (%d), %s", a, pass), got, want)
			}
		}
		// What a list kept is what a GET of the VM answers.
		for _, v := range vms {
			if kept, ok := s.renders.get(v, a); ok {
				if get, err := s.renderVMAnswer(context.Background(), v, a, nil); err == nil && !bytes.Equal(kept, get) {
					fail(fmt.Sprintf("GET answer (%d) a list kept for %s", a, v.ID), kept, get)
				}
			}
		}
		set := &engine.ScaleSet{Meta: resource.Meta{Name: "set<&>\u2028"}}
		if got, want := instancePage(set, vms, a), referenceInstancePage(set, vms, a == answerVMInstanceView); !bytes.Equal(got, want) {
			fail(fmt.Sprintf("instance page (%d)", a), got, want)
		}
	}
}

// randomFleet is n VMs with models, states and specs drawn from the
// render tests' (and extra, when not empty), named and numbered in turn.
func randomFleet(rng *rand.Rand, n int, extra string) []*engine.VM {
	states, specs := renderStates(), renderSpecs()
	vms := make([]*engine.VM, n)
	for i := range vms {
		model := renderModels[rng.IntN(len(renderModels))]
		if extra != "" && rng.IntN(2) == 0 {
			model = extra
		}
		v := testVM(model, states[rng.IntN(len(states))], specs[rng.IntN(len(specs))])
		v.Name = fmt.Sprintf("vm%d", rng.IntN(1000))
		if extra != "" && rng.IntN(4) == 0 {
			v.Name = extra // anything in a name goes through the answers' strings too
		}
		v.ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/" + v.Name
		v.Version = rng.Int64N(100)
		vms[i] = v
	}
	return vms
}

func TestListPagesMatchTheReference(t *testing.T) {
	s := listServer(t)
	// Every model, state and spec of the render tests, in one page.
	var all []*engine.VM
	for i, model := range renderModels {
		for j, st := range renderStates() {
			for k, spec := range renderSpecs() {
				v := testVM(model, st, spec)
				v.Name = fmt.Sprintf("vm-%d-%d-%d", i, j, k)
				v.ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/" + v.Name
				all = append(all, v)
			}
		}
	}
	link := "https://127.0.0.1:8443/subscriptions/s/providers/Microsoft.Compute/virtualMachines?%24skiptoken=x&api-version=2024-07-01&statusOnly=true"
	checkListPages(t, s, all, link, func(i int) bool { return i%3 == 0 })
	checkListPages(t, s, all, "", func(int) bool { return false })
	// Empty pages, and pages of random fleets.
	checkListPages(t, s, nil, "", func(int) bool { return true })
	checkListPages(t, s, []*engine.VM{}, link, func(int) bool { return true })
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		vms := randomFleet(rng, rng.IntN(30), "")
		hidden := rng.Uint64()
		checkListPages(t, s, vms, link, func(i int) bool { return hidden>>(i%64)&1 == 1 })
	}

	// A VM's next snapshot is never answered with the items kept for
	// the one before.
	v := testVM(renderModels[0], renderStates()[0], renderSpecs()[0])
	checkListPages(t, s, []*engine.VM{v}, "", func(int) bool { return false })
	for _, st := range renderStates()[1:] {
		next := *v
		next.Machine.State, next.Version = st, v.Version+1
		v = &next
		checkListPages(t, s, []*engine.VM{v}, "", func(int) bool { return false })
	}
}

// FuzzListPages writes pages of random fleets, with a model and a name
// from the fuzzer, both ways.
func FuzzListPages(f *testing.F) {
	for i, m := range renderModels {
		f.Add([]byte(m), uint64(i), "https://127.0.0.1:8443/x?%24skiptoken=a&b=<c>")
	}
	f.Add([]byte(`{"properties":{"userData":"x","virtualMachineScaleSet":{"id":"s"}},"managedBy":"m","sku":{"name":"n"},"instanceId":"9"}`), uint64(7), "")
	s := listServer(f)
	f.Fuzz(func(t *testing.T, model []byte, seed uint64, link string) {
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		vms := randomFleet(rng, 1+rng.IntN(8), string(model))
		hidden := rng.Uint64()
		checkListPages(t, s, vms, link, func(i int) bool { return hidden>>(i%64)&1 == 1 })
	})
}

// BenchmarkListPages writes a page of 100 VMs both ways.
func BenchmarkListPages(b *testing.B) {
	s := listServer(b)
	vms := randomFleet(rand.New(rand.NewPCG(1, 2)), 100, "")
	for i, v := range vms {
		// Ordinary models and VMs: the first model, running.
		*v = *testVM(renderModels[0], renderStates()[0], renderSpecs()[0])
		v.Name = fmt.Sprintf("vm%03d", i)
		v.ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/" + v.Name
	}
	link := "https://127.0.0.1:8443/subscriptions/s/providers/Microsoft.Compute/virtualMachines?%24skiptoken=x&api-version=2024-07-01&statusOnly=true"
	never := func() bool { return false }
	for _, c := range []struct {
		name string
		page func() []byte
	}{
		{"statusOnly/reference", func() []byte { return referenceStatusOnlyPage(vms, link, never) }},
		{"statusOnly/typed", func() []byte { return statusOnlyPage(vms, link, never, nil) }},
		{"statusOnly/kept", func() []byte { return statusOnlyPage(vms, link, never, s.statusOnly) }},
		{"list/reference", func() []byte { return referenceVMPage(vms, link, false) }},
		{"list/typed", func() []byte { return s.vmPage(vms, link, answerVM) }},
		{"list/typed-uncached", func() []byte {
			p := newPage(link, 0)
			for _, v := range vms {
				p.item()
				p.b = appendVMItem(p.b, v, answerVM, nil)
			}
			return p.end()
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.page()
			}
		})
	}
}

func checkContainsFold(t *testing.T, s string) {
	t.Helper()
	for _, needle := range []string{"/virtualmachinescalesets/", "virtualmachinescalesets", "/", "s/", ""} {
		if got, want := containsFold(s, needle), strings.Contains(strings.ToLower(s), needle); got != want {
			t.Fatalf("containsFold(%q, %q) = %v, want %v", s, needle, got, want)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, s := range []string{"", "/virtualMachineScaleSets/", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/set/virtualMachines/0",
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", "/VIRTUALMACHINESCALESETS/", "/virtualmachinescalesets",
		"/v\u0130rtualmachinescalesets/", "/virtualmachine\u017fcalesets/", "x/virtualmachinescalesets/x", "/virtualmachinescalesets//virtualmachinescalesets/",
		"//virtualMachineScaleSets", "/x/virtualMachineScaleSets/", "a/", "S/", "/"} {
		checkContainsFold(t, s)
	}
}

func FuzzContainsFold(f *testing.F) {
	f.Add("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/set/virtualMachines/0")
	f.Fuzz(checkContainsFold)
}

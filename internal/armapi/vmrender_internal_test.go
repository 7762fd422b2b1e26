package armapi

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/jsonshape"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/lifecycle"
)

// referenceVMAnswer renders a VM's answer as the handlers did before
// vmrender.go: renderVM's map, changed as the answer asks, written by
// encodeJSON. The new rendering must give the same bytes.
func (s *Server) referenceVMAnswer(ctx context.Context, vm *engine.VM, a vmAnswer, exts []*engine.Extension) ([]byte, error) {
	if a == answerInstanceView {
		return encodeJSON(s.withExtensions(ctx, exts, instanceView(vm)))
	}
	body := renderVM(vm, false)
	props := body["properties"].(map[string]any)
	if a != answerVMUserData {
		delete(props, "userData")
	}
	if a == answerVMInstanceView {
		props["instanceView"] = s.withExtensions(ctx, exts, instanceView(vm))
	}
	var resources []any
	for _, x := range exts {
		resources = append(resources, s.renderExtension(ctx, x, false))
	}
	if resources != nil {
		body["resources"] = resources
	}
	return encodeJSON(body)
}

var allVMAnswers = map[string]vmAnswer{"GET": answerVM, "$expand=instanceView": answerVMInstanceView,
	"$expand=userData": answerVMUserData, "/instanceView": answerInstanceView}

// checkVMRendering compares every answer of vm, rendered both ways.
func checkVMRendering(t testing.TB, s *Server, vm *engine.VM, exts []*engine.Extension) {
	t.Helper()
	for name, a := range allVMAnswers {
		want, err := s.referenceVMAnswer(context.Background(), vm, a, exts)
		if err != nil {
			// The reference cannot write it (a time past year 9999):
			// the new rendering need not either.
			continue
		}
		got, err := s.renderVMAnswer(context.Background(), vm, a, exts)
		if err != nil {
			t.Fatalf("%s of %s: %v", name, vm.ID, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s of %s (model %q):\n got %s\nwant %s", name, vm.ID, vm.Model, got, want)
		}
	}
}

// testVM is a VM whose model and state the render tests vary.
func testVM(model string, st lifecycle.State, spec engine.VMSpec) *engine.VM {
	return &engine.VM{Meta: resource.Meta{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
		SubscriptionID: "s", ResourceGroup: "rg", Name: "vm1", Version: 7},
		Model: jsonshape.Of([]byte(model)), Spec: spec, Machine: lifecycle.Machine{State: st},
		VMID: "0f8fad5b-d9cb-469f-a165-70867728950e", TimeCreated: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)}
}

// Models of every shape: the encoding encodeJSON writes, and what it
// rewrites (escapes, numbers, key order, spaces, duplicates), invalid
// JSON, and properties that are not an object.
var renderModels = []string{
	`{"location":"westeurope","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"osProfile":{"adminUsername":"azureuser","computerName":"vm1"},"userData":"aGk="},"tags":{"team":"a&b <c>"}}`,
	`{"location":"westeurope","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"userData":"aGk="},"tags":{"team":"a\u0026b \u003cc\u003e"}}`,
	`{"properties":{"storageProfile":{"dataDisks":[{"diskSizeGB":1023,"lun":0},{"diskSizeGB":1.5e3,"lun":1.0}]}}}`,
	`{"properties":{"x":[1e21]}}`,
	`{"properties":{"x":[1e+21]}}`,
	`{"properties":{"x":[1e-7]}}`,
	`{"properties":{"x":[0.000001]}}`,
	`{"properties":{"x":[1e-6]}}`,
	`{"properties":{"x":[-0]}}`,
	`{"properties":{"x":[-0.0]}}`,
	`{"properties":{"x":[123456789012345]}}`,
	`{"properties":{"x":[1234567890123456]}}`,
	`{"properties":{"x":[123456789012345678]}}`,
	`{"properties":{"x":[0.1]}}`,
	`{"properties":{"x":[1.10]}}`,
	`{"properties":{"x":[1E2]}}`,
	`{"properties":{"x":[100]}}`,
	`{"properties":{"x":[-1.25e-10]}}`,
	`{"properties":{"x":[1.5e300]}}`,
	`{"properties":{"x":[5e-324]}}`,
	`{"properties":{"x":[2.5]}}`,
	`{"b":1,"a":2,"properties":{"z":1,"a":{"d":1,"c":2}}}`,
	`{ "properties" : { "a" : 1 } }`,
	`{"a":1,"a":2,"properties":{"p":1,"p":{"q":2}}}`,
	`{"properties":null,"id":"mine","name":"other","etag":"x","managedBy":"me","resources":[1],"type":"t","zones":["1"]}`,
	`{"properties":"text"}`,
	`{"properties":{"instanceView":{"stale":true},"vmId":"old","provisioningState":"old","timeCreated":"old"}}`,
	`{"properties":{"s":"tab\there \"quoted\" back\\slash \u0001 \u001f \b\f\n\r\t é \u00e9 \u2028 \u2029 \ud83d\ude00 \ud800 ` + "\u2028" + `"}}`,
	`{"properties":{"k":"\u00E9 \u0041 \/"}}`,
	"{\"properties\":{\"bad\":\"\xff\xfe\"}}",
	`{"properties":{"n":1e400}}`,
	`{"properties":{}}`,
	`{}`,
	`null`,
	`[]`,
	`not json`,
	``,
	`{"properties":{"a":true,"b":false,"c":null,"d":[],"e":{},"f":[[]],"g":[{}]}}`,
	`{"":1,"properties":{"":2}}`,
	`{"properties":{"k":1}} `,
	`{"properties":{"k":1}}{}`,
	`{"k\u0065y":1,"properties":{}}`,
}

func renderStates() []lifecycle.State {
	provisioned := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	return []lifecycle.State{
		{Provisioning: lifecycle.Succeeded, Power: lifecycle.Running, ProvisionedAt: provisioned},
		{Provisioning: lifecycle.Creating, OS: lifecycle.OSProvisioningInProgress, Power: lifecycle.Starting},
		{Provisioning: lifecycle.Succeeded, Power: lifecycle.Stopped, ProvisionedAt: provisioned},
		{Provisioning: lifecycle.Succeeded, Power: lifecycle.Deallocated, ProvisionedAt: provisioned},
		{Provisioning: lifecycle.Failed, Power: lifecycle.Deallocated, Failure: &lifecycle.Failure{Code: "ZonalAllocationFailed", Message: "no <room> & none"}},
		{},
	}
}

func renderSpecs() []engine.VMSpec {
	return []engine.VMSpec{
		{Location: "westeurope", VMSize: "Standard_D2s_v3", OSType: "Linux", ComputerName: "vm1", OSName: "ubuntu", OSVersion: "24.04",
			Disks: []engine.DiskRef{{Name: "vm1_OsDisk_1"}, {Name: "data-1"}}},
		{Location: "eastus", VMSize: "Standard_B1s", OSType: "Windows", GeneralizedImage: true, ComputerName: "win<&>",
			ScaleSetID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/set"},
		{},
	}
}

func TestVMRenderingMatchesReference(t *testing.T) {
	s := New(Config{Engine: nil})
	for _, model := range renderModels {
		for _, st := range renderStates() {
			for _, spec := range renderSpecs() {
				checkVMRendering(t, s, testVM(model, st, spec), nil)
			}
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"\`, "<>&", "\x00\x01\b\f\n\r\t\x1f\x7f", "é\u2028\u2029😀", "\xff", "a\xe2\x80", "\xed\xa0\x80"} {
		checkJSONString(t, s)
	}
}

func checkJSONString(t *testing.T, s string) {
	t.Helper()
	marshalled, _ := json.Marshal(s)
	if got := appendJSONString(nil, s, true); !bytes.Equal(got, marshalled) {
		t.Fatalf("%q with HTML escaped: %s, json.Marshal %s", s, got, marshalled)
	}
	encoded, _ := encodeJSON(s)
	if got := appendJSONString(nil, s, false); !bytes.Equal(got, bytes.TrimSuffix(encoded, []byte("\n"))) {
		t.Fatalf("%q: %s, encodeJSON %s", s, got, encoded)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a<b>&\u2028\xff\x00\"\\")
	f.Fuzz(func(t *testing.T, s string) { checkJSONString(t, s) })
}

// FuzzVMRendering renders any model (any bytes), in each state, both ways.
func FuzzVMRendering(f *testing.F) {
	for _, m := range renderModels {
		f.Add([]byte(m), uint8(0))
	}
	s := New(Config{Engine: nil})
	states, specs := renderStates(), renderSpecs()
	f.Fuzz(func(t *testing.T, model []byte, pick uint8) {
		vm := testVM(string(model), states[int(pick)%len(states)], specs[int(pick/8)%len(specs)])
		checkVMRendering(t, s, vm, nil)
		// Anything the model says in a string goes through the
		// server's fields too.
		vm.Spec.ComputerName, vm.Spec.Location, vm.VMID = string(model), string(model), strings.ToUpper(string(model))
		checkVMRendering(t, s, vm, nil)
	})
}

// BenchmarkVMRendering renders a VM's $expand=instanceView answer both
// ways, uncached: what the first GET after a change pays.
func BenchmarkVMRendering(b *testing.B) {
	s := New(Config{Engine: nil})
	vm := testVM(renderModels[0], renderStates()[0], renderSpecs()[0])
	for _, c := range []struct {
		name   string
		render func(context.Context, *engine.VM, vmAnswer, []*engine.Extension) ([]byte, error)
	}{{"reference", s.referenceVMAnswer}, {"typed", s.renderVMAnswer}} {
		for name, a := range allVMAnswers {
			b.Run(c.name+"/"+strings.TrimPrefix(name, "$"), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.render(context.Background(), vm, a, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSplitModel splits a VM's stored model, as each uncached render
// of its answer does, beside the whole render of its $expand answer.
func BenchmarkSplitModel(b *testing.B) {
	s, _, _ := getFleet(b, 1)
	vm, err := s.eng.GetVM("00000000-0000-0000-0000-0000000000b1", "bench", "vm000000")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("split", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			releaseSplit(splitPooled(vm.Model))
		}
	})
	b.Run("expand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.renderVMAnswer(context.Background(), vm, answerVMInstanceView, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

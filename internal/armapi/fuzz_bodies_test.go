package armapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// fuzzBody sends arbitrary bytes as the body of method on the path that
// pathOf gives for the n-th input. Whatever they are, the answer is a 2xx
// with a JSON body or a well-formed 4xx ARM error: never a 5xx, never a
// panic. after runs after a 2xx (to let operations end).
func fuzzBody(f *testing.F, e *env, method string, pathOf func(n int) string, seeds []any, after func(t *testing.T)) {
	for _, s := range seeds {
		switch b := s.(type) {
		case string:
			f.Add([]byte(b))
		default:
			data, err := json.Marshal(b)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, junk := range []string{`{}`, `null`, `[]`, `"x"`, `{"properties":null}`, `{"location":"\u0000","tags":{"a":[1]}}`, `{`, ``} {
		f.Add([]byte(junk))
	}
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		n++
		r := e.send(method, pathOf(n), body, req{headers: map[string]string{"Content-Type": "application/json"}})
		switch {
		case r.Status >= 200 && r.Status < 300:
			if len(r.Body) > 0 && !json.Valid(r.Body) {
				t.Fatalf("2xx that is not JSON: %s", r)
			}
			if after != nil {
				after(t)
			}
		case r.Status >= 400 && r.Status < 500:
			wellFormedError(t, r)
		default:
			t.Fatalf("body %q answered %s", body, r)
		}
	})
}

// FuzzScaleSetBody: scale set PUT bodies.
func FuzzScaleSetBody(f *testing.F) {
	e := newEnv(f)
	e.createGroup("rg")
	flexible := map[string]any{"location": "westeurope", "properties": map[string]any{"orchestrationMode": "Flexible", "platformFaultDomainCount": 1}}
	fuzzBody(f, e, http.MethodPut, func(n int) string { return setPath("rg", fmt.Sprintf("fz%d", n%4)) },
		[]any{uniformSet("rg", 2), uniformSet("rg", 0), flexible,
			`{"location":"westeurope","sku":{"name":"Standard_D2s_v3","capacity":-1},"properties":{"orchestrationMode":"Uniform"}}`,
			`{"location":"westeurope","sku":{"capacity":1e30}}`},
		func(*testing.T) { e.advance(5 * time.Minute) })
}

// FuzzDiskBody: managed disk PUT bodies.
func FuzzDiskBody(f *testing.F) {
	e := newEnv(f)
	e.createGroup("rg")
	disk := map[string]any{"location": "westeurope", "sku": map[string]any{"name": "Premium_LRS"},
		"properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}, "diskSizeGB": 64}}
	fuzzBody(f, e, http.MethodPut, func(n int) string {
		return groupPath("rg") + fmt.Sprintf("/providers/Microsoft.Compute/disks/fz%d", n%4)
	}, []any{disk, `{"location":"westeurope","properties":{"creationData":{"createOption":"Empty"},"diskSizeGB":1e18}}`,
		`{"location":"westeurope","sku":{"name":"Nope"},"properties":{"diskSizeGB":"abc"}}`}, nil)
}

// FuzzExtensionBody: VM extension PUT bodies.
func FuzzExtensionBody(f *testing.F) {
	e := newEnv(f)
	e.createGroup("rg")
	e.createVM("rg", "vm1", linuxVM("rg", "vm1", "westeurope"))
	fuzzBody(f, e, http.MethodPut, func(n int) string { return extPath("rg", "vm1", fmt.Sprintf("fz%d", n%4)) },
		[]any{customScript("30"), customScript("-1"), customScript("abc"),
			`{"location":"westeurope","properties":{"publisher":"","type":"","typeHandlerVersion":null}}`},
		func(*testing.T) { e.advance(5 * time.Minute) })
}

// FuzzCostQueryBody: Cost Management query bodies.
func FuzzCostQueryBody(f *testing.F) {
	e := newEnv(f)
	e.createGroup("rg")
	start := e.eng.Now()
	fuzzBody(f, e, http.MethodPost, func(int) string {
		return costScope("") + "/providers/Microsoft.CostManagement/query?api-version=2023-11-01"
	}, []any{
		custom(start, start.Add(24*time.Hour), map[string]any{"granularity": "Daily", "grouping": groupBy("ResourceId")}),
		map[string]any{"type": "Usage", "timeframe": "MonthToDate"},
		`{"type":"ActualCost","timeframe":"Custom","timePeriod":{"from":"9999-12-31T23:59:59Z","to":"0001-01-01T00:00:00Z"}}`,
		`{"type":"ActualCost","timeframe":"Custom","timePeriod":{"from":"2026-01-01T00:00:00Z","to":"2262-04-12T00:00:00Z"},"dataset":{"granularity":"Daily"}}`,
	}, nil)
}

// FuzzFaultBody: fault registry bodies (POST /_azemu/faults).
func FuzzFaultBody(f *testing.F) {
	e := newEnv(f)
	fuzzBody(f, e, http.MethodPost, func(int) string { return "/_azemu/faults" }, []any{
		map[string]any{"operation": "start", "resource": "web-*", "error": "AllocationFailed", "count": 1},
		map[string]any{"kind": "powerStateUnavailable", "probability": 0.2},
		map[string]any{"kind": "throttle", "operation": "*", "count": 2},
		`{"kind":"error","probability":1e309}`, `{"count":-1}`, `{"resource":"[","operation":"start","error":"X"}`,
	}, func(t *testing.T) { e.do(http.MethodDelete, "/_azemu/faults", nil) })
}

// FuzzClockAdvanceBody: POST /_azemu/clock/advance bodies.
func FuzzClockAdvanceBody(f *testing.F) {
	e := newEnv(f)
	fuzzBody(f, e, http.MethodPost, func(int) string { return "/_azemu/clock/advance" }, []any{
		map[string]string{"duration": "90s"}, map[string]string{"duration": "-1h"},
		map[string]string{"duration": "2562047h"}, map[string]string{"duration": "1e9h"}, map[string]any{"duration": 5},
	}, nil)
}

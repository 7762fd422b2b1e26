package armapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzVMBody sends arbitrary bytes as a VM PUT body. Whatever they are, the
// answer is 201/200 with a VM, or a 4xx ARM error: never a 5xx, never a
// panic, never a secret in what a GET returns.
func FuzzVMBody(f *testing.F) {
	valid, _ := json.Marshal(linuxVM("rg", "fz", "westeurope"))
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"location":"westeurope","properties":null}`))
	f.Add([]byte(`{"location":"westeurope","properties":{"hardwareProfile":{"vmSize":"B1s"},"storageProfile":{"osDisk":{"createOption":"Attach","osType":"Windows","vhd":{"uri":"x"}}},"networkProfile":{"networkInterfaces":[{}]}}}`))
	f.Add([]byte(`{"Location":"eastus","PROPERTIES":{"osprofile":{"AdminPassword":"x"}}}`))
	f.Add([]byte(strings.Replace(string(valid), `"westeurope"`, `"eastus"`, 1)))
	f.Add([]byte(strings.Replace(string(valid), `"properties":{`, `"tags":{"a":null},"etag":"\"9\"","properties":{"priority":"Spot","provisioningState":"Failed","osProfile":null,`, 1)))
	f.Add([]byte(`{"location":"\u0000","properties":{"hardwareProfile":{"vmSize":"\ud800"}}}`))

	e := newEnv(f)
	e.createGroup("rg")
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		n++
		name := fmt.Sprintf("fz%d", n%8)
		r := e.do(http.MethodPut, vmPath("rg", name), body)
		switch {
		case r.Status == http.StatusCreated || r.Status == http.StatusOK:
			vm := r.JSON(t)
			if vm["name"] != name || dig(vm, "properties", "provisioningState") == nil {
				t.Fatalf("2xx without a VM: %s", r)
			}
			g := e.must(http.StatusOK, http.MethodGet, vmPath("rg", name), nil)
			if hasKeyFold(g.JSON(t), "adminPassword") || hasKeyFold(g.JSON(t), "customData") {
				t.Fatalf("GET shows a secret: %s", g.Body)
			}
			// Let the operation end, so the next body for this name is an
			// update of an idle VM.
			e.advance(2 * time.Minute)
		case r.Status >= 400 && r.Status < 500:
			wellFormedError(t, r)
		default:
			t.Fatalf("body %q answered %s", body, r)
		}
	})
}

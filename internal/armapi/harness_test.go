package armapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/enginetest"
)

// The subscription and API version most tests use.
const (
	sub    = "6b3a6c6e-3c1e-4f0a-9d4e-2f3f9c1a7b10"
	apiVer = "2024-07-01"
)

// env is one azemu ARM surface served over real HTTPS: a real engine on
// the in-memory store with a manual clock (enginetest).
type env struct {
	t      testing.TB
	srv    *httptest.Server
	eng    *engine.Engine
	clk    *clock.Manual
	rig    *enginetest.Rig
	client *http.Client
}

type envOption func(*armapi.Config)

func withPageSize(n int) envOption { return func(c *armapi.Config) { c.PageSize = n } }

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnvWithEngine(t, nil, opts...)
}

// newEnvWithEngine is newEnv with the engine's configuration changed first
// (capacity, for one).
func newEnvWithEngine(t testing.TB, tweak func(*engine.Config), opts ...envOption) *env {
	t.Helper()
	rig := enginetest.New(t, time.Time{}, tweak)
	eng := rig.Engine
	cfg := armapi.Config{Engine: eng, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	srv := httptest.NewUnstartedServer(armapi.New(cfg).Handler())
	// Clients hanging up at Close are not the server's errors.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, eng: eng, clk: rig.Clock, rig: rig, client: srv.Client()}
}

// resp is one answer, its body read.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r resp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("HTTP %d: body is not a JSON object: %v: %q", r.Status, err, r.Body)
	}
	return m
}

func (r resp) String() string { return fmt.Sprintf("HTTP %d %s", r.Status, bytes.TrimSpace(r.Body)) }

// req describes a request beyond method, path and body.
type req struct {
	noAuth   bool
	auth     string // Authorization value; "Bearer x" by default
	noAPIVer bool   // do not add api-version
	headers  map[string]string
}

// url makes path absolute on this server and adds the api-version when the
// path has none (an absolute URL is used as it is).
func (e *env) url(path string, noAPIVer bool) string {
	if strings.HasPrefix(path, "https://") {
		return path
	}
	u := e.srv.URL + path
	if !noAPIVer && !strings.Contains(path, "api-version=") && !strings.HasPrefix(path, "/_azemu") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		u += sep + "api-version=" + apiVer
	}
	return u
}

// send sends one request. body is nil (none), a string or []byte (sent as
// is), or any value (sent as JSON).
func (e *env) send(method, path string, body any, o req) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	hr, err := http.NewRequest(method, e.url(path, o.noAPIVer), rd)
	if err != nil {
		e.t.Fatal(err)
	}
	switch {
	case o.noAuth:
	case o.auth != "":
		hr.Header.Set("Authorization", o.auth)
	default:
		hr.Header.Set("Authorization", "Bearer x")
	}
	if rd != nil || method == http.MethodPost || method == http.MethodPut {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range o.headers {
		hr.Header.Set(k, v)
	}
	res, err := e.client.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

// do sends an ARM request with the default token and api-version.
func (e *env) do(method, path string, body any) resp {
	e.t.Helper()
	return e.send(method, path, body, req{})
}

// must sends an ARM request and requires the status.
func (e *env) must(want int, method, path string, body any) resp {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: got %s, want HTTP %d", method, path, r, want)
	}
	return r
}

// advance moves the clock through the emulator's own endpoint.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.must(http.StatusOK, http.MethodPost, "/_azemu/clock/advance", map[string]string{"duration": d.String()})
}

// armError checks that r is an ARM error with the status and code, and with
// the message when msg is not empty; it returns the error object.
func armError(t testing.TB, r resp, status int, code, msg string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %s, want HTTP %d %s", r, status, code)
	}
	e := wellFormedError(t, r)
	if e["code"] != code {
		t.Fatalf("error code %q, want %q (%s)", e["code"], code, r)
	}
	if msg != "" && e["message"] != msg {
		t.Fatalf("error message\n got  %q\n want %q", e["message"], msg)
	}
	return e
}

// wellFormedError checks r's body is {"error":{"code","message",...}} with
// non-empty strings and nothing else at the top.
func wellFormedError(t testing.TB, r resp) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q (%s)", ct, r)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 1 || body["error"] == nil {
		t.Fatalf("not an ARM error body: %s", r)
	}
	var e map[string]any
	if err := json.Unmarshal(body["error"], &e); err != nil {
		t.Fatalf("not an ARM error body: %s", r)
	}
	for _, k := range []string{"code", "message"} {
		if s, ok := e[k].(string); !ok || s == "" {
			t.Fatalf("error %s missing or empty: %s", k, r)
		}
	}
	for k := range e {
		switch k {
		case "code", "message", "target", "details", "additionalInfo":
		default:
			t.Fatalf("unexpected error field %q: %s", k, r)
		}
	}
	return e
}

// Paths.

func groupPath(rg string) string { return "/subscriptions/" + sub + "/resourceGroups/" + rg }

func vmPath(rg, name string) string {
	return groupPath(rg) + "/providers/Microsoft.Compute/virtualMachines/" + name
}

func vmID(rg, name string) string { return vmPath(rg, name) }

func nicID(rg, name string) string {
	return groupPath(rg) + "/providers/Microsoft.Network/networkInterfaces/" + name + "-nic"
}

// linuxVM is a minimal valid VM body: a Linux VM from a marketplace
// (generalized) image with password authentication.
func linuxVM(rg, name, location string) map[string]any {
	return map[string]any{
		"location": location,
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": "Standard_D2s_v3"},
			"storageProfile": map[string]any{"imageReference": map[string]any{
				"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
			"osProfile":      map[string]any{"computerName": name, "adminUsername": "azureuser", "adminPassword": "Passw0rd!secret"},
			"networkProfile": map[string]any{"networkInterfaces": []any{map[string]any{"id": nicID(rg, name)}}},
		},
	}
}

// createGroup creates a resource group in westeurope.
func (e *env) createGroup(rg string) {
	e.t.Helper()
	e.must(http.StatusCreated, http.MethodPut, groupPath(rg), map[string]any{"location": "westeurope"})
}

// createDisk creates an empty managed disk, to be attached.
func (e *env) createDisk(rg, name string, sizeGB int) {
	e.t.Helper()
	e.must(http.StatusOK, http.MethodPut, groupPath(rg)+"/providers/Microsoft.Compute/disks/"+name, map[string]any{
		"location": "westeurope", "sku": map[string]any{"name": "Premium_LRS"},
		"properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}, "diskSizeGB": sizeGB, "osType": "Linux"}})
}

// createVM creates a VM from body and lets the create finish (80 s).
func (e *env) createVM(rg, name string, body map[string]any) {
	e.t.Helper()
	e.must(http.StatusCreated, http.MethodPut, vmPath(rg, name), body)
	e.advance(80 * time.Second)
	if p, pw := e.state(rg, name); p != "ProvisioningState/succeeded" || pw != "PowerState/running" {
		e.t.Fatalf("after create: %s %s", p, pw)
	}
}

// state reads the instance view and returns the provisioning and power codes.
func (e *env) state(rg, name string) (prov, power string) {
	e.t.Helper()
	iv := e.must(http.StatusOK, http.MethodGet, vmPath(rg, name)+"/instanceView", nil).JSON(e.t)
	statuses, _ := iv["statuses"].([]any)
	for _, s := range statuses {
		code, _ := s.(map[string]any)["code"].(string)
		switch {
		case strings.HasPrefix(code, "ProvisioningState/"):
			prov = code
		case strings.HasPrefix(code, "PowerState/"):
			power = code
		}
	}
	return prov, power
}

// codes lists every instance-view status code.
func (e *env) codes(rg, name string) []string {
	e.t.Helper()
	iv := e.must(http.StatusOK, http.MethodGet, vmPath(rg, name)+"/instanceView", nil).JSON(e.t)
	var out []string
	for _, s := range iv["statuses"].([]any) {
		out = append(out, s.(map[string]any)["code"].(string))
	}
	return out
}

// provisioningState reads properties.provisioningState of a VM.
func (e *env) provisioningState(rg, name string) string {
	e.t.Helper()
	vm := e.must(http.StatusOK, http.MethodGet, vmPath(rg, name), nil).JSON(e.t)
	return vm["properties"].(map[string]any)["provisioningState"].(string)
}

// opStatus reads an Azure-AsyncOperation status resource.
func (e *env) opStatus(url string) map[string]any {
	e.t.Helper()
	return e.must(http.StatusOK, http.MethodGet, url, nil).JSON(e.t)
}

// act POSTs an action and requires 202 with both LRO headers; it returns
// the Azure-AsyncOperation URL.
func (e *env) act(rg, name, action string) string {
	e.t.Helper()
	r := e.must(http.StatusAccepted, http.MethodPost, vmPath(rg, name)+"/"+action, nil)
	async := r.Header.Get("Azure-AsyncOperation")
	if async == "" || r.Header.Get("Location") == "" {
		e.t.Fatalf("%s: missing LRO headers: %v", action, r.Header)
	}
	return async
}

func props(m map[string]any) map[string]any { return m["properties"].(map[string]any) }

// dig walks nested objects by key.
func dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = o[k]
	}
	return cur
}

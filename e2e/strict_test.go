package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v7"
	"github.com/golang-jwt/jwt/v5"
)

const (
	subA = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
	subB = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
)

const principalsFile = `{"principals": [
  {"name": "alice", "clientId": "alice-app", "clientSecret": "alice-secret", "roles": [{"role": "Owner", "scope": "/subscriptions/` + subA + `"}]},
  {"name": "bob", "clientId": "bob-app", "clientSecret": "bob-secret", "roles": [{"role": "Owner", "scope": "/subscriptions/` + subB + `"}]},
  {"name": "reader", "clientId": "reader-app", "clientSecret": "reader-secret", "roles": [{"role": "Reader", "scope": "/subscriptions/` + subA + `"}]},
  {"name": "carol", "clientId": "carol-app", "clientSecret": "carol-secret", "roles": [{"role": "Contributor", "scope": "/subscriptions/` + subA + `/resourceGroups/rg-a"}]},
  {"name": "ops", "clientId": "ops-app", "clientSecret": "ops-secret", "admin": true}
]}`

// startStrict runs azemu in the strict mode with the principals above.
func startStrict(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "principals.json")
	if err := os.WriteFile(file, []byte(principalsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServer(t, filepath.Join(dir, "data"), "--auth", "strict", "--principals", file)
}

// reply is one raw answer.
type reply struct {
	code   int
	body   []byte
	header http.Header
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%v in %s", err, r.body)
	}
	return m
}

// errorCode is the ARM error code of an answer.
func (r reply) errorCode() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (r reply) errorMessage() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Message
}

// raw sends a request with the given headers and body.
func (s *server) raw(method, path string, headers map[string]string, body string) reply {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, body: data, header: resp.Header}
}

// as sends a JSON request with a bearer token.
func (s *server) as(token, method, path, body string) reply {
	s.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return s.raw(method, path, h, body)
}

// clientToken gets a token with a client secret, as a script would with curl.
func (s *server) clientToken(clientID, secret string) string {
	s.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {"https://management.core.windows.net//.default"}}
	r := s.raw("POST", "/adfs/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if r.code != 200 {
		s.t.Fatalf("token for %s: HTTP %d %s", clientID, r.code, r.body)
	}
	return r.json(s.t)["access_token"].(string)
}

func vmPath(sub, rg, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name
}

const av = "?api-version=2025-04-01"

// TestStrictMode: only tokens azemu issued pass, within the principals'
// roles, and no surface shows one principal another's subscription.
func TestStrictMode(t *testing.T) {
	srv := startStrict(t)

	// The stock Go credential signs in as alice and bob, and each creates a VM.
	alice := srv.secretCredential(t, "adfs", "alice-app", "alice-secret")
	bob := srv.secretCredential(t, "adfs", "bob-app", "bob-secret")
	if err := srv.createVMWith(t, alice, subA, "rg-a", "web-a"); err != nil {
		t.Fatal(err)
	}
	if err := srv.createVMWith(t, bob, subB, "rg-b", "web-b"); err != nil {
		t.Fatal(err)
	}
	if err := srv.createVMWith(t, alice, subA, "rg-a2", "web-a2"); err != nil {
		t.Fatal(err)
	}
	ops := srv.clientToken("ops-app", "ops-secret")
	if r := srv.as(ops, "POST", "/_azemu/clock/advance", `{"duration":"10m"}`); r.code != 200 {
		t.Fatalf("admin advances the clock: %d %s", r.code, r.body)
	}
	// The stock credential with a wrong secret gets no token.
	if _, err := srv.listVMNames(t, srv.secretCredential(t, "adfs", "alice-app", "guess"), subA); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("a wrong secret: %v", err)
	}
	if names, err := srv.listVMNames(t, alice, subA); err != nil || strings.Join(names, ",") != "web-a,web-a2" {
		t.Fatalf("alice lists %v, %v", names, err)
	}

	aliceTok, readerTok := srv.clientToken("alice-app", "alice-secret"), srv.clientToken("reader-app", "reader-secret")
	webA, webB := vmPath(subA, "rg-a", "web-a"), vmPath(subB, "rg-b", "web-b")

	t.Run("401", func(t *testing.T) {
		claims := tokenClaims(t, aliceTok)
		forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
		forged.Header["kid"] = jwtHeader(t, aliceTok)["kid"]
		otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		forgedTok, err := forged.SignedString(otherKey)
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct{ token, code string }{
			"no token":        {"", "AuthenticationFailed"},
			"garbage":         {"garbage", "InvalidAuthenticationToken"},
			"another key":     {forgedTok, "InvalidAuthenticationToken"},
			"a JWT, unsigned": {strings.Join(strings.Split(aliceTok, ".")[:2], ".") + ".", "InvalidAuthenticationToken"},
		} {
			r := srv.as(c.token, "GET", webA+av, "")
			if r.code != 401 || r.errorCode() != c.code {
				t.Errorf("%s: %d %s", name, r.code, r.body)
			}
		}
	})

	t.Run("reader", func(t *testing.T) {
		if r := srv.as(readerTok, "GET", webA+av, ""); r.code != 200 {
			t.Fatalf("reader reads: %d %s", r.code, r.body)
		}
		r := srv.as(readerTok, "POST", webA+"/start"+av, "")
		oid := tokenClaims(t, readerTok)["oid"].(string)
		want := "The client '" + oid + "' with object id '" + oid + "' does not have authorization to perform action 'Microsoft.Compute/virtualMachines/start/action' over scope '" + webA + "' or the scope is invalid. If access was recently granted, please refresh your credentials."
		if r.code != 403 || r.errorCode() != "AuthorizationFailed" || r.errorMessage() != want {
			t.Fatalf("reader starts: %d %s", r.code, r.body)
		}
		if r := srv.as(readerTok, "POST", "/_azemu/vms"+webA+"/guestShutdown", ""); r.code != 403 {
			t.Fatalf("reader shuts the guest down: %d %s", r.code, r.body)
		}
	})

	t.Run("arm", func(t *testing.T) {
		var subs struct {
			Value []struct{ SubscriptionID string } `json:"value"`
		}
		r := srv.as(aliceTok, "GET", "/subscriptions?api-version=2022-12-01", "")
		if err := json.Unmarshal(r.body, &subs); err != nil || r.code != 200 || len(subs.Value) != 1 || subs.Value[0].SubscriptionID != subA {
			t.Fatalf("alice's subscriptions: %d %s", r.code, r.body)
		}
		if r := srv.as(aliceTok, "GET", "/subscriptions/"+subB+"?api-version=2022-12-01", ""); r.code != 404 || r.errorCode() != "SubscriptionNotFound" {
			t.Errorf("alice gets B: %d %s", r.code, r.body)
		}
		for _, c := range []struct{ method, path string }{
			{"GET", webB + av},
			{"POST", webB + "/deallocate" + av},
			{"DELETE", webB + av},
			{"GET", "/subscriptions/" + subB + "/providers/Microsoft.Compute/virtualMachines" + av},
			{"GET", "/subscriptions/" + subB + "/resourcegroups" + av},
			{"PUT", "/subscriptions/" + subB + "/resourcegroups/sneaky" + av},
		} {
			body := ""
			if c.method == "PUT" {
				body = `{"location":"eastus"}`
			}
			if r := srv.as(aliceTok, c.method, c.path, body); r.code != 403 || r.errorCode() != "AuthorizationFailed" {
				t.Errorf("alice %s %s: %d %s", c.method, c.path, r.code, r.body)
			}
		}
	})

	t.Run("cost query", func(t *testing.T) {
		q := `{"type":"ActualCost","timeframe":"MonthToDate","dataset":{"granularity":"None","aggregation":{"totalCost":{"name":"Cost","function":"Sum"}}}}`
		if r := srv.as(aliceTok, "POST", "/subscriptions/"+subB+"/providers/Microsoft.CostManagement/query?api-version=2023-11-01", q); r.code != 403 {
			t.Errorf("alice queries B's costs: %d %s", r.code, r.body)
		}
		if r := srv.as(readerTok, "POST", "/subscriptions/"+subA+"/providers/Microsoft.CostManagement/query?api-version=2023-11-01", q); r.code != 200 {
			t.Errorf("reader queries A's costs: %d %s", r.code, r.body)
		}
	})

	t.Run("emulator endpoints", func(t *testing.T) {
		if r := srv.as("", "POST", "/_azemu/clock/advance", `{"duration":"1s"}`); r.code != 401 {
			t.Errorf("no token advances the clock: %d %s", r.code, r.body)
		}
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/_azemu/reset", ""},
			{"POST", "/_azemu/clock/advance", `{"duration":"1s"}`},
			{"POST", "/_azemu/faults", `{"operation":"start","error":"AllocationFailed"}`},
			{"GET", "/_azemu/vms" + webB + "/history", ""},
			{"POST", "/_azemu/vms" + webB + "/guestShutdown", ""},
			{"GET", "/_azemu/billing/usage?subscription=" + subB, ""},
			{"GET", "/_azemu/billing/usage", ""},
			{"GET", "/_azemu/billing/idle", ""},
			{"GET", "/_azemu/vms", ""},
		} {
			if r := srv.as(aliceTok, c.method, c.path, c.body); r.code != 403 || r.errorCode() != "AuthorizationFailed" {
				t.Errorf("alice %s %s: %d %s", c.method, c.path, r.code, r.body)
			}
		}
		if r := srv.as(aliceTok, "GET", "/_azemu/vms"+webA+"/history", ""); r.code != 200 {
			t.Errorf("alice reads A's history: %d %s", r.code, r.body)
		}
		if r := srv.as(aliceTok, "GET", "/_azemu/billing/usage?subscription="+subA, ""); r.code != 200 || bytes.Contains(r.body, []byte(subB)) {
			t.Errorf("alice's usage: %d %s", r.code, r.body)
		}
		if r := srv.as(ops, "GET", "/_azemu/billing/usage", ""); r.code != 200 || !bytes.Contains(r.body, []byte("web-b")) {
			t.Errorf("the admin's usage: %d %s", r.code, r.body)
		}
		if r := srv.as("", "GET", "/_azemu/health", ""); r.code != 200 || r.json(t)["fleet"] != nil {
			t.Errorf("health without a token: %d %s", r.code, r.body)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		if r := srv.as("", "GET", "/_dashboard/api/vms", ""); r.code != 401 {
			t.Fatalf("no sign-in: %d %s", r.code, r.body)
		}
		r := srv.as(aliceTok, "GET", "/_dashboard/api/vms", "")
		if r.code != 200 || !bytes.Contains(r.body, []byte("web-a")) || bytes.Contains(r.body, []byte("web-b")) || bytes.Contains(r.body, []byte(subB)) {
			t.Fatalf("alice's fleet: %d %s", r.code, r.body)
		}
		if r := srv.as(aliceTok, "GET", "/_dashboard/api/tree", ""); r.code != 200 || bytes.Contains(r.body, []byte(subB)) {
			t.Errorf("alice's tree: %d %s", r.code, r.body)
		}
		if r := srv.as(aliceTok, "GET", "/_dashboard/api/vm?id="+url.QueryEscape(webB), ""); r.code != 404 {
			t.Errorf("alice's view of web-b: %d %s", r.code, r.body)
		}
		if r := srv.as(aliceTok, "GET", "/_dashboard/api/costs/daily?subscription="+subB, ""); r.code != 404 {
			t.Errorf("alice's view of B's costs: %d %s", r.code, r.body)
		}
		if r := srv.as(readerTok, "POST", "/_dashboard/api/actions", `{"id":"`+webA+`","action":"start"}`); r.code != 403 || r.errorCode() != "AuthorizationFailed" {
			t.Errorf("the reader's start from the dashboard: %d %s", r.code, r.body)
		}

		// Sign in as a browser does: a JSON post, then the cookie.
		same := map[string]string{"Content-Type": "application/json", "Origin": srv.base, "Sec-Fetch-Site": "same-origin"}
		if r := srv.raw("POST", "/_dashboard/api/session", same, `{"clientId":"alice-app","clientSecret":"guess"}`); r.code != 401 {
			t.Fatalf("a wrong secret signs in: %d %s", r.code, r.body)
		}
		r = srv.raw("POST", "/_dashboard/api/session", same, `{"clientId":"alice-app","clientSecret":"alice-secret"}`)
		if r.code != 200 {
			t.Fatalf("sign-in: %d %s", r.code, r.body)
		}
		cookie := r.header.Get("Set-Cookie")
		for _, want := range []string{"azemu_session=", "HttpOnly", "Secure", "SameSite=Strict"} {
			if !strings.Contains(cookie, want) {
				t.Fatalf("cookie %q lacks %s", cookie, want)
			}
		}
		session := r.json(t)
		csrf, pageToken := session["csrf"].(string), session["token"].(string)
		if csrf == "" || pageToken == "" {
			t.Fatalf("session: %v", session)
		}
		if r := srv.as(pageToken, "GET", webA+av, ""); r.code != 200 {
			t.Errorf("the page's ARM token: %d %s", r.code, r.body)
		}
		withCookie := func(extra map[string]string) map[string]string {
			h := map[string]string{"Cookie": strings.Split(cookie, ";")[0]}
			for k, v := range extra {
				h[k] = v
			}
			return h
		}
		if r := srv.raw("GET", "/_dashboard/api/vms", withCookie(nil), ""); r.code != 200 || !bytes.Contains(r.body, []byte("web-a")) || bytes.Contains(r.body, []byte("web-b")) {
			t.Fatalf("the fleet by cookie: %d %s", r.code, r.body)
		}
		act := func(id string, extra map[string]string, contentType string) reply {
			h := withCookie(extra)
			h["Content-Type"] = contentType
			return srv.raw("POST", "/_dashboard/api/actions", h, `{"id":"`+id+`","action":"powerOff"}`)
		}
		// Another site's form post, carrying the cookie as an older browser would.
		form := act(webA, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "application/x-www-form-urlencoded")
		if form.code != 403 {
			t.Errorf("a cross-site form post: %d %s", form.code, form.body)
		}
		if r := act(webA, map[string]string{"Origin": srv.base}, "application/json"); r.code != 403 || r.errorCode() != "InvalidCsrfToken" {
			t.Errorf("an action without the CSRF token: %d %s", r.code, r.body)
		}
		if r := act(webB, map[string]string{"Origin": srv.base, "X-CSRF-Token": csrf}, "application/json"); r.code != 404 {
			t.Errorf("alice powers off web-b: %d %s", r.code, r.body)
		}
		var iv struct {
			Statuses []struct{ Code string } `json:"statuses"`
		}
		json.Unmarshal(srv.as(aliceTok, "GET", webA+"/instanceView"+av, "").body, &iv)
		if len(iv.Statuses) < 2 || iv.Statuses[1].Code != "PowerState/running" {
			t.Fatalf("refused actions changed web-a: %+v", iv)
		}
		if r := act(webA, map[string]string{"Origin": srv.base, "X-CSRF-Token": csrf}, "application/json"); r.code != 202 {
			t.Errorf("alice powers off web-a: %d %s", r.code, r.body)
		}
	})

	t.Run("live feed", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.base+"/_dashboard/api/events?access_token="+url.QueryEscape(aliceTok), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := srv.http.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("feed: %d", resp.StatusCode)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		next := func() string { // the data of the next event
			for sc.Scan() {
				if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					return d
				}
			}
			t.Fatalf("the feed ended: %v", sc.Err())
			return ""
		}
		next() // hello
		bobTok := srv.clientToken("bob-app", "bob-secret")
		// B changes first, then A: a leak of B would arrive before A's change.
		if r := srv.as(bobTok, "POST", webB+"/deallocate"+av, ""); r.code != 202 {
			t.Fatalf("bob deallocates: %d %s", r.code, r.body)
		}
		if r := srv.as(aliceTok, "POST", webA+"/deallocate"+av, ""); r.code != 202 {
			t.Fatalf("alice deallocates: %d %s", r.code, r.body)
		}
		for {
			d := next()
			if strings.Contains(d, "web-b") || strings.Contains(d, subB) {
				t.Fatalf("alice's feed shows B: %s", d)
			}
			if strings.Contains(d, "web-a") {
				break
			}
		}
	})

	t.Run("python", func(t *testing.T) {
		if _, err := srv.pythonList(t, "adfs", "alice-app", "guess", subA); err == nil {
			t.Error("python signs in with a wrong secret")
		}
		out, err := srv.pythonList(t, "adfs", "alice-app", "alice-secret", subA)
		if err != nil || strings.Join(out.VMs, ",") != "web-a,web-a2" {
			t.Fatalf("python as alice: %+v %v", out, err)
		}
	})
	t.Run("js", func(t *testing.T) {
		if _, err := srv.nodeList(t, "adfs", "bob-app", "guess", subB); err == nil {
			t.Error("js signs in with a wrong secret")
		}
		out, err := srv.nodeList(t, "adfs", "bob-app", "bob-secret", subB)
		if err != nil || strings.Join(out.VMs, ",") != "web-b" {
			t.Fatalf("js as bob: %+v %v", out, err)
		}
		if _, err := srv.nodeList(t, "adfs", "bob-app", "bob-secret", subA); err == nil || !strings.Contains(err.Error(), "AuthorizationFailed") {
			t.Fatalf("js as bob lists A: %v", err)
		}
	})

	// carol holds a role in one resource group of A: she reads A's lists
	// with only that group in them, acts there, and follows her operations.
	t.Run("resource group scope", func(t *testing.T) {
		carol := srv.secretCredential(t, "adfs", "carol-app", "carol-secret")
		if names, err := srv.listVMNames(t, carol, subA); err != nil || strings.Join(names, ",") != "web-a" {
			t.Fatalf("carol lists %v, %v", names, err)
		}
		carolTok := srv.clientToken("carol-app", "carol-secret")
		r := srv.as(carolTok, "GET", "/subscriptions/"+subA+"/resourcegroups"+av, "")
		if r.code != 200 || !bytes.Contains(r.body, []byte(`"rg-a"`)) || bytes.Contains(r.body, []byte("rg-a2")) {
			t.Errorf("carol's groups: %d %s", r.code, r.body)
		}
		for _, c := range []struct{ method, path string }{
			{"GET", vmPath(subA, "rg-a2", "web-a2") + av},
			{"PUT", "/subscriptions/" + subA + "/resourcegroups/carols" + av},
			{"POST", "/subscriptions/" + subA + "/providers/Microsoft.CostManagement/query?api-version=2023-11-01"},
		} {
			if r := srv.as(carolTok, c.method, c.path, `{"location":"eastus"}`); r.code != 403 {
				t.Errorf("carol %s %s: %d %s", c.method, c.path, r.code, r.body)
			}
		}
		vms, err := armcompute.NewVirtualMachinesClient(subA, carol, srv.stockARMOptions())
		if err != nil {
			t.Fatal(err)
		}
		p, err := vms.BeginStart(context.Background(), "rg-a", "web-a", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := srv.as(ops, "POST", "/_azemu/clock/advance", `{"duration":"5m"}`); r.code != 200 {
			t.Fatalf("advance: %d %s", r.code, r.body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second}); err != nil {
			t.Fatalf("carol follows her start: %v", err)
		}
	})

	// Last, as it moves the clock past every token: an expired token.
	t.Run("expired", func(t *testing.T) {
		if r := srv.as(ops, "POST", "/_azemu/clock/advance", `{"duration":"2h"}`); r.code != 200 {
			t.Fatalf("advance: %d %s", r.code, r.body)
		}
		r := srv.as(aliceTok, "GET", webA+av, "")
		if r.code != 401 || r.errorCode() != "ExpiredAuthenticationToken" || !strings.Contains(r.errorMessage(), "is earlier than current UTC time") {
			t.Fatalf("expired: %d %s", r.code, r.body)
		}
	})
}

// jwtHeader decodes a JWT's header.
func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	data, err := base64RawURL(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

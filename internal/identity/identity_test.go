package identity

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azemu/azemu/internal/authz"
)

const (
	host   = "127.0.0.1:8443"
	base   = "https://" + host
	subA   = "aaaaaaaa-0000-4000-8000-000000000001"
	tenant = "0b5c6a4d-1e2f-4a3b-8c7d-6e5f4a3b2c1d"
)

type rig struct {
	t   *testing.T
	svc *Service
	now time.Time
}

func newRig(t *testing.T, dir *authz.Directory) *rig {
	r := &rig{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	svc, err := New(Config{DataDir: t.TempDir(), Now: func() time.Time { return r.now }, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	r.svc = svc
	return r
}

func strictDirectory(t *testing.T) *authz.Directory {
	d, err := authz.ParseDirectory([]byte(`{"principals": [
		{"name": "ci", "clientId": "ci-app", "clientSecret": "s3cret", "tenantId": "`+tenant+`",
		 "roles": [{"role": "Owner", "scope": "/subscriptions/`+subA+`"}]}]}`), DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// call sends a request through the handler; next answers 418.
func (r *rig) call(method, target string, form url.Values) (int, map[string]any, []any) {
	r.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Host = host
	w := httptest.NewRecorder()
	r.svc.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })).ServeHTTP(w, req)
	if w.Code == http.StatusTeapot {
		return w.Code, nil, nil
	}
	var obj map[string]any
	var arr []any
	if strings.HasPrefix(strings.TrimSpace(w.Body.String()), "[") {
		if err := json.Unmarshal(w.Body.Bytes(), &arr); err != nil {
			r.t.Fatal(err)
		}
	} else if err := json.Unmarshal(w.Body.Bytes(), &obj); err != nil {
		r.t.Fatalf("%s %s: %v in %s", method, target, err, w.Body)
	}
	return w.Code, obj, arr
}

func TestMetadataEndpoints(t *testing.T) {
	r := newRig(t, nil)
	// 2015-01-01: what `az cloud register --endpoint-resource-manager` reads.
	code, old, _ := r.call("GET", "/metadata/endpoints?api-version=2015-01-01", nil)
	auth, _ := old["authentication"].(map[string]any)
	if code != 200 || auth["loginEndpoint"] != base+"/adfs" || auth["audiences"].([]any)[0] != "https://management.core.windows.net/" || old["graphEndpoint"] == "" {
		t.Fatalf("2015-01-01: %d %v", code, old)
	}
	// 2019-05-01: an array of clouds. The double slash is what a client
	// joining a base URL ending in / sends.
	code, _, arr := r.call("GET", "//metadata/endpoints?api-version=2019-05-01", nil)
	if code != 200 || len(arr) != 1 || arr[0].(map[string]any)["resourceManager"] != base+"/" {
		t.Fatalf("2019-05-01: %d %v", code, arr)
	}
	// 2022-09-01: the current cloud as one object.
	code, cur, _ := r.call("GET", "/metadata/endpoints?api-version=2022-09-01", nil)
	if code != 200 || cur["resourceManager"] != base+"/" || cur["authentication"].(map[string]any)["loginEndpoint"] != base+"/" ||
		cur["authentication"].(map[string]any)["identityProvider"] != "AAD" || cur["authentication"].(map[string]any)["tenant"] != "common" {
		t.Fatalf("2022-09-01: %d %v", code, cur)
	}
}

func TestDiscovery(t *testing.T) {
	r := newRig(t, nil)
	for _, c := range []struct{ path, issuer, token string }{
		{"/adfs/.well-known/openid-configuration", base + "/adfs", base + "/adfs/oauth2/token"},
		{"/" + tenant + "/v2.0/.well-known/openid-configuration", base + "/" + tenant + "/v2.0", base + "/" + tenant + "/oauth2/v2.0/token"},
		{"/" + tenant + "/.well-known/openid-configuration", base + "/" + tenant + "/", base + "/" + tenant + "/oauth2/token"},
		{"/organizations/v2.0/.well-known/openid-configuration", base + "/organizations/v2.0", base + "/organizations/oauth2/v2.0/token"},
	} {
		code, doc, _ := r.call("GET", c.path, nil)
		if code != 200 || doc["issuer"] != c.issuer || doc["token_endpoint"] != c.token || doc["authorization_endpoint"] == "" || doc["jwks_uri"] == "" {
			t.Errorf("%s: %d %v", c.path, code, doc)
		}
	}
	code, inst, _ := r.call("GET", "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape(base+"/"+tenant+"/oauth2/v2.0/authorize"), nil)
	if code != 200 || inst["tenant_discovery_endpoint"] != base+"/"+tenant+"/v2.0/.well-known/openid-configuration" {
		t.Fatalf("instance discovery: %d %v", code, inst)
	}
	// Paths that are not the token service's pass through.
	for _, p := range []string{"/", "/_dashboard/api/fleet", "/adfs", "/metadata", "/" + tenant} {
		if code, _, _ := r.call("GET", p, nil); code != http.StatusTeapot {
			t.Errorf("%s: served by the token service (%d)", p, code)
		}
	}
}

// jwksKey reads the signing key back from the JWKS document.
func (r *rig) jwksKey() *rsa.PublicKey {
	r.t.Helper()
	_, doc, _ := r.call("GET", "/adfs/discovery/keys", nil)
	k := doc["keys"].([]any)[0].(map[string]any)
	n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
	e, _ := base64.RawURLEncoding.DecodeString(k["e"].(string))
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

func secretForm(client, secret, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {scope}}
}

const armScope = "https://management.core.windows.net//.default"

func TestOpenModeIssuesToAnyone(t *testing.T) {
	r := newRig(t, nil)
	code, body, _ := r.call("POST", "/"+tenant+"/oauth2/v2.0/token", secretForm("any-app", "any", armScope))
	if code != 200 || body["token_type"] != "Bearer" || body["expires_in"] != 3600.0 {
		t.Fatalf("token: %d %v", code, body)
	}
	var c claims
	if _, err := jwt.ParseWithClaims(body["access_token"].(string), &c, func(*jwt.Token) (any, error) { return r.jwksKey(), nil },
		jwt.WithTimeFunc(func() time.Time { return r.now })); err != nil {
		t.Fatalf("the token does not verify with the JWKS key: %v", err)
	}
	if c.TenantID != tenant || c.AppID != "any-app" || c.Audience[0] != "https://management.core.windows.net/" ||
		c.Issuer != base+"/"+tenant+"/v2.0" || !authz.IsGUID(c.ObjectID) || !c.ExpiresAt.Equal(r.now.Add(time.Hour)) {
		t.Fatalf("claims: %+v", c)
	}
	// v1: resource instead of scope, string times.
	code, body, _ = r.call("POST", "/common/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"a"}, "client_secret": {"b"}, "resource": {"https://management.azure.com/"}})
	if code != 200 || body["resource"] != "https://management.azure.com/" || body["expires_on"] != "1767229200" {
		t.Fatalf("v1 token: %d %v", code, body)
	}
	// Any token passes in the open mode.
	if c, err := r.svc.Authenticate("garbage", base); err != nil || c.Principal != nil || !c.Allows("anything", "/") {
		t.Fatalf("open mode: %v %v", c, err)
	}
}

func TestTokenRequestErrors(t *testing.T) {
	r := newRig(t, strictDirectory(t))
	for _, c := range []struct {
		name  string
		form  url.Values
		path  string
		code  int
		error string
	}{
		{"no grant", url.Values{"client_id": {"ci-app"}}, "/adfs/oauth2/token", 400, "invalid_request"},
		{"password grant", url.Values{"grant_type": {"password"}, "client_id": {"ci-app"}}, "/adfs/oauth2/token", 400, "unsupported_grant_type"},
		{"no client", url.Values{"grant_type": {"client_credentials"}}, "/adfs/oauth2/token", 400, "invalid_request"},
		{"no secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {"ci-app"}, "scope": {armScope}}, "/adfs/oauth2/token", 401, "invalid_client"},
		{"bad scope", secretForm("ci-app", "s3cret", "https://management.core.windows.net/"), "/adfs/oauth2/token", 400, "invalid_scope"},
		{"unknown client", secretForm("who", "s3cret", armScope), "/adfs/oauth2/token", 400, "unauthorized_client"},
		{"wrong secret", secretForm("ci-app", "guess", armScope), "/adfs/oauth2/token", 401, "invalid_client"},
		{"other tenant", secretForm("ci-app", "s3cret", armScope), "/" + subA + "/oauth2/v2.0/token", 400, "unauthorized_client"},
		{"other resource", secretForm("ci-app", "s3cret", "https://vault.azure.net/.default"), "/adfs/oauth2/token", 400, "invalid_resource"},
	} {
		code, body, _ := r.call("POST", c.path, c.form)
		desc, _ := body["error_description"].(string)
		if code != c.code || body["error"] != c.error || !strings.HasPrefix(desc, "AADSTS") {
			t.Errorf("%s: %d %v", c.name, code, body)
		}
	}
	if code, body, _ := r.call("GET", "/adfs/oauth2/token", nil); code != 405 {
		t.Errorf("GET token: %d %v", code, body)
	}
}

func TestStrictAuthenticate(t *testing.T) {
	r := newRig(t, strictDirectory(t))
	code, body, _ := r.call("POST", "/adfs/oauth2/token", secretForm("ci-app", "s3cret", armScope))
	if code != 200 {
		t.Fatalf("token: %d %v", code, body)
	}
	tok := body["access_token"].(string)
	c, err := r.svc.Authenticate(tok, base)
	if err != nil || c.Principal == nil || c.Principal.ClientID != "ci-app" || c.TenantID != tenant || !c.OwnsSubscription(subA) || c.Admin() {
		t.Fatalf("authenticate: %+v %v", c, err)
	}

	other := newRig(t, strictDirectory(t)) // the same principals, another key
	_, ob, _ := other.call("POST", "/adfs/oauth2/token", secretForm("ci-app", "s3cret", armScope))
	_, aud, _ := r.call("POST", "/adfs/oauth2/token", secretForm("ci-app", "s3cret", base+"/.default"))
	unsigned := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"appid": "ci-app", "aud": "https://management.azure.com/", "exp": r.now.Add(time.Hour).Unix()})
	none, _ := unsigned.SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, bad := range map[string]string{
		"garbage":       "not-a-token",
		"other key":     ob["access_token"].(string),
		"alg none":      none,
		"tampered":      tok[:len(tok)-4] + "AAAA",
		"truncated JWT": strings.Join(strings.Split(tok, ".")[:2], "."),
	} {
		var te *TokenError
		if _, err := r.svc.Authenticate(bad, base); !errors.As(err, &te) || te.Code != "InvalidAuthenticationToken" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := r.svc.Authenticate(aud["access_token"].(string), base); err != nil {
		t.Errorf("a token for azemu's own URL: %v", err)
	}
	if _, err := r.svc.Authenticate(aud["access_token"].(string), "https://elsewhere:1"); err == nil || !strings.Contains(err.Error(), "InvalidAuthenticationTokenAudience") {
		t.Errorf("a token for another audience: %v", err)
	}

	r.now = r.now.Add(time.Hour + time.Second)
	var te *TokenError
	if _, err := r.svc.Authenticate(tok, base); !errors.As(err, &te) || te.Code != "ExpiredAuthenticationToken" ||
		te.Message != "The access token expiry UTC time '1/1/2026 1:00:00 AM' is earlier than current UTC time '1/1/2026 1:00:01 AM'." {
		t.Fatalf("expired: %v", err)
	}
}

func TestSigningKeyIsKept(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "identity", "signing-key.pem"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	b, err := New(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if a.kid != b.kid || !a.key.Equal(b.key) {
		t.Fatal("a restart made a new signing key")
	}
}

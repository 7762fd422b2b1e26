package identity

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azemu/azemu/internal/authz"
)

// Handler serves the token service's paths and passes every other request
// to next:
//
//	GET  /metadata/endpoints?api-version=...          the cloud's endpoints
//	GET  /adfs/.well-known/openid-configuration       ADFS-style authority
//	POST /adfs/oauth2/token                           (also /adfs/{tenant}/oauth2[/v2.0]/token)
//	GET  /adfs/discovery/keys
//	GET  /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/.well-known/openid-configuration
//	POST /{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token (v1: resource=)
//	GET  /{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys
//	GET  /common/discovery/instance                   MSAL's instance discovery
func (s *Service) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.serve(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// segments splits a path, dropping empty segments: clients that join a
// base URL ending in / with a path starting with one send //.
func segments(path string) []string {
	var out []string
	for _, p := range strings.Split(path, "/") {
		if p != "" {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}

// endpoint is one token-service path, parsed.
type endpoint struct {
	kind   string // metadata, openid, token, keys, authorize, instance
	adfs   bool
	tenant string // as the path names it ("" under /adfs without one)
	v2     bool
}

func parseEndpoint(segs []string) (endpoint, bool) {
	if len(segs) == 2 && segs[0] == "metadata" && segs[1] == "endpoints" {
		return endpoint{kind: "metadata"}, true
	}
	if len(segs) == 3 && segs[0] == "common" && segs[1] == "discovery" && segs[2] == "instance" {
		return endpoint{kind: "instance"}, true
	}
	var e endpoint
	if len(segs) > 0 && segs[0] == "adfs" {
		e.adfs = true
		segs = segs[1:]
		if len(segs) > 0 && tenantLike(segs[0]) && segs[0] != "oauth2" && segs[0] != "discovery" {
			e.tenant, segs = segs[0], segs[1:]
		}
	} else {
		if len(segs) < 2 || !tenantLike(segs[0]) {
			return e, false
		}
		e.tenant, segs = segs[0], segs[1:]
	}
	path := strings.Join(segs, "/")
	switch path {
	case ".well-known/openid-configuration":
		e.kind = "openid"
	case "v2.0/.well-known/openid-configuration":
		e.kind, e.v2 = "openid", true
	case "oauth2/token":
		e.kind = "token"
	case "oauth2/v2.0/token":
		e.kind, e.v2 = "token", true
	case "discovery/keys", "discovery/v2.0/keys":
		e.kind = "keys"
	case "oauth2/authorize", "oauth2/v2.0/authorize", "oauth2/devicecode", "oauth2/v2.0/devicecode":
		e.kind = "authorize"
	default:
		return e, false
	}
	return e, true
}

// tenantLike accepts what clients put where a tenant goes: a GUID, a
// domain, or one of AAD's aliases.
func tenantLike(s string) bool {
	switch s {
	case "common", "organizations", "consumers":
		return true
	}
	return authz.IsGUID(s) || strings.Contains(s, ".") && !strings.HasPrefix(s, ".")
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) bool {
	e, ok := parseEndpoint(segments(r.URL.Path))
	if !ok {
		return false
	}
	// The documents name the host the client reached, not the listen
	// address: MSAL checks that a discovery document's issuer has the
	// authority's host, and a client may reach azemu as 127.0.0.1 or
	// localhost alike.
	base := "https://" + r.Host
	if e.kind == "token" {
		if r.Method != http.MethodPost {
			oauthError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
			return true
		}
		s.token(w, r, e, base)
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts GET requests.")
		return true
	}
	switch e.kind {
	case "metadata":
		s.metadata(w, r, base)
	case "instance":
		s.instanceDiscovery(w, r, base)
	case "openid":
		writeJSON(w, http.StatusOK, openIDConfiguration(base, e))
	case "keys":
		writeJSON(w, http.StatusOK, map[string]any{"keys": []any{s.jwk()}})
	case "authorize":
		oauthError(w, http.StatusBadRequest, "unsupported_response_type", 70049,
			"azemu issues tokens only for the client credentials grant (a client secret or assertion); interactive sign-in is not supported.")
	}
	return true
}

// authorityOf is the authority a discovery document describes.
func authorityOf(base string, e endpoint) string {
	if e.adfs {
		return base + "/adfs"
	}
	return base + "/" + e.tenant
}

func openIDConfiguration(base string, e endpoint) map[string]any {
	auth := authorityOf(base, e)
	issuer, token, authorize, keys := auth, auth+"/oauth2/token", auth+"/oauth2/authorize", auth+"/discovery/keys"
	if !e.adfs {
		issuer = auth + "/"
		if e.v2 {
			issuer = auth + "/v2.0"
			token, authorize, keys = auth+"/oauth2/v2.0/token", auth+"/oauth2/v2.0/authorize", auth+"/discovery/v2.0/keys"
		}
	}
	return map[string]any{
		"issuer":                                issuer,
		"token_endpoint":                        token,
		"authorization_endpoint":                authorize,
		"jwks_uri":                              keys,
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic", "private_key_jwt"},
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{"token"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"pairwise"},
		"scopes_supported":                      []string{"openid"},
		"tenant_region_scope":                   nil,
		"cloud_instance_name":                   strings.TrimPrefix(base, "https://"),
	}
}

func (s *Service) jwk() map[string]any {
	pub := s.key.PublicKey
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// instanceDiscovery answers MSAL's question about an authority: its tenant
// discovery document is azemu's own, and azemu's host is its only alias.
func (s *Service) instanceDiscovery(w http.ResponseWriter, r *http.Request, base string) {
	tenant := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		if segs := segments(strings.TrimPrefix(strings.TrimPrefix(ae, "https://"), "http://")); len(segs) > 1 && tenantLike(segs[1]) {
			tenant = segs[1]
		}
	}
	host := strings.TrimPrefix(base, "https://")
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": base + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  []any{map[string]any{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
	})
}

// metadata serves GET /metadata/endpoints in the three shapes clients ask
// for: 2015-01-01 (the object `az cloud register` reads), 2019-05-01 (an
// array of clouds) and 2022-09-01 or later (the current cloud as an object,
// which go-azure-sdk reads). The older forms give an ADFS-style login
// endpoint: MSAL skips instance discovery (a call to the internet) only for
// an /adfs authority. The current form is AAD-style (see below).
func (s *Service) metadata(w http.ResponseWriter, r *http.Request, base string) {
	v := r.URL.Query().Get("api-version")
	login := base + "/adfs"
	audiences := []string{"https://management.core.windows.net/", "https://management.azure.com/"}
	if v == "" || v < "2018-01-01" {
		writeJSON(w, http.StatusOK, map[string]any{
			"galleryEndpoint": base + "/",
			"graphEndpoint":   "https://graph.windows.net/",
			"portalEndpoint":  base + "/",
			"authentication":  map[string]any{"loginEndpoint": login, "audiences": audiences},
		})
		return
	}
	cloud := map[string]any{
		"name":                     "azemu",
		"resourceManager":          base + "/",
		"portal":                   base + "/",
		"gallery":                  base + "/",
		"graph":                    "https://graph.windows.net/",
		"graphAudience":            "https://graph.windows.net/",
		"microsoftGraphResourceId": "https://graph.microsoft.com/",
		"authentication": map[string]any{
			"loginEndpoint":    login + "/",
			"audiences":        audiences,
			"tenant":           "adfs",
			"identityProvider": "ADFS",
		},
		"suffixes": map[string]any{
			"storage":           "core.windows.net",
			"keyVaultDns":       "vault.azure.net",
			"sqlServerHostname": "database.windows.net",
			"acrLoginServer":    "azurecr.io",
		},
	}
	if v < "2022-09-01" {
		writeJSON(w, http.StatusOK, []any{cloud})
		return
	}
	// go-azure-sdk (Terraform's azurerm provider) takes any cloud whose
	// current form is not AAD with the "common" tenant for Azure Stack, which
	// the provider refuses; it builds {loginEndpoint}/{tenant}/oauth2/v2.0/token,
	// which the token service serves under every tenant.
	cloud["authentication"] = map[string]any{
		"loginEndpoint":    base + "/",
		"audiences":        audiences,
		"tenant":           "common",
		"identityProvider": "AAD",
	}
	writeJSON(w, http.StatusOK, cloud)
}

// token serves the client credentials grant.
func (s *Service) token(w http.ResponseWriter, r *http.Request, e endpoint, base string) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must be form-encoded: "+err.Error())
		return
	}
	form := r.PostForm
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if id, pw, ok := r.BasicAuth(); ok {
		clientID, secret = id, pw
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
			return
		}
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'. azemu supports client_credentials.", gt))
		return
	}
	if clientID == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	assertion := form.Get("client_assertion")
	if secret == "" && assertion == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	audience, ok := audienceOf(form.Get("scope"), form.Get("resource"))
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope "+form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	g := grant{audience: audience, clientID: clientID, version: "1.0"}
	pathTenant := e.tenant
	if !authz.IsGUID(pathTenant) {
		pathTenant = ""
	}
	if s.Strict() {
		p, found := s.cfg.Directory.Lookup(clientID)
		if !found || (pathTenant != "" && !strings.EqualFold(pathTenant, p.TenantID)) {
			dir := pathTenant
			if dir == "" {
				dir = DefaultTenant
				if found {
					dir = p.TenantID
				}
			}
			oauthError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf(
				"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", clientID, dir))
			return
		}
		if assertion != "" {
			if err := assertionValid(assertion, form.Get("client_assertion_type"), p, base+"/"+strings.Join(segments(r.URL.Path), "/")); err != nil {
				oauthError(w, http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation: "+err.Error())
				return
			}
		} else if p.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
			oauthError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf(
				"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
			return
		}
		if !audienceAccepted([]string{audience}, base) {
			oauthError(w, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf(
				"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", audience, p.TenantID))
			return
		}
		g.tenant, g.objectID = p.TenantID, p.ObjectID
	} else {
		g.tenant = pathTenant
		if g.tenant == "" {
			g.tenant = DefaultTenant
		}
		g.objectID = authz.DerivedGUID("object:" + strings.ToLower(clientID))
	}
	switch {
	case e.adfs:
		g.issuer = base + "/adfs"
	case e.v2:
		g.issuer, g.version = base+"/"+g.tenant+"/v2.0", "2.0"
	default:
		g.issuer = base + "/" + g.tenant + "/"
	}
	tok, nbf, exp, err := s.issue(g)
	if err != nil {
		s.log.Error("signing a token", "err", err)
		oauthError(w, http.StatusInternalServerError, "temporarily_unavailable", 90033, "The token could not be signed.")
		return
	}
	s.log.Debug("token issued", "client_id", clientID, "tenant", g.tenant, "audience", audience)
	secs := int(exp.Sub(nbf) / time.Second)
	body := map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok}
	if !e.v2 && !e.adfs {
		// v1 answers carry strings, as AAD's v1 endpoint does.
		body["expires_in"], body["ext_expires_in"] = strconv.Itoa(secs), strconv.Itoa(secs)
		body["expires_on"], body["not_before"] = strconv.FormatInt(exp.Unix(), 10), strconv.FormatInt(nbf.Unix(), 10)
		body["resource"] = audience
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}

// assertionValid checks a client assertion as AAD does: a JWT signed with
// the key of the principal's certificate (RS256, or PS256 as MSAL signs for
// AAD authorities), issued by and about the client, for this token endpoint,
// unexpired on the client's clock (the wall clock, not the emulator's).
func assertionValid(assertion, typ string, p *authz.Principal, endpoint string) error {
	if typ != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return fmt.Errorf("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	}
	key := p.CertificateKey()
	if key == nil {
		return fmt.Errorf("the application '%s' has no certificate", p.ClientID)
	}
	_, err := jwt.ParseWithClaims(assertion, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithExpirationRequired(), jwt.WithAudience(endpoint),
		jwt.WithIssuer(p.ClientID), jwt.WithSubject(p.ClientID), jwt.WithLeeway(5*time.Minute))
	return err
}

// audienceOf is the resource a token is asked for: a v2 scope
// ("https://management.core.windows.net//.default") less its /.default, or
// a v1 resource.
func audienceOf(scope, resource string) (string, bool) {
	if resource != "" {
		return resource, true
	}
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		aud, ok := strings.CutSuffix(sc, "/.default")
		if !ok || aud == "" {
			return "", false
		}
		return aud, true
	}
	return "", false
}

// oauthError answers as AAD's token endpoint does.
func oauthError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	now := time.Now().UTC()
	trace := authz.DerivedGUID(fmt.Sprint(now.UnixNano(), msg))
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nTimestamp: %s", aadsts, msg, trace, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

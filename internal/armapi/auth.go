package armapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/identity"
)

// authenticate finds the caller of a bearer token. In the open mode every
// token is anyone; in the strict mode a token azemu did not sign, or that
// has expired, answers 401 as Resource Manager does.
func (s *Server) authenticate(r *request, token string) bool {
	if s.identity == nil {
		r.caller = identity.Anyone
		return true
	}
	caller, err := s.identity.Authenticate(token, r.base)
	if err != nil {
		var te *identity.TokenError
		if !errors.As(err, &te) {
			s.writeErr(r, err)
			return false
		}
		r.w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+r.base+`/adfs", error="invalid_token", error_description="`+te.Message+`"`)
		s.writeError(r, &armerror.Error{Code: te.Code, Message: te.Message, Status: http.StatusUnauthorized})
		return false
	}
	r.caller = caller
	return true
}

// authorize checks the caller's role assignments for the request's action
// over its scope, before anything runs (and before a subscription is first
// created), and answers 403 AuthorizationFailed with Azure's message.
func (s *Server) authorize(r *request) bool {
	if r.caller.Principal == nil || len(r.segs) < 2 {
		return true // the open mode; GET /subscriptions filters itself
	}
	sub := r.segs[1]
	if len(r.segs) == 2 && armid.IsGUID(sub) && !r.caller.SeesSubscription(sub) {
		s.writeError(r, errorf("SubscriptionNotFound", "", "The subscription '%s' could not be found.", sub))
		return false
	}
	action, scope := authz.Action(r.Method, r.segs)
	if !r.caller.Allows(action, scope) {
		// A role in some of a subscription's groups lets a caller read at
		// the subscription's level, as Azure does: lists show only what it
		// may read, and operation status URLs (unguessable) answer.
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.Contains(strings.ToLower(scope), "/resourcegroups/") &&
			r.caller.SeesSubscription(sub) {
			r.partial = true
			return true
		}
		s.writeError(r, errorf(armerror.CodeAuthorizationFailed, "", "%s", authz.Denied(r.caller.ObjectID(), action, scope)))
		return false
	}
	return true
}

// readable reports whether a list may show the resource (or group) with
// this ID to the caller: always, unless the caller reads a subscription in
// which it holds roles only at some resource groups.
func (r *request) readable(id string) bool {
	return !r.partial || r.caller.Allows("Microsoft.Resources/read", id)
}

func (s *Server) listTenants(r *request) {
	tid := r.caller.TenantID
	value := []any{map[string]any{
		"id":             "/tenants/" + tid,
		"tenantId":       tid,
		"tenantCategory": "Home",
		"country":        "US",
		"countryCode":    "US",
		"displayName":    "azemu",
		"domains":        []string{"azemu.local"},
		"defaultDomain":  "azemu.local",
		"tenantType":     "AAD",
	}}
	s.writeJSON(r, http.StatusOK, map[string]any{"value": value, "count": map[string]any{"type": "Total", "value": len(value)}})
}

// guardEmulator applies the strict mode to /_azemu/*: a token azemu issued,
// and for what steers the whole emulator (the clock, reset, faults, billing
// across subscriptions) an admin principal; for what concerns one
// subscription (a VM's history or guest, billing of one subscription) an
// Owner of it. The health check needs no token, and shows the fleet's
// counts only to an admin. The open mode lets everything through.
func (s *Server) guardEmulator(r *request) bool {
	r.caller = identity.Anyone
	if s.identity == nil || !s.identity.Strict() {
		return true
	}
	rest := r.lower[1:]
	health := len(rest) == 1 && rest[0] == "health"
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	if token = strings.TrimSpace(token); !strings.EqualFold(scheme, "Bearer") || token == "" {
		if health {
			return true // without the fleet's counts: see health
		}
		s.writeError(r, errorf(armerror.CodeAuthenticationFailed, "", "Authentication failed. The 'Authorization' header is missing."))
		return false
	}
	if !s.authenticate(r, token) {
		return false
	}
	var sub, action string
	switch {
	case health:
		return true
	case len(rest) == 1 && rest[0] == "clock" && r.Method == http.MethodGet:
		return true // the time is no one's secret
	case len(rest) > 2 && rest[0] == "vms":
		id, err := armid.Parse("/" + strings.Join(r.segs[2:len(r.segs)-1], "/"))
		if err != nil {
			return true // the handler answers the malformed ID
		}
		sub, action = id.SubscriptionID, "azemu/vms/"+rest[len(rest)-1]+"/action"
	case len(rest) == 2 && rest[0] == "billing" && r.URL.Query().Get("subscription") != "":
		sub, action = r.URL.Query().Get("subscription"), "azemu/billing/"+rest[1]+"/read"
	default:
		action = "azemu/" + strings.Join(rest, "/") + "/action"
	}
	if sub != "" && r.caller.OwnsSubscription(sub) || sub == "" && r.caller.Admin() {
		return true
	}
	scope := "/"
	if sub != "" {
		scope = "/subscriptions/" + sub
	}
	s.writeError(r, errorf(armerror.CodeAuthorizationFailed, "", "%s", authz.Denied(r.caller.ObjectID(), action, scope)))
	return false
}

package dashboard

import (
	"net/http"
	"strings"

	"github.com/azemu/azemu/internal/authz"
)

// Scope is what one request may see and act on: every subscription, a set
// of them, or what a strict-mode principal's role assignments grant.
type Scope struct {
	all       bool
	subs      map[string]bool
	principal *authz.Principal
	// csrf, when set, is the token a state-changing request must carry in
	// its X-CSRF-Token header: the caller was signed in by a cookie, which
	// the browser would attach to another site's request too.
	csrf string
}

// PrincipalScope is what a principal's role assignments let it see and do.
func PrincipalScope(p *authz.Principal) Scope { return Scope{principal: p} }

// vmRead and the actions are the RBAC actions the dashboard's reads and
// actions perform, as the ARM API names them.
const vmRead = "Microsoft.Compute/virtualMachines/read"

// AllSubscriptions is the scope of the open mode.
func AllSubscriptions() Scope { return Scope{all: true} }

// OnlySubscriptions is a scope limited to the given subscription IDs.
func OnlySubscriptions(ids ...string) Scope {
	s := Scope{subs: map[string]bool{}}
	for _, id := range ids {
		s.subs[strings.ToLower(id)] = true
	}
	return s
}

// Allows reports whether the scope covers a whole subscription (its daily
// costs, say). A principal with a role in only some of its resource groups
// is not covered: it sees those groups (AllowsID), not the rest.
func (s Scope) Allows(sub string) bool {
	if s.principal != nil {
		return s.principal.Allows("Microsoft.Resources/subscriptions/read", "/subscriptions/"+sub)
	}
	return s.all || s.subs[strings.ToLower(sub)]
}

// AllowsID reports whether the scope covers the resource (or resource
// group) with this ARM ID.
func (s Scope) AllowsID(id string) bool {
	if s.principal != nil {
		return s.principal.Allows(vmRead, id)
	}
	return s.all || s.Allows(subscriptionOf(id))
}

// AllowsAction reports whether the scope may perform a VM action (start,
// deallocate, delete, ...) on the VM with this ID.
func (s Scope) AllowsAction(id, action string) bool {
	if s.principal != nil {
		return s.principal.Allows(vmAction(action), id)
	}
	return s.AllowsID(id)
}

// vmAction is the RBAC action of a dashboard action, as ARM names it.
func vmAction(action string) string {
	if strings.EqualFold(action, "delete") {
		return "Microsoft.Compute/virtualMachines/delete"
	}
	return "Microsoft.Compute/virtualMachines/" + action + "/action"
}

// Authorizer decides what a request may see. It is the one place that does:
// every endpoint and the live feed filter by the Scope it returns. An error
// answers 401.
type Authorizer func(r *http.Request) (Scope, error)

// Open is the default Authorizer: like the ARM API in its default mode,
// which accepts any token, it lets every request see everything.
func Open(*http.Request) (Scope, error) { return AllSubscriptions(), nil }

// BearerToken returns the request's bearer token: the Authorization header,
// or the access_token query parameter, which is all an EventSource can send.
// It is here for strict Authorizers; Open ignores tokens.
func BearerToken(r *http.Request) string {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return r.URL.Query().Get("access_token")
}

// subscriptionOf reads the subscription of an ARM ID
// (/subscriptions/{id}/...), lower-cased; empty when there is none.
func subscriptionOf(id string) string {
	rest, ok := cutPrefixFold(strings.TrimPrefix(id, "/"), "subscriptions/")
	if !ok {
		return ""
	}
	sub, _, _ := strings.Cut(rest, "/")
	return strings.ToLower(sub)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

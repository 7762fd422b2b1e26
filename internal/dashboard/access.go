package dashboard

import (
	"net/http"
	"strings"
)

// Scope is what one request may see and act on: every subscription, or a
// set of them.
type Scope struct {
	all  bool
	subs map[string]bool
}

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

// Allows reports whether the scope covers a subscription.
func (s Scope) Allows(sub string) bool { return s.all || s.subs[strings.ToLower(sub)] }

// AllowsID reports whether the scope covers the resource with this ARM ID.
func (s Scope) AllowsID(id string) bool { return s.all || s.Allows(subscriptionOf(id)) }

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

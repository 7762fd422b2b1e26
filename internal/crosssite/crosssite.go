// Package crosssite is the one rule by which azemu refuses state-changing
// requests that a web page on another origin could send: azemu needs no
// token for its own controls, and the README asks users to trust its CA, so
// without this any page open in such a browser could reset the fleet.
//
// The rule, for every method but GET, HEAD and OPTIONS:
//   - a browser's Sec-Fetch-Site, when sent, must be same-origin or none
//     (typed by the user);
//   - an Origin, when sent, must be the origin the request was sent to;
//   - POST, PUT and PATCH must say Content-Type: application/json, which a
//     cross-site form or no-cors fetch cannot send without the browser
//     asking first (a preflight azemu never grants).
//
// Clients that are not browsers (curl, the SDKs, the CLI) send neither
// header and pass with a JSON content type.
package crosssite

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
)

// CodeRefused is the error code of a request refused for coming from
// another site.
const CodeRefused = "CrossSiteRequestRefused"

// Check returns nil when r may change state, else why not.
func Check(r *http.Request) *armerror.Error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return &armerror.Error{Status: http.StatusForbidden, Code: CodeRefused,
			Message: "A " + r.Method + " from another site ('Sec-Fetch-Site: " + site + "') is refused: azemu's controls answer only their own origin."}
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r) {
		return &armerror.Error{Status: http.StatusForbidden, Code: CodeRefused,
			Message: "A " + r.Method + " from the origin '" + origin + "' is refused: azemu's controls answer only their own origin."}
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return armerror.New(armerror.CodeUnsupportedMediaType, "The request must say 'Content-Type: application/json' (a body or not).")
		}
	}
	return nil
}

// sameOrigin reports whether origin names the host the request came to.
// "null" (a sandboxed or opaque origin) never does.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host)
}

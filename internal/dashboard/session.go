package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/crosssite"
)

// sessionCookie names the strict mode's sign-in cookie: HttpOnly (no script
// reads it), Secure, SameSite=Strict (no other site's request carries it).
const sessionCookie = "azemu_session"

// sessionLifetime is how long a sign-in lasts without a new one.
const sessionLifetime = 8 * time.Hour

// session is one signed-in browser.
type session struct {
	principal *authz.Principal
	csrf      string
	expires   time.Time
}

// strictAccess is what the strict mode's dashboard checks callers with;
// principals is nil in the open mode.
type strictAccess struct {
	principals *authz.Directory
	token      func(token, base string) (*authz.Principal, error)
	mint       func(p *authz.Principal, base string) (string, error)
	sessions   sessions
}

// sessions are the signed-in browsers, by cookie value. They live in memory:
// a restart signs everyone out.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(p *authz.Principal) (string, *session) {
	id := randomToken()
	ses := &session{principal: p, csrf: randomToken(), expires: time.Now().Add(sessionLifetime)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*session{}
	}
	for k, v := range s.byID { // drop the expired while here
		if time.Now().After(v.expires) {
			delete(s.byID, k)
		}
	}
	s.byID[id] = ses
	return id, ses
}

func (s *sessions) lookup(r *http.Request) (string, *session) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.byID[c.Value]
	if ses == nil || time.Now().After(ses.expires) {
		return "", nil
	}
	return c.Value, ses
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

// strictAuthorize is the strict mode's Authorizer: a bearer token azemu
// issued (what scripts send), or the sign-in cookie (what the page sends).
func (h *Handler) strictAuthorize(r *http.Request) (Scope, error) {
	if tok := BearerToken(r); tok != "" {
		p, err := h.strict.token(tok, "https://"+r.Host)
		if err != nil {
			return Scope{}, err
		}
		return PrincipalScope(p), nil
	}
	if _, ses := h.strict.sessions.lookup(r); ses != nil {
		sc := PrincipalScope(ses.principal)
		sc.csrf = ses.csrf
		return sc, nil
	}
	return Scope{}, errSignIn
}

type signInError struct{}

func (signInError) Error() string {
	return "Sign in with a principal's client ID and secret, or send a bearer token azemu issued."
}

var errSignIn error = signInError{}

// serveSession answers the page's sign-in: GET (who is signed in), POST
// {"clientId","clientSecret"} (sign in), DELETE (sign out).
func (h *Handler) serveSession(w http.ResponseWriter, r *http.Request) {
	if h.strict.principals == nil {
		if r.Method != http.MethodGet {
			writeError(w, armerror.New(armerror.CodeInvalidOperation, "azemu runs in the open mode: there is nothing to sign in to."))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"mode": "open"})
		return
	}
	if no := crosssite.Check(r); no != nil {
		writeError(w, no)
		return
	}
	id, ses := h.strict.sessions.lookup(r)
	switch r.Method {
	case http.MethodGet:
		if ses == nil {
			writeError(w, armerror.New(armerror.CodeAuthenticationFailed, "%s", errSignIn.Error()))
			return
		}
		h.writeSession(w, r, ses)
	case http.MethodPost:
		var in struct {
			ClientID     string `json:"clientId"`
			ClientSecret string `json:"clientSecret"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&in); err != nil {
			writeError(w, armerror.New(armerror.CodeInvalidRequestContent, `The body must be {"clientId": "...", "clientSecret": "..."}.`))
			return
		}
		p, ok := h.strict.principals.Lookup(in.ClientID)
		if !ok || subtle.ConstantTimeCompare([]byte(in.ClientSecret), []byte(p.ClientSecret)) != 1 {
			writeError(w, armerror.New(armerror.CodeAuthenticationFailed, "The client ID or secret is not a principal's."))
			return
		}
		if ses != nil {
			h.strict.sessions.remove(id)
		}
		newID, created := h.strict.sessions.create(p)
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: newID, Path: "/", HttpOnly: true, Secure: true,
			SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLifetime / time.Second)})
		h.writeSession(w, r, created)
	case http.MethodDelete:
		if ses != nil {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(ses.csrf)) != 1 {
				writeError(w, armerror.New(armerror.CodeInvalidCsrfToken, "A signed-in change must carry the session's X-CSRF-Token."))
				return
			}
			h.strict.sessions.remove(id)
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, armerror.New(armerror.CodeMethodNotAllowed, "The session answers GET, POST and DELETE."))
	}
}

// writeSession tells the page who is signed in, the CSRF token its changes
// carry, and a bearer token for the ARM API (which takes no cookies).
func (h *Handler) writeSession(w http.ResponseWriter, r *http.Request, ses *session) {
	out := map[string]any{"mode": "strict", "name": ses.principal.Name, "clientId": ses.principal.ClientID, "csrf": ses.csrf}
	if h.strict.mint != nil {
		tok, err := h.strict.mint(ses.principal, "https://"+r.Host)
		if err != nil {
			h.log.Error("minting the page's token", "err", err)
		} else {
			out["token"] = tok
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// checkCSRF refuses a change made with the sign-in cookie unless it carries
// the session's CSRF token: a header no other site's page can set.
func checkCSRF(r *http.Request, scope Scope) error {
	if scope.csrf == "" || subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(scope.csrf)) == 1 {
		return nil
	}
	return armerror.New(armerror.CodeInvalidCsrfToken, "A signed-in change must carry the session's X-CSRF-Token.")
}

package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// send is a request as the page sends it: no bearer token, the cookie when
// given, JSON from the page's own origin.
func (r *rig) send(method, path, body, cookie, csrf string) (*http.Response, map[string]any) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", r.srv.URL)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp, m
}

// The strict mode's sign-in: a session cookie that scripts cannot read and
// other sites' requests do not carry; sign-out needs the CSRF token and
// ends the session.
func TestSession(t *testing.T) {
	r := strictRig(t)
	if resp, _ := r.send("GET", "/_dashboard/api/session", "", "", ""); resp.StatusCode != 401 {
		t.Fatalf("no session: %d", resp.StatusCode)
	}
	resp, s := r.send("POST", "/_dashboard/api/session", `{"clientId":"ALICE-APP","clientSecret":"alice-secret"}`, "", "")
	if resp.StatusCode != 200 || s["name"] != "alice" || s["csrf"] == "" || s["token"] == "" {
		t.Fatalf("sign-in: %d %v", resp.StatusCode, s)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "azemu_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("cookie: %+v", cookie)
	}
	jar := cookie.Name + "=" + cookie.Value
	csrf := s["csrf"].(string)
	if resp, again := r.send("GET", "/_dashboard/api/session", "", jar, ""); resp.StatusCode != 200 || again["csrf"] != csrf {
		t.Fatalf("the session: %d %v", resp.StatusCode, again)
	}
	if resp, _ := r.send("GET", "/_dashboard/api/tree", "", jar, ""); resp.StatusCode != 200 {
		t.Fatalf("the tree by cookie: %d", resp.StatusCode)
	}
	if resp, e := r.send("DELETE", "/_dashboard/api/session", "", jar, "wrong"); resp.StatusCode != 403 {
		t.Fatalf("sign-out without the CSRF token: %d %v", resp.StatusCode, e)
	}
	if resp, _ := r.send("DELETE", "/_dashboard/api/session", "", jar, csrf); resp.StatusCode != 204 {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := r.send("GET", "/_dashboard/api/tree", "", jar, ""); resp.StatusCode != 401 {
		t.Fatalf("the tree after sign-out: %d", resp.StatusCode)
	}
	if resp, _ := r.send("POST", "/_dashboard/api/session", `{"clientId":"alice-app","clientSecret":"nope"}`, "", ""); resp.StatusCode != 401 {
		t.Fatalf("a wrong secret: %d", resp.StatusCode)
	}
}

// The open mode has nothing to sign in to.
func TestSessionOpenMode(t *testing.T) {
	r := newRig(t, nil)
	if resp, s := r.send("GET", "/_dashboard/api/session", "", "", ""); resp.StatusCode != 200 || s["mode"] != "open" {
		t.Fatalf("open mode: %d %v", resp.StatusCode, s)
	}
	if resp, _ := r.send("POST", "/_dashboard/api/session", `{"clientId":"a","clientSecret":"b"}`, "", ""); resp.StatusCode != 400 {
		t.Fatalf("a sign-in in the open mode: %d", resp.StatusCode)
	}
}

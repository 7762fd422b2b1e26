package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/server"
)

// The links azemu hands out (Azure-AsyncOperation, Location, nextLink,
// WWW-Authenticate) name the address it serves, never a Host header the
// client made up.
func TestLinksNameTheServedAddressNotTheHostHeader(t *testing.T) {
	srv := startServer(t, server.Config{PageSize: 1})
	client := httpsClient(t, srv)
	send := func(method, path, body string, auth bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		req.Host = "attacker.example"
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer test")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	check := func(what, link string) {
		t.Helper()
		if !strings.HasPrefix(link, srv.URL()+"/") {
			t.Errorf("%s is %q, want a link under %s", what, link, srv.URL())
		}
	}
	groups := "/subscriptions/" + sub + "/resourcegroups/"
	for _, g := range []string{"a", "b", "c"} {
		res := send(http.MethodPut, groups+g+"?api-version=2021-04-01", `{"location":"eastus"}`, true)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("PUT group %s: HTTP %d", g, res.StatusCode)
		}
	}
	res := send(http.MethodDelete, groups+"a?api-version=2021-04-01", "", true)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE group: HTTP %d", res.StatusCode)
	}
	check("Location", res.Header.Get("Location"))

	res = send(http.MethodGet, groups+"?api-version=2021-04-01", "", true)
	var page struct {
		NextLink string `json:"nextLink"`
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	check("nextLink", page.NextLink)

	res = send(http.MethodGet, groups+"?api-version=2021-04-01", "", false)
	res.Body.Close()
	if h := res.Header.Get("WWW-Authenticate"); !strings.Contains(h, `authorization_uri="`+srv.URL()+`/adfs"`) {
		t.Errorf("WWW-Authenticate: %q", h)
	}
}

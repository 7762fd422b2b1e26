package crosssite

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheck(t *testing.T) {
	const self = "https://127.0.0.1:8443"
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		want    int // 0: allowed
	}{
		{"a GET is never refused", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 0},
		{"curl with JSON", http.MethodPost, map[string]string{"Content-Type": "application/json"}, 0},
		{"JSON with a charset", http.MethodPost, map[string]string{"Content-Type": "Application/JSON; charset=utf-8"}, 0},
		{"the page itself", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": self, "Sec-Fetch-Site": "same-origin"}, 0},
		{"typed by the user", http.MethodPost, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "none"}, 0},
		{"a DELETE needs no body", http.MethodDelete, nil, 0},
		{"no content type", http.MethodPost, nil, http.StatusUnsupportedMediaType},
		{"text/plain (a no-cors fetch)", http.MethodPost, map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"a form", http.MethodPost, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"a PUT of a form", http.MethodPut, map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, http.StatusUnsupportedMediaType},
		{"another localhost port", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:9999"}, http.StatusForbidden},
		{"same host, plain http", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:8443"}, http.StatusForbidden},
		{"an opaque origin", http.MethodPost, map[string]string{"Content-Type": "application/json", "Origin": "null"}, http.StatusForbidden},
		{"same-site is not same-origin", http.MethodPost, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"cross-site DELETE", http.MethodDelete, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, self+"/_azemu/reset", nil)
			r.TLS = &tls.ConnectionState{}
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			got := Check(r)
			switch {
			case tc.want == 0 && got != nil:
				t.Fatalf("refused: %+v", got)
			case tc.want != 0 && got == nil:
				t.Fatalf("allowed, want HTTP %d", tc.want)
			case got != nil && (got.HTTPStatus() != tc.want || got.Code == "" || got.Message == ""):
				t.Fatalf("got %+v, want HTTP %d with a code and message", got, tc.want)
			}
		})
	}
}

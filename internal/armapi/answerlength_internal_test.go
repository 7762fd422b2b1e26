package armapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestAnswersCarryTheirLength holds net/http to what writeSized leaves to
// it: an answer of up to netHTTPBuffered bytes, written whole, goes out
// with its Content-Length and not in chunks, though only a longer one, or
// a HEAD, sets the header. Each side of the bound is read over a real
// connection, with the length kept by the render cache and without.
func TestAnswersCarryTheirLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		n, _ := strconv.Atoi(hr.URL.Query().Get("n"))
		body := bytes.Repeat([]byte("x"), n)
		var length []string
		if hr.URL.Query().Get("kept") == "true" {
			length = contentLength(body)
		}
		writeSized(&request{Request: hr, w: w}, http.StatusOK, body, length)
	}))
	defer srv.Close()
	for _, n := range []int{0, 1, netHTTPBuffered - 1, netHTTPBuffered, netHTTPBuffered + 1, 3 * netHTTPBuffered} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for _, kept := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/kept=%v", method, n, kept), func(t *testing.T) {
					req, err := http.NewRequest(method, fmt.Sprintf("%s/?n=%d&kept=%v", srv.URL, n, kept), nil)
					if err != nil {
						t.Fatal(err)
					}
					resp, err := srv.Client().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					got, err := io.ReadAll(resp.Body)
					if err != nil {
						t.Fatal(err)
					}
					if resp.ContentLength != int64(n) || len(resp.TransferEncoding) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(n) {
						t.Fatalf("Content-Length %d (header %q), Transfer-Encoding %v; want %d, none",
							resp.ContentLength, resp.Header.Get("Content-Length"), resp.TransferEncoding, n)
					}
					want := n
					if method == http.MethodHead {
						want = 0
					}
					if len(got) != want || resp.Header.Get("Content-Type") != jsonContentType[0] || resp.Header.Get("Cache-Control") != "no-cache" {
						t.Fatalf("%d bytes, Content-Type %q, Cache-Control %q", len(got), resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
					}
				})
			}
		}
	}
}

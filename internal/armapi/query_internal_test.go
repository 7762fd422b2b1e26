package armapi

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// checkRawQueryGet holds rawQueryGet to url.ParseQuery's reading of raw.
func checkRawQueryGet(t *testing.T, raw, key string) {
	t.Helper()
	got, ok := rawQueryGet(raw, key)
	if !ok {
		if strings.Count(raw, "&") < maxScannedParams {
			t.Fatalf("rawQueryGet(%q, %q) gave up", raw, key)
		}
		return
	}
	q, _ := url.ParseQuery(raw)
	if want := q.Get(key); got != want {
		t.Fatalf("rawQueryGet(%q, %q) = %q, url.ParseQuery reads %q", raw, key, got, want)
	}
}

func TestRawQueryGetReadsAsParseQuery(t *testing.T) {
	for _, raw := range []string{
		"", "api-version=2025-04-01", "api-version=2025-04-01&$expand=instanceView", "%24expand=instanceView&api-version=2025-04-01",
		"$expand=a&$expand=b", "$expand&api-version", "$expand=&api-version=x", "a;b=c&$expand=d", "$expand=%zz&$expand=ok",
		"%zz=1&$expand=two", "$expand=a+b%20c", "$exp%61nd=x", "&&$expand=x&&", "=x&$expand", "$expand=a=b", "api-version=2025-04-01;x",
		strings.Repeat("a=1&", maxScannedParams) + "$expand=x",
	} {
		for _, key := range []string{"$expand", "api-version", "a"} {
			checkRawQueryGet(t, raw, key)
		}
	}
}

func FuzzRawQueryGet(f *testing.F) {
	f.Add("api-version=2025-04-01&%24expand=instanceView", "$expand")
	f.Add("a;b=c&$expand=%zz&$expand=a+b", "$expand")
	f.Fuzz(checkRawQueryGet)
}

// checkSplitRequestPath holds splitRequestPath to splitPath of the
// escaped path, for the request URI uri.
func checkSplitRequestPath(t *testing.T, uri string) {
	t.Helper()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return
	}
	segs, lower := splitRequestPath(u)
	wantSegs, wantLower := splitPath(u.EscapedPath())
	if !slices.Equal(segs, wantSegs) || !slices.Equal(lower, wantLower) {
		t.Fatalf("splitRequestPath(%q) = %q, %q; splitPath gives %q, %q", uri, segs, lower, wantSegs, wantLower)
	}
}

func TestSplitRequestPathMatchesSplitPath(t *testing.T) {
	for _, uri := range []string{
		"/", "//", "/subscriptions", "/subscriptions/", "//subscriptions//x//",
		"/subscriptions/00000000-0000-0000-0000-0000000000b1/resourceGroups/Bench/providers/Microsoft.Compute/virtualMachines/vm000001?api-version=1",
		"/subscriptions/S/resourceGroups/a%20b/providers", "/subscriptions/S/resourceGroups/a%2Fb/x", "/a/%C3%A9/B", "/a/é/B", "/a/b%25c",
		"/a/$&+,:;=@-_.~/Z", "/a/b c", "/a/b'c", "/a/b!c", "/a/b*c", "/a/" + strings.Repeat("x", maxPlainPath),
	} {
		checkSplitRequestPath(t, uri)
	}
}

func FuzzSplitRequestPath(f *testing.F) {
	f.Add("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1/instanceView")
	f.Add("/a/%C3%A9/b%2Fc/$x")
	f.Fuzz(checkSplitRequestPath)
}

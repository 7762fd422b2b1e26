package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/server"
)

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "127.8.9.10:0": true, "[::1]:6060": true, "localhost:6060": true, "LOCALHOST:1": true,
		"0.0.0.0:6060": false, ":6060": false, "[::]:6060": false, "10.0.0.5:6060": false, "example.com:6060": false, "127.0.0.1": false,
	} {
		err := server.CheckLoopback(addr)
		if ok != (err == nil) {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// The profiles are served on their own loopback listener, over plain HTTP,
// and not on the API's address.
func TestPprofOnItsOwnListener(t *testing.T) {
	srv := startServer(t, server.Config{Pprof: "127.0.0.1:0"})
	if !strings.HasPrefix(srv.PprofURL(), "http://127.0.0.1:") {
		t.Fatalf("PprofURL %q", srv.PprofURL())
	}
	res, err := http.Get(srv.PprofURL() + "cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("GET %scmdline: HTTP %d %q", srv.PprofURL(), res.StatusCode, body)
	}
	res, err = httpsClient(t, srv).Get(srv.URL() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusOK && strings.Contains(string(body), "server.test") {
		t.Fatalf("the API's address serves the profiles: %q", body)
	}
	// Without the option there is none.
	if plain := startServer(t, server.Config{}); plain.PprofURL() != "" {
		t.Errorf("PprofURL %q without Pprof", plain.PprofURL())
	}
}

func TestPprofRefusesAnAddressBeyondLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Pprof: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("Start with pprof on 0.0.0.0: %v, want a refusal", err)
	}
}

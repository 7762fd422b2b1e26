package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/server"
)

func TestServeFaultFlags(t *testing.T) {
	t.Setenv("AZEMU_FAULTS", "/env/faults.json")
	t.Setenv("AZEMU_CAPACITY", "/env/capacity.json")
	t.Setenv("AZEMU_RATE_LIMITS", "writes=3")
	c, err := parseServe(nil, &bytes.Buffer{})
	if err != nil || c.faults != "/env/faults.json" || c.capacity != "/env/capacity.json" || c.rateLimits != (armapi.RateLimits{Writes: 3}) {
		t.Fatalf("env twins: %+v %v", c, err)
	}
	c, err = parseServe([]string{"--rate-limits", "reads=12000,writes=1200,deletes=15000", "--faults", "f.json"}, &bytes.Buffer{})
	if err != nil || c.rateLimits != armapi.AzureRateLimits || c.faults != "f.json" {
		t.Fatalf("flags: %+v %v", c, err)
	}
	t.Setenv("AZEMU_RATE_LIMITS", "")
	if c, err := parseServe(nil, &bytes.Buffer{}); err != nil || c.rateLimits.Enabled() {
		t.Fatalf("empty rate limits: %+v %v", c.rateLimits, err)
	}
	if _, err := parseServe([]string{"--rate-limits", "writes=many"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--rate-limits") {
		t.Fatalf("bad rate limits: %v", err)
	}
}

func TestServeSeedFlag(t *testing.T) {
	c, err := parseServe([]string{"--seed", "42"}, &bytes.Buffer{})
	if err != nil || c.seed != 42 {
		t.Fatalf("--seed 42: %+v %v", c.seed, err)
	}
	if c, err := parseServe(nil, &bytes.Buffer{}); err != nil || c.seed != 0 {
		t.Fatalf("no seed: %v %v", c.seed, err)
	}
	for _, bad := range []string{"0", "-1", "many"} {
		if _, err := parseServe([]string{"--seed", bad}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--seed") {
			t.Errorf("--seed %s: %v", bad, err)
		}
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadCapacity(t *testing.T) {
	c, err := loadCapacity(write(t, "cap.json", `{"westus": {"DSv3": 4, "standardBSFamily": 8}, "West Europe": {"dsv3": 2, "standardFSv2Family": 16}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Capacity{"westus": {"DSv3": 4, "BS": 8}, "westeurope": {"DSv3": 2, "FSv2": 16}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("capacity %v, want %v", c, want)
	}
	// The keys are the engine's: a D2s_v3 is 2 cores of the family named here.
	if fam, cores, _ := engine.SizeFamily("Standard_D2s_v3"); c["westus"][fam] != 4 || cores != 2 {
		t.Fatalf("family %q not found in %v", fam, c["westus"])
	}
	for _, bad := range []string{`[]`, `{"westus": {"DSv3": -1}}`, `{"westus": {"D-S": 1}}`, `{"": {"DSv3": 1}}`, `{"westus": {"DSv3": "four"}}`} {
		if _, err := loadCapacity(write(t, "bad.json", bad)); err == nil || !strings.Contains(err.Error(), "--capacity") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := loadCapacity(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestFaultsFile(t *testing.T) {
	path := write(t, "faults.json", `[
		{"operation": "start", "resource": "web-*", "error": "AllocationFailed", "count": 1},
		{"kind": "powerStateUnavailable", "probability": 0.2},
		{"kind": "throttle", "operation": "*", "count": 2}
	]`)
	faults, err := loadFaults(path)
	if err != nil || len(faults) != 3 || faults[0].Error != "AllocationFailed" || *faults[0].Count != 1 || faults[1].Probability != 0.2 {
		t.Fatalf("loaded: %+v %v", faults, err)
	}
	for _, bad := range []string{`{"kind": "throttle"}`, `[{"kind": "throttle", "retryAfter": 5}]`, `[1]`} {
		if _, err := loadFaults(write(t, "bad.json", bad)); err == nil || !strings.Contains(err.Error(), "--faults") {
			t.Errorf("%s: %v", bad, err)
		}
	}

	// The file replaces what the last run kept; started twice with it, the
	// server has each fault once.
	ctx := context.Background()
	dir := t.TempDir()
	start := func(faults []engine.Fault) (*server.Server, error) {
		return server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, ManualStart: clock.DefaultManualStart, Faults: faults})
	}
	srv, err := start(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Engine().Do(ctx, engine.AddFault{Fault: engine.Fault{Kind: engine.FaultThrottle, Operation: "GET"}}); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	for range 2 {
		if srv, err = start(faults); err != nil {
			t.Fatal(err)
		}
		got := srv.Engine().Faults()
		srv.Shutdown(ctx)
		if len(got) != 3 || got[0].Error != "AllocationFailed" || got[2].Kind != engine.FaultThrottle || got[2].Operation != "*" {
			t.Fatalf("registered: %+v", got)
		}
	}
	invalid := []engine.Fault{{Operation: "start", Error: "NoSuchError"}}
	if _, err := start(invalid); err == nil || !strings.Contains(err.Error(), "fault 0") {
		t.Fatalf("an invalid fault: %v", err)
	}
}

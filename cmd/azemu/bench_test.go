package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// benchBareEnv makes this test binary the bare server's process, as
// azemu bench-bare: what azemu bench starts in a process of its own.
const benchBareEnv = "AZEMU_TEST_BENCH_BARE"

func TestMain(m *testing.M) {
	if os.Getenv(benchBareEnv) == "1" {
		if err := benchBare(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestParseBench(t *testing.T) {
	def, err := parseBench(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if def.vms != 1000 || def.clients != 64 || def.duration != 5*time.Second || def.warmup != time.Second || def.rounds != 1 ||
		def.target != "" || def.token != "bench" || strings.Join(def.workloads, ",") != strings.Join(benchWorkloads, ",") {
		t.Errorf("defaults: %+v", def)
	}
	for _, tc := range []struct {
		args []string
		want string // an error containing this, or "" for none
	}{
		{[]string{"-vms", "100000", "-clients", "8", "-duration", "2s", "-warmup", "0", "-rounds", "3"}, ""},
		{[]string{"-vms", "0"}, "--vms must be a positive whole number (0 only with --target)"},
		{[]string{"-vms", "0", "-target", "https://127.0.0.1:18443", "-workloads", "get,expand,instanceview,listall"}, ""},
		{[]string{"-vms", "0", "-target", "https://127.0.0.1:18443"}, "churn changes VMs of the bench's own"},
		{[]string{"-seed", "x"}, "--seed must be a whole number"},
		{[]string{"-clients", "many"}, "--clients must be a positive whole number"},
		{[]string{"-duration", "0s"}, "--duration must be a positive duration"},
		{[]string{"-duration", "5"}, "--duration must be a positive duration"},
		{[]string{"-warmup", "-1s"}, "--warmup must be a duration"},
		{[]string{"-rounds", "-2"}, "--rounds must be a positive whole number"},
		{[]string{"-workloads", "get,put"}, `unknown workload "put"`},
		{[]string{"-target", "https://127.0.0.1:18443", "-ca", "ca.pem", "-target-db", "azemu.db"}, ""},
		{[]string{"-target", "https://localhost:8443/"}, ""},
		{[]string{"-target", "https://[::1]:8443"}, ""},
		{[]string{"-target", "http://127.0.0.1:8443"}, "want an https:// URL"},
		{[]string{"-target", "https://10.0.0.5:8443"}, "10.0.0.5 is not a loopback address"},
		{[]string{"-target", "https://example.com"}, "example.com is not a loopback address"},
		{[]string{"-ca", "ca.pem"}, "--ca and --target-db go with --target"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseBench(tc.args, io.Discard)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	c, err := parseBench([]string{"-target", "https://localhost:8443/", "-workloads", "churn, GET"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.target != "https://localhost:8443" {
		t.Errorf("target %q: want it without the trailing slash", c.target)
	}
	// The bare server always runs, first; the rest in their fixed order.
	if got := strings.Join(c.workloads, ","); got != "bare,get,churn" {
		t.Errorf("workloads %s, want bare,get,churn", got)
	}
}

func TestServePprofFlag(t *testing.T) {
	c, err := parseServe([]string{"--pprof", "127.0.0.1:6060"}, io.Discard)
	if err != nil || c.pprof != "127.0.0.1:6060" {
		t.Fatalf("--pprof 127.0.0.1:6060: %+v %v", c.pprof, err)
	}
	if c, err := parseServe(nil, io.Discard); err != nil || c.pprof != "" {
		t.Fatalf("pprof is on by default: %q %v", c.pprof, err)
	}
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "6060"} {
		if _, err := parseServe([]string{"--pprof", bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "--pprof") {
			t.Errorf("--pprof %s: %v, want a refusal", bad, err)
		}
	}
}

func TestBenchReportGolden(t *testing.T) {
	rep := benchReport{VMs: 1000, Created: 1000, Clients: 64, Duration: 5 * time.Second, Rounds: 3, Where: "azemu in this process (SQLite, manual clock)",
		GoVersion: "go1.26.8", CPUs: 2, Load: "1.50 1.20 0.90", Seed: 2345 * time.Millisecond,
		Results: []workloadResult{
			{Name: "bare", Ops: 100000, Elapsed: 5 * time.Second, Bytes: 750, CPU: 4 * time.Second},
			{Name: "get", Ops: 80000, Elapsed: 5 * time.Second, Bytes: 1332, CPU: 4 * time.Second},
			{Name: "expand", Ops: 42000, Elapsed: 5 * time.Second, Bytes: 2196},
			{Name: "instanceview", Ops: 91000, Elapsed: 5 * time.Second, Bytes: 849},
			{Name: "listall", Ops: 500, Elapsed: 5 * time.Second, Bytes: 219_600},
			{Name: "churn", Ops: 15000, Elapsed: 5 * time.Second, Refused: 3,
				Refusal: `powerOff: {"error":{"code":"OperationNotAllowed"}}`},
			{Name: commitsSingle, Ops: 17500, Elapsed: 5 * time.Second, CPU: 4 * time.Second, Transactions: 17500, Changes: 17500},
			{Name: commitsGrouped, Ops: 105000, Elapsed: 5 * time.Second, CPU: 5 * time.Second, Transactions: 2500, Changes: 105000},
		},
		Listing: listing{Pages: 10, VMs: 1000, Bytes: 2_196_000, Time: 45_678 * time.Microsecond, Decode: 12_345 * time.Microsecond, ServerCPU: 9_876 * time.Microsecond},
		Dials:   3, RSS: 150 << 20, RSSFrom: "this process", DBBytes: 12_345_678}
	var out bytes.Buffer
	rep.write(&out)
	golden := filepath.Join("testdata", "bench-report.txt")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("report differs from %s (go test -run BenchReport -update):\n%s", golden, out.String())
	}
	if rep.failures() != "" {
		t.Errorf("failures %q of a report with none", rep.failures())
	}
}

func TestBenchReportFailures(t *testing.T) {
	rep := benchReport{VMs: 10, Clients: 2, Duration: time.Second, Rounds: 1, Results: []workloadResult{
		{Name: "bare", Err: "connection refused"},
		{Name: "get", Ops: 10, Elapsed: time.Second, Bytes: 10},
	}, Listing: listing{Err: "listAll statusOnly listed 3 VMs of 10"}}
	var out bytes.Buffer
	rep.write(&out)
	for _, want := range []string{
		"bare HTTPS server: a fixed body from a map  failed",
		"bare HTTPS server: a fixed body from a map failed: connection refused",
		"listAll statusOnly=true, one client: failed: listAll statusOnly listed 3 VMs of 10",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	// Without the bare server's figure there is no ratio.
	if !regexp.MustCompile(`(?m)^GET VM +10 req/s +- +- +- +10 B$`).MatchString(out.String()) {
		t.Errorf("the GET VM line lacks its figure or has a ratio:\n%s", out.String())
	}
	if got := rep.failures(); got != "workloads failed: bare, listing" {
		t.Errorf("failures %q", got)
	}
}

func TestMedianResult(t *testing.T) {
	rs := []workloadResult{
		{Name: "get", Ops: 300, Elapsed: time.Second},
		{Name: "get", Ops: 100, Elapsed: time.Second},
		{Name: "get", Ops: 200, Elapsed: time.Second},
	}
	if m := medianResult(rs); m.Ops != 200 {
		t.Errorf("median of 300, 100, 200: %d", m.Ops)
	}
	rs[1].Err = "HTTP 500"
	if m := medianResult(rs); m.Err != "HTTP 500" {
		t.Errorf("a failed round must fail the figure: %+v", m)
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{750: "750 B", 9999: "9,999 B", 219_600: "219.6 KB", 12_345_678: "12.3 MB", 978_000_000: "978.0 MB", 2_100_000_000: "2.10 GB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMetricValue(t *testing.T) {
	text := "# HELP process_resident_memory_bytes Resident memory size in bytes.\n" +
		"# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.2345678e+08\n" +
		"process_resident_memory_bytes_other 7\n"
	if v, ok := metricValue(text, "process_resident_memory_bytes"); !ok || v != 123456780 {
		t.Errorf("got %v %v", v, ok)
	}
	if _, ok := metricValue(text, "go_goroutines"); ok {
		t.Error("found a metric that is not there")
	}
}

func TestNextLink(t *testing.T) {
	r := &benchRig{azemu: "https://127.0.0.1:8443"}
	for _, tc := range []struct{ page, want, err string }{
		{`{"value":[]}`, "", ""},
		{`{"value":[{"name":"a"}],"nextLink":"https://127.0.0.1:8443/subscriptions/s/x?a=1&$skiptoken=b"}`,
			"https://127.0.0.1:8443/subscriptions/s/x?a=1&$skiptoken=b", ""},
		// A server that escapes HTML in JSON.
		{`{"nextLink": "https://127.0.0.1:8443/x?a=1\u0026b=2","value":[]}`, "https://127.0.0.1:8443/x?a=1&b=2", ""},
		{`{"value":[],"nextLink":"https://198.51.100.7/x"}`, "", "leads away"},
		{`{"value":[],"nextLink":null}`, "", "not a string"},
	} {
		got, err := r.nextLink([]byte(tc.page))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.page, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.page, got, err, tc.want)
		}
	}
}

// TestBenchRuns runs the whole tool on a tiny fleet: every workload
// answers, the listing sees every VM, and the report says so. It asserts
// nothing about speed.
func TestBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and seeds a fleet")
	}
	profile := filepath.Join(t.TempDir(), "cpu.out")
	c, err := parseBench([]string{"-vms", "12", "-clients", "3", "-duration", "150ms", "-warmup", "0", "-page-size", "5",
		"-cpuprofile", profile}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	if err := runBench(context.Background(), c, &out, &log); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), log.String())
	}
	for _, want := range []string{
		"azemu bench: 12 VMs, 3 clients, 150ms a workload, 1 round",
		"bare HTTPS server: a fixed body from a map", "GET VM ", "GET VM ?$expand=instanceView", "GET VM/instanceView",
		"listAll statusOnly=true, every page", "start/powerOff/deallocate churn",
		"engine on SQLite, one change a transaction", "engine on SQLite, group commit",
		"durable changes through the engine on SQLite, 3 clients: group commit ",
		"listAll statusOnly=true, one client: all 3 pages (12 VMs,",
		"resident memory: ", "database: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "failed") {
		t.Errorf("a workload failed:\n%s", out.String())
	}
	// A profile of each workload's measured part, named after it.
	for _, w := range []string{"bare", "get", "expand", "instanceview", "listall", "churn"} {
		if st, err := os.Stat(filepath.Join(filepath.Dir(profile), "cpu-"+w+"-r1.out")); err != nil || st.Size() == 0 {
			t.Errorf("no profile of %s: %v", w, err)
		}
	}
}

// TestBenchReadsATargetsWholeFleet measures a server that serves a fleet
// azemu seed made, creating no VM of its own: every GET must find a VM of
// that fleet (a 404 fails the run), and the report names the fleet read.
func TestBenchReadsATargetsWholeFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a fleet and starts a server")
	}
	dir := t.TempDir()
	cfg := seedConfig{vms: 23, dataDir: dir, store: filepath.Join(dir, "azemu.db"), subscription: testSeedSub, concurrency: 4,
		batch: 10, groupSize: 6, seed: 7, clockStart: testSeedStart}
	if _, err := runSeed(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	srv, _ := seedServer(t, dir, testSeedStart, 0)
	defer stop(t, srv)
	c, err := parseBench([]string{"-target", srv.URL(), "-ca", filepath.Join(dir, "tls", "ca.pem"), "-vms", "0",
		"-subscription", testSeedSub, "-clients", "3", "-duration", "200ms", "-warmup", "0",
		"-workloads", "get,expand,instanceview"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// The bare server in a process of its own: this test binary, as
	// azemu bench-bare (TestMain).
	t.Setenv(benchBareEnv, "1")
	c.bareCommand = []string{os.Args[0]}
	var out, log bytes.Buffer
	if err := runBench(context.Background(), c, &out, &log); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), log.String())
	}
	for _, want := range []string{
		"azemu bench: 23 VMs, 3 clients", "the bare server in a process of its own",
		"seeded:  none; each GET reads one of the subscription's 23 VMs, drawn at random",
		"target:  ", "GET VM ?$expand=instanceView", "GET VM/instanceView",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "failed") {
		t.Errorf("a workload failed:\n%s", out.String())
	}
}

// TestBenchSpreadsGETsOverTheFleet checks the draws a workload's clients
// make: every VM of the fleet is read about as often as any other, a
// warm-up's draws are not its measured part's, and a seed repeats them.
func TestBenchSpreadsGETsOverTheFleet(t *testing.T) {
	const vms, clients, perClient = 50, 4, 5000
	r := &benchRig{cfg: benchConfig{clients: clients, seed: 9}, azemu: "https://127.0.0.1:1"}
	for i := range vms {
		r.fleet = append(r.fleet, "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/"+benchVMName(i))
	}
	draws := func(r *benchRig) []string {
		var got []string
		urls := r.getURLs("instanceview")
		r.drives++
		for c := range clients {
			state := clientState{rnd: r.clientRand(r.drives, c)}
			for range perClient {
				got = append(got, pickURL(urls, &state))
			}
		}
		return got
	}
	first := draws(r)
	counts := map[string]int{}
	for _, u := range first {
		counts[u]++
	}
	if len(counts) != vms {
		t.Fatalf("%d VMs read of %d", len(counts), vms)
	}
	// 400 reads a VM expected; a uniform draw stays well within 300-500.
	for u, n := range counts {
		if n < 300 || n > 500 {
			t.Errorf("%s read %d times of %d, want about %d", u, n, len(first), len(first)/vms)
		}
	}
	if second := draws(r); slices.Equal(first[:100], second[:100]) {
		t.Error("the next workload draws the same VMs as the one before")
	}
	again := &benchRig{cfg: r.cfg, azemu: r.azemu, fleet: r.fleet}
	if !slices.Equal(first, draws(again)) {
		t.Error("the same seed drew other VMs")
	}
}

func TestProcessCPUOf(t *testing.T) {
	// Spend some CPU, then read this process's own figure both ways.
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	d, err := processCPUOf(os.Getpid())
	if err != nil || d <= 0 || d > processCPU()+20*time.Millisecond {
		t.Errorf("processCPUOf(self) = %v, %v; getrusage says %v", d, err, processCPU())
	}
	if _, err := processCPUOf(-1); err == nil {
		t.Error("a process that is not there has a CPU time")
	}
}

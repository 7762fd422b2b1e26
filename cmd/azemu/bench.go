package main

// azemu bench: read and write throughput of azemu over HTTPS, each figure a
// ratio to a bare Go HTTPS server measured in the same run, so that a noisy
// machine moves both sides alike (docs/benchmarks.md).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/certs"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/server"
)

// benchConfig is what a bench runs with.
type benchConfig struct {
	vms        int
	clients    int
	duration   time.Duration
	warmup     time.Duration
	rounds     int
	workloads  []string
	target     string // "" runs azemu in this process
	ca         string // with target: the CA its certificate chains to
	token      string
	targetDB   string // with target: its database file, for its size
	cpuProfile string
	pageSize   int
	// seed draws which VM each GET reads, so that a run repeats.
	seed uint64
	// bareCommand starts the bare server in a process of its own (this
	// executable and benchBareCommand), as the target has one; nil runs
	// it in this process.
	bareCommand []string
	// subscription holds the VMs the bench creates, and is the one listAll
	// walks: with --target, one a seed filled (azemu seed) lists its fleet.
	subscription string
}

// benchWorkloads are the workloads in the order they run: reads first, the
// churn after them, as it leaves VMs mid-transition, and last the commits
// through the engine, on databases of their own (benchcommit.go).
var benchWorkloads = []string{"bare", "get", "expand", "instanceview", "listall", "churn", commitsGrouped}

func parseBench(args []string, stderr io.Writer) (benchConfig, error) {
	c := benchConfig{}
	fs, str := newFlags("bench", stderr)
	vms, clients, duration, warmup, rounds, pageSize, seed := "", "", "", "", "", "", ""
	workloads := ""
	str(&vms, "vms", "1000", "VMs to create before measuring (with --target, 0 reads only the fleet it already serves)")
	str(&clients, "clients", "64", "concurrent keep-alive HTTPS clients")
	str(&duration, "duration", "5s", "how long each workload is measured")
	str(&warmup, "warmup", "1s", "how long each workload runs, unmeasured, before it is measured")
	str(&rounds, "rounds", "1", "how many times the whole sequence runs; each figure is the median")
	str(&workloads, "workloads", strings.Join(benchWorkloads, ","), "which workloads to run (bare is always run)")
	str(&c.target, "target", "", "the URL of a running azemu to measure (loopback only) instead of one started in this process")
	str(&c.ca, "ca", "", "with --target: the CA its certificate chains to (e.g. <its data dir>/tls/ca.pem)")
	str(&c.token, "token", "bench", "the bearer token sent (any is accepted in the open mode)")
	str(&c.targetDB, "target-db", "", "with --target: its SQLite file, to report the database's size")
	str(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of each workload's measured part in each round: FILE.out gives FILE-<workload>-r<round>.out")
	str(&pageSize, "page-size", "100", "items per list page of the azemu started in this process")
	str(&c.subscription, "subscription", benchSub, "the subscription of the bench's VMs, whose whole fleet the GETs read and listAll walks (with --target, e.g. one azemu seed filled)")
	str(&seed, "seed", "1", "seed of the draws that pick the VM each GET reads")
	err := parseFlagsOnly(fs, args, stderr, "Usage: azemu bench [flags]\n\n"+
		"Creates --vms VMs, lists the subscription's fleet once, then measures each workload for\n"+
		"--duration with --clients concurrent HTTPS clients, each GET on a VM drawn at random from\n"+
		"the whole fleet, next to a bare Go HTTPS server in this process. Only loopback is measured.\n\n")
	if err != nil {
		return c, err
	}
	if c.vms, err = strconv.Atoi(vms); err != nil || c.vms < 0 || c.vms == 0 && c.target == "" {
		return c, fmt.Errorf("--vms must be a positive whole number (0 only with --target), not %q", vms)
	}
	if c.clients, err = positiveInt("clients", clients); err != nil {
		return c, err
	}
	if c.rounds, err = positiveInt("rounds", rounds); err != nil {
		return c, err
	}
	if c.pageSize, err = positiveInt("page-size", pageSize); err != nil {
		return c, err
	}
	if c.duration, err = time.ParseDuration(duration); err != nil || c.duration <= 0 {
		return c, fmt.Errorf("--duration must be a positive duration such as 5s, not %q", duration)
	}
	if c.warmup, err = time.ParseDuration(warmup); err != nil || c.warmup < 0 {
		return c, fmt.Errorf("--warmup must be a duration such as 1s (or 0), not %q", warmup)
	}
	if c.workloads, err = parseWorkloads(workloads); err != nil {
		return c, err
	}
	if c.vms == 0 && slices.Contains(c.workloads, "churn") {
		return c, errors.New("--workloads churn changes VMs of the bench's own: give --vms 1 or more")
	}
	if c.seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return c, fmt.Errorf("--seed must be a whole number, not %q", seed)
	}
	if !armid.IsGUID(c.subscription) {
		return c, fmt.Errorf("--subscription must be a GUID, not %q", c.subscription)
	}
	if c.target == "" {
		if c.ca != "" || c.targetDB != "" {
			return c, errors.New("--ca and --target-db go with --target")
		}
		return c, nil
	}
	if c.target, err = loopbackURL(c.target); err != nil {
		return c, fmt.Errorf("--target: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return c, fmt.Errorf("--target: the bare server runs as this executable in a process of its own: %w", err)
	}
	c.bareCommand = []string{exe, benchBareCommand}
	return c, nil
}

func positiveInt(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("--%s must be a positive whole number, not %q", name, v)
	}
	return n, nil
}

// parseWorkloads reads a comma-separated list of workloads into their run
// order, the bare server first whether named or not.
func parseWorkloads(v string) ([]string, error) {
	want := map[string]bool{"bare": true}
	for _, w := range strings.Split(v, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if !slices.Contains(benchWorkloads, w) {
			return nil, fmt.Errorf("--workloads: unknown workload %q (known: %s)", w, strings.Join(benchWorkloads, ", "))
		}
		want[w] = true
	}
	var out []string
	for _, k := range benchWorkloads {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// loopbackURL checks that u is an https URL of this machine: a benchmark
// sends its load nowhere else.
func loopbackURL(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Host == "" {
		return "", fmt.Errorf("want an https:// URL such as https://127.0.0.1:8443, not %q", u)
	}
	if server.CheckLoopback(net.JoinHostPort(p.Hostname(), "443")) != nil {
		return "", fmt.Errorf("%s is not a loopback address: a benchmark only loads this machine (127.0.0.1, ::1 or localhost)", p.Hostname())
	}
	return strings.TrimRight(p.Scheme+"://"+p.Host+p.Path, "/"), nil
}

func bench(args []string, stdout, stderr io.Writer) error {
	c, err := parseBench(args, stderr)
	if err != nil {
		return helpOK(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runBench(ctx, c, stdout, stderr)
}

// benchRig is what a run measures: azemu (in this process or a target) and
// the bare server, with one client trusting both.
type benchRig struct {
	cfg     benchConfig
	azemu   string // base URL
	bare    string // base URL
	client  *http.Client
	dbFiles []string // the database's files, for its size
	inProc  *server.Server
	closers []func()
	dir     string // the bench's own files: certificates, databases
	// bareProc is the bare server's process, when it has one.
	bareProc *bareProcess
	// fleet is the IDs of the subscription's VMs, listed once before the
	// measured part: the GETs read them all, each drawn at random.
	fleet []string
	// drives counts the workloads driven so far: each drive draws its VMs
	// from streams of its own, so a warm-up does not read, and so cache,
	// the very VMs its measured part then reads.
	drives uint64
	// dials counts the connections opened: a measured part should open
	// none (its warm-up opens them).
	dials atomic.Int64
}

func (r *benchRig) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

func runBench(ctx context.Context, c benchConfig, stdout, stderr io.Writer) error {
	rig, rep, err := startRig(ctx, c, stderr)
	defer rig.close()
	if err != nil {
		return err
	}
	return runWorkloads(ctx, rig, rep, stdout, stderr)
}

// startRig starts what a run measures (azemu in this process unless
// c.target is set, and the bare server), creates the bench's VMs, and
// lists the fleet the GETs read. The rig is to be closed, even with an
// error.
func startRig(ctx context.Context, c benchConfig, stderr io.Writer) (*benchRig, benchReport, error) {
	rig := &benchRig{cfg: c}
	var rep benchReport
	dir, err := os.MkdirTemp("", "azemu-bench-")
	if err != nil {
		return rig, rep, err
	}
	rig.dir = dir
	rig.closers = append(rig.closers, func() { os.RemoveAll(dir) })

	files, err := certs.Ensure(filepath.Join(dir, "tls"), certs.DefaultHosts, time.Now())
	if err != nil {
		return rig, rep, err
	}
	pool := x509.NewCertPool()
	for _, ca := range []string{files.CACert, c.ca} {
		if ca == "" {
			continue
		}
		p, err := os.ReadFile(ca)
		if err != nil {
			return rig, rep, fmt.Errorf("--ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(p) {
			return rig, rep, fmt.Errorf("--ca: %s holds no PEM certificate", ca)
		}
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   false, // HTTP/1.1 keep-alive, one connection per client, as wrk
		MaxIdleConns:        4 * c.clients,
		MaxIdleConnsPerHost: 2 * c.clients,
		// One connection a client: with no bound, a request that finds
		// no idle connection (its client's is still being put back) dials
		// another, and a connection no request then uses is closed by the
		// server 10 s later (ReadHeaderTimeout) and dialed again in some
		// later workload, whose CPU then pays both sides of a TLS
		// handshake (about 1 ms).
		MaxConnsPerHost: c.clients,
		IdleConnTimeout: 10 * time.Minute,
	}
	var dialer net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		rig.dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}
	rig.closers = append(rig.closers, tr.CloseIdleConnections)
	rig.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}

	where := ""
	if c.target == "" {
		srv, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, ManualStart: clock.DefaultManualStart,
			Logger: slog.New(slog.DiscardHandler), PageSize: c.pageSize})
		if err != nil {
			return rig, rep, err
		}
		rig.inProc, rig.azemu = srv, srv.URL()
		rig.closers = append(rig.closers, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		})
		db := filepath.Join(dir, "azemu.db")
		rig.dbFiles = []string{db, db + "-wal"}
		where = "azemu in this process (SQLite, manual clock)"
	} else {
		rig.azemu = c.target
		if c.targetDB != "" {
			rig.dbFiles = []string{c.targetDB, c.targetDB + "-wal"}
		}
		where = "azemu at " + c.target
	}

	rep = benchReport{Created: c.vms, Clients: c.clients, Duration: c.duration, Rounds: c.rounds, Where: where,
		GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Load: loadAverage()}
	fmt.Fprintf(stderr, "seeding %d VMs at %s ...\n", c.vms, rig.azemu)
	seedStart := time.Now()
	if err := rig.seed(ctx); err != nil {
		return rig, rep, fmt.Errorf("seeding: %w", err)
	}
	rep.Seed = time.Since(seedStart)
	fmt.Fprintf(stderr, "listing the fleet of subscription %s ...\n", c.subscription)
	if rig.fleet, err = rig.listFleet(ctx); err != nil {
		return rig, rep, fmt.Errorf("listing the fleet: %w", err)
	}
	rep.VMs = len(rig.fleet)
	// The bare server holds one entry per VM of the fleet, as azemu does,
	// in a process of its own when the target has one.
	if c.bareCommand != nil {
		bare, proc, err := startBareProcess(c.bareCommand, files.Cert, files.Key, len(rig.fleet))
		if err != nil {
			return rig, rep, err
		}
		rig.bare, rig.bareProc = bare, proc
		rig.closers = append(rig.closers, proc.stop)
	} else {
		bare, closeBare, err := startBare(files.Cert, files.Key, len(rig.fleet))
		if err != nil {
			return rig, rep, err
		}
		rig.bare = bare
		rig.closers = append(rig.closers, closeBare)
	}
	if rig.inProc == nil {
		rep.Targeted, rep.TargetIdle = true, rig.targetIdleCPU(ctx)
	}
	return rig, rep, nil
}

func runWorkloads(ctx context.Context, rig *benchRig, rep benchReport, stdout, stderr io.Writer) error {
	c, dir := rig.cfg, rig.dir
	runs := map[string][]workloadResult{}
	for round := range c.rounds {
		for _, w := range c.workloads {
			if err := ctx.Err(); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "round %d/%d: %s ...\n", round+1, c.rounds, w)
			if w == commitsGrouped {
				// Group commit and its baseline, in turn, each first in
				// every other round.
				for i := range 2 {
					name, maxBatch := commitsGrouped, 0
					if (i+round)%2 == 0 {
						name, maxBatch = commitsSingle, 1
					}
					runs[name] = append(runs[name], runCommits(ctx, filepath.Join(dir, fmt.Sprintf("%s-%d.db", name, round)), name, c.clients, maxBatch, c.warmup, c.duration, workloadProfile(c.cpuProfile, name, round)))
				}
				continue
			}
			res := rig.run(ctx, w, workloadProfile(c.cpuProfile, w, round))
			runs[w] = append(runs[w], res)
		}
	}
	for _, w := range c.workloads {
		if w == commitsGrouped {
			rep.Results = append(rep.Results, medianResult(runs[commitsSingle]))
		}
		rep.Results = append(rep.Results, medianResult(runs[w]))
		for _, r := range runs[w] {
			rep.Dials += r.Dials
		}
	}
	if slices.Contains(c.workloads, "listall") {
		fmt.Fprintf(stderr, "listAll statusOnly, one client ...\n")
		rep.Listing = rig.timeListing(ctx)
	}
	rep.RSS, rep.RSSFrom = rig.rss(ctx)
	rep.DBBytes = fileSizes(rig.dbFiles)
	rep.Load = loadAverage()
	rep.write(stdout)
	if failed := rep.failures(); failed != "" {
		return errors.New(failed)
	}
	return nil
}

// workloadProfile is the file of one workload's profile in one round
// ("" with no path): each its own, so that two workloads compare (go tool
// pprof -diff_base) with no other workload's samples in either.
func workloadProfile(path, workload string, round int) string {
	if path == "" {
		return ""
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%s-r%d%s", strings.TrimSuffix(path, ext), workload, round+1, ext)
}

// startCPUProfile writes a CPU profile to path until the returned stop is
// called; with no path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// rss is the resident memory of azemu: this process's when azemu runs in
// it (clients and the bare server included), else the target's own
// figure from its /metrics.
func (r *benchRig) rss(ctx context.Context) (int64, string) {
	if r.inProc != nil {
		runtime.GC()
		return selfRSS(), "this process: azemu, the bare server and the clients"
	}
	if v, ok := r.targetMetric(ctx, "process_resident_memory_bytes"); ok {
		return int64(v), "the target's /metrics"
	}
	return 0, ""
}

// targetMetric reads the unlabelled sample name from the target's
// /metrics.
func (r *benchRig) targetMetric(ctx context.Context, name string) (float64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.azemu+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return metricValue(string(body), name)
}

// metricValue finds an unlabelled sample in Prometheus' text format.
func metricValue(text, name string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// selfRSS is this process's resident set size (Linux), 0 when unknown.
func selfRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// loadAverage is the one-minute load average (Linux), "" when unknown: the
// figures of a run are read next to how busy the machine was.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func fileSizes(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

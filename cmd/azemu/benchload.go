package main

// The load of azemu bench: the bare server, seeding the fleet through the
// ARM API, and the clients that drive each workload.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/azemu/azemu/internal/certs"
)

const (
	benchSub        = "00000000-0000-0000-0000-0000000000b1"
	benchGroup      = "bench"
	benchAPIVersion = "2025-04-01"
	// benchBareSize is the bare server's body: about an instance view's.
	benchBareSize = 750
	// benchSeedBatch creates are advanced together on a manual clock, so
	// that no one transaction fires the steps of more VMs than this.
	benchSeedBatch = 500
)

// startBare starts the ceiling: a Go HTTPS server on loopback answering a
// fixed body looked up by path in a map of one entry per VM, the least any
// server that looks a VM up can do.
func startBare(certFile, keyFile string, vms int) (string, func(), error) {
	cfg, err := certs.ServerConfig(certFile, keyFile)
	if err != nil {
		return "", nil, err
	}
	body := bareBody()
	bodies := make(map[string][]byte, vms)
	for i := range vms {
		bodies[barePath(i)] = body
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, ok := bodies[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(b)
		}),
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return "https://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func barePath(i int) string { return "/vm/" + benchVMName(i) }

// bareBody is a JSON body of benchBareSize bytes, shaped like an instance
// view.
func bareBody() []byte {
	body := []byte(`{"computerName":"vm000000","hyperVGeneration":"V2","statuses":[` +
		`{"code":"ProvisioningState/succeeded","level":"Info","displayStatus":"Provisioning succeeded","time":"2026-01-01T00:01:20Z"},` +
		`{"code":"PowerState/running","level":"Info","displayStatus":"VM running"}],"padding":"`)
	tail := []byte(`"}` + "\n")
	for len(body)+len(tail) < benchBareSize {
		body = append(body, 'x')
	}
	return append(body, tail...)
}

func benchVMName(i int) string { return fmt.Sprintf("vm%06d", i) }

func (r *benchRig) vmURL(i int) string {
	return r.azemu + "/subscriptions/" + r.cfg.subscription + "/resourceGroups/" + benchGroup +
		"/providers/Microsoft.Compute/virtualMachines/" + benchVMName(i)
}

// benchVMBody is a Linux VM from a marketplace image: what a fleet of
// load-test VMs would be made of.
func benchVMBody(sub, name string) []byte {
	nic := "/subscriptions/" + sub + "/resourceGroups/" + benchGroup + "/providers/Microsoft.Network/networkInterfaces/" + name + "-nic"
	return fmt.Appendf(nil, `{"location":"westus","properties":{`+
		`"hardwareProfile":{"vmSize":"Standard_D2s_v3"},`+
		`"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},`+
		`"osProfile":{"computerName":%q,"adminUsername":"azureuser","adminPassword":"Passw0rd!bench"},`+
		`"networkProfile":{"networkInterfaces":[{"id":%q}]}}}`, name, nic)
}

// send sends one request with the bench's token; the caller closes the
// answer's body.
func (r *benchRig) send(ctx context.Context, method, url string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.token)
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	return r.client.Do(req)
}

// do sends one request and reads the whole answer.
func (r *benchRig) do(ctx context.Context, method, url string, body []byte) (code int, data []byte, err error) {
	resp, err := r.send(ctx, method, url, body)
	if err != nil {
		return 0, nil, err
	}
	data, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, data, err
}

func (r *benchRig) must(ctx context.Context, method, url string, body []byte, want ...int) ([]byte, error) {
	code, data, err := r.do(ctx, method, url, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	for _, w := range want {
		if code == w {
			return data, nil
		}
	}
	return nil, fmt.Errorf("%s %s: HTTP %d: %.300s", method, url, code, data)
}

type benchHealth struct {
	Clock string `json:"clock"`
	Fleet struct {
		VirtualMachines      int            `json:"virtualMachines"`
		OperationsInProgress int            `json:"operationsInProgress"`
		ByPowerState         map[string]int `json:"byPowerState"`
	} `json:"fleet"`
}

func (r *benchRig) health(ctx context.Context) (benchHealth, error) {
	var h benchHealth
	data, err := r.must(ctx, http.MethodGet, r.azemu+"/_azemu/health", nil, http.StatusOK)
	if err != nil {
		return h, err
	}
	return h, json.Unmarshal(data, &h)
}

// seed creates the resource group and the VMs through the ARM API, a few
// at a time, and waits until every create has ended: on a manual clock by
// advancing it after each batch, on a real one by waiting.
func (r *benchRig) seed(ctx context.Context) error {
	h, err := r.health(ctx)
	if err != nil {
		return err
	}
	manual := h.Clock == "manual"
	if r.cfg.vms == 0 {
		return nil // a target's fleet alone
	}
	if _, err := r.must(ctx, http.MethodPut, r.azemu+"/subscriptions/"+r.cfg.subscription+"/resourcegroups/"+benchGroup+"?api-version=2021-04-01",
		[]byte(`{"location":"westus"}`), http.StatusOK, http.StatusCreated); err != nil {
		return err
	}
	advance := func(d string) error {
		_, err := r.must(ctx, http.MethodPost, r.azemu+"/_azemu/clock/advance", []byte(`{"duration":"`+d+`"}`), http.StatusOK)
		return err
	}
	workers := min(r.cfg.clients, 16)
	for from := 0; from < r.cfg.vms; from += benchSeedBatch {
		to := min(from+benchSeedBatch, r.cfg.vms)
		var next atomic.Int64
		next.Store(int64(from))
		errs := make(chan error, workers)
		for range workers {
			go func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= to {
						errs <- nil
						return
					}
					q := "?api-version=" + benchAPIVersion
					if _, err := r.must(ctx, http.MethodPut, r.vmURL(i)+q, benchVMBody(r.cfg.subscription, benchVMName(i)), http.StatusOK, http.StatusCreated); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		var first error
		for range workers {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		if first != nil {
			return first
		}
		// A create takes 80 s: two minutes end this batch's, so the steps
		// one advance fires are one batch's, however large the fleet (one
		// advance over a whole 100,000-VM fleet outlasts the client's
		// timeout).
		if manual {
			if err := advance("2m"); err != nil {
				return err
			}
		}
	}
	if manual {
		if err := advance("1h"); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		h, err := r.health(ctx)
		if err != nil {
			return err
		}
		if h.Fleet.OperationsInProgress == 0 && h.Fleet.VirtualMachines >= r.cfg.vms {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the creates did not end within 10 minutes: %+v", h.Fleet)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	_, err = r.must(ctx, http.MethodGet, r.vmURL(0)+"/instanceView?api-version="+benchAPIVersion, nil, http.StatusOK)
	return err
}

// workloadResult is one workload's measured figure.
type workloadResult struct {
	Name    string
	Ops     int64 // requests, pages or accepted state changes
	Elapsed time.Duration
	CPU     time.Duration // this process's CPU time over the workload, 0 when not measured
	Bytes   int64         // of one response body
	Refused int64         // churn: actions answered 409
	Refusal string        // the first of them
	Dials   int64         // connections opened meanwhile
	Err     string
	// commits: the store transactions committed, and the changes they held.
	Transactions, Changes int64
}

// cpuPerOp is the CPU time of one op, 0 when not measured.
func (w workloadResult) cpuPerOp() time.Duration {
	if w.CPU <= 0 || w.Ops == 0 {
		return 0
	}
	return w.CPU / time.Duration(w.Ops)
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (w workloadResult) rate() float64 {
	if w.Elapsed <= 0 {
		return 0
	}
	return float64(w.Ops) / w.Elapsed.Seconds()
}

// medianResult is the round whose rate is the median (the first failure,
// if any round failed).
func medianResult(rs []workloadResult) workloadResult {
	for _, r := range rs {
		if r.Err != "" {
			return r
		}
	}
	sorted := append([]workloadResult(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].rate() < sorted[j].rate() })
	return sorted[len(sorted)/2]
}

// clientOp is one request of a workload by client c; it returns the body's
// size and how many ops it counts (a refused churn action counts none).
type clientOp func(ctx context.Context, c int, state *clientState) (size int64, counted bool, err error)

// clientState is what one client of a workload carries from request to
// request.
type clientState struct {
	n    int        // requests sent
	next string     // listall: the next page of the listing under way
	rnd  *rand.Rand // GETs: draws the VM each one reads
}

// drive runs op from r.cfg.clients goroutines until d has passed, and
// counts what they did.
func (r *benchRig) drive(ctx context.Context, name string, d time.Duration, op clientOp) workloadResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ops, refusals, size atomic.Int64
	var firstErr atomic.Pointer[string]
	var firstRefusal atomic.Pointer[refusal]
	var wg sync.WaitGroup
	r.drives++
	drive := r.drives
	target0, targetCPU := 0.0, false
	if r.inProc == nil {
		target0, targetCPU = r.targetMetric(ctx, "process_cpu_seconds_total")
	}
	dials0 := r.dials.Load()
	cpu0 := processCPU()
	var bare0 time.Duration
	if r.bareProc != nil {
		bare0 = r.bareProc.cpu()
	}
	start := time.Now()
	deadline := start.Add(d)
	for c := range r.cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := clientState{rnd: r.clientRand(drive, c)}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n, counted, err := op(ctx, c, &state)
				if errors.Is(err, errCut) {
					return
				}
				var refused refusal
				if errors.As(err, &refused) {
					refusals.Add(1)
					firstRefusal.CompareAndSwap(nil, &refused)
					continue
				}
				if err != nil {
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					cancel()
					return
				}
				if counted {
					ops.Add(1)
					size.Store(n)
				}
			}
		}()
	}
	wg.Wait()
	res := workloadResult{Name: name, Ops: ops.Load(), Elapsed: time.Since(start), Bytes: size.Load(), Refused: refusals.Load(),
		Dials: r.dials.Load() - dials0}
	// The CPU of a request is the clients' and the server's: azemu in
	// this process shares it with the clients and the bare server; with a
	// target, every workload adds the bare server's process and the
	// target's (read from its /metrics), so that what either spends idle
	// weighs on both sides alike.
	res.CPU = processCPU() - cpu0
	if r.bareProc != nil {
		res.CPU += r.bareProc.cpu() - bare0
	}
	if r.inProc == nil {
		target1, ok := r.targetMetric(context.WithoutCancel(ctx), "process_cpu_seconds_total")
		if !ok || !targetCPU {
			res.CPU = 0
		} else {
			res.CPU += time.Duration((target1 - target0) * float64(time.Second))
		}
	}
	if msg := firstErr.Load(); msg != nil {
		res.Err = *msg
	}
	if r := firstRefusal.Load(); r != nil {
		res.Refusal = string(*r)
	}
	return res
}

// run warms a workload up, then measures it, profiling the measured part
// into the file profile names ("" for none).
func (r *benchRig) run(ctx context.Context, name, profile string) workloadResult {
	op := r.workload(name)
	if r.cfg.warmup > 0 {
		if w := r.drive(ctx, name, r.cfg.warmup, op); w.Err != "" {
			return w
		}
	}
	stop, err := startCPUProfile(profile)
	if err != nil {
		return workloadResult{Name: name, Err: err.Error()}
	}
	defer stop()
	return r.drive(ctx, name, r.cfg.duration, op)
}

func (r *benchRig) workload(name string) clientOp {
	switch name {
	case "listall":
		return r.listPage
	case "churn":
		return r.churn
	}
	urls := r.getURLs(name)
	return func(ctx context.Context, _ int, state *clientState) (int64, bool, error) {
		return r.get(ctx, pickURL(urls, state))
	}
}

// getURLs are the URLs a GET workload reads, one for each VM of the fleet.
func (r *benchRig) getURLs(name string) []string {
	q := "?api-version=" + benchAPIVersion
	var url func(i int) string
	switch name {
	case "bare":
		url = func(i int) string { return r.bare + barePath(i) }
	case "get":
		url = func(i int) string { return r.azemu + r.fleet[i] + q }
	case "expand":
		url = func(i int) string { return r.azemu + r.fleet[i] + q + "&$expand=instanceView" }
	case "instanceview":
		url = func(i int) string { return r.azemu + r.fleet[i] + "/instanceView" + q }
	default:
		panic("unknown workload " + name)
	}
	out := make([]string, len(r.fleet))
	for i := range out {
		out[i] = url(i)
	}
	return out
}

// pickURL draws the next GET's URL uniformly at random from the whole
// fleet's, the bare server's too: no client walks a part of the fleet
// that a cache could hold.
func pickURL(urls []string, state *clientState) string {
	state.n++
	return urls[state.rnd.IntN(len(urls))]
}

// clientRand is client c's source of draws in the given drive: a stream
// of the bench's seed of its own, so that a run repeats and no two
// clients, nor a warm-up and its measured part, read the same sequence.
func (r *benchRig) clientRand(drive uint64, c int) *rand.Rand {
	return rand.New(rand.NewPCG(r.cfg.seed, drive<<20|uint64(c)))
}

func (r *benchRig) get(ctx context.Context, u string) (int64, bool, error) {
	resp, err := r.send(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, quiet(ctx, err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, false, quiet(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return n, true, nil
}

// refusal is an action the server refused in the VM's state: counted
// apart, not a failure.
type refusal string

func (r refusal) Error() string { return string(r) }

// errCut is the error of a request that its workload's end cut short.
var errCut = errors.New("cut short")

func quiet(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errCut
	}
	return err
}

func (r *benchRig) listAllURL() string {
	return r.azemu + "/subscriptions/" + r.cfg.subscription + "/providers/Microsoft.Compute/virtualMachines?api-version=" + benchAPIVersion + "&statusOnly=true"
}

// listFleet lists the IDs of every VM of the subscription, once, before
// anything is measured: through listAll statusOnly=true, the smallest
// items.
func (r *benchRig) listFleet(ctx context.Context) ([]string, error) {
	var ids []string
	for u := r.listAllURL(); u != ""; {
		data, err := r.must(ctx, http.MethodGet, u, nil, http.StatusOK)
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("a page of listAll: %w", err)
		}
		for _, v := range page.Value {
			if !strings.HasPrefix(v.ID, "/subscriptions/") {
				return nil, fmt.Errorf("listAll gave a VM whose id is %q", v.ID)
			}
			ids = append(ids, v.ID)
		}
		if page.NextLink != "" && !strings.HasPrefix(page.NextLink, r.azemu+"/") {
			return nil, fmt.Errorf("a page's nextLink %q leads away from %s", page.NextLink, r.azemu)
		}
		u = page.NextLink
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("subscription %s has no VMs to read", r.cfg.subscription)
	}
	return ids, nil
}

// targetIdleCPU is the share of one CPU the target spends with no request
// from the bench, over two seconds (-1 when unknown): a target still busy
// after its start (the dashboard reading its history) weighs on every
// figure.
func (r *benchRig) targetIdleCPU(ctx context.Context) float64 {
	const over = 2 * time.Second
	before, ok := r.targetMetric(ctx, "process_cpu_seconds_total")
	if !ok {
		return -1
	}
	select {
	case <-ctx.Done():
		return -1
	case <-time.After(over):
	}
	after, ok := r.targetMetric(ctx, "process_cpu_seconds_total")
	if !ok {
		return -1
	}
	return (after - before) / over.Seconds()
}

// listPage fetches the next page of a client's listing, or the first when
// it has none under way.
func (r *benchRig) listPage(ctx context.Context, _ int, state *clientState) (int64, bool, error) {
	u := state.next
	if u == "" {
		u = r.listAllURL()
	}
	code, data, err := r.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, quiet(ctx, err)
	}
	if code != http.StatusOK {
		return 0, false, fmt.Errorf("GET %s: HTTP %d: %.300s", u, code, data)
	}
	next, err := r.nextLink(data)
	if err != nil {
		return 0, false, err
	}
	state.next = next
	return int64(len(data)), true, nil
}

// nextLink finds a page's nextLink ("" on the last page) without decoding
// the whole page, and checks that it leads back to the server measured.
func (r *benchRig) nextLink(page []byte) (string, error) {
	const key = `"nextLink":`
	i := bytes.LastIndex(page, []byte(key))
	if i < 0 {
		return "", nil
	}
	rest := bytes.TrimLeft(page[i+len(key):], " ")
	end := bytes.IndexByte(rest[min(1, len(rest)):], '"')
	if len(rest) == 0 || rest[0] != '"' || end < 0 {
		return "", fmt.Errorf("a page's nextLink is not a string: %.100s", rest)
	}
	var link string
	if err := json.Unmarshal(rest[:end+2], &link); err != nil {
		return "", fmt.Errorf("a page's nextLink: %w", err)
	}
	if !strings.HasPrefix(link, r.azemu+"/") {
		return "", fmt.Errorf("a page's nextLink %q leads away from %s", link, r.azemu)
	}
	return link, nil
}

// benchActions is the cycle each churn client runs on a VM of its own:
// every accepted action is one durable state change.
var benchActions = []string{"powerOff", "start", "deallocate", "start"}

func (r *benchRig) churn(ctx context.Context, c int, state *clientState) (int64, bool, error) {
	action := benchActions[state.n%len(benchActions)]
	state.n++
	u := r.vmURL(c%r.cfg.vms) + "/" + action + "?api-version=" + benchAPIVersion
	code, data, err := r.do(ctx, http.MethodPost, u, nil)
	if err != nil {
		return 0, false, quiet(ctx, err)
	}
	switch code {
	case http.StatusAccepted, http.StatusOK:
		return int64(len(data)), true, nil
	case http.StatusConflict:
		// Refused in the VM's state: counted apart.
		return 0, false, refusal(fmt.Sprintf("%s: %.300s", action, bytes.TrimSpace(data)))
	}
	return 0, false, fmt.Errorf("POST %s: HTTP %d: %.300s", u, code, data)
}

// listing is one client's walk through every page of listAll statusOnly.
type listing struct {
	Pages int
	VMs   int
	Bytes int64
	Time  time.Duration // fetching the pages: each from its request to its last byte
	// Decode is the client's own decoding of the pages, apart from Time:
	// it measures the client's JSON decoder, not the server.
	Decode time.Duration
	// ServerCPU is the CPU time the target spent meanwhile, from its
	// /metrics (0 when azemu runs in this process, or unknown).
	ServerCPU time.Duration
	Err       string
}

// timeListing walks all pages of listAll statusOnly with one client three
// times and keeps the median walk: what a poller of the fleet waits.
func (r *benchRig) timeListing(ctx context.Context) listing {
	var walks []listing
	for range 3 {
		l := r.walkListing(ctx)
		if l.Err != "" {
			return l
		}
		walks = append(walks, l)
	}
	sort.Slice(walks, func(i, j int) bool { return walks[i].Time < walks[j].Time })
	return walks[1]
}

func (r *benchRig) walkListing(ctx context.Context) listing {
	var l listing
	// The target's CPU time, read twice before the walk: what one reading
	// of /metrics itself costs (it counts the fleet) is taken off the
	// reading after it.
	cpu, scrape, cpuKnown := 0.0, 0.0, false
	if r.inProc == nil {
		first, ok1 := r.targetMetric(ctx, "process_cpu_seconds_total")
		cpu, cpuKnown = r.targetMetric(ctx, "process_cpu_seconds_total")
		cpuKnown = cpuKnown && ok1
		scrape = cpu - first
	}
	u := r.listAllURL()
	for u != "" {
		start := time.Now()
		code, data, err := r.do(ctx, http.MethodGet, u, nil)
		l.Time += time.Since(start)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("GET %s: HTTP %d: %.300s", u, code, data)
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"nextLink"`
		}
		if err == nil {
			start = time.Now()
			err = json.Unmarshal(data, &page)
			l.Decode += time.Since(start)
		}
		if err == nil && page.NextLink != "" && !strings.HasPrefix(page.NextLink, r.azemu+"/") {
			err = fmt.Errorf("a page's nextLink %q leads away from %s", page.NextLink, r.azemu)
		}
		if err != nil {
			l.Err = err.Error()
			return l
		}
		l.Pages++
		l.VMs += len(page.Value)
		l.Bytes += int64(len(data))
		u = page.NextLink
	}
	if after, ok := r.targetMetric(ctx, "process_cpu_seconds_total"); cpuKnown && ok {
		l.ServerCPU = time.Duration(max(after-cpu-scrape, 0) * float64(time.Second))
	}
	if l.VMs < r.cfg.vms {
		l.Err = fmt.Sprintf("listAll statusOnly listed %d VMs of %d", l.VMs, r.cfg.vms)
	}
	return l
}

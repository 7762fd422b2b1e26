package main

// azemu seed: a fleet for a load test, created through the ARM API's own
// handler in this process (the same validation, engine commands, history
// and operations as a PUT over HTTPS, without the connection), many
// requests at a time, on a manual clock advanced after each batch so that
// every plan finishes.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/catalog"
	"github.com/azemu/azemu/internal/identity"
	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store/postgres"
)

// seedConfig is what a seed runs with.
type seedConfig struct {
	vms          int
	dataDir      string
	store        string
	subscription string
	concurrency  int
	batch        int
	groupSize    int
	seed         uint64
	clockStart   time.Time // zero: early enough that the history ends before now
	cpuProfile   string
}

// The clock moves this much after a batch's creates (a create from a
// generalized image takes 80 s in Azure) and after its power actions (a
// deallocate takes 20 s), so that every plan of the batch has finished.
const (
	seedCreateWait        = 2 * time.Minute
	seedActionWait        = time.Minute
	seedAPIVersion        = "2025-04-01"
	seedNetworkAPIVersion = "2024-05-01"
)

// Each group's VMs share one virtual network with one subnet, as az vm
// create makes them; a subnet of 10.0.0.0/16 has 65,531 addresses a VM's
// interface can take (Azure keeps the first four and the last).
const (
	seedVNet         = "seed-vnet"
	seedSubnet       = "default"
	seedAddressSpace = "10.0.0.0/16"
	seedMaxGroupSize = 65531
)

// seedWriteTimeout bounds how long a seed's request waits for its change
// to be written (serve's default is 10 s). It waits behind up to eight
// queued batches of the bulk store, which on a busy machine took longer
// than 10 s, and the 503 ended the seed, which has no client to answer
// sooner.
const seedWriteTimeout = 10 * time.Minute

func parseSeed(args []string, stderr io.Writer) (seedConfig, error) {
	home, _ := os.UserHomeDir()
	c := seedConfig{}
	fs, str := newFlags("seed", stderr)
	vms, concurrency, batch, groupSize, seed, clockStart := "", "", "", "", "", ""
	str(&vms, "vms", "1000", "how many VMs to create")
	str(&c.dataDir, "data-dir", filepath.Join(home, ".azemu"), "the data dir to seed, as serve's")
	str(&c.store, "store", "", "SQLite file (default <data-dir>/azemu.db), or postgres://user:password@host:port/db")
	str(&c.subscription, "subscription", identity.DefaultSubscription, "the subscription the VMs are created in")
	str(&concurrency, "concurrency", "64", "requests handled at once")
	str(&batch, "batch", "5000", "VMs created between two advances of the clock")
	str(&groupSize, "group-size", "1000", "VMs per resource group, at most 65531; each group is in one region, with one network whose subnet gives each VM's interface its address")
	str(&seed, "seed", "", "seed of the fleet's mix and of every ID, so that a seed repeats (default: random, printed)")
	str(&clockStart, "clock-start", "", "the instant the first VM is created at, RFC 3339 (default: early enough that the seeded history ends before now)")
	str(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the seed to this file")
	err := parseFlagsOnly(fs, args, stderr, "Usage: azemu seed [flags]\n\n"+
		"Creates --vms VMs, each with an OS disk and a network interface, in the data dir (or\n"+
		"--store) with a mix of sizes, regions, OS and power states, through the ARM API's handler\n"+
		"in this process, on a manual clock. Stop any server of the data dir first; serve it\n"+
		"afterwards. A SQLite file is written unsynced until the seed\n"+
		"ends: a killed seed leaves a consistent data dir, but after a power loss or an OS crash\n"+
		"during a seed, seed it afresh. The seed ends by packing a SQLite file's rows into full\n"+
		"pages (VACUUM), which needs free disk space of about twice the packed file's size for a\n"+
		"while, and then syncing it.\n\n")
	if err != nil {
		return c, err
	}
	for _, n := range []struct {
		to          *int
		name, value string
	}{{&c.vms, "vms", vms}, {&c.concurrency, "concurrency", concurrency}, {&c.batch, "batch", batch}, {&c.groupSize, "group-size", groupSize}} {
		if *n.to, err = positiveInt(n.name, n.value); err != nil {
			return c, err
		}
	}
	if c.groupSize > seedMaxGroupSize {
		return c, fmt.Errorf("--group-size must be at most %d, the addresses of a group's subnet (%s), not %d", seedMaxGroupSize, seedAddressSpace, c.groupSize)
	}
	if !armid.IsGUID(c.subscription) {
		return c, fmt.Errorf("--subscription must be a GUID, not %q", c.subscription)
	}
	if c.seed, err = parseSeedFlag(seed); err != nil {
		return c, err
	}
	if clockStart != "" {
		if c.clockStart, err = time.Parse(time.RFC3339, clockStart); err != nil {
			return c, fmt.Errorf("--clock-start must be an RFC 3339 instant such as 2026-01-01T00:00:00Z, not %q", clockStart)
		}
	}
	c.store = storeOrDefault(c.store, c.dataDir)
	return c, nil
}

func seedCmd(args []string, stdout, stderr io.Writer) error {
	c, err := parseSeed(args, stderr)
	if err != nil {
		return helpOK(err)
	}
	if c.seed == 0 {
		c.seed = rand.Uint64()>>1 + 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile, err := startCPUProfile(c.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	sum, err := runSeed(ctx, c, stderr)
	if err != nil {
		return err
	}
	sum.write(stdout)
	return nil
}

// seedVM is one VM of the fleet: where it is, what it is, and the power
// state it is left in.
type seedVM struct {
	group, name, region, size string
	windows                   bool
	power                     string // running, stopped or deallocated
}

// seedSizes are the sizes a seeded VM gets, the common ones more often:
// each is priced for Linux in every region of the embedded price sheet.
var seedSizes = []struct {
	name   string
	weight int
}{
	{"Standard_B2s", 15}, {"Standard_D2s_v3", 20}, {"Standard_D4s_v3", 10}, {"Standard_D2s_v5", 15},
	{"Standard_D4s_v5", 10}, {"Standard_E2s_v5", 8}, {"Standard_E4s_v3", 7}, {"Standard_F2s_v2", 10}, {"Standard_F4s_v2", 5},
}

// seedVMAt is the i-th VM of a seed: drawn from its own stream of the
// seed, so that it is the same whatever the batching and concurrency. A
// group holds groupSize VMs in a row, all in its region.
func seedVMAt(seed uint64, i, groupSize int) seedVM {
	g := i / groupSize
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	v := seedVM{group: fmt.Sprintf("seed-rg-%05d", g), name: fmt.Sprintf("seed-vm-%07d", i),
		region: catalog.Locations[g%len(catalog.Locations)].Name}
	total := 0
	for _, s := range seedSizes {
		total += s.weight
	}
	pick := r.IntN(total)
	for _, s := range seedSizes {
		if pick < s.weight {
			v.size = s.name
			break
		}
		pick -= s.weight
	}
	v.windows = r.IntN(100) < 20
	switch p := r.IntN(100); {
	case p < 70:
		v.power = "running"
	case p < 80:
		v.power = "stopped"
	default:
		v.power = "deallocated"
	}
	return v
}

// body is the VM's PUT body, as a client would send it.
func (v seedVM) body(sub string) []byte {
	image := `{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}`
	if v.windows {
		image = `{"publisher":"MicrosoftWindowsServer","offer":"WindowsServer","sku":"2022-datacenter-g2","version":"latest"}`
	}
	// A Windows computer name is at most 15 characters.
	computer := "vm" + strings.TrimPrefix(v.name, "seed-vm-")
	return fmt.Appendf(nil, `{"location":%q,"tags":{"seeded":"true"},"properties":{`+
		`"hardwareProfile":{"vmSize":%q},`+
		`"storageProfile":{"imageReference":%s,"osDisk":{"createOption":"FromImage","managedDisk":{"storageAccountType":"Premium_LRS"}}},`+
		`"osProfile":{"computerName":%q,"adminUsername":"azureuser","adminPassword":"Seed-Passw0rd!"},`+
		`"networkProfile":{"networkInterfaces":[{"id":%q}]}}}`, v.region, v.size, image, computer, v.nicPath(sub))
}

func (v seedVM) path(sub string) string {
	return armid.VirtualMachineID(sub, v.group, v.name)
}

// nicPath is the ID of the VM's network interface, made before the VM.
func (v seedVM) nicPath(sub string) string {
	return armid.ResourceGroupID(sub, v.group) + "/providers/Microsoft.Network/networkInterfaces/" + v.name + "-nic"
}

// nicBody is the interface's PUT body: one IP configuration on its group's
// subnet, its address assigned by the network.
func (v seedVM) nicBody(sub string) []byte {
	return fmt.Appendf(nil, `{"location":%q,"tags":{"seeded":"true"},"properties":{"ipConfigurations":[`+
		`{"name":"ipconfig1","properties":{"privateIPAllocationMethod":"Dynamic","subnet":{"id":%q}}}]}}`,
		v.region, seedVNetPath(sub, v.group)+"/subnets/"+seedSubnet)
}

func seedVNetPath(sub, group string) string {
	return armid.ResourceGroupID(sub, group) + "/providers/Microsoft.Network/virtualNetworks/" + seedVNet
}

// seedRequest is one request of a seed.
type seedRequest struct {
	method, path string
	body         []byte
}

// seedSender sends a seed's requests: to the handler in this process, or
// (in tests) to a server over HTTPS. It answers the status and, for a
// failure, the body.
type seedSender func(ctx context.Context, r seedRequest) (int, []byte, error)

// seedSummary is what a seed did.
type seedSummary struct {
	VMs, Groups int
	ByPower     map[string]int
	ByRegion    map[string]int
	Windows     int
	Seed        uint64
	From, To    time.Time // the clock when the first VM was created, and at the end
	Took        time.Duration
	Closed      time.Duration // of it, closing the store: a SQLite file's VACUUM and checkpoint
	Where       string
	DBBytes     int64
	ClockAhead  bool // the clock ended past the real time
}

func (s seedSummary) write(w io.Writer) {
	rate := float64(s.VMs) / s.Took.Seconds()
	fmt.Fprintf(w, "seeded %d VMs in %d resource groups in %s (%.0f VMs/s), seed %d\n", s.VMs, s.Groups, s.Took.Round(time.Millisecond), rate, s.Seed)
	fmt.Fprintf(w, "  power states: running %d, stopped %d, deallocated %d; Windows %d, Linux %d; %d regions\n",
		s.ByPower["running"], s.ByPower["stopped"], s.ByPower["deallocated"], s.Windows, s.VMs-s.Windows, len(s.ByRegion))
	fmt.Fprintf(w, "  history from %s to %s\n", s.From.UTC().Format(time.RFC3339), s.To.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  store: %s", s.Where)
	if s.DBBytes > 0 {
		fmt.Fprintf(w, " (%.1f MB)", float64(s.DBBytes)/1e6)
	}
	if s.Closed > 0 {
		fmt.Fprintf(w, ", closed in %s", s.Closed.Round(time.Millisecond))
	}
	fmt.Fprintln(w)
	if s.ClockAhead {
		fmt.Fprintln(w, "  the history reaches past the real time: serve this data with --clock manual")
	}
}

// seedStart is the default first instant: early enough that every advance
// of the seed ends before the real time now, so that serve on the real
// clock takes the seeded data.
func seedStart(now time.Time, c seedConfig) time.Time {
	batches := (c.vms + c.batch - 1) / c.batch
	return now.Add(-time.Duration(batches)*(seedCreateWait+seedActionWait) - time.Minute).Truncate(time.Second).UTC()
}

func runSeed(ctx context.Context, c seedConfig, progress io.Writer) (seedSummary, error) {
	began := time.Now()
	start := c.clockStart
	if start.IsZero() {
		start = seedStart(began, c)
	}
	// Only errors are told: those the seed's own error does not say (a
	// failure to save the running accounts, which loses nothing).
	log := slog.New(slog.DiscardHandler)
	if progress != nil {
		log = slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	srv, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: c.dataDir, Store: c.store, ManualStart: start,
		Seed: c.seed, Logger: log, DefaultSubscription: c.subscription, Bulk: true,
		WriteTimeout: seedWriteTimeout})
	if err != nil {
		return seedSummary{}, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	from := srv.Engine().Now()
	first := srv.Engine().Stats().VMs // a second seed numbers on after the first
	sum, err := seedFleet(ctx, c, first, handlerSender(srv.Handler()), srv.Flush, progress)
	if err != nil {
		return sum, err
	}
	sum.From, sum.To = from, srv.Engine().Now()
	// Closing the store is part of the seed: a SQLite file is packed
	// (VACUUM) and synced then, and its size is the one after.
	closing := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		return sum, err
	}
	sum.Closed, sum.Took = time.Since(closing), time.Since(began)
	sum.ClockAhead = sum.To.After(time.Now())
	sum.Where = c.store
	if postgres.IsURL(c.store) {
		sum.Where = postgres.Redacted(c.store)
	} else {
		sum.DBBytes = fileSizes([]string{c.store, c.store + "-wal"})
	}
	return sum, nil
}

// seedFleet creates VMs first to first+c.vms-1: for each batch, the groups
// it needs, then its VMs, then it advances the clock until they run, sends
// the power actions that leave some stopped or deallocated, and advances
// the clock until those end. It reports a batch once flush (when not nil)
// has written it to the store.
func seedFleet(ctx context.Context, c seedConfig, first int, send seedSender, flush func(context.Context) error, progress io.Writer) (seedSummary, error) {
	sum := seedSummary{ByPower: map[string]int{}, ByRegion: map[string]int{}, Seed: c.seed}
	groups := map[string]bool{}
	advance := func(d time.Duration) error {
		return seedRun(ctx, send, 1, []seedRequest{{http.MethodPost, "/_azemu/clock/advance", fmt.Appendf(nil, `{"duration":%q}`, d.String())}})
	}
	began := time.Now()
	last := first + c.vms
	for from := first; from < last; from += c.batch {
		batchBegan := time.Now()
		to := min(from+c.batch, last)
		var newGroups, networks, nics, creates, actions []seedRequest
		for i := from; i < to; i++ {
			v := seedVMAt(c.seed, i, c.groupSize)
			if !groups[v.group] {
				groups[v.group] = true
				newGroups = append(newGroups, seedRequest{http.MethodPut, armid.ResourceGroupID(c.subscription, v.group) + "?api-version=2021-04-01",
					fmt.Appendf(nil, `{"location":%q,"tags":{"seeded":"true"}}`, v.region)})
				networks = append(networks, seedRequest{http.MethodPut, seedVNetPath(c.subscription, v.group) + "?api-version=" + seedNetworkAPIVersion,
					fmt.Appendf(nil, `{"location":%q,"tags":{"seeded":"true"},"properties":{"addressSpace":{"addressPrefixes":[%q]},`+
						`"subnets":[{"name":%q,"properties":{"addressPrefix":%q}}]}}`, v.region, seedAddressSpace, seedSubnet, seedAddressSpace)})
			}
			nics = append(nics, seedRequest{http.MethodPut, v.nicPath(c.subscription) + "?api-version=" + seedNetworkAPIVersion, v.nicBody(c.subscription)})
			creates = append(creates, seedRequest{http.MethodPut, v.path(c.subscription) + "?api-version=" + seedAPIVersion, v.body(c.subscription)})
			switch v.power {
			case "stopped":
				actions = append(actions, seedRequest{http.MethodPost, v.path(c.subscription) + "/powerOff?api-version=" + seedAPIVersion, nil})
			case "deallocated":
				actions = append(actions, seedRequest{http.MethodPost, v.path(c.subscription) + "/deallocate?api-version=" + seedAPIVersion, nil})
			}
			sum.ByPower[v.power]++
			sum.ByRegion[v.region]++
			if v.windows {
				sum.Windows++
			}
		}
		for _, step := range []func() error{
			func() error { return seedRun(ctx, send, c.concurrency, newGroups) },
			func() error { return seedRun(ctx, send, c.concurrency, networks) },
			func() error { return seedRun(ctx, send, c.concurrency, nics) },
			func() error { return seedRun(ctx, send, c.concurrency, creates) },
			func() error { return advance(seedCreateWait) },
			func() error { return seedRun(ctx, send, c.concurrency, actions) },
			func() error { return advance(seedActionWait) },
			func() error {
				if flush == nil {
					return nil
				}
				return flush(ctx)
			},
		} {
			if err := step(); err != nil {
				return sum, err
			}
		}
		sum.VMs = to - first
		if progress != nil {
			// The batch's own rate too: it must not fall as the fleet grows.
			fmt.Fprintf(progress, "seeded %d/%d VMs (%.0f/s; this batch %.0f/s; RSS %.0f MiB)\n", sum.VMs, c.vms,
				float64(sum.VMs)/time.Since(began).Seconds(), float64(to-from)/time.Since(batchBegan).Seconds(), float64(selfRSS())/(1<<20))
		}
	}
	sum.Groups = len(groups)
	return sum, nil
}

// seedRun sends reqs with up to n of them in flight, and stops at the
// first that fails.
func seedRun(ctx context.Context, send seedSender, n int, reqs []seedRequest) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan seedRequest)
	var wg sync.WaitGroup
	for range min(n, len(reqs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				code, body, err := send(ctx, r)
				if err == nil && code >= 300 {
					err = fmt.Errorf("%s %s: %d %s", r.method, r.path, code, bytes.TrimSpace(body))
				}
				if err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
feed:
	for _, r := range reqs {
		select {
		case work <- r:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// handlerSender sends requests to an ARM handler in this process, as a
// client on loopback with a bearer token would.
func handlerSender(h http.Handler) seedSender {
	return func(ctx context.Context, r seedRequest) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, r.method, "https://127.0.0.1"+r.path, bytes.NewReader(r.body))
		if err != nil {
			return 0, nil, err
		}
		req.RemoteAddr = "127.0.0.1:1"
		req.Header.Set("Authorization", "Bearer seed")
		if r.body != nil {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, w.Body.Bytes(), nil
	}
}

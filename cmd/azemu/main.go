package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/identity"
	"github.com/azemu/azemu/internal/server"
	"github.com/azemu/azemu/internal/store/postgres"
)

const usage = `azemu: a local emulator of the Azure Compute control plane.

Usage:
  azemu serve [flags]   run the emulator (HTTPS ARM API on 127.0.0.1:8443)
  azemu bill [flags]    the bill of a running server: per VM, --format csv (FOCUS), --idle
  azemu bench [flags]   read and write throughput over HTTPS, as ratios to a bare HTTPS server
  azemu seed [flags]    create a fleet of --vms VMs in the data dir, for a load test
  azemu vacuum [flags]  give back the free pages of a stopped data dir's database
  azemu version         print the version (also --version)

The controls of a running server (--endpoint, default https://127.0.0.1:8443, trusted through
<--data-dir>/tls/ca.pem; --output table or json):
  azemu clock                     the clock: now, mode, speed
  azemu clock advance 90s         move a manual clock, firing every step due on the way
  azemu faults list|add|clear     injected faults (azemu faults -h)
  azemu reset                     empty all state
  azemu vm list                   every VM: provisioning and power state, billed or not
  azemu vm history NAME           a VM's state changes

Run 'azemu COMMAND -h' for its flags; each has an AZEMU_* environment twin.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "azemu:", err)
		os.Exit(1)
	}
}

// commands are the subcommands that take flags, by name; each is given
// the arguments after its name.
var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"serve":  serve,
	"bill":   bill,
	"bench":  bench,
	"seed":   seedCmd,
	"vacuum": vacuumCmd,
	"clock":  clockCmd,
	"faults": faultsCmd,
	"reset":  resetCmd,
	"vm":     vmCmd,
	// Run by azemu bench only; not in the usage.
	benchBareCommand: func(args []string, stdout, stderr io.Writer) error { return benchBare(args, os.Stdin, stdout, stderr) },
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	if cmd, ok := commands[args[0]]; ok {
		return cmd(args[1:], stdout, stderr)
	}
	switch args[0] {
	case "version", "--version", "-version":
		info, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(info))
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// serveConfig is what serve is run with.
type serveConfig struct {
	listen       string
	dataDir      string
	clockMode    string
	clockStart   string
	speed        float64
	store        string
	tlsCert      string
	tlsKey       string
	logLevel     string
	pageSize     int
	prices       string
	faults       string
	capacity     string
	rateLimits   armapi.RateLimits
	subscription string
	auth         string
	principals   string
	seed         uint64
	writeTimeout time.Duration
	retention    time.Duration
	pprof        string
	// memoryLimit is the Go runtime's soft memory limit in bytes; 0
	// leaves the runtime's own (GOMEMLIMIT, else none).
	memoryLimit int64
}

// defaultSpeed makes a create from a generalized image (80 s in Azure) take
// 4 s: fast enough for a demo, slow enough to see every state.
const defaultSpeed = 20

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	home, _ := os.UserHomeDir()
	var c serveConfig
	fs, str := newFlags("serve", stderr)
	str(&c.listen, "listen", "127.0.0.1:8443", "address to serve HTTPS on")
	str(&c.dataDir, "data-dir", filepath.Join(home, ".azemu"), "where the database and TLS files live")
	str(&c.clockMode, "clock", "real", "real, or manual: time moves only through POST /_azemu/clock/advance")
	str(&c.clockStart, "clock-start", clock.DefaultManualStart.Format(time.RFC3339), "the instant a manual clock starts at")
	str(&c.store, "store", "", "SQLite file (default <data-dir>/azemu.db), or postgres://user:password@host:port/db for PostgreSQL")
	str(&c.tlsCert, "tls-cert", "", "server certificate PEM (default: generated under <data-dir>/tls)")
	str(&c.tlsKey, "tls-key", "", "server key PEM, with --tls-cert")
	str(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	str(&c.prices, "prices", "", "price sheet in the Azure Retail Prices API format (default: the embedded sheet)")
	speed := ""
	str(&speed, "speed", "", fmt.Sprintf("how many times faster than Azure's realistic durations (default %d; 1 with --clock manual)", defaultSpeed))
	pageSize := ""
	str(&pageSize, "page-size", "100", "items per page of a list")
	str(&c.faults, "faults", "", "JSON array of faults to register at start, replacing those kept from the last run (docs/faults.md)")
	str(&c.capacity, "capacity", "", `JSON file of core capacity per region and size family, e.g. {"westus":{"DSv3":4}} (default: unlimited)`)
	str(&c.subscription, "subscription", identity.DefaultSubscription, "the subscription GET /subscriptions always lists in the open mode")
	str(&c.auth, "auth", "open", "open (any token; any client gets one) or strict (only azemu's tokens, within the --principals' roles)")
	str(&c.principals, "principals", "", "JSON file of the strict mode's principals and their role assignments")
	seed := ""
	str(&seed, "seed", "", "seed of every ID and random draw, so that a run repeats (default: random)")
	rateLimits := ""
	str(&rateLimits, "rate-limits", "", "per-subscription requests per hour, e.g. reads=12000,writes=1200,deletes=15000, or azure (default: off)")
	retention := ""
	str(&retention, "retention", "0", "how much history to keep whole, e.g. 2160h (90 days); older history is compacted into checkpoints, and bills can start at its horizon at the earliest (default 0: keep it all)")
	writeTimeout := ""
	str(&c.pprof, "pprof", "", "serve net/http/pprof's profiles over plain HTTP on this loopback address, e.g. 127.0.0.1:6060 (default: off)")
	str(&writeTimeout, "write-timeout", "10s", "how long a change may wait for a hung disk before it is answered 503 StoreWriteTimeout")
	memoryLimit := ""
	str(&memoryLimit, "memory-limit", "", "soft limit of the memory the Go runtime keeps, e.g. 2GiB: past it the heap is collected more often rather than grown (default: GOMEMLIMIT's, else none)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch c.clockMode {
	case "real", "manual":
	default:
		return c, fmt.Errorf("--clock must be real or manual, not %q", c.clockMode)
	}
	c.speed = defaultSpeed
	if c.clockMode == "manual" {
		c.speed = 1
	}
	if speed != "" {
		f, err := strconv.ParseFloat(speed, 64)
		// NaN passes "f <= 0", and neither NaN nor an infinity can be
		// written in a plan's stored JSON.
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			return c, fmt.Errorf("--speed must be a positive number, not %q", speed)
		}
		c.speed = f
	}
	var err error
	if c.seed, err = parseSeedFlag(seed); err != nil {
		return c, err
	}
	if d, err := time.ParseDuration(writeTimeout); err != nil || d <= 0 {
		return c, fmt.Errorf("--write-timeout must be a positive duration such as 10s, not %q", writeTimeout)
	} else {
		c.writeTimeout = d
	}
	if d, err := time.ParseDuration(retention); err != nil || d < 0 || (d > 0 && d < engine.OperationRetention) {
		return c, fmt.Errorf("--retention must be 0 (keep all history) or a duration of at least 24h such as 2160h, not %q", retention)
	} else {
		c.retention = d
	}
	if c.memoryLimit, err = parseMemoryLimit(memoryLimit); err != nil {
		return c, err
	}
	n, err := strconv.Atoi(pageSize)
	if err != nil || n < 1 {
		return c, fmt.Errorf("--page-size must be a positive whole number, not %q", pageSize)
	}
	c.pageSize = n
	if c.rateLimits, err = armapi.ParseRateLimits(rateLimits); err != nil {
		return c, fmt.Errorf("--rate-limits: %w", err)
	}
	switch {
	case c.auth != "open" && c.auth != "strict":
		return c, fmt.Errorf("--auth must be open or strict, not %q", c.auth)
	case c.auth == "strict" && c.principals == "":
		return c, errors.New("--auth strict needs --principals FILE")
	case c.auth == "open" && c.principals != "":
		return c, errors.New("--principals is for --auth strict")
	}
	if !armid.IsGUID(c.subscription) {
		return c, fmt.Errorf("--subscription must be a GUID, not %q", c.subscription)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	if c.pprof != "" {
		if err := server.CheckLoopback(c.pprof); err != nil {
			return c, fmt.Errorf("--pprof: %w", err)
		}
	}
	c.store = storeOrDefault(c.store, c.dataDir)
	return c, nil
}

// parseSeedFlag reads --seed, which serve and seed share: 0 when it is not
// given, else a positive whole number.
func parseSeedFlag(v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("--seed must be a positive whole number, not %q", v)
	}
	return n, nil
}

// storeOrDefault is the store of a data dir that serve and seed open: the
// --store given, else the SQLite file in the data dir.
func storeOrDefault(store, dataDir string) string {
	if store == "" {
		return filepath.Join(dataDir, "azemu.db")
	}
	return store
}

func serve(args []string, _, stderr io.Writer) error {
	c, err := parseServe(args, stderr)
	if err != nil {
		return helpOK(err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	scfg := server.Config{
		Listen: c.listen, DataDir: c.dataDir, Store: c.store, Speed: c.speed, Seed: c.seed,
		TLSCert: c.tlsCert, TLSKey: c.tlsKey, Logger: log, PageSize: c.pageSize, RateLimits: c.rateLimits,
		DefaultSubscription: c.subscription, WriteTimeout: c.writeTimeout, Retention: c.retention, Pprof: c.pprof,
	}
	if c.prices != "" {
		if scfg.Prices, err = loadPrices(c.prices); err != nil {
			return err
		}
		log.Info("price sheet loaded", "file", c.prices, "items", scfg.Prices.Items(), "priced meters", scfg.Prices.Len())
	}
	if c.principals != "" {
		data, err := os.ReadFile(c.principals)
		if err != nil {
			return fmt.Errorf("--principals: %w", err)
		}
		if scfg.Principals, err = authz.ParseDirectory(data, identity.DefaultTenant); err != nil {
			return fmt.Errorf("--principals %s: %w", c.principals, err)
		}
	}
	if c.capacity != "" {
		if scfg.Capacity, err = loadCapacity(c.capacity); err != nil {
			return err
		}
	}
	if c.faults != "" {
		if scfg.Faults, err = loadFaults(c.faults); err != nil {
			return err
		}
		if scfg.Faults == nil {
			scfg.Faults = []engine.Fault{} // an empty file clears the kept faults
		}
	}
	if c.clockMode == "manual" {
		if scfg.ManualStart, err = time.Parse(time.RFC3339, c.clockStart); err != nil {
			return fmt.Errorf("--clock-start: %w", err)
		}
	}
	if c.memoryLimit > 0 {
		debug.SetMemoryLimit(c.memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Start(ctx, scfg)
	if err != nil {
		if c.faults != "" && !errors.Is(err, server.ErrDataDirInUse) && !errors.Is(err, postgres.ErrOwned) {
			err = fmt.Errorf("--faults %s: %w", c.faults, err)
		}
		return err
	}
	where := c.store
	if postgres.IsURL(where) {
		where = postgres.Redacted(where)
	}
	log.Info("azemu serving", "url", srv.URL(), "clock", c.clockMode, "speed", c.speed, "store", where)

	select {
	case err := <-srv.Serving():
		srv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	log.Info("stopped")
	return err
}

// parseMemoryLimit reads --memory-limit as GOMEMLIMIT is written: a whole
// number of bytes with an optional unit B, KiB, MiB, GiB or TiB; empty is
// 0, the runtime's own limit.
func parseMemoryLimit(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	digits := strings.TrimRight(s, "BKMGTi")
	unit := int64(1)
	switch s[len(digits):] {
	case "", "B":
	case "KiB":
		unit = 1 << 10
	case "MiB":
		unit = 1 << 20
	case "GiB":
		unit = 1 << 30
	case "TiB":
		unit = 1 << 40
	default:
		digits = ""
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("--memory-limit must be a size such as 2GiB or 512MiB (units B, KiB, MiB, GiB, TiB), not %q", s)
	}
	return n * unit, nil
}

// loadPrices reads a price sheet file (--prices): a whole Retail Prices API
// export, streamed, keeping only the rows that price something.
func loadPrices(path string) (*billing.PriceSheet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--prices: %w", err)
	}
	defer f.Close()
	p, err := billing.ParsePriceSheet(f)
	if err != nil {
		return nil, fmt.Errorf("--prices %s: %w", path, err)
	}
	return p, nil
}

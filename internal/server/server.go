// Package server assembles a whole azemu from its parts: TLS files, the
// store, the engine, the dashboard, metrics and the ARM API, listening on one
// address. `azemu serve` and in-process test servers both start one here, so
// the two cannot drift apart.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/certs"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/dashboard"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/identity"
	"github.com/azemu/azemu/internal/metrics"
	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/postgres"
	"github.com/azemu/azemu/internal/store/sqlite"
)

// Config is what a server is started with. The zero value of each field
// means its default.
type Config struct {
	Listen  string // address to serve HTTPS on; default 127.0.0.1:8443
	DataDir string // where the database and TLS files live; required
	// Store is a SQLite file (default <DataDir>/azemu.db), or a postgres://
	// or postgresql:// URL of a PostgreSQL database, which several servers
	// may serve at once as replicas of one fleet (docs/replicas.md).
	Store string

	// ManualStart, when set, runs a manual clock starting at that instant
	// (a clock kept in the store resumes where it stood instead).
	ManualStart time.Time
	Speed       float64 // default 1
	// Seed, when not zero, makes the run's IDs and random draws repeat
	// (engine.Config.Seed).
	Seed uint64

	TLSCert, TLSKey string // a certificate of one's own; default: generated under <DataDir>/tls

	Logger     *slog.Logger // default: discard
	PageSize   int          // default 100
	Prices     *billing.PriceSheet
	Capacity   engine.Capacity
	RateLimits armapi.RateLimits

	// Bounds on what clients hold (zero: the default). ReadTimeout is for
	// reading a whole request, body included (default 60 s); IdleTimeout
	// for a kept-alive connection between requests (default 120 s);
	// MaxConns for connections open at once (default 1,024; more wait to
	// be accepted); MaxFeedClients for the dashboard's live streams
	// (default 100).
	ReadTimeout    time.Duration
	IdleTimeout    time.Duration
	MaxConns       int
	MaxFeedClients int

	// WriteTimeout is how long a change may wait for the disk (default
	// 10 s): past it, the request is answered 503 StoreWriteTimeout, and
	// health reports the store stuck until the write ends.
	WriteTimeout time.Duration

	// Retention is how much history is kept whole (zero: all of it); older
	// history is compacted into checkpoints that keep every later bill
	// exact (docs/retention.md).
	Retention time.Duration

	// Faults, when not nil, replace the faults kept from the last run.
	Faults []engine.Fault

	// Principals, when set, is the strict mode: only tokens azemu issued to
	// these principals are accepted, within their role assignments. Nil is
	// the open mode: any token is accepted.
	Principals *authz.Directory
	// DefaultSubscription is always listed in the open mode (default
	// identity.DefaultSubscription).
	DefaultSubscription string

	// Bulk runs the server for an offline bulk load (azemu seed): a SQLite
	// store is opened with sqlite.OpenBulk (a change is acknowledged once
	// queued, and written unsynced until Shutdown syncs it: call Flush to
	// wait for what was acknowledged), and there is no dashboard. Its
	// running accounts are kept all the same (dashboard.KeepAccounts: Start
	// reads them first) and saved by Shutdown, so that the first start
	// after the load reads them rather than the history it wrote.
	Bulk bool

	// Pprof, when set, serves net/http/pprof over plain HTTP on this
	// address, apart from the API. It must be a loopback address: a
	// profile shows the process's internals to whoever can reach it.
	Pprof string
}

// Server is one running azemu.
type Server struct {
	cfg      Config
	caFile   string
	url      string
	store    store.Store
	owner    *postgres.Owner // held for the server's life on a PostgreSQL store
	engine   *engine.Engine
	dash     *dashboard.Handler
	accounts *dashboard.Accounts // a bulk load's, which has no dashboard
	http     *http.Server
	served   chan error
	stopEng  context.CancelFunc
	engDone  chan struct{}
	lock     *dataDirLock
	pprof    *http.Server // nil unless Config.Pprof
	pprofURL string
	shutdown bool
}

// Start starts a server and returns once it is listening. ctx bounds the
// start only; the server runs until Shutdown.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: a data directory is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8443"
	}
	if cfg.Store == "" {
		cfg.Store = filepath.Join(cfg.DataDir, "azemu.db")
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Prices == nil {
		cfg.Prices = billing.DefaultPriceSheet()
	}
	if cfg.DefaultSubscription == "" {
		cfg.DefaultSubscription = identity.DefaultSubscription
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 60 * time.Second
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 1024
	}
	log := cfg.Logger
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("server: a TLS certificate and key go together")
	}
	if cfg.Pprof != "" {
		if err := CheckLoopback(cfg.Pprof); err != nil {
			return nil, fmt.Errorf("server: pprof: %w", err)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	// One owner per data dir, decided before anything in it is touched
	// (the store, the TLS files, the faults).
	lock, err := lockDataDir(cfg.DataDir, "stop it, or give this one another --data-dir")
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	defer func() {
		if err != nil {
			lock.release()
		}
	}()
	s := &Server{cfg: cfg, served: make(chan error, 1), engDone: make(chan struct{}), lock: lock}
	certFile, keyFile := cfg.TLSCert, cfg.TLSKey
	if certFile == "" {
		files, err := certs.Ensure(filepath.Join(cfg.DataDir, "tls"), certs.DefaultHosts, time.Now())
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		certFile, keyFile, s.caFile = files.Cert, files.Key, files.CACert
		log.Info("clients trust this CA", "file", files.CACert)
	}
	tlsConfig, err := certs.ServerConfig(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}

	if s.store, s.owner, err = openStore(ctx, cfg.Store, cfg.Bulk); err != nil {
		return nil, err
	}
	if !cfg.Bulk {
		suggestVacuum(ctx, s.store, log)
	}
	defer func() {
		if err != nil {
			s.store.Close()
			s.owner.Release()
		}
	}()
	ecfg := engine.Config{Store: s.store, Speed: cfg.Speed, Seed: cfg.Seed, Logger: log, Capacity: cfg.Capacity,
		WriteTimeout: cfg.WriteTimeout, Retention: cfg.Retention}
	if !cfg.ManualStart.IsZero() {
		ecfg.Manual = clock.NewManual(cfg.ManualStart.UTC())
	}
	if s.engine, err = engine.New(ctx, ecfg); err != nil {
		return nil, err
	}
	s.engine.OnChange(logStateChanges(log))
	if cfg.Faults != nil {
		if err := replaceFaults(ctx, s.engine, cfg.Faults); err != nil {
			s.engine.Close()
			return nil, err
		}
		log.Info("faults registered", "faults", len(cfg.Faults))
	}
	ids, err := identity.New(identity.Config{DataDir: cfg.DataDir, Now: s.engine.Now, Directory: cfg.Principals, Logger: log})
	if err != nil {
		s.engine.Close()
		return nil, err
	}
	dcfg := dashboard.Config{Engine: s.engine, Prices: cfg.Prices, Logger: log, MaxClients: cfg.MaxFeedClients}
	if cfg.Principals != nil {
		dcfg.Principals, dcfg.Token, dcfg.Mint = cfg.Principals, ids.PrincipalOf, ids.Mint
		log.Info("strict mode: only tokens azemu issued to its principals are accepted", "principals", len(cfg.Principals.Principals()))
	}
	var fallback http.Handler = http.NotFoundHandler()
	if cfg.Bulk {
		// Read before the load begins, so that its changes do not queue
		// while the history of a fleet it adds to is read.
		if s.accounts, err = dashboard.KeepAccounts(ctx, s.engine, cfg.Prices, log); err != nil {
			s.engine.Close()
			return nil, fmt.Errorf("server: the running accounts: %w", err)
		}
	} else {
		if s.dash, err = dashboard.New(ctx, dcfg); err != nil {
			s.engine.Close()
			return nil, err
		}
		fallback = s.dash
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.engine.Close()
		return nil, err
	}
	s.url = "https://" + ln.Addr().String()
	api := armapi.New(armapi.Config{Engine: s.engine, Logger: log, PageSize: cfg.PageSize, Prices: cfg.Prices,
		RateLimits: cfg.RateLimits, Fallback: ids.Handler(fallback), Metrics: metrics.New(s.engine),
		Identity: ids, DefaultSubscription: cfg.DefaultSubscription, BaseURL: advertisedURL(ln.Addr()), Seed: cfg.Seed})
	if err := s.lock.record(s.url); err != nil {
		ln.Close()
		s.engine.Close()
		return nil, err
	}
	if s.owner != nil {
		if err := s.owner.Record(ctx, fmt.Sprintf("azemu pid %d %s", os.Getpid(), s.url)); err != nil {
			ln.Close()
			s.engine.Close()
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	s.http = &http.Server{
		Handler:           caughtUp(s.engine, api.Handler()),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	// The dashboard's live streams never end on their own: end them so a
	// graceful shutdown does not wait for them.
	if s.dash != nil {
		s.http.RegisterOnShutdown(s.dash.Close)
	}
	if cfg.Pprof != "" {
		if s.pprof, s.pprofURL, err = startPprof(cfg.Pprof, log); err != nil {
			ln.Close()
			s.engine.Close()
			return nil, err
		}
	}
	engineCtx, stopEngine := context.WithCancel(context.Background())
	s.stopEng = stopEngine
	// Deployments that were running when the last process stopped go on
	// (armapi's deployer.go) before the first request is served.
	api.ResumeDeployments(engineCtx)
	go func() { defer close(s.engDone); s.engine.Run(engineCtx) }()
	go func() { s.served <- s.http.ServeTLS(limitListener(ln, cfg.MaxConns), "", "") }()
	return s, nil
}

// advertisedURL is the base of the links azemu hands out: the address it
// listens on. On every interface (0.0.0.0, ::) no one address is right, and
// the links follow the Host each request was sent to.
func advertisedURL(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return ""
	}
	return "https://" + addr.String()
}

// openStore opens the SQLite file or, for a postgres:// URL, joins the
// servers of the PostgreSQL database (they serve it as replicas,
// docs/replicas.md) and opens it. A server of a build from before replicas
// is refused (postgres.ErrOwned) before it reads or writes anything.
func openStore(ctx context.Context, where string, bulk bool) (store.Store, *postgres.Owner, error) {
	if !postgres.IsURL(where) {
		if bulk {
			st, err := sqlite.OpenBulk(where)
			return st, nil, err
		}
		st, err := sqlite.Open(where)
		return st, nil, err
	}
	owner, err := postgres.Claim(ctx, where, fmt.Sprintf("azemu pid %d", os.Getpid()))
	if err != nil {
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	st, err := postgres.Open(ctx, where)
	if err != nil {
		owner.Release()
		return nil, nil, err
	}
	return st, owner, nil
}

// replaceFaults makes the registered faults exactly these: the list kept
// from an earlier run is replaced, so a restart with the same faults starts
// from the same faults (counts included).
func replaceFaults(ctx context.Context, eng *engine.Engine, faults []engine.Fault) error {
	if _, err := eng.Do(ctx, engine.RemoveFaults{}); err != nil {
		return err
	}
	for i, f := range faults {
		if _, err := eng.Do(ctx, engine.AddFault{Fault: f}); err != nil {
			return fmt.Errorf("fault %d: %w", i, err)
		}
	}
	return nil
}

// URL is the server's base URL, https://host:port.
func (s *Server) URL() string { return s.url }

// PprofURL is where the profiles are served (http://host:port/debug/pprof/),
// or "" without Config.Pprof.
func (s *Server) PprofURL() string { return s.pprofURL }

// CAFile is the PEM file of the CA that clients trust, or "" when the server
// was given a certificate of its own.
func (s *Server) CAFile() string { return s.caFile }

// TLSConfig is a client configuration trusting the server's generated CA.
func (s *Server) TLSConfig() (*tls.Config, error) {
	if s.caFile == "" {
		return nil, errors.New("server: the certificate was given, not generated: trust its CA yourself")
	}
	pool, err := certs.Pool(s.caFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Flush returns once every change the server acknowledged is written to
// its store: at once, unless Config.Bulk queues them.
func (s *Server) Flush(ctx context.Context) error {
	if b, ok := s.store.(*sqlite.Bulk); ok {
		return b.Flush(ctx)
	}
	return nil
}

// Handler is the server's HTTP handler, for a client in this process that
// sends its requests without a connection (azemu seed).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Engine is the server's engine, for in-process controls.
func (s *Server) Engine() *engine.Engine { return s.engine }

// Prices is the price sheet the server rates usage with.
func (s *Server) Prices() *billing.PriceSheet { return s.cfg.Prices }

// Serving reports the server's end: it yields the error that stopped it
// serving (http.ErrServerClosed after Shutdown).
func (s *Server) Serving() <-chan error { return s.served }

// accountsSaveBudget bounds how long a shutdown spends saving the
// dashboard's running costs, apart from the time it gives requests.
const accountsSaveBudget = 30 * time.Second

// Shutdown stops taking requests, finishes those in flight (until ctx ends),
// stops the engine and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.shutdown {
		return nil
	}
	s.shutdown = true
	if s.pprof != nil {
		s.pprof.Close() // a profile under way ends with the server
	}
	err := s.http.Shutdown(ctx)
	s.engine.Close()
	s.stopEng()
	<-s.engDone
	if s.dash != nil {
		// The next start reads the dashboard's running costs and the
		// changes after them, not the whole history; failing to save
		// them loses nothing, and fails no shutdown. The save has a
		// budget of its own: requests in flight may have spent ctx's,
		// and a large fleet's accounts take seconds to write.
		saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accountsSaveBudget)
		if serr := s.dash.SaveAccounts(saveCtx); serr != nil {
			s.cfg.Logger.Error("shutdown", "err", serr)
		}
		cancel()
	}
	if s.accounts != nil {
		// A bulk load's accounts include every change it acknowledged:
		// they are saved once all of those are written, and not when
		// one failed (Close reports it; the next start reads the
		// history). A load has no requests to spend ctx, which bounds
		// the save.
		if s.Flush(ctx) == nil {
			if serr := s.accounts.Save(ctx); serr != nil {
				s.cfg.Logger.Error("shutdown", "err", serr)
			}
		}
	}
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	s.owner.Release()
	s.lock.release()
	return err
}

// Package azemutest runs a whole azemu inside a Go test: real HTTPS on a
// loopback port, a real SQLite store in the test's temporary directory, and
// a manual clock that moves only when the test says so.
//
//	srv := azemutest.New(t)
//	vms, _ := armcompute.NewVirtualMachinesClient(srv.SubscriptionID(), srv.Credential(), srv.ClientOptions())
//	poller, _ := vms.BeginDeallocate(ctx, "rg", "web", nil)
//	srv.Advance(time.Minute)            // every step due in that minute fires, in order
//	poller.PollUntilDone(ctx, nil)
//	bill := srv.Bill(t0, srv.Now())     // exact, per second
//
// Each server is independent: several may run in one test process, in
// parallel tests, each with its own clock, store, faults and capacity. The
// server stops when the test ends.
package azemutest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/clock"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/server"
)

// DefaultSubscriptionID is the subscription a server hands out unless
// WithSubscription says otherwise. azemu takes any GUID as a subscription.
const DefaultSubscriptionID = "00000000-0000-0000-0000-000000000001"

// DefaultClockStart is where a manual clock starts unless WithClockStart
// says otherwise.
var DefaultClockStart = clock.DefaultManualStart

// Option configures a server.
type Option func(*config)

type config struct {
	manual       bool
	start        time.Time
	speed        float64
	prices       []byte
	faults       []Fault
	capacity     Capacity
	subscription string
	logger       *slog.Logger
	seed         uint64
}

// WithRealClock runs the server on the real clock, speed times faster than
// Azure's realistic durations (azemu serve's default is 20). Advance and
// AdvanceUntil then fail the test.
func WithRealClock(speed float64) Option {
	return func(c *config) { c.manual, c.speed = false, speed }
}

// WithClockStart starts the manual clock at t (default DefaultClockStart).
func WithClockStart(t time.Time) Option { return func(c *config) { c.start = t.UTC() } }

// WithPrices rates the bill with a price sheet in the Azure Retail Prices
// API format ({"Items":[...]}), instead of the small embedded one.
func WithPrices(sheet []byte) Option { return func(c *config) { c.prices = sheet } }

// WithFaults registers faults before the server takes its first request.
func WithFaults(faults ...Fault) Option {
	return func(c *config) { c.faults = append(c.faults, faults...) }
}

// WithCapacity limits the cores each region offers from the start (see
// Server.SetCapacity).
func WithCapacity(c Capacity) Option { return func(cfg *config) { cfg.capacity = c } }

// WithSubscription sets the subscription ID SubscriptionID hands out.
func WithSubscription(id string) Option { return func(c *config) { c.subscription = id } }

// WithSeed makes the server's IDs and random draws (VM IDs, operation IDs,
// faults with a probability) repeat from run to run: two servers with one
// seed, given the same requests, answer the same. Zero means unseeded.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithLogger sends the server's log to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Server is one azemu running inside a test.
type Server struct {
	t    testing.TB
	srv  *server.Server
	eng  *engine.Engine
	http *http.Client
	sub  string

	credOnce sync.Once
	cred     azcore.TokenCredential
	credErr  error
}

// New starts an azemu on 127.0.0.1 with a port of its own, its data in a
// temporary directory of t's, and a manual clock unless WithRealClock says
// otherwise. The server shuts down when t ends; a failure to start fails t.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	c := config{manual: true, start: DefaultClockStart, speed: 1, subscription: DefaultSubscriptionID}
	for _, o := range opts {
		o(&c)
	}
	scfg := server.Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "azemu"), Speed: c.speed, Logger: c.logger,
		DefaultSubscription: c.subscription, Seed: c.seed}
	if c.manual {
		scfg.ManualStart = c.start
	}
	if c.prices != nil {
		sheet, err := billing.ParsePriceSheet(bytes.NewReader(c.prices))
		if err != nil {
			t.Fatalf("azemutest: WithPrices: %v", err)
		}
		scfg.Prices = sheet
	}
	if c.capacity != nil {
		capacity, err := c.capacity.engine()
		if err != nil {
			t.Fatalf("azemutest: WithCapacity: %v", err)
		}
		scfg.Capacity = capacity
	}
	for _, f := range c.faults {
		scfg.Faults = append(scfg.Faults, f.engine())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := server.Start(ctx, scfg)
	if err != nil {
		t.Fatalf("azemutest: starting azemu: %v", err)
	}
	s := &Server{t: t, srv: srv, eng: srv.Engine(), sub: c.subscription}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s.http != nil {
			s.http.CloseIdleConnections()
		}
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("azemutest: shutting down: %v", err)
		}
	})
	tlsConfig, err := srv.TLSConfig()
	if err != nil {
		t.Fatalf("azemutest: %v", err)
	}
	s.http = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true}}
	return s
}

// URL is the server's base URL, https://127.0.0.1:port: the Resource
// Manager endpoint and the emulator's own /_azemu endpoints.
func (s *Server) URL() string { return s.srv.URL() }

// CAFile is the PEM file of the CA the server's certificate chains to, for
// clients outside the process (the Azure CLI, curl).
func (s *Server) CAFile() string { return s.srv.CAFile() }

// HTTPClient is a client that trusts the server's CA and nothing else
// beyond it: nothing process-wide is changed.
func (s *Server) HTTPClient() *http.Client { return s.http }

// SubscriptionID is the subscription to create resources in.
func (s *Server) SubscriptionID() string { return s.sub }

// Cloud is the cloud configuration that points the SDK at this server.
func (s *Server) Cloud() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: s.URL() + "/", // azemu is its own token service
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: s.URL(), Audience: "https://management.core.windows.net/"},
		},
	}
}

// ClientOptions are what an ARM client of the Azure SDK for Go needs to
// talk to this server: its cloud configuration and a transport that trusts
// its CA. Each call returns a fresh value the caller may change.
func (s *Server) ClientOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: policy.ClientOptions{Cloud: s.Cloud(), Transport: s.http}}
}

// Credential is the stock azidentity.ClientSecretCredential, signing in
// to the server's own token service (tenant "adfs", its ADFS-style
// authority) as a test application. The server runs in the open mode, in
// which any client and secret get a token; the credential is made once and
// shared, so it asks for a token once and caches it as it would against
// Entra ID.
func (s *Server) Credential() azcore.TokenCredential {
	s.t.Helper()
	s.credOnce.Do(func() {
		s.cred, s.credErr = azidentity.NewClientSecretCredential("adfs", "azemutest", "azemutest-secret",
			&azidentity.ClientSecretCredentialOptions{ClientOptions: policy.ClientOptions{Cloud: s.Cloud(), Transport: s.http}})
	})
	if s.credErr != nil {
		s.t.Fatalf("azemutest: credential: %v", s.credErr)
	}
	return s.cred
}

// VMID is the ARM ID of VM name in resource group rg of the server's
// subscription.
func (s *Server) VMID(rg, name string) string {
	return "/subscriptions/" + s.sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name
}

// Now is the server's time.
func (s *Server) Now() time.Time { return s.eng.Now().UTC() }

// Advance moves the manual clock forward by d and returns the new time.
// Every step of every running operation that falls due on the way fires,
// in order and at its own due time, before Advance returns.
func (s *Server) Advance(d time.Duration) time.Time {
	s.t.Helper()
	res, err := s.eng.Do(context.Background(), engine.AdvanceClock{By: d})
	if err != nil {
		s.t.Fatalf("azemutest: Advance(%s): %v", d, err)
	}
	return res.Clock.UTC()
}

// maxSteps bounds AdvanceUntil: far more steps than any test's fleet takes.
const maxSteps = 1_000_000

// AdvanceUntil moves the manual clock from one due step to the next until
// cond reports true, and returns the time it did. cond is asked first, and
// after each step. When nothing more is due and cond is still false, the
// test fails: time alone will not make it true (use Advance for waits
// that no operation marks, such as "idle for an hour").
func (s *Server) AdvanceUntil(cond func() bool) time.Time {
	s.t.Helper()
	for range maxSteps {
		if cond() {
			return s.Now()
		}
		at, ok := s.eng.NextDue()
		if !ok {
			s.t.Fatalf("azemutest: AdvanceUntil: nothing more is due at %s and the condition is still false", s.Now().Format(time.RFC3339))
		}
		s.Advance(max(0, at.Sub(s.eng.Now())))
	}
	s.t.Fatalf("azemutest: AdvanceUntil: the condition is still false after %d steps", maxSteps)
	return time.Time{}
}

// Reset empties all state: resources, history, faults. The clock stays.
func (s *Server) Reset() {
	s.t.Helper()
	if _, err := s.eng.Do(context.Background(), engine.ResetFleet{}); err != nil {
		s.t.Fatalf("azemutest: Reset: %v", err)
	}
}

// lastSegment is the name at the end of an ARM ID.
func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// PollUntilDone waits for a long-running operation of the SDK. On the
// manual clock it moves the clock from one due step to the next, polling
// after each, until the operation ends: the time it returns at is the
// time the operation ended. On the real clock it polls every second.
// Either way it returns the poller's result, or the operation's error.
func PollUntilDone[T any](s *Server, p *runtime.Poller[T]) (T, error) {
	s.t.Helper()
	ctx := context.Background()
	if !s.eng.ManualClock() {
		return p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
	}
	var pollErr error
	s.AdvanceUntil(func() bool {
		_, pollErr = p.Poll(ctx)
		return pollErr != nil || p.Done()
	})
	if pollErr != nil {
		var zero T
		return zero, pollErr
	}
	return p.Result(ctx)
}

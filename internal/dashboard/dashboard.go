package dashboard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
)

//go:embed static
var staticFS embed.FS

// Config wires the dashboard.
type Config struct {
	Engine *engine.Engine
	// Prices rates costs (default: billing.DefaultPriceSheet()); pass the
	// ARM layer's sheet so both show the same figures.
	Prices *billing.PriceSheet
	Logger *slog.Logger
	// Authorize decides what a request may see (default: Open). With
	// Principals set it is the strict mode's, and this is not used.
	Authorize Authorizer
	// Principals, when set, is the strict mode: a request needs a bearer
	// token that Token accepts, or a sign-in (POST /_dashboard/api/session)
	// with a principal's client ID and secret.
	Principals *authz.Directory
	// Token resolves a bearer token to its principal (strict mode).
	Token func(token, base string) (*authz.Principal, error)
	// Mint issues a principal a token for the ARM API, which the signed-in
	// page uses for the ARM JSON it shows (strict mode; optional).
	Mint func(p *authz.Principal, base string) (string, error)
	// FlushInterval is the least time between two messages of a live
	// stream (default 200 ms).
	FlushInterval time.Duration
	// MaxPending bounds the VMs one stream may have waiting; a client
	// further behind is dropped (default 10,000).
	MaxPending int
	// MaxClients bounds the live streams open at once (default 100): each
	// costs the engine's commit path a little, so without a bound clients
	// that never read would slow every action down.
	MaxClients int
	// SaveInterval is how often the running costs are saved while they
	// change (default 5 minutes; they are also saved after every 50,000
	// changes and by SaveAccounts), so that a start reads them and the
	// changes after them rather than the whole history. Negative: only
	// SaveAccounts saves them.
	SaveInterval time.Duration
}

// Handler serves the page, its API and its live feed.
type Handler struct {
	eng       *engine.Engine
	prices    *billing.PriceSheet
	log       *slog.Logger
	authorize Authorizer
	strict    strictAccess
	interval  time.Duration
	accounts  *Accounts
	ledger    *ledger // the accounts'
	feed      *feed
	assets    map[string]asset
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// New builds the dashboard: it subscribes to the engine's changes and starts
// reading the history once, in the background, to know what every resource
// has cost so far; the endpoints that show costs wait for it.
func New(ctx context.Context, cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, fmt.Errorf("dashboard: no engine")
	}
	if cfg.Prices == nil {
		cfg.Prices = billing.DefaultPriceSheet()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Authorize == nil {
		cfg.Authorize = Open
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10000
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 100
	}
	if cfg.SaveInterval == 0 {
		cfg.SaveInterval = defaultSaveInterval
	}
	h := &Handler{eng: cfg.Engine, prices: cfg.Prices, log: cfg.Logger, authorize: cfg.Authorize,
		interval: cfg.FlushInterval, feed: newFeed(cfg.MaxPending, cfg.MaxClients), assets: map[string]asset{}}
	if cfg.Principals != nil {
		if cfg.Token == nil {
			return nil, fmt.Errorf("dashboard: the strict mode needs a token check")
		}
		h.strict = strictAccess{principals: cfg.Principals, token: cfg.Token, mint: cfg.Mint}
		h.authorize = h.strictAuthorize
	}
	if err := h.loadAssets(); err != nil {
		return nil, err
	}
	h.ledger = followChanges(cfg.Engine, cfg.Prices, cfg.Logger, h.feed.onChange)
	// The history is read after start, ended by Close: it grows with time,
	// and nothing but the costs the page shows needs it.
	readCtx, stopReading := context.WithCancel(context.WithoutCancel(ctx))
	h.accounts = &Accounts{eng: cfg.Engine, ledger: h.ledger, stop: stopReading}
	h.ledger.seedInBackground(readCtx, cfg.Engine, cfg.SaveInterval, func(err error) {
		if readCtx.Err() == nil {
			h.log.Error("dashboard: the running costs", "err", err)
		}
	})
	return h, nil
}

// Close ends the live streams, so a graceful shutdown need not wait for
// them, and the reading of the history if it still goes on; register it
// with http.Server.RegisterOnShutdown.
func (h *Handler) Close() {
	h.accounts.stop()
	h.feed.close()
}

// SaveAccounts saves the running costs the dashboard keeps, so that the
// next start reads them and the changes after them rather than the whole
// history, and stops saving them. Call it at a clean shutdown, once the
// engine has stopped and before the store closes. A failure loses nothing:
// the next start reads more of the history.
func (h *Handler) SaveAccounts(ctx context.Context) error { return h.accounts.Save(ctx) }

func (h *Handler) loadAssets() error {
	return fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
			".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}[path.Ext(p)]
		h.assets[path.Base(p)] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
}

// Paths the dashboard answers besides "/".
const (
	staticPrefix = "/_dashboard/static/"
	apiPrefix    = "/_dashboard/api/"
)

// ServeHTTP routes the page, its assets and its API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html":
		h.serveAsset(w, r, "index.html")
	case strings.HasPrefix(p, staticPrefix):
		h.serveAsset(w, r, strings.TrimPrefix(p, staticPrefix))
	case p == "/favicon.ico":
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(p, apiPrefix):
		h.serveAPI(w, r, strings.TrimPrefix(p, apiPrefix))
	default:
		writeError(w, armerror.New(armerror.CodeNotFound, "No route for '%s'.", p))
	}
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.assets[name]
	if !ok || strings.Contains(name, "/") {
		writeError(w, armerror.New(armerror.CodeNotFound, "No asset '%s'.", name))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, armerror.New(armerror.CodeMethodNotAllowed, "Assets answer GET only."))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("ETag", a.etag)
	// Revalidated every time: the files are small and a new binary must
	// not be shadowed by a cached page.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	if name == "index.html" {
		// Everything the page needs comes from this server; nothing inline.
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
	}
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}

// writeJSON renders v; errors use ARM's shape, {"error":{"code","message"}}.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"InternalServerError","message":"The response could not be rendered."}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError renders an error in ARM's shape, with the status its code has.
func writeError(w http.ResponseWriter, e *armerror.Error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(e.Envelope())
}

// writeErr renders any error; an internal one is logged and shown without
// its details.
func (h *Handler) writeErr(w http.ResponseWriter, err error) {
	e, known := armerror.From(err)
	if !known {
		h.log.Error("dashboard: internal error", "err", err)
	}
	writeError(w, e)
}

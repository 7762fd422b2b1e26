package armapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/identity"
	"github.com/azemu/azemu/internal/template"
)

// Config wires the ARM surface.
type Config struct {
	Engine *engine.Engine
	Logger *slog.Logger
	// PageSize is how many items a list page holds (default 100).
	PageSize int
	// Fallback serves paths outside ARM and /_azemu (the dashboard).
	Fallback http.Handler
	// Metrics, when set, is told of every request and serves /metrics.
	Metrics Metrics
	// Prices rates usage for Cost Management and /_azemu/billing (default:
	// billing.DefaultPriceSheet()).
	Prices *billing.PriceSheet
	// RateLimits are the per-subscription request budgets (default: off).
	RateLimits RateLimits
	// Identity checks bearer tokens; nil accepts any (the open mode).
	Identity *identity.Service
	// DefaultSubscription is listed by GET /subscriptions in the open mode
	// even before anything was created in it.
	DefaultSubscription string
	// BaseURL is where clients reach this server (https://host:port): the
	// base of Location, Azure-AsyncOperation and nextLink. Without it the
	// request's Host is used, which a client chooses.
	BaseURL string
	// Seed, when not zero, makes the request IDs repeat run after run
	// (the engine's IDs repeat by its own seed).
	Seed uint64
}

// Metrics records requests and serves them to Prometheus; armapi only
// reports to it.
type Metrics interface {
	ObserveRequest(method string, code int, d time.Duration)
	Handler() http.Handler
}

// Server is the ARM HTTP surface.
type Server struct {
	eng      *engine.Engine
	log      *slog.Logger
	pageSize int
	fallback http.Handler
	metrics  Metrics
	prices   *billing.PriceSheet
	limiter  *rateLimiter // nil when rate limits are off
	identity *identity.Service
	defSub   string
	baseURL  string

	// deployMu serialises the deployer's passes; plans caches each running
	// deployment's expanded template (deployer.go).
	deployMu sync.Mutex
	plans    map[planKey]*template.Plan
	// detached counts the handlers still running past their write
	// deadline (writebound.go).
	detached atomic.Int64
	// renders keeps VMs' GET answers per snapshot (rendercache.go);
	// statusOnly keeps their items of listAll statusOnly=true
	// (listrender.go).
	renders, statusOnly *renderCache
	requestIDs          *requestIDs
}

// New returns the server; Handler is its http.Handler.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.Prices == nil {
		cfg.Prices = billing.DefaultPriceSheet()
	}
	s := &Server{eng: cfg.Engine, log: cfg.Logger, pageSize: cfg.PageSize, fallback: cfg.Fallback, metrics: cfg.Metrics, prices: cfg.Prices,
		limiter: newRateLimiter(cfg.RateLimits), identity: cfg.Identity, defSub: strings.ToLower(cfg.DefaultSubscription),
		baseURL: strings.TrimSuffix(cfg.BaseURL, "/"), plans: map[planKey]*template.Plan{}, renders: newRenderCache(renderCacheLimit),
		statusOnly: newRenderCache(statusOnlyCacheLimit), requestIDs: newRequestIDs(cfg.Seed)}
	// A deployment's resources that waited for one whose provisioning just
	// ended start at once (deployer.go).
	if cfg.Engine != nil {
		cfg.Engine.OnStepsFired(s.runDeployments)
	}
	return s
}

// maxBody bounds a request body; ARM's own limit is 4 MiB.
const maxBody = 4 << 20

// request is one call as the handlers see it.
type request struct {
	*http.Request
	w         http.ResponseWriter
	segs      []string // path segments as written
	lower     []string // the same, lower-cased, for matching
	requestID string
	base      string // https://host
	apiVer    string
	caller    identity.Caller
	partial   bool // the caller may read only some of the subscription: see readable
	params    url.Values
	sw        statusWriter // what w is, as the request starts
}

// query is the URL's query, parsed once for the request; callers must
// not change it.
func (r *request) query() url.Values {
	if r.params == nil {
		r.params = r.URL.Query()
	}
	return r.params
}

// queryGet is r.query().Get(key) read from the raw query, with no map and
// no copy of what needs no unescaping: every ARM call asks for its
// api-version, and a VM's GET for its $expand.
func (r *request) queryGet(key string) string {
	if r.params != nil {
		return r.params.Get(key)
	}
	if v, ok := rawQueryGet(r.URL.RawQuery, key); ok {
		return v
	}
	return r.query().Get(key)
}

// maxScannedParams is where rawQueryGet leaves a query to url.ParseQuery,
// which answers nothing past its own limit of parameters.
const maxScannedParams = 1000

// rawQueryGet is the first value of key in raw as url.ParseQuery reads
// it: pairs split at '&', each unescaped, a pair holding ';' or an
// invalid escape skipped. false when raw has too many parameters to say.
func rawQueryGet(raw, key string) (string, bool) {
	if strings.Count(raw, "&") >= maxScannedParams {
		return "", false
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				continue
			}
			v = u
		}
		return v, true
	}
	return "", true
}

// seg reports whether segment i equals want, ignoring case.
func (r *request) seg(i int, want string) bool {
	// The segments are lower-cased already, and every want is ASCII: only
	// want's letters are folded, and a want in lower case is compared
	// whole.
	return i < len(r.lower) && len(r.lower[i]) == len(want) && (r.lower[i] == want || equalLowered(r.lower[i], want))
}

// equalLowered reports whether lower, a lower-cased segment, is want (of
// the same length, ASCII) lower-cased: what strings.EqualFold answers for
// them, as a segment of want's length that holds anything past ASCII
// cannot match it.
func equalLowered(lower, want string) bool {
	for i := range len(want) {
		c := want[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if lower[i] != c {
			return false
		}
	}
	return true
}

// Handler returns the root handler: request IDs, panics, logging, then
// routing to ARM, the emulator endpoints or the fallback.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		start := time.Now()
		rid := s.requestIDs.next()
		// net/http canonicalises a request's header keys as it reads
		// them, so they are looked up as written here rather than
		// through Get, which canonicalises its argument on every call.
		corr := headerValue(hr.Header, "X-Ms-Correlation-Request-Id")
		if corr == "" {
			corr = rid
		}
		// Header keys in canonical form: Set would canonicalise them on
		// every request. Both values share one allocation.
		h := w.Header()
		ids := []string{rid, corr}
		h["X-Ms-Request-Id"] = ids[0:1:1]
		h["X-Ms-Correlation-Request-Id"] = ids[1:2:2]
		if cid := headerValue(hr.Header, "X-Ms-Client-Request-Id"); cid != "" {
			h["X-Ms-Client-Request-Id"] = []string{cid}
		}
		// The request and its status writer are one allocation.
		r := &request{Request: hr, requestID: rid, base: s.baseURL}
		sw := &r.sw
		sw.ResponseWriter, r.w = w, sw
		if r.base == "" {
			r.base = "https://" + hr.Host
		}
		r.segs, r.lower = splitRequestPath(hr.URL)
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic serving request", "request_id", rid, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.writeError(r, errorf("InternalServerError", "", "The server encountered an internal error. Please retry the request."))
				}
			}
			elapsed := time.Since(start)
			if s.log.Enabled(hr.Context(), slog.LevelDebug) {
				// Checked first: the arguments alone cost more than the
				// rest of this wrapper.
				s.log.Debug("request", "method", hr.Method, "path", hr.URL.Path, "status", sw.status, "request_id", rid, "duration", elapsed)
			}
			if s.metrics != nil {
				code := sw.status
				if code == 0 {
					code = http.StatusOK // nothing written: net/http answers 200
				}
				s.metrics.ObserveRequest(hr.Method, code, elapsed)
			}
		}()
		if writes(r) {
			s.boundWrite(r)
			return
		}
		s.dispatch(r)
	})
}

// headerValue is h's first value of key, which must be in canonical form.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// splitRequestPath is splitPath of u's escaped path. A path of the bytes
// an escaped path holds as they are (every GET of a VM) is its own
// escaped form: it is lower-cased and split in one pass, with no escaping
// and no unescaping.
func splitRequestPath(u *url.URL) (segs, lower []string) {
	p := u.Path
	if u.RawPath != "" || len(p) > maxPlainPath {
		return splitPath(u.EscapedPath())
	}
	var buf [maxPlainPath]byte
	for i := range len(p) {
		c := pathByte[p[i]]
		if c == 0 {
			return splitPath(u.EscapedPath())
		}
		buf[i] = c
	}
	path := strings.Trim(p, "/")
	if path == "" {
		return nil, nil
	}
	start := len(p) - len(strings.TrimLeft(p, "/"))
	return splitLowered(path, string(buf[start:start+len(path)]))
}

// splitLowered splits path, and lowerPath (path lower-cased, byte for
// byte), at each slash.
func splitLowered(path, lowerPath string) (segs, lower []string) {
	n := strings.Count(path, "/") + 1
	all := make([]string, 2*n)
	segs, lower = all[:n:n], all[n:]
	for i := range n {
		end := strings.IndexByte(path, '/')
		if end < 0 {
			end = len(path)
		}
		segs[i], lower[i] = path[:end], lowerPath[:end]
		if end < len(path) {
			end++
		}
		path, lowerPath = path[end:], lowerPath[end:]
	}
	return segs, lower
}

// maxPlainPath bounds the paths splitRequestPath lower-cases on the
// stack; a longer one takes splitPath.
const maxPlainPath = 512

// pathByte is, for each byte an escaped path holds as it is (url's
// encodePath: letters, digits and -_.~$&+,/:;=@), the byte lower-cased;
// 0 for any other ('%' among them).
var pathByte = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', strings.IndexByte("-_.~$&+,/:;=@", byte(c)) >= 0:
			t[c] = byte(c)
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

// splitPath splits an escaped path into its unescaped segments, and the
// same lower-cased for matching: an ASCII path without escapes (every
// GET of a VM) is lower-cased whole, so that it costs two allocations.
func splitPath(escaped string) (segs, lower []string) {
	path := strings.Trim(escaped, "/")
	if path == "" {
		return nil, nil
	}
	if plainASCII(path) {
		return splitLowered(path, strings.ToLower(path))
	}
	n := strings.Count(path, "/") + 1
	all := make([]string, 2*n)
	segs, lower = all[:n:n], all[n:]
	for i := range n {
		p, rest, _ := strings.Cut(path, "/")
		path = rest
		if strings.IndexByte(p, '%') >= 0 {
			if u, err := unescape(p); err == nil {
				p = u
			}
		}
		segs[i], lower[i] = p, strings.ToLower(p)
	}
	return segs, lower
}

// plainASCII reports whether s is ASCII without escapes (%), so that
// lower-casing it keeps every byte where it was.
func plainASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf || s[i] == '%' {
			return false
		}
	}
	return true
}

// dispatch routes a request to ARM, the emulator endpoints, metrics or the
// fallback, answering through r.w.
func (s *Server) dispatch(r *request) {
	switch {
	case r.seg(0, "subscriptions"), len(r.segs) == 1 && r.seg(0, "tenants"):
		s.serveARM(r)
	case r.seg(0, "_azemu"):
		s.serveEmulator(r)
	case len(r.segs) == 1 && r.seg(0, "metrics") && s.metrics != nil:
		s.metrics.Handler().ServeHTTP(r.w, r.Request)
	case s.fallback != nil:
		s.fallback.ServeHTTP(r.w, r.Request)
	default:
		s.writeError(r, errorf("NotFound", "", "No route for '%s'.", r.URL.Path))
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines for the dashboard's live stream).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// wellFormedAPIVersion accepts yyyy-mm-dd with an optional -suffix
// (-preview, -beta, ...): the check runs on every request, so by hand.
func wellFormedAPIVersion(v string) bool {
	if len(v) < 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		c := v[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	if len(v) == 10 {
		return true
	}
	if v[10] != '-' || len(v) == 11 {
		return false
	}
	for i := 11; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.') {
			return false
		}
	}
	return true
}

// serveARM checks what every ARM call needs, then routes it.
func (s *Server) serveARM(r *request) {
	auth := headerValue(r.Header, "Authorization")
	if auth == "" {
		r.w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+r.base+`/adfs", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`)
		s.writeError(r, errorf("AuthenticationFailed", "", "Authentication failed. The 'Authorization' header is missing."))
		return
	}
	scheme, token, _ := strings.Cut(auth, " ")
	if token = strings.TrimSpace(token); !strings.EqualFold(scheme, "Bearer") || token == "" {
		s.writeError(r, errorf("AuthenticationFailed", "", "Authentication failed. The 'Authorization' header is provided in an invalid format."))
		return
	}
	if !s.authenticate(r, token) {
		return
	}
	r.apiVer = r.queryGet("api-version")
	if r.apiVer == "" {
		s.writeError(r, errorf("MissingApiVersionParameter", "", "The api-version query parameter (?api-version=) is required for all requests."))
		return
	}
	if !wellFormedAPIVersion(r.apiVer) {
		s.writeError(r, errorf("InvalidApiVersionParameter", "",
			"The api-version '%s' is invalid. The supported versions are in the form 'yyyy-mm-dd' or 'yyyy-mm-dd-preview'.", r.apiVer))
		return
	}
	// The subscription's budget first (Resource Manager's front door), then
	// an injected throttle (the resource provider's): ratelimit.go, faults.go.
	if !s.rateLimit(r) || s.throttled(r) || !s.checkWriteBody(r) {
		return
	}
	if r.seg(0, "tenants") {
		s.onlyGET(r, s.listTenants)
		return
	}
	if !s.authorize(r) {
		return
	}
	s.route(r)
}

// writeJSON renders v with status.
func (s *Server) writeJSON(r *request, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		s.writeErr(r, err)
		return
	}
	writeBody(r, status, body)
}

// encodeJSON is the JSON every answer is written in: HTML characters as
// they are, and a final newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeBody writes an encoded JSON answer.
func writeBody(r *request, status int, body []byte) {
	writeSized(r, status, body, nil)
}

// writeSized writes an encoded JSON answer with its Content-Length value
// length, made here when nil and needed.
func writeSized(r *request, status int, body []byte, length []string) {
	h := r.w.Header()
	h["Content-Type"] = jsonContentType
	if len(body) > netHTTPBuffered || r.Method == http.MethodHead {
		if length == nil {
			length = []string{strconv.Itoa(len(body))}
		}
		h["Content-Length"] = length
	}
	noCache(h)
	r.w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = r.w.Write(body)
	}
}

// netHTTPBuffered is how much of an answer net/http's server holds before
// it sends the headers (its bufferBeforeChunkingSize). An answer written
// whole, in one Write of at most this many bytes, is still held when the
// handler returns, and net/http sends its Content-Length itself, without
// the header map; a longer one needs the header, or it goes out in chunks.
// A HEAD writes no body, so its length is always given.
// TestAnswersCarryTheirLength holds net/http to it.
const netHTTPBuffered = 2048

// contentLength is the Content-Length value writeSized sends with body
// (nil for none).
func contentLength(body []byte) []string {
	if len(body) <= netHTTPBuffered {
		return nil
	}
	return []string{strconv.Itoa(len(body))}
}

// The values of the headers every answer carries, shared rather than made
// per request (net/http only reads them); their keys are written in
// canonical form, so no request pays for canonicalising them.
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	noCacheValue    = []string{"no-cache"}
	expiresValue    = []string{"-1"}
)

// noCache sets what Resource Manager sends on every answer: no cache may
// keep it, as the state it shows moves on.
func noCache(h http.Header) {
	h["Cache-Control"] = noCacheValue
	h["Pragma"] = noCacheValue
	h["Expires"] = expiresValue
}

// writeError renders an error as ARM does: its status, the envelope, and
// Retry-After on a 429 or 503 that did not set its own.
func (s *Server) writeError(r *request, e *armerror.Error) {
	status := e.HTTPStatus()
	h := r.w.Header()
	if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	noCache(h)
	r.w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = r.w.Write(e.Envelope())
	}
}

// writeErr renders any error; internal ones are logged with the request ID
// and shown without internals.
func (s *Server) writeErr(r *request, err error) {
	e, known := armerror.From(err)
	if !known {
		s.log.Error("internal error", "request_id", r.requestID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.writeError(r, e)
}

// readBody reads the whole body; it is an error when it cannot be read or
// is larger than ARM accepts.
func readBody(r *request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errorf("InvalidRequestContent", "", "The request content could not be read: %v.", err)
	}
	if len(body) > maxBody {
		return nil, errorf("RequestEntityTooLarge", "", "The request content is larger than %d bytes.", maxBody)
	}
	return body, nil
}

// bodyJSON decodes the body into v; it is an error when it is empty or not JSON.
func bodyJSON(r *request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	switch string(bytes.TrimSpace(body)) {
	case "":
		return notDeserialized(errEmptyBody)
	case "null":
		// It would decode into a nil map, which a handler then writes to.
		return notDeserialized(errNullBody)
	}
	return parseJSON(body, v)
}

// optionalJSON decodes a body that may be absent (POST actions). It shares
// readBody with bodyJSON, so an oversized body is too large, not malformed.
func optionalJSON(r *request, v any) error {
	body, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	return parseJSON(body, v)
}

func parseJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return notDeserialized(err)
	}
	return nil
}

// retyped reads a decoded body again into v, the typed input of its
// resource type.
func retyped(body map[string]any, v any) *armerror.Error {
	raw, _ := json.Marshal(body)
	if err := json.Unmarshal(raw, v); err != nil {
		return notDeserialized(err)
	}
	return nil
}

// What a body that holds nothing is refused with.
var (
	errEmptyBody = errors.New("the body is empty")
	errNullBody  = errors.New("the body is null")
)

// notDeserialized is Azure's answer to a body whose JSON does not fit the
// types of the API's model.
func notDeserialized(err error) *armerror.Error {
	return errorf("InvalidRequestContent", "", "The request content was invalid and could not be deserialized: '%v'.", err)
}

// passed renders err, if any, and reports whether there was none: the
// bridge for handlers that still write their own answers.
func (s *Server) passed(r *request, err error) bool {
	if err != nil {
		s.writeErr(r, err)
		return false
	}
	return true
}

func (s *Server) readBody(r *request) ([]byte, bool) {
	body, err := readBody(r)
	return body, s.passed(r, err)
}

func (s *Server) readJSON(r *request, v any) bool { return s.passed(r, bodyJSON(r, v)) }

func (s *Server) readOptionalJSON(r *request, v any) bool { return s.passed(r, optionalJSON(r, v)) }

func methodNotAllowed(r *request) error {
	return errorf("MethodNotAllowed", "", "The requested method '%s' is not allowed on '%s'.", r.Method, r.URL.Path)
}

func (s *Server) methodNotAllowed(r *request) { s.writeErr(r, methodNotAllowed(r)) }

// notServed is what the answer to a path azemu does not serve says.
const notServed = "is not an operation azemu serves"

func notFound(r *request) error {
	return errorf("NotFound", "", "The requested path '%s' "+notServed+". See docs/api-coverage.md.", r.URL.Path)
}

func (s *Server) notFound(r *request) { s.writeErr(r, notFound(r)) }

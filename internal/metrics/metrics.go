package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/azemu/azemu/internal/engine"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the emulator's Prometheus registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	changes  *prometheus.CounterVec
	// series keeps each (method, code)'s counter and histogram once
	// found, so that a request does not hash its labels into the vectors
	// (nor write its code as text, nor box a key) every time.
	series [len(requestMethods) + 1][1000]atomic.Pointer[requestSeries]
}

// requestMethods are the methods requests are labelled by; any other
// (a client may send any token as its method) is counted as otherMethod,
// so that made-up methods cannot grow the series without bound.
var requestMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

const otherMethod = "other"

// methodIndex is method's place in requestMethods, len(requestMethods)
// for any other.
func methodIndex(method string) int {
	for i, m := range requestMethods {
		if m == method {
			return i
		}
	}
	return len(requestMethods)
}

type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// New registers the emulator's metrics for eng, with the Go runtime's and
// the process's own.
func New(eng *engine.Engine) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azemu_http_requests_total",
			Help: "HTTP requests served, by method (\"other\" for any but the nine of HTTP) and status code.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "azemu_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method (\"other\" for any but the nine of HTTP).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azemu_state_changes_total",
			Help: "State changes committed to the history, by power state entered (\"none\" before the first).",
		}, []string{"power_state"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.changes, fleet{eng},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eng.OnChange(func(c engine.Change) {
		// On the commit path: counting only, never blocking.
		for _, e := range c.Events {
			p := e.PowerState
			if p == "" {
				p = "none"
			}
			m.changes.WithLabelValues(p).Inc()
		}
	})
	return m
}

// Handler serves the metrics in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one answered request: by its method (otherMethod
// for one not in requestMethods) and status code.
func (m *Metrics) ObserveRequest(method string, code int, d time.Duration) {
	mi := methodIndex(method)
	if code < 0 || code >= len(m.series[mi]) {
		code = 0 // net/http writes none outside 100-999
	}
	p := &m.series[mi][code]
	s := p.Load()
	if s == nil {
		label := otherMethod
		if mi < len(requestMethods) {
			label = requestMethods[mi]
		}
		// The vectors hand out one child per label values, so two
		// requests storing at once store the same series.
		s = &requestSeries{count: m.requests.WithLabelValues(label, strconv.Itoa(code)), latency: m.latency.WithLabelValues(label)}
		p.Store(s)
	}
	s.count.Inc()
	s.latency.Observe(d.Seconds())
}

// fleet reads the engine's counts at each scrape, so the figures are never
// stale and nothing runs between scrapes.
type fleet struct{ eng *engine.Engine }

var (
	vmsDesc = prometheus.NewDesc("azemu_vms", "VMs by power state (\"none\" before the first); billed says whether compute is charged in it.",
		[]string{"power_state", "billed"}, nil)
	opsDesc      = prometheus.NewDesc("azemu_operations_in_progress", "Asynchronous operations not yet ended.", nil, nil)
	disksDesc    = prometheus.NewDesc("azemu_disks", "Managed disks; they bill whatever their VM's state.", nil, nil)
	groupDesc    = prometheus.NewDesc("azemu_resource_groups", "Resource groups.", nil, nil)
	writableDesc = prometheus.NewDesc("azemu_store_writable", "1 while the store takes writes, 0 while they fail (see azemu_store_write_failures_total).", nil, nil)
	failuresDesc = prometheus.NewDesc("azemu_store_write_failures_total", "Writes to the store that failed, by problem (diskFull, writeFailed).", []string{"problem"}, nil)
)

func (fleet) Describe(ch chan<- *prometheus.Desc) {
	ch <- vmsDesc
	ch <- opsDesc
	ch <- disksDesc
	ch <- groupDesc
	ch <- writableDesc
	ch <- failuresDesc
}

func (f fleet) Collect(ch chan<- prometheus.Metric) {
	st := f.eng.Stats()
	for power, n := range st.ByPower {
		ch <- prometheus.MustNewConstMetric(vmsDesc, prometheus.GaugeValue, float64(n), power, strconv.FormatBool(billed(power)))
	}
	ch <- prometheus.MustNewConstMetric(opsDesc, prometheus.GaugeValue, float64(st.OperationsInProgress))
	ch <- prometheus.MustNewConstMetric(disksDesc, prometheus.GaugeValue, float64(st.Disks))
	ch <- prometheus.MustNewConstMetric(groupDesc, prometheus.GaugeValue, float64(st.Groups))
	sh := f.eng.StoreHealth()
	writable := 0.0
	if sh.Writable {
		writable = 1
	}
	ch <- prometheus.MustNewConstMetric(writableDesc, prometheus.GaugeValue, writable)
	for _, p := range []string{"diskFull", "writeFailed"} {
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(sh.Failures[p]), p)
	}
}

func billed(power string) bool {
	switch power {
	case "starting", "running", "stopping", "stopped":
		return true
	}
	return false
}

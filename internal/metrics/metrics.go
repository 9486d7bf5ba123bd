package metrics

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minimi-go/minimi/internal/phases"
)

// Metrics is a service's private Prometheus registry: the request, phase
// and script-failure series, the Go runtime and process collectors, and
// whatever collectors Register adds. It is safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	handler  http.Handler
	requests *prometheus.CounterVec
	duration *histogramVec
	phases   *histogramVec
	failures *prometheus.CounterVec
}

var _ phases.Observer = (*Metrics)(nil)

// New returns the metrics of one service.
func New(opts Options) (*Metrics, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: nameRequests,
			Help: "HTTP requests answered, by route (the URL in MiniMi notation), method and status."},
			[]string{labelRoute, labelMethod, labelStatus}),
		duration: newHistogramVec(nameRequestDuration, "Time to answer an HTTP request, by route and method.",
			opts.Buckets, labelRoute, labelMethod),
		phases: newHistogramVec(namePhaseDuration, "Time the handlers of one phase ran in one request, by route and phase.",
			opts.Buckets, labelRoute, labelPhase),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: nameScriptFailures,
			Help: "Requests whose scripts failed, by route and reason (error, timeout, memory)."},
			[]string{labelRoute, labelReason}),
	}
	err := m.Register(m.requests, m.duration, m.phases, m.failures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err != nil {
		return nil, err
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{opts.Logger.With("component", "metrics")},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m, nil
}

// Register adds collectors to the registry, such as those of
// NewLogCollector, NewOutboxCollector and NewNATSCollector.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Gatherer is the registry, for tests and for pushing elsewhere.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// errorLog passes the handler's errors to slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) { l.log.Error("metrics scrape", "error", fmt.Sprint(v...)) }

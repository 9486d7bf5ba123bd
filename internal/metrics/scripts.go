package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimi-go/minimi/internal/phases"
)

// reasons are the reason labels of the script failures, by phases.Failure.
var reasons = [...]string{
	phases.FailError:   "error",
	phases.FailTimeout: "timeout",
	phases.FailMemory:  "memory",
}

// routeScripts are the phase and failure series of one route. Each series
// is resolved on first use, so that a route shows only the phases it runs.
type routeScripts struct {
	m      *Metrics
	route  string
	names  []string
	phases []lazy[*histogram]
	fails  [len(reasons)]lazy[prometheus.Counter]
}

var _ phases.RouteObserver = (*routeScripts)(nil)

// Route returns the observer of the phases and script failures of url, for
// phases.Options.Observer. The engine calls it once per URL when it loads.
func (m *Metrics) Route(url string, names []string) phases.RouteObserver {
	return &routeScripts{m: m, route: url, names: names, phases: make([]lazy[*histogram], len(names))}
}

// Phase observes the time the handlers of phase i ran.
func (rs *routeScripts) Phase(i int, d time.Duration) {
	if i < 0 || i >= len(rs.phases) {
		return
	}
	h := rs.phases[i].get(func() *histogram {
		return rs.m.phases.With(rs.route, rs.names[i])
	})
	h.Observe(d)
}

// Fail counts a request whose scripts failed.
func (rs *routeScripts) Fail(f phases.Failure) {
	if int(f) >= len(reasons) {
		return
	}
	c := rs.fails[f].get(func() prometheus.Counter {
		return rs.m.failures.WithLabelValues(rs.route, reasons[f])
	})
	c.Inc()
}

// lazy is a series resolved on first use. Resolving is idempotent (a vector
// returns the same child for the same labels), so two requests racing to
// resolve it get the same series.
type lazy[T any] struct{ p atomic.Pointer[T] }

func (l *lazy[T]) get(resolve func() T) T {
	if v := l.p.Load(); v != nil {
		return *v
	}
	v := resolve()
	l.p.Store(&v)
	return v
}

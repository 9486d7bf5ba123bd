package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// methods are the method labels; anything else is counted as "OTHER", so
// that made-up methods cannot add series.
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace, "OTHER",
}

// methodIndex is the index of method in methods.
func methodIndex(method string) int {
	switch method {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodPatch:
		return 4
	case http.MethodDelete:
		return 5
	case http.MethodOptions:
		return 6
	case http.MethodConnect:
		return 7
	case http.MethodTrace:
		return 8
	}
	return len(methods) - 1
}

// Requests are the request series of one route. A handler gets them once,
// when it is built, so that a request only finds its series among the few
// this route has seen: no label hashing, no allocation.
type Requests struct {
	m     *Metrics
	route string
	mu    sync.Mutex // serialises adding series
	sets  [len(methods)]atomic.Pointer[methodSeries]
}

// methodSeries are the series of one route and method seen so far. A value
// is never changed once published: a new status makes a copy.
type methodSeries struct {
	latency *histogram
	codes   []statusCounter
}

type statusCounter struct {
	status int
	count  prometheus.Counter
}

// Requests returns the request series of route, the URL in MiniMi notation
// (or NotFoundRoute, or a built-in's path). Series appear on their first
// request.
func (m *Metrics) Requests(route string) *Requests {
	return &Requests{m: m, route: route}
}

// Observe counts one request answered with status after d. A status of 0
// (nothing written) counts as 200, as net/http answers.
func (rq *Requests) Observe(method string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	count, latency := rq.series(methodIndex(method), status)
	count.Inc()
	latency.Observe(d)
}

func (rq *Requests) series(i, status int) (prometheus.Counter, *histogram) {
	if ms := rq.sets[i].Load(); ms != nil {
		for _, sc := range ms.codes {
			if sc.status == status {
				return sc.count, ms.latency
			}
		}
	}
	return rq.add(i, status)
}

// add resolves the series of method i and status and publishes them.
func (rq *Requests) add(i, status int) (prometheus.Counter, *histogram) {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	old := rq.sets[i].Load()
	next := &methodSeries{}
	if old != nil {
		for _, sc := range old.codes {
			if sc.status == status { // added meanwhile
				return sc.count, old.latency
			}
		}
		next.latency = old.latency
		next.codes = append(next.codes, old.codes...)
	} else {
		next.latency = rq.m.duration.With(rq.route, methods[i])
	}
	count := rq.m.requests.WithLabelValues(rq.route, methods[i], strconv.Itoa(status))
	next.codes = append(next.codes, statusCounter{status: status, count: count})
	rq.sets[i].Store(next)
	return count, next.latency
}

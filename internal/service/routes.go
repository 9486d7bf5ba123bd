package service

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/minimi-go/minimi/internal/router"
)

// Routes is what a service serves: the route table of the running site and
// the methods each URL allows (nil for a folder that is no URL). A
// *phases.Engine is one.
type Routes interface {
	Table() *router.Table
	Allow(f *router.Folder) []string
}

// endpoint is one registered URL.
type endpoint struct {
	name    string
	subject string
	url     string
	methods string
}

// routeSet is one version of the route table as the service sees it: the
// endpoints to register, and a router that tells which URL a path reaches.
type routeSet struct {
	endpoints []endpoint
	mux       *chi.Mux
	urlOf     map[string]string // chi pattern → folder URL
}

func newRouteSet(prefix string, routes Routes) *routeSet {
	rs := &routeSet{mux: chi.NewRouter(), urlOf: map[string]string{}}
	table := routes.Table()
	exists := func(f *router.Folder) bool { return routes.Allow(f) != nil }
	router.Mount(rs.mux, table, exists, func(*router.Folder) http.Handler { return http.NotFoundHandler() })
	names := map[string]int{}
	for _, f := range table.Folders {
		if f.Segment.Kind == router.Group || !exists(f) {
			continue
		}
		rs.urlOf[f.Pattern] = f.URL
		name := endpointName(f)
		if n := names[name]; n > 0 {
			names[name] = n + 1
			name += "-" + strconv.Itoa(n+1)
		} else {
			names[name] = 1
		}
		rs.endpoints = append(rs.endpoints, endpoint{name: name, subject: routeSubject(prefix, f), url: f.URL,
			methods: strings.Join(routes.Allow(f), ",")})
	}
	return rs
}

// owner returns the URL of the folder that serves path (escaped, as over
// HTTP), or "" when none does. It routes the path as the HTTP handler does,
// on its router.Path.
func (rs *routeSet) owner(path string) string {
	p, err := router.ParsePath(path)
	if err != nil {
		return ""
	}
	rc := chi.NewRouteContext()
	pattern := rs.mux.Find(rc, http.MethodGet, p.Route)
	if strings.HasSuffix(pattern, "*") && rc.URLParam("*") == "" {
		return "" // a catch-all needs a segment (router.ErrEmptyCatchAll)
	}
	return rs.urlOf[pattern]
}

// same reports whether rs registers exactly the endpoints of other.
func (rs *routeSet) same(other *routeSet) bool {
	return other != nil && slices.Equal(rs.endpoints, other.endpoints)
}

// counters are the requests one URL served, for the endpoint's stats data.
type counters struct {
	served, clientErrors, serverErrors atomic.Int64
}

// endpointData is the data field of an endpoint's $SRV.STATS entry.
type endpointData struct {
	URL          string `json:"url"`
	Served       int64  `json:"served"`
	ClientErrors int64  `json:"status_4xx"`
	ServerErrors int64  `json:"status_5xx"`
}

// tally counts the requests of each URL, across reloads.
type tally struct{ byURL sync.Map } // URL → *counters

func (t *tally) of(url string) *counters {
	if c, ok := t.byURL.Load(url); ok {
		return c.(*counters)
	}
	c, _ := t.byURL.LoadOrStore(url, &counters{})
	return c.(*counters)
}

func (t *tally) count(url string, status int) {
	c := t.of(url)
	c.served.Add(1)
	switch {
	case status >= 500:
		c.serverErrors.Add(1)
	case status >= 400:
		c.clientErrors.Add(1)
	}
}

func (t *tally) data(url string) endpointData {
	c := t.of(url)
	return endpointData{URL: url, Served: c.served.Load(), ClientErrors: c.clientErrors.Load(), ServerErrors: c.serverErrors.Load()}
}

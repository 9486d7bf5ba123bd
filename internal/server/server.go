package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/metrics"
	"github.com/minimi-go/minimi/internal/phases"
)

// Options configures a Server.
type Options struct {
	// Site is the service to serve. Required.
	Site *Site
	// Logger receives errors; nil means discard.
	Logger *slog.Logger
	// AccessLog receives the request log, one JSON line per request (see
	// docs/operations.md); nil means none. Each line is one Write.
	AccessLog io.Writer
	// ShutdownTimeout bounds how long Serve waits for requests in flight when
	// its context ends; zero means 10s. Requests still running then are cut
	// off: their connections close.
	ShutdownTimeout time.Duration
	// Events serves GET /_minimi/events (the event stream); nil answers 404.
	Events http.Handler
	// Metrics counts and times the requests and serves GET /_minimi/metrics;
	// nil measures nothing and answers 404 there.
	Metrics *metrics.Metrics
}

// Server serves a Site over HTTP. The site can be swapped while serving:
// requests in flight finish on the version they started with.
type Server struct {
	log     *slog.Logger
	access  accessLog
	opts    Options
	current atomic.Pointer[loaded]
	serving atomic.Bool
	// streams ends when shutdown starts: long-lived replies (the event
	// stream) end with it, so that Shutdown does not wait for them.
	streams    context.Context
	endStreams context.CancelFunc
	inFlight   atomic.Int64 // HTTP requests being served, event streams included
	streaming  atomic.Int64 // event streams open
	cutOff     atomic.Bool  // the shutdown grace ran out: a request ending now was cut off
}

// maxHeaderWait bounds the time a request's headers may take to arrive,
// also when limits.request_ms is longer.
const maxHeaderWait = 10 * time.Second

// cutOffWait bounds the wait, once the shutdown grace ran out and the
// connections closed, for the handlers cut off to end (a script stops when
// its request's context does) and write their log lines.
const cutOffWait = 2 * time.Second

// loaded is one site with the handler built for it. Its event streams end
// when a site that lets other callers read them replaces it.
type loaded struct {
	site       *Site
	handler    http.Handler
	streams    context.Context
	endStreams context.CancelFunc
}

var _ http.Handler = (*Server)(nil)

// New returns a Server for opts.Site.
func New(opts Options) (*Server, error) {
	if opts.Site == nil {
		return nil, errors.New("server: no site")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	s := &Server{log: opts.Logger.With(keyComponent, "http"), access: accessLog{w: opts.AccessLog}, opts: opts}
	s.streams, s.endStreams = context.WithCancel(context.Background())
	s.Swap(opts.Site)
	return s, nil
}

// Swap makes site the one served from the next request on and returns the
// previous one (nil the first time). When site changes who may read the
// event stream (clients, whitelist, events.public), the streams open end,
// so that their callers connect again and are checked against site.
func (s *Server) Swap(site *Site) *Site {
	l := &loaded{site: site}
	prev := s.current.Load()
	if prev != nil && sameStreamAccess(prev.site.Config, site.Config) {
		l.streams, l.endStreams = prev.streams, prev.endStreams
	} else {
		l.streams, l.endStreams = context.WithCancel(s.streams)
	}
	l.handler = s.handler(site, l.streams)
	old := s.current.Swap(l)
	if old == nil {
		return nil
	}
	if old.streams != l.streams {
		old.endStreams()
	}
	return old.site
}

// sameStreamAccess says whether a and b let the same callers read the
// event stream: the same client keys and addresses, browser origins and
// events.public.
func sameStreamAccess(a, b *config.Config) bool {
	sameClient := func(x, y config.Client) bool { return x.KeySHA256 == y.KeySHA256 && slices.Equal(x.CIDRs, y.CIDRs) }
	return maps.EqualFunc(a.Clients, b.Clients, sameClient) && slices.Equal(a.Whitelist, b.Whitelist) &&
		a.Events.Public == b.Events.Public
}

func (s *Server) site() *Site { return s.current.Load().site }

// Site returns the site being served.
func (s *Server) Site() *Site { return s.site() }

func (s *Server) dev() bool { return s.site().Config.Dev }

func (s *Server) isReady() bool { return s.serving.Load() }

// ServeHTTP serves r with the current site.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.current.Load().handler.ServeHTTP(w, r)
}

// eventsGuard serves h, the event stream, to the callers cfg lets read it.
// The stream carries the records of every command, whatever checks the
// endpoints' scripts make: with no client keys configured and events.public
// off, only a loopback peer (the machine itself) may read it. With keys, the
// access guard has already let a known client through.
func (s *Server) eventsGuard(cfg *config.Config, h http.Handler) http.Handler {
	if len(cfg.Clients) > 0 || cfg.Events.Public {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackPeer(r) {
			s.writeError(w, r, &phases.Error{Status: http.StatusForbidden, Title: http.StatusText(http.StatusForbidden),
				Detail: "the event stream carries every record, so it is served to this machine only: configure " +
					"client keys, or set events.public in config.json to serve it to any address"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackPeer reports whether r comes from a loopback address.
func loopbackPeer(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// stream serves a long-lived reply that ends when the server shuts down,
// or when ends does: when the site serving it is replaced by one that lets
// other callers read the stream.
func (s *Server) stream(ends context.Context, h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.streaming.Add(1)
		defer s.streaming.Add(-1)
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(ends, cancel)()
		h.ServeHTTP(w, r.WithContext(ctx))
	}
}

// serveCounted serves r over HTTP, counted among the requests in flight.
func (s *Server) serveCounted(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	s.ServeHTTP(w, r)
	if s.cutOff.Load() {
		s.log.Warn("request cut off by the stop", keyRequestID, requestIDOf(r), keyMethod, r.Method,
			keyPath, r.URL.EscapedPath())
	}
}

// Serve accepts connections on ln until ctx ends, then stops accepting,
// waits for requests in flight (up to ShutdownTimeout), cuts off those
// still running, and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cfg := s.site().Config
	reqTimeout := time.Duration(cfg.Limits.RequestMS) * time.Millisecond
	hs := &http.Server{
		Handler:           http.HandlerFunc(s.serveCounted),
		ReadHeaderTimeout: min(maxHeaderWait, reqTimeout), // the headers are part of the request
		ReadTimeout:       reqTimeout,
		WriteTimeout:      reqTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    goHeaderLimit(cfg.Limits.HeaderBytes),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.endStreams)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.serving.Store(true)
	select {
	case err := <-errc:
		s.serving.Store(false)
		return err
	case <-ctx.Done():
	}
	s.serving.Store(false)
	streams := s.streaming.Load()
	s.log.Info("stopping", "requests", s.inFlight.Load()-streams, "event_streams", streams)
	err := s.shutdown(hs)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// headerSlack is what net/http reads past MaxHeaderBytes before it answers
// 431: room for one more fill of its 4 KiB read buffer.
const headerSlack = 4096

// goHeaderLimit is the MaxHeaderBytes that makes net/http refuse a header
// block, request line included, of more than limit bytes. config keeps
// limits.header_bytes above headerSlack.
func goHeaderLimit(limit int) int { return max(limit-headerSlack, 1) }

// shutdown closes the listener and waits for the requests in flight, up to
// ShutdownTimeout. Then it closes the connections of those still running,
// which ends their scripts, and waits a little for their log lines.
func (s *Server) shutdown(hs *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	s.cutOff.Store(true)
	s.log.Warn("shutdown grace ran out: the requests in flight are cut off", "requests", s.inFlight.Load(),
		"grace", s.opts.ShutdownTimeout.String())
	err = hs.Close()
	deadline := time.Now().Add(cutOffWait)
	for s.inFlight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

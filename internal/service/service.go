package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"golang.org/x/net/http/httpguts"

	"github.com/minimi-go/minimi/internal/problem"
	"github.com/minimi-go/minimi/internal/requestid"
)

// callerGrace is how long past the caller's timeout_ms a request may run:
// the caller gives up first and answers for it, and the callee stops soon after.
const callerGrace = 100 * time.Millisecond

// maxTimeoutMS is the longest timeout_ms that, with callerGrace, a
// time.Duration holds (some 292 years); past it the product would overflow
// into a time-out already over.
const maxTimeoutMS = int64((math.MaxInt64 - callerGrace) / time.Millisecond)

// flushTimeout bounds the wait for the server to confirm unsubscriptions.
const flushTimeout = 2 * time.Second

// RemoteAddr is the RemoteAddr of every request that came over the bus.
// It is no IP address, so a client restricted by cidrs never matches it.
const RemoteAddr = "nats"

// Service answers a MiniMi service's routes over NATS and registers them
// with the NATS services API. It is safe for concurrent use.
type Service struct {
	opts   Options
	nc     *nats.Conn
	log    *slog.Logger
	prefix string
	routes atomic.Pointer[routeSet] // what the unrouted subscriptions check against
	tally  tally
	slots  chan struct{} // one per request in flight

	mu       sync.Mutex // guards micro, retiring, unrouted, closed and adding to wg
	micro    micro.Service
	retiring []micro.Service // registrations replaced while the connection was down
	unrouted []*nats.Subscription
	closed   bool
	status   chan nats.Status // the connection's CONNECTED events, for retire
	wg       sync.WaitGroup
	ctx      context.Context // canceled by Close once its wait ends
	cancel   context.CancelFunc
}

// New registers the service on nc: one endpoint per URL of opts.Routes, in
// the queue group opts.QueueGroup, plus the subscriptions that answer paths
// no URL serves.
func New(nc *nats.Conn, opts Options) (*Service, error) {
	if nc == nil {
		return nil, ErrBusOff
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	def := DefaultOptions()
	opts.Name = Name(opts.Name)
	if opts.QueueGroup == "" {
		opts.QueueGroup = def.QueueGroup
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = def.MaxInFlight
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, nc: nc, prefix: Prefix(opts.Name), slots: make(chan struct{}, opts.MaxInFlight),
		log: lg.With(logKeyComponent, "service", logKeyService, opts.Name)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	rs := newRouteSet(s.prefix, opts.Routes)
	svc, err := s.register(rs)
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.micro = svc
	s.routes.Store(rs)
	if err := s.subscribeUnrouted(); err != nil {
		_ = svc.Stop()
		s.cancel()
		return nil, err
	}
	s.flush("service registered")
	s.status = nc.StatusChanged(nats.CONNECTED)
	go s.watch()
	s.log.Info("service registered", logKeySubject, s.prefix, logKeyEndpoints, len(rs.endpoints), logKeyID, svc.Info().ID)
	return s, nil
}

// register adds a NATS service with one endpoint per URL of rs.
func (s *Service) register(rs *routeSet) (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:         s.opts.Name,
		Version:      version(s.opts.Version),
		Description:  s.opts.Description,
		Metadata:     map[string]string{"minimi_version": s.opts.Version, "subject": s.prefix},
		QueueGroup:   s.opts.QueueGroup,
		StatsHandler: func(ep *micro.Endpoint) any { return s.tally.data(ep.Metadata["url"]) },
		ErrorHandler: func(_ micro.Service, err *micro.NATSError) {
			s.log.Warn("service subscription failed", logKeySubject, err.Subject, logKeyError, err.Description)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("register service %s: %w", s.opts.Name, err)
	}
	handler := micro.HandlerFunc(func(r micro.Request) { s.dispatch(r.Subject(), r.Reply(), r.Data(), r.Headers()) })
	for _, ep := range rs.endpoints {
		err := svc.AddEndpoint(ep.name, handler, micro.WithEndpointSubject(ep.subject),
			micro.WithEndpointMetadata(map[string]string{"url": ep.url, "methods": ep.methods}))
		if err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("register %s on %s: %w", ep.url, ep.subject, err)
		}
	}
	return svc, nil
}

// subscribeUnrouted listens on the root subject and below it, in a queue
// group of its own, for the paths no URL serves: they get the 404 HTTP
// gives them. A path some URL serves is left to that URL's endpoint.
func (s *Service) subscribeUnrouted() error {
	queue := s.opts.QueueGroup + "-unrouted"
	for _, subj := range []string{s.prefix, s.prefix + ".>"} {
		sub, err := s.nc.QueueSubscribe(subj, queue, func(m *nats.Msg) {
			s.dispatchUnrouted(m)
		})
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", subj, err)
		}
		s.unrouted = append(s.unrouted, sub)
	}
	return nil
}

// Update registers the URLs of routes after a reload. When they differ from
// the registered ones, a new NATS service is added before the old one stops,
// so that every request finds a responder meanwhile; its id changes and its
// stats start again. While the connection is down the old one stops only
// once it is back (see retire). On error the old endpoints stay registered.
func (s *Service) Update(routes Routes) error {
	rs := newRouteSet(s.prefix, routes)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if rs.same(s.routes.Load()) {
		s.routes.Store(rs)
		return nil
	}
	svc, err := s.register(rs)
	if err != nil {
		return err
	}
	s.flush("new endpoints registered")
	s.routes.Store(rs)
	old := s.micro
	s.micro = svc
	s.log.Info("service endpoints changed", logKeyEndpoints, len(rs.endpoints), logKeyID, svc.Info().ID)
	s.retiring = append(s.retiring, old)
	return s.retire()
}

// retire stops the registrations Update replaced, when the connection is
// up; s.mu is held. A stop drains the subscriptions, and nats.go does not
// drain while reconnecting: it sends no unsubscription, sends the
// subscriptions again on reconnect, and when the drain ends forgets them
// without unsubscribing, so the server would keep handing requests to
// subscriptions no one reads. So while the connection is down the replaced
// registrations stay (no request reaches them then), and watch retires them
// once it is back. A drop during the stop itself is left to resync.
func (s *Service) retire() error {
	if len(s.retiring) == 0 {
		return nil
	}
	reconnects := s.nc.Stats().Reconnects
	if !s.nc.IsConnected() {
		s.log.Info("nats disconnected; the previous endpoints stop once it is back", logKeyEndpoints, len(s.retiring))
		return nil
	}
	var err error
	for _, old := range s.retiring {
		if serr := old.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop the previous registration %s: %w", old.Info().ID, serr))
		}
	}
	s.retiring = nil
	if !s.nc.IsConnected() || s.nc.Stats().Reconnects != reconnects {
		s.resync(reconnects)
		return err
	}
	s.flush("previous endpoints stopped") // from now on only the new registration answers $SRV requests
	return err
}

// watch retires the replaced registrations each time the connection is up
// again, until Close removes the listener.
func (s *Service) watch() {
	for range s.status {
		s.mu.Lock()
		if !s.closed {
			if err := s.retire(); err != nil {
				s.log.Warn("previous endpoints not stopped", logKeyError, err)
			}
		}
		s.mu.Unlock()
	}
}

// drainBound is how long a drain of nats.go lasts at most, given that its
// handler keeps up: it waits for a flush, which gives up after 10 seconds,
// and then for the messages already received to be handled.
const drainBound = 11 * time.Second

// resync handles a connection lost while retire stopped registrations: the
// drains may have sent nothing and then be sent again on reconnect, and the
// server keeps what they leave. Once the drains have ended, and if the
// connection came back since, a forced reconnect leaves the server with
// only the subscriptions still in use; a reconnect still to come sends
// only those anyway.
func (s *Service) resync(reconnects uint64) {
	s.log.Warn("nats disconnected while the previous endpoints stopped; reconnecting once their drains end", "after", drainBound)
	time.AfterFunc(drainBound, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || !s.nc.IsConnected() || s.nc.Stats().Reconnects == reconnects {
			return
		}
		if err := s.nc.ForceReconnect(); err != nil {
			s.log.Warn("nats reconnect failed", logKeyError, err)
		}
	})
}

// flush waits until the server has every subscription change made so far,
// so that a request sent from another connection finds them. While the
// connection is not up it returns at once, and when the server stops
// answering it logs and goes on: the changes are sent on reconnect.
func (s *Service) flush(what string) {
	if !s.nc.IsConnected() {
		return
	}
	if err := s.nc.FlushTimeout(flushTimeout); err != nil {
		s.log.Warn("nats flush failed", "after", what, logKeyError, err)
	}
}

// Info is what $SRV.INFO answers for this instance.
func (s *Service) Info() micro.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.micro.Info()
}

// Stats is what $SRV.STATS answers for this instance.
func (s *Service) Stats() micro.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.micro.Stats()
}

// Close stops listening, then waits for the requests in flight until ctx
// ends; requests still running then see their context canceled, and Close
// waits a little more (cutOffWait) for their handlers to end. A request
// that reaches the service after it stopped listening is answered 503. It
// is safe to call more than once. Requests cut off are not an error:
// CloseCutOff reports them.
func (s *Service) Close(ctx context.Context) (err error) {
	_, err = s.close(ctx)
	return err
}

// CloseCutOff is Close that also reports whether requests in flight were
// cut off.
func (s *Service) CloseCutOff(ctx context.Context) (cutOff bool, err error) { return s.close(ctx) }

func (s *Service) close(ctx context.Context) (cutOff bool, err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, nil
	}
	s.nc.RemoveStatusListener(s.status)
	err = s.micro.Stop()
	for _, old := range s.retiring {
		err = errors.Join(err, old.Stop())
	}
	s.retiring = nil
	for _, sub := range s.unrouted {
		if derr := sub.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
			err = errors.Join(err, derr)
		}
	}
	s.closed = true
	s.mu.Unlock()
	// The drains sent their unsubscriptions; a flush returns once the server
	// has read them, so that no request reaches this service after Close
	// (a caller gets no responders instead of no reply). While the
	// connection is down no server can send a request, and a flush would
	// only wait out flushWait; a request that comes after a reconnect is
	// answered 503.
	if s.nc.IsConnected() {
		fctx, cancel := context.WithTimeout(ctx, flushWait)
		if ferr := s.nc.FlushWithContext(fctx); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
			err = errors.Join(err, fmt.Errorf("flush: %w", ferr))
		}
		cancel()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		cutOff = true
		s.cancel() // their scripts stop; give them a moment to answer and log
		select {
		case <-done:
		case <-time.After(cutOffWait):
		}
	}
	s.cancel()
	return cutOff, err
}

// flushWait bounds Close's wait for the server to read the unsubscriptions.
const flushWait = 2 * time.Second

// cutOffWait bounds the wait, once Close's context has ended and the
// requests still running were cancelled, for their handlers to end.
const cutOffWait = 2 * time.Second

// dispatchUnrouted serves a message of the unrouted subscriptions when no
// URL serves its path.
func (s *Service) dispatchUnrouted(m *nats.Msg) {
	u, err := s.url(m.Subject, "")
	if err == nil && s.routes.Load().owner(u.EscapedPath()) != "" {
		return // the URL's own endpoint received it too
	}
	s.dispatch(m.Subject, m.Reply, m.Data, micro.Headers(m.Header))
}

// dispatch serves one message on its own goroutine, holding a slot; when
// every slot is taken it waits, and NATS holds further messages back.
func (s *Service) dispatch(subject, replyTo string, data []byte, hdr micro.Headers) {
	s.slots <- struct{}{}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.slots
		s.respond(replyTo, problemReply(http.StatusServiceUnavailable, "the service is stopping", "", busRequestID(nil, hdr)))
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer func() { <-s.slots; s.wg.Done() }()
		s.respond(replyTo, s.serve(subject, data, hdr))
	}()
}

// serve runs one request through the handler and returns the reply.
func (s *Service) serve(subject string, data []byte, hdr micro.Headers) *reply {
	env, err := decodeRequest(data)
	if err != nil {
		return problemReply(http.StatusBadRequest, err.Error(), "", busRequestID(nil, hdr))
	}
	u, err := s.url(subject, env.Query)
	if err != nil {
		return problemReply(http.StatusBadRequest, err.Error(), "", busRequestID(env, hdr))
	}
	if u.Path == "/_minimi" || strings.HasPrefix(u.Path, "/_minimi/") {
		return problemReply(http.StatusNotFound, "the built-ins under /_minimi are not served over NATS", u.EscapedPath(), busRequestID(env, hdr))
	}
	ctx, cancel := s.ctx, context.CancelFunc(func() {})
	if env.TimeoutMS > 0 && env.TimeoutMS <= maxTimeoutMS { // a longer one bounds nothing the callee's limits do not
		ctx, cancel = context.WithTimeout(ctx, time.Duration(env.TimeoutMS)*time.Millisecond+callerGrace)
	}
	defer cancel()
	req, err := newHTTPRequest(ctx, u, env, hdr)
	if err != nil {
		return problemReply(http.StatusBadRequest, err.Error(), u.EscapedPath(), busRequestID(env, hdr))
	}
	if n, _ := strconv.Atoi(req.Header.Get(HeaderHops)); n > MaxHops {
		return problemReply(http.StatusLoopDetected, fmt.Sprintf("the request has passed through %d services, more than %d: "+
			"services that call each other in a loop?", n, MaxHops), u.EscapedPath(), busRequestID(env, hdr))
	}
	w := newRecorder()
	s.opts.Handler.ServeHTTP(w, req)
	rep := w.reply()
	if owner := s.routes.Load().owner(u.EscapedPath()); owner != "" {
		s.tally.count(owner, rep.Status)
	}
	return rep
}

// url is the URL of a request on subject with the raw query.
func (s *Service) url(subject, query string) (*url.URL, error) {
	path, err := pathOf(s.prefix, subject)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSubject, err)
	}
	u.RawQuery = query
	return u, nil
}

// newHTTPRequest turns an envelope into the request the handler serves:
// the message's NATS headers, then the envelope's, and RemoteAddr "nats".
func newHTTPRequest(ctx context.Context, u *url.URL, env *request, hdr micro.Headers) (*http.Request, error) {
	h := http.Header{}
	for k, v := range hdr {
		h[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range env.Headers {
		h[k] = v
	}
	if err := checkHeader(h); err != nil {
		return nil, err
	}
	data, err := env.bytes(h.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if len(env.Body) > 0 && env.BodyBase64 == nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	req, err := http.NewRequestWithContext(ctx, env.Method, u.String(), bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEnvelope, err)
	}
	if len(data) == 0 {
		req.Body = http.NoBody
	}
	req.Header = h
	req.Host = RemoteAddr
	req.RemoteAddr = RemoteAddr
	req.RequestURI = u.RequestURI()
	return req, nil
}

// checkHeader refuses what Go's HTTP server refuses with a 400 before
// MiniMi sees it: a header name that is not a token, a value with a control
// character. Scripts see the same headers whichever way a request came.
func checkHeader(h http.Header) error {
	for k, vals := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("%w: header name %q is not a token", ErrBadEnvelope, k)
		}
		for _, v := range vals {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("%w: header %s holds a control character", ErrBadEnvelope, k)
			}
		}
	}
	return nil
}

// respond publishes rep to replyTo. A message without a reply subject was
// a publish, not a request: it ran, and its reply is dropped. A reply too
// large for the bus becomes a 502 problem that says how the request ended:
// the request was served, and a command committed.
func (s *Service) respond(replyTo string, rep *reply) {
	if replyTo == "" {
		return
	}
	data, err := json.Marshal(rep)
	if err == nil && int64(len(data)) > s.nc.MaxPayload() {
		err = fmt.Errorf("the reply (status %d) is %d bytes, more than the bus's max payload of %d; the request was served",
			rep.Status, len(data), s.nc.MaxPayload())
	}
	if err != nil {
		s.log.Error("reply failed", logKeySubject, replyTo, logKeyError, err)
		rep = problemReply(http.StatusBadGateway, err.Error(), "", requestid.From(rep.Headers[requestid.Header]))
		data, _ = json.Marshal(rep)
	}
	err = s.nc.PublishMsg(replyMsg(replyTo, rep, data))
	if errors.Is(err, nats.ErrMaxPayload) && rep.Status != http.StatusBadGateway { // its headers tipped it over
		s.log.Error("reply failed", logKeySubject, replyTo, logKeyError, err)
		rep = problemReply(http.StatusBadGateway, fmt.Sprintf("the reply (status %d) with its headers is more than the bus's max payload of %d; the request was served",
			rep.Status, s.nc.MaxPayload()), "", requestid.From(rep.Headers[requestid.Header]))
		data, _ = json.Marshal(rep)
		err = s.nc.PublishMsg(replyMsg(replyTo, rep, data))
	}
	if err != nil {
		s.log.Warn("reply failed", logKeySubject, replyTo, logKeyError, err)
	}
}

// replyMsg is the message of rep, encoded as data: with the services API's
// error headers from status 400 on.
func replyMsg(replyTo string, rep *reply, data []byte) *nats.Msg {
	msg := &nats.Msg{Subject: replyTo, Data: data}
	if rep.Status >= 400 {
		msg.Header = nats.Header{micro.ErrorCodeHeader: {strconv.Itoa(rep.Status)}, micro.ErrorHeader: {problem.Title(rep.Status)}}
	}
	return msg
}

// problemReply is a problem answered by the service itself, for a message
// that never reached the handler (or whose reply could not be sent), with
// its request id, as the handler's problems have.
func problemReply(status int, detail, instance, id string) *reply {
	d := problem.New(status, detail)
	d.Instance = instance
	d.RequestID = id
	rep := &reply{Status: status, Headers: header{"Content-Type": {problem.ContentType}, requestid.Header: {id}}}
	rep.setBody(problem.ContentType, d.JSON())
	return rep
}

// busRequestID is the id of a request the service answers itself: the
// X-Request-Id of its envelope (nil: none) or else of its message, when
// sane, or else a new one.
func busRequestID(env *request, hdr micro.Headers) string {
	if env != nil {
		for k, v := range env.Headers {
			if strings.EqualFold(k, requestid.Header) {
				return requestid.From(v)
			}
		}
	}
	for k, v := range hdr {
		if strings.EqualFold(k, requestid.Header) {
			return requestid.From(v)
		}
	}
	return requestid.New()
}

package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Call is one request to a service over the bus.
type Call struct {
	// Service is the callee's name (made safe with Name).
	Service string
	// Method is the HTTP method; "" means GET.
	Method string
	// Path is the URL path, optionally with "?query", as over HTTP.
	Path string
	// Header are the request headers (X-Client-Key, Content-Type, …); nil means none.
	Header http.Header
	// Body is the request body; its Content-Type header says how the
	// envelope carries it (see the package doc).
	Body []byte
	// Hops is how many services the request has passed through, its
	// caller's included; 0 for a call from outside any request.
	Hops int
}

// HeaderHops is the header of a message sent while a request runs: how
// many services the request has passed through. A service refuses one past
// MaxHops with a 508, so that services that call each other in a loop stop.
const HeaderHops = "Minimi-Hops"

// MaxHops is the most services one request passes through.
const MaxHops = 16

// hopsHeader is the NATS header of a message n hops deep, nil for 0.
func hopsHeader(n int) nats.Header {
	if n <= 0 {
		return nil
	}
	return nats.Header{HeaderHops: {strconv.Itoa(n)}}
}

// Reply is a service's answer: the status, headers and body the same
// request gets over HTTP.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Client sends messages, requests and calls over one NATS connection. A
// Client with a nil connection (or a nil *Client) answers every method with
// ErrBusOff. It is safe for concurrent use.
type Client struct {
	nc *nats.Conn
}

// NewClient returns a client on nc; nil means the bus is off.
func NewClient(nc *nats.Conn) *Client { return &Client{nc: nc} }

func (c *Client) conn() (*nats.Conn, error) {
	if c == nil || c.nc == nil {
		return nil, ErrBusOff
	}
	return c.nc, nil
}

// Publish sends data on subject, hops deep (see HeaderHops).
func (c *Client) Publish(subject string, data []byte, hops int) error {
	nc, err := c.conn()
	if err != nil {
		return err
	}
	if err := nc.PublishMsg(&nats.Msg{Subject: subject, Data: data, Header: hopsHeader(hops)}); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}

// Request sends data on subject and waits for one reply until ctx ends
// (ctx must have a deadline). The error wraps ErrNoResponders when no one
// listens on subject, ErrTimeout (and ctx's error) when ctx ends first.
func (c *Client) Request(ctx context.Context, subject string, data []byte, hops int) ([]byte, error) {
	msg, err := c.request(ctx, &nats.Msg{Subject: subject, Data: data, Header: hopsHeader(hops)})
	if err != nil {
		return nil, err
	}
	return msg.Data, nil
}

func (c *Client) request(ctx context.Context, m *nats.Msg) (*nats.Msg, error) {
	nc, err := c.conn()
	if err != nil {
		return nil, err
	}
	msg, err := nc.RequestMsgWithContext(ctx, m)
	switch {
	case err == nil:
		return msg, nil
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("%w on %s", ErrNoResponders, m.Subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return nil, fmt.Errorf("%w on %s: %w", ErrTimeout, m.Subject, context.DeadlineExceeded)
	}
	return nil, fmt.Errorf("request %s: %w", m.Subject, err)
}

// Call sends c to its service and returns the reply, whatever its status.
// ctx bounds the wait (it must have a deadline) and, through the envelope's
// timeout_ms, the callee's work. Errors are ErrBadPath, ErrNoResponders,
// ErrTimeout and ErrBadEnvelope (a reply that is not an envelope).
func (c *Client) Call(ctx context.Context, call Call) (*Reply, error) {
	path, query, _ := strings.Cut(call.Path, "?")
	subject, err := Subject(call.Service, path)
	if err != nil {
		return nil, err
	}
	data, err := encodeCall(ctx, call, query)
	if err != nil {
		return nil, err
	}
	msg, err := c.request(ctx, &nats.Msg{Subject: subject, Data: data, Header: hopsHeader(call.Hops)})
	if err != nil {
		return nil, err
	}
	return decodeReply(msg.Data)
}

// encodeCall builds the request envelope of call.
func encodeCall(ctx context.Context, call Call, query string) ([]byte, error) {
	req := request{Method: strings.ToUpper(call.Method), Query: query, Headers: header(call.Header)}
	req.setBody(call.Header.Get("Content-Type"), call.Body)
	if dl, ok := ctx.Deadline(); ok {
		req.TimeoutMS = max(time.Until(dl).Milliseconds(), 1)
	}
	data, err := json.Marshal(&req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEnvelope, err)
	}
	return data, nil
}

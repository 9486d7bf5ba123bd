package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/minimi-go/minimi/internal/phases"
)

type contextKey struct{ name string }

var requestIDKey = &contextKey{"request-id"}

// idPrefix and idSeq make request ids: unique per process run, cheap to make.
var (
	idPrefix = func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}()
	idSeq atomic.Uint64
)

// requestID takes X-Request-Id from the request when it is sane, or makes
// one, and echoes it on the reply.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			id = idPrefix + "-" + strconv.FormatUint(idSeq.Add(1), 10)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func saneID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func requestIDOf(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// statusWriter records the status and size of a reply.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	n, err := sw.ResponseWriter.Write(b)
	sw.bytes += n
	return n, err
}

// Flush lets streaming replies (server-sent events) through the wrapper.
func (sw *statusWriter) Flush() {
	if f, ok := sw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// logRequests writes one structured line per request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := ""
		if rc := chi.RouteContext(r.Context()); rc != nil {
			route = rc.RoutePattern()
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String(keyRequestID, requestIDOf(r)),
			slog.String(keyMethod, r.Method),
			slog.String(keyPath, r.URL.Path),
			slog.String(keyRoute, route),
			slog.Int(keyStatus, sw.status),
			slog.Int(keyBytes, sw.bytes),
			slog.Float64(keyDuration, float64(time.Since(start).Microseconds())/1000),
			slog.String(keyRemote, r.RemoteAddr),
		)
	})
}

// recoverPanics turns a panic in a handler into a 500 problem.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				s.writeError(w, r, &phases.Error{Status: 500, Title: http.StatusText(500), Internal: true,
					Err: fmt.Errorf("panic: %v", rec)})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// stripSlash serves /foo/ as /foo.
func stripSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			rc := chi.RouteContext(r.Context())
			if rc != nil {
				rc.RoutePath = strings.TrimRight(p, "/")
				if rc.RoutePath == "" {
					rc.RoutePath = "/"
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one value", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond},
		{"median of 1..100ms", spread(1, 100, time.Millisecond), 0.5, 50 * time.Millisecond},
		{"p99 of 1..100ms", spread(1, 100, time.Millisecond), 0.99, 99 * time.Millisecond},
		{"p99 of 1..1000us", spread(1, 1000, time.Microsecond), 0.99, 990 * time.Microsecond},
		{"small exact values", spread(1, 10, time.Nanosecond), 0.5, 5 * time.Nanosecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, v := range tc.values {
				h.record(v)
			}
			got := h.quantile(tc.q)
			if diff := float64(got-tc.want) / float64(max(tc.want, 1)); diff > 1.0/64 || diff < -1.0/64 {
				t.Errorf("quantile(%v)=%v, want %v within 1/64", tc.q, got, tc.want)
			}
		})
	}
}

func spread(from, to int, unit time.Duration) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*unit)
	}
	return out
}

func TestHistogramMerge(t *testing.T) {
	var a, b histogram
	for range 99 {
		a.record(time.Millisecond)
	}
	b.record(time.Second)
	a.merge(&b)
	if a.total != 100 {
		t.Errorf("total=%d, want 100", a.total)
	}
	if got := a.quantile(1); got < 990*time.Millisecond || got > 1010*time.Millisecond {
		t.Errorf("quantile(1)=%v, want about 1s", got)
	}
}

// FuzzBucketOf checks that every value falls inside its bucket and that the
// bucket is narrow: the histogram's precision promise.
func FuzzBucketOf(f *testing.F) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1e6, 1e9, 1<<63 - 1, 1<<64 - 1} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v uint64) {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d)=%d, want 0..%d", v, i, numBuckets-1)
		}
		low, width := bucketRange(i)
		if v < low || v-low >= width {
			t.Errorf("bucketRange(bucketOf(%d))=[%d, +%d), want it to hold %d", v, low, width, v)
		}
		if width > 1 && width > low/subBuckets {
			t.Errorf("bucket %d: width %d > low %d / %d", i, width, low, subBuckets)
		}
	})
}

func TestTargetEncode(t *testing.T) {
	tests := []struct {
		name    string
		target  Target
		wantErr error
		want    string
	}{
		{"get", Target{URL: "http://127.0.0.1:8080/a/b?x=1"}, nil,
			"GET /a/b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: minimi-bench\r\n\r\n"},
		{"post", Target{Method: "POST", URL: "http://127.0.0.1:9/n", Body: []byte(`{}`), ContentType: "application/json"}, nil,
			"POST /n HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: minimi-bench\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"},
		{"localhost name", Target{URL: "http://localhost:8080/"}, ErrNotLoopback, ""},
		{"other host", Target{URL: "http://10.0.0.1:8080/"}, ErrNotLoopback, ""},
		{"https", Target{URL: "https://127.0.0.1:8443/"}, ErrNotLoopback, ""},
		{"no port", Target{URL: "http://127.0.0.1/"}, ErrNotLoopback, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, raw, err := tc.target.encode()
			if !errors.Is(err, tc.wantErr) || string(raw) != tc.want {
				t.Errorf("encode()=%q, %v, want %q, %v", raw, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestLoadOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts LoadOptions
		ok   bool
	}{
		{"default", DefaultLoadOptions(), true},
		{"zero conns means 64", LoadOptions{Duration: time.Second}, true},
		{"negative conns", LoadOptions{Conns: -1, Duration: time.Second}, false},
		{"negative warm-up", LoadOptions{Warmup: -time.Second, Duration: time.Second}, false},
		{"no duration", LoadOptions{Conns: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate()=%v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// countingServer is an httptest server that counts requests and new
// connections; reply writes each reply.
type countingServer struct {
	*httptest.Server
	requests, conns atomic.Int64
}

func newCountingServer(t *testing.T, reply http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.requests.Add(1)
		reply(w, r)
	}))
	cs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

var quick = LoadOptions{Conns: 4, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond}

func TestGoLoaderKeepAlive(t *testing.T) {
	cs := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	r, err := GoLoader{}.Run(t.Context(), Target{URL: cs.URL + "/x"}, quick)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK == 0 || r.Errors != 0 {
		t.Errorf("Run()=%d ok, %d errors, want some ok and no errors", r.OK, r.Errors)
	}
	if served := cs.requests.Load(); served < r.OK {
		t.Errorf("server saw %d requests, fewer than the %d counted", served, r.OK)
	}
	if got := cs.conns.Load(); got != int64(quick.Conns) {
		t.Errorf("connections=%d, want %d (one keep-alive connection per worker)", got, quick.Conns)
	}
	if r.P50 <= 0 || r.P99 < r.P50 {
		t.Errorf("P50=%v P99=%v, want 0 < P50 <= P99", r.P50, r.P99)
	}
	if r.RPS() != float64(r.OK)/quick.Duration.Seconds() {
		t.Errorf("RPS()=%v, want %v", r.RPS(), float64(r.OK)/quick.Duration.Seconds())
	}
}

func TestGoLoaderPost(t *testing.T) {
	body := []byte(`{"title":"bench"}`)
	cs := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || !bytes.Equal(got, body) || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	target := Target{Method: "POST", URL: cs.URL + "/notes", Body: body, ContentType: "application/json"}
	r, err := GoLoader{}.Run(t.Context(), target, quick)
	if err != nil || r.OK == 0 || r.Errors != 0 {
		t.Errorf("Run()=%d ok, %d errors, %v; want only 201s", r.OK, r.Errors, err)
	}
}

func TestGoLoaderCountsErrors(t *testing.T) {
	var n atomic.Int64
	cs := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	r, err := GoLoader{}.Run(t.Context(), Target{URL: cs.URL}, quick)
	if err != nil || r.OK == 0 || r.Errors == 0 {
		t.Errorf("Run()=%d ok, %d errors, %v; want both", r.OK, r.Errors, err)
	}
}

func TestGoLoaderNoReplies(t *testing.T) {
	cs := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	r, err := GoLoader{}.Run(t.Context(), Target{URL: cs.URL}, quick)
	if !errors.Is(err, ErrNoReplies) || r.Errors == 0 {
		t.Errorf("Run()=%d errors, %v; want errors and ErrNoReplies", r.Errors, err)
	}
}

func TestGoLoaderRedialsClosedConnections(t *testing.T) {
	cs := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
	})
	r, err := GoLoader{}.Run(t.Context(), Target{URL: cs.URL}, quick)
	if err != nil || r.OK < 2*int64(quick.Conns) {
		t.Fatalf("Run()=%d ok, %v; want at least two replies per connection", r.OK, err)
	}
	if got := cs.conns.Load(); got <= int64(quick.Conns) {
		t.Errorf("connections=%d, want more than %d after Connection: close", got, quick.Conns)
	}
}

func TestGoLoaderRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	r, err := GoLoader{}.Run(t.Context(), Target{URL: url}, LoadOptions{Conns: 2, Duration: 50 * time.Millisecond})
	if !errors.Is(err, ErrNoReplies) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Run() against a closed port=%+v, %v; want ErrNoReplies naming the refusal", r, err)
	}
}

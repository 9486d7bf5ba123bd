package main

import (
	"fmt"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /_minimi/metrics of a running service.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/_minimi/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_minimi/metrics=%d, want 200", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return families
}

// metricValue is the value of the series of family name with the given
// label pairs (a histogram's sample count); ok is false when it is absent.
func metricValue(families map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	mf := families[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsEndToEnd(t *testing.T) {
	p := startServe(t, copyTree(t, "testdata/service"))
	before := scrape(t, p.base)
	committed0, _ := metricValue(before, "minimi_commands_committed_total")
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/items/1", 200}, {"GET", "/items/2", 200}, {"GET", "/items/3/", 200},
		{"HEAD", "/items/1", 200}, {"POST", "/items/1", 405},
		{"DELETE", "/items/1", 204}, // a command
		{"GET", "/order/inner", 200},
		{"GET", "/nope", 404}, {"PUT", "/no/such/url", 404},
		{"GET", "/boom", 500},
		{"GET", "/spin", 503},
	} {
		if got := do(t, r.method, p.base+r.path, "", "").status; got != r.status {
			t.Fatalf("%s %s=%d, want %d", r.method, r.path, got, r.status)
		}
	}
	after := scrape(t, p.base)
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"minimi_http_requests_total", []string{"route", "/items/[id]", "method", "GET", "status", "200"}, 3},
		{"minimi_http_requests_total", []string{"route", "/items/[id]", "method", "HEAD", "status", "200"}, 1},
		{"minimi_http_requests_total", []string{"route", "/items/[id]", "method", "POST", "status", "405"}, 1},
		{"minimi_http_requests_total", []string{"route", "/items/[id]", "method", "DELETE", "status", "204"}, 1},
		{"minimi_http_requests_total", []string{"route", "/order/inner", "method", "GET", "status", "200"}, 1},
		{"minimi_http_requests_total", []string{"route", "404", "method", "GET", "status", "404"}, 1},
		{"minimi_http_requests_total", []string{"route", "404", "method", "PUT", "status", "404"}, 1},
		{"minimi_http_requests_total", []string{"route", "/boom", "method", "GET", "status", "500"}, 1},
		{"minimi_http_requests_total", []string{"route", "/spin", "method", "GET", "status", "503"}, 1},
		{"minimi_http_request_duration_seconds", []string{"route", "/items/[id]", "method", "GET"}, 3},
		{"minimi_phase_duration_seconds", []string{"route", "/order/inner", "phase", "load"}, 1},
		{"minimi_phase_duration_seconds", []string{"route", "/order/inner", "phase", "access"}, 1},
		{"minimi_phase_duration_seconds", []string{"route", "/order/inner", "phase", "execute"}, 1},
		{"minimi_script_failures_total", []string{"route", "/boom", "reason", "error"}, 1},
		{"minimi_script_failures_total", []string{"route", "/spin", "reason", "timeout"}, 1},
		{"minimi_commands_committed_total", nil, committed0 + 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.name, tc.labels), func(t *testing.T) {
			got, ok := metricValue(after, tc.name, tc.labels...)
			if !ok || got != tc.want {
				t.Errorf("%s%v=%v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
			}
		})
	}
	for _, raw := range []string{"/items/1", "/items/2", "/nope", "/no/such/url"} {
		if _, ok := metricValue(after, "minimi_http_requests_total", "route", raw); ok {
			t.Errorf("a series has the raw path %s as its route", raw)
		}
	}
	for _, name := range []string{"minimi_event_log_head_seq", "minimi_commit_rounds_total", "go_goroutines", "process_resident_memory_bytes"} {
		if after[name] == nil {
			t.Errorf("the scrape lacks %s", name)
		}
	}
	if after["minimi_nats_connection_state"] != nil || after["minimi_outbox_lag_events"] != nil {
		t.Errorf("NATS and outbox metrics with the bus off")
	}
}

func TestMetricsEndToEndWithNATS(t *testing.T) {
	_, env := natsForServe(t)
	p := startServe(t, copyTree(t, "testdata/service"), env...)
	if got := do(t, "DELETE", p.base+"/items/1", "", "").status; got != 204 {
		t.Fatalf("DELETE /items/1=%d, want 204", got)
	}
	families := scrape(t, p.base)
	if v, _ := metricValue(families, "minimi_nats_connection_state", "state", "CONNECTED"); v != 1 {
		t.Errorf("nats_connection_state{state=CONNECTED}=%v, want 1", v)
	}
	// The outbox publishes the command's event: its lag drops to 0.
	eventually(t, "outbox lag", func() string {
		f := scrape(t, p.base)
		head, _ := metricValue(f, "minimi_event_log_head_seq")
		sent, okSent := metricValue(f, "minimi_outbox_sent_seq")
		lag, okLag := metricValue(f, "minimi_outbox_lag_events")
		if !okSent || !okLag || head < 1 || sent != head || lag != 0 {
			return fmt.Sprintf("head=%v sent=%v lag=%v", head, sent, lag)
		}
		return ""
	})
}

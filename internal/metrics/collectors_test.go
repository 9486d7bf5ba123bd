package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/minimi-go/minimi/internal/bus/bustest"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/metrics"
	"github.com/minimi-go/minimi/internal/stash"
)

// openLog opens an event log on a bbolt file under t.TempDir(); the
// cleanup closes both.
func openLog(t *testing.T) *eventsource.Log {
	t.Helper()
	set, err := stash.Open(stash.Options{DataDir: t.TempDir(), Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatalf("stash.Open()=%v", err)
	}
	t.Cleanup(func() { _ = set.Close() })
	l, err := eventsource.Open(set, eventsource.Options{Service: "metrics-test"})
	if err != nil {
		t.Fatalf("eventsource.Open()=%v", err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

// commit commits n commands without changes.
func commit(t *testing.T, l *eventsource.Log, n int) {
	t.Helper()
	for i := range n {
		cmd := eventsource.Command{Method: "POST", Path: "/notes", Route: "/notes", RequestID: fmt.Sprint("r", i)}
		if _, err := l.Commit(t.Context(), cmd, 201, nil, nil); err != nil {
			t.Fatalf("Commit()=%v", err)
		}
	}
}

// runNATS starts an embedded NATS server and connects to it.
func runNATS(t *testing.T) *nats.Conn {
	t.Helper()
	return bustest.Conn(t, bustest.Server(t, nil))
}

type want struct {
	name   string
	labels []string
	value  float64
}

func check(t *testing.T, m *metrics.Metrics, wants []want) {
	t.Helper()
	for _, w := range wants {
		got, ok := sample(t, m.Gatherer(), w.name, w.labels...)
		if !ok || got != w.value {
			t.Errorf("%s%v=%v (found %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
}

func TestLogCollector(t *testing.T) {
	l := openLog(t)
	m := newMetrics(t)
	if err := m.Register(metrics.NewLogCollector(l)); err != nil {
		t.Fatalf("Register()=%v", err)
	}
	check(t, m, []want{{"minimi_event_log_head_seq", nil, 0}, {"minimi_commands_committed_total", nil, 0},
		{"minimi_commit_rounds_total", nil, 0}, {"minimi_commit_page_writes_total", nil, 0}, {"minimi_commands_pending", nil, 0}})
	commit(t, l, 3)
	check(t, m, []want{{"minimi_event_log_head_seq", nil, 3}, {"minimi_commands_committed_total", nil, 3},
		{"minimi_commands_pending", nil, 0}})
	st := l.Stats()
	check(t, m, []want{{"minimi_commit_rounds_total", nil, float64(st.Rounds)}, {"minimi_commit_page_writes_total", nil, float64(st.Pages)}})
	if rounds, _ := sample(t, m.Gatherer(), "minimi_commit_rounds_total"); rounds < 1 || rounds > 3 {
		t.Errorf("commit_rounds_total=%v, want 1..3", rounds)
	}
	// Each round writes at least a leaf of the events bucket, the pages above it and the meta page.
	if st.Pages < 3*st.Rounds {
		t.Errorf("commit_page_writes_total=%d for %d rounds, want at least 3 a round", st.Pages, st.Rounds)
	}
}

func TestOutboxCollector(t *testing.T) {
	l := openLog(t)
	nc := runNATS(t)
	commit(t, l, 3)
	o := eventsource.NewOutbox(l, nc, eventsource.OutboxOptions{})
	m := newMetrics(t)
	if err := m.Register(metrics.NewOutboxCollector(o)); err != nil {
		t.Fatalf("Register()=%v", err)
	}
	check(t, m, []want{{"minimi_outbox_lag_events", nil, 3}, {"minimi_outbox_sent_seq", nil, 0},
		{"minimi_outbox_skipped_events_total", nil, 0}, {"minimi_outbox_outlined_events_total", nil, 0}})
	done := make(chan error, 1)
	go func() { done <- o.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := o.Close(ctx); err != nil {
			t.Errorf("Outbox.Close()=%v", err)
		}
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Outbox.Run()=%v", err)
		}
	})
	waitFor(t, func() bool { return o.Sent() == 3 })
	check(t, m, []want{{"minimi_outbox_lag_events", nil, 0}, {"minimi_outbox_sent_seq", nil, 3}})
}

func TestNATSCollector(t *testing.T) {
	nc := runNATS(t)
	m := newMetrics(t)
	if err := m.Register(metrics.NewNATSCollector(nc)); err != nil {
		t.Fatalf("Register()=%v", err)
	}
	states := func(current string) []want {
		var out []want
		for _, s := range []string{"DISCONNECTED", "CONNECTED", "CLOSED", "RECONNECTING", "CONNECTING", "DRAINING_SUBS", "DRAINING_PUBS"} {
			v := 0.0
			if s == current {
				v = 1
			}
			out = append(out, want{"minimi_nats_connection_state", []string{"state", s}, v})
		}
		return append(out, want{"minimi_nats_reconnects_total", nil, 0})
	}
	check(t, m, states("CONNECTED"))
	nc.Close()
	check(t, m, states("CLOSED"))
}

func TestRegisterRefusesDuplicates(t *testing.T) {
	l := openLog(t)
	m := newMetrics(t)
	if err := m.Register(metrics.NewLogCollector(l)); err != nil {
		t.Fatalf("Register()=%v", err)
	}
	if err := m.Register(metrics.NewLogCollector(l)); err == nil {
		t.Errorf("second Register()=nil, want an error")
	}
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

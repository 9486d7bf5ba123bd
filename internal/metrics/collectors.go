package metrics

import (
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimi-go/minimi/internal/eventsource"
)

// LogCollector reads the counters of an event log at scrape time, so that
// committing a command costs nothing more for metrics.
type LogCollector struct {
	log                                     *eventsource.Log
	head, commands, rounds, pages, inFlight *prometheus.Desc
}

var _ prometheus.Collector = (*LogCollector)(nil)

// NewLogCollector returns the collector of l's Stats.
func NewLogCollector(l *eventsource.Log) *LogCollector {
	return &LogCollector{
		log:      l,
		head:     prometheus.NewDesc(nameLogHead, "Seq of the newest event in the log.", nil, nil),
		commands: prometheus.NewDesc(nameCommands, "Commands committed to the event log since start.", nil, nil),
		rounds: prometheus.NewDesc(nameCommitRounds,
			"Group-commit rounds since start, one fsync each; commands per round is the group-commit size.", nil, nil),
		pages: prometheus.NewDesc(nameCommitPages,
			"Page writes of the commit rounds to the default store's file (a record's overflow pages count once).", nil, nil),
		inFlight: prometheus.NewDesc(nameCommandsQueued, "Commands queued for the next commit round or in the current one.", nil, nil),
	}
}

// Describe sends the descriptors of the log's metrics.
func (c *LogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.head
	ch <- c.commands
	ch <- c.rounds
	ch <- c.pages
	ch <- c.inFlight
}

// Collect reads the log's Stats.
func (c *LogCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.log.Stats()
	ch <- prometheus.MustNewConstMetric(c.head, prometheus.GaugeValue, float64(st.Head))
	ch <- prometheus.MustNewConstMetric(c.commands, prometheus.CounterValue, float64(st.Commands))
	ch <- prometheus.MustNewConstMetric(c.rounds, prometheus.CounterValue, float64(st.Rounds))
	ch <- prometheus.MustNewConstMetric(c.pages, prometheus.CounterValue, float64(st.Pages))
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(st.Pending))
}

// OutboxCollector reads the progress of the outbox at scrape time.
type OutboxCollector struct {
	outbox             *eventsource.Outbox
	lag, sent, skipped *prometheus.Desc
	outlined           *prometheus.Desc
}

var _ prometheus.Collector = (*OutboxCollector)(nil)

// NewOutboxCollector returns the collector of o's lag.
func NewOutboxCollector(o *eventsource.Outbox) *OutboxCollector {
	return &OutboxCollector{
		outbox:   o,
		lag:      prometheus.NewDesc(nameOutboxLag, "Committed events that NATS has not confirmed yet.", nil, nil),
		sent:     prometheus.NewDesc(nameOutboxSent, "Seq of the last event NATS confirmed.", nil, nil),
		skipped:  prometheus.NewDesc(nameOutboxSkipped, "Events NATS refused for good (a subject it cannot take or that its permissions deny, or an outline over its max_payload) and the outbox passed over.", nil, nil),
		outlined: prometheus.NewDesc(nameOutboxOutlined, "Events over the NATS server's max_payload, sent without their records and emitted data.", nil, nil),
	}
}

// Describe sends the descriptors of the outbox's metrics.
func (c *OutboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lag
	ch <- c.sent
	ch <- c.skipped
	ch <- c.outlined
}

// Collect reads the outbox's progress.
func (c *OutboxCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(c.outbox.Lag()))
	ch <- prometheus.MustNewConstMetric(c.sent, prometheus.GaugeValue, float64(c.outbox.Sent()))
	ch <- prometheus.MustNewConstMetric(c.skipped, prometheus.CounterValue, float64(c.outbox.Skipped()))
	ch <- prometheus.MustNewConstMetric(c.outlined, prometheus.CounterValue, float64(c.outbox.Outlined()))
}

// natsStates are the states of a NATS connection, in nats.Status order.
var natsStates = [...]nats.Status{
	nats.DISCONNECTED, nats.CONNECTED, nats.CLOSED, nats.RECONNECTING,
	nats.CONNECTING, nats.DRAINING_SUBS, nats.DRAINING_PUBS,
}

// NATSCollector reads the state of a NATS connection at scrape time.
type NATSCollector struct {
	nc                *nats.Conn
	state, reconnects *prometheus.Desc
}

var _ prometheus.Collector = (*NATSCollector)(nil)

// NewNATSCollector returns the collector of nc's state.
func NewNATSCollector(nc *nats.Conn) *NATSCollector {
	return &NATSCollector{
		nc: nc,
		state: prometheus.NewDesc(nameNATSState,
			"State of the NATS connection: 1 for the current state, 0 for the others.", []string{labelState}, nil),
		reconnects: prometheus.NewDesc(nameNATSReconnects, "Times the NATS connection reconnected since start.", nil, nil),
	}
}

// Describe sends the descriptors of the connection's metrics.
func (c *NATSCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.state
	ch <- c.reconnects
}

// Collect reads the connection's status and counters.
func (c *NATSCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.nc.Status()
	for _, s := range natsStates {
		v := 0.0
		if s == now {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, s.String())
	}
	ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(c.nc.Stats().Reconnects))
}

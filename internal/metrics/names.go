package metrics

// Names of the metrics, all under the namespace "minimi". docs/operations.md
// lists them with their labels; keep the two in step.
const (
	nameRequests        = "minimi_http_requests_total"
	nameRequestDuration = "minimi_http_request_duration_seconds"
	namePhaseDuration   = "minimi_phase_duration_seconds"
	nameScriptFailures  = "minimi_script_failures_total"

	nameLogHead        = "minimi_event_log_head_seq"
	nameCommands       = "minimi_commands_committed_total"
	nameCommitRounds   = "minimi_commit_rounds_total"
	nameCommitPages    = "minimi_commit_page_writes_total"
	nameCommandsQueued = "minimi_commands_pending"

	nameOutboxLag      = "minimi_outbox_lag_events"
	nameOutboxSent     = "minimi_outbox_sent_seq"
	nameOutboxSkipped  = "minimi_outbox_skipped_events_total"
	nameOutboxOutlined = "minimi_outbox_outlined_events_total"

	nameNATSState      = "minimi_nats_connection_state"
	nameNATSReconnects = "minimi_nats_reconnects_total"
)

// Label names.
const (
	labelRoute  = "route"
	labelMethod = "method"
	labelStatus = "status"
	labelPhase  = "phase"
	labelReason = "reason"
	labelState  = "state"
)

// NotFoundRoute is the route label of requests for a URL that no folder
// serves, so that probing random paths does not add series.
const NotFoundRoute = "404"

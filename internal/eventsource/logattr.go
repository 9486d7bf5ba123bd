package eventsource

// Attribute keys of the event log's log records.
const (
	logKeyComponent = "component"
	logKeyService   = "service"
	logKeySeq       = "seq"
	logKeyFrom      = "from"
	logKeyHead      = "head"
	logKeyEvents    = "events"
	logKeySubject   = "subject"
	logKeyOutbox    = "outbox"
	logKeyError     = "error"
)

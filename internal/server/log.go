package server

// Attribute keys of the server's log lines.
const (
	keyComponent = "component"
	keyRequestID = "request_id"
	keyMethod    = "method"
	keyPath      = "path"
	keyRoute     = "route"
	keyStatus    = "status"
	keyBytes     = "bytes"
	keyDuration  = "duration_ms"
	keyRemote    = "remote"
	keySource    = "source"
	keyError     = "error"
)

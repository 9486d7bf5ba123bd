package service

// Attribute keys of the service's log records.
const (
	logKeyComponent = "component"
	logKeyService   = "service"
	logKeySubject   = "subject"
	logKeyEndpoints = "endpoints"
	logKeyID        = "id"
	logKeyError     = "error"
)

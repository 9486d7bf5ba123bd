package stash

// Attribute keys of the stash's log records.
const (
	logKeyComponent = "component"
	logKeyStore     = "store"
	logKeyFile      = "file"
	logKeyDriver    = "driver"
	logKeyStash     = "stash"
	logKeySeq       = "seq"
)

// Package config loads and validates MiniMi's config.json.
//
// A Config comes from [ParseConfig] (text from any reader; tests and fuzzers use it) or
// [ReadConfigFile] (a thin wrapper that opens the file). Either returns a config that has
// passed [Config.Validate], or every problem found.
//
// # Layers
//
// Each layer overrides the one before it, key by key:
//
//  1. the seed defaults of [DefaultConfig];
//  2. config.json: a key present in the file replaces the default, a key left out keeps it
//     (so "nats": {"url": "…"} keeps nats.enabled and nats.port);
//  3. the environment: MINIMI_<KEY>, with the dots of nested keys as underscores
//     (MINIMI_PORT, MINIMI_DATA_DIR, MINIMI_NATS_URL, MINIMI_LIMITS_SCRIPT_MS);
//  4. command-line flags. They are not read here: the CLI sets the fields it has flags for
//     on the returned Config and calls Validate again. It names those keys in
//     [Options].Overridden, so that their variables are not read at all: a bad
//     MINIMI_PORT does not stop serve --port 8080.
//
// A missing file is the defaults plus the environment, unless the caller says the file must exist.
// With [Options].NoEnv the environment is left out, and the config is the defaults and the
// text alone (minimi init checks the config.json it writes that way).
//
// # Environment
//
// Environment values are text and are converted: integers in base 10, booleans as
// strconv.ParseBool reads them (true, false, 1, 0), lists comma-separated
// (MINIMI_PHASES=load,execute; spaces around items are dropped). clients and endpoints,
// whose keys are names the user chooses, take a whole JSON object
// (MINIMI_CLIENTS='{"web": {"key_sha256": "…"}}') that replaces the file's. An empty
// variable counts as unset. Viper does the lookup: every key is bound with BindEnv, since
// AutomaticEnv only sees the keys viper already knows.
//
// # Strictness
//
// The file is decoded with encoding/json and checked against Config before anything is
// merged: an unknown key is an error that names it in dotted form (unknown key "nats.prt",
// with the known key within two edits of it, if any: did you mean "nats.port"?), and so is
// a value of the wrong JSON type (port: want integer, got string) — the file's values are
// not converted, "3000" is not a port. Keys are case-sensitive. Syntax errors report line
// and column. A key given twice in one object is an error naming both lines: a decoder
// would keep the last value, so a second "endpoints" object would drop the first one's
// client lists without a word.
//
// Then Validate checks the values: ranges, phase names, origins, client keys and CIDRs,
// endpoint URLs and the endpoint keys MiniMi reads itself. Every problem is a [*KeyError]
// whose Err matches [ErrUnknownKey], [ErrWrongType] or [ErrBadValue] with errors.Is; text
// reads "config: port: must be 0..65535, got 70000".
//
// Viper does not decode the file itself: it folds every key to lower case and splits keys
// on dots, and both would change endpoint URLs ("/v1.2/notes") and the custom keys that
// scripts read from req.config ("pageSize").
//
// # Endpoints
//
// "endpoints" maps a folder URL in MiniMi notation ("/", "/notes", "/notes/[id]") to
// settings. The settings apply to the folder and its whole subtree; [Config.Endpoint]
// merges the entries from "/" down to a folder, deeper keys overriding. Two keys are
// MiniMi's own: "clients" (the names of configured clients allowed on the subtree) and
// "log_body" (record request bodies in the event log). Every other key is free-form custom
// config, handed to scripts as req.config; its numbers are float64, as in Lua.
package config

package server

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/router"
	"github.com/minimi-go/minimi/internal/stash"
)

// logCommands returns the CommitFunc that makes each command one event of
// l (DESIGN §6): its stash writes and emits commit atomically with it, and
// it returns once the event is durable. cfg says whose bodies it records;
// set and collectionOf (nil: none) say which of their fields are secret.
func logCommands(l *eventsource.Log, cfg *config.Config, set *stash.Set, collectionOf func(*router.Folder) string) phases.CommitFunc {
	return func(ctx context.Context, cmd *phases.Command) error {
		ec := eventCommand(cmd.Call, cfg)
		if ec.Body != nil {
			coll := ""
			if collectionOf != nil {
				coll = collectionOf(cmd.Call.Folder)
			}
			ec.Body = redact(ec.Body, secretFields(set, coll, cmd.Changes))
		}
		_, err := l.Commit(ctx, ec, cmd.Status, cmd.Changes, eventEmits(cmd.Emits))
		return err
	}
}

// eventCommand is what the log records of a request: not its body, unless
// the endpoint's config says log_body.
func eventCommand(c *phases.Call, cfg *config.Config) eventsource.Command {
	ec := eventsource.Command{Method: c.Method, Path: c.Path, Route: c.Folder.URL, Params: c.Params,
		Client: c.Client, RequestID: c.ID}
	if len(c.Body) > 0 && cfg.LogBody(c.Folder.URL) {
		if json.Valid(c.Body) {
			ec.Body = json.RawMessage(c.Body)
		} else if b, err := json.Marshal(string(c.Body)); err == nil {
			ec.Body = b
		}
	}
	return ec
}

// secretFields are the x-hash and x-hidden fields of the collection a
// request uses (coll) and of those its command wrote.
func secretFields(set *stash.Set, coll string, changes []stash.Change) map[string]bool {
	if set == nil {
		return nil
	}
	var out map[string]bool
	add := func(path string) {
		c := set.Collection(path)
		if c == nil || c.Schema() == nil {
			return
		}
		for _, f := range append(c.Schema().Hashed(), c.Schema().Hidden()...) {
			if out == nil {
				out = map[string]bool{}
			}
			out[f] = true
		}
	}
	add(coll)
	for _, ch := range changes {
		if ch.Stash != coll {
			add(ch.Stash)
		}
	}
	return out
}

// redact leaves the secret fields out of a logged body that is a JSON
// object, so that a plain password never reaches the log, nor an x-hidden
// value the event stream.
func redact(body json.RawMessage, secret map[string]bool) json.RawMessage {
	if len(secret) == 0 || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return body
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return body
	}
	dropped := false
	for f := range secret {
		if _, ok := obj[f]; ok {
			delete(obj, f)
			dropped = true
		}
	}
	if !dropped {
		return body
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil
	}
	return out
}

func eventEmits(in []phases.Emit) []eventsource.Emit {
	if len(in) == 0 {
		return nil
	}
	out := make([]eventsource.Emit, len(in))
	for i, e := range in {
		out[i] = eventsource.Emit{Type: e.Type, Data: e.Data}
	}
	return out
}

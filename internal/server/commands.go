package server

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/stash"
)

// logCommands returns the CommitFunc that makes each command one event of
// l (DESIGN §6): its stash writes and emits commit atomically with it, and
// it returns once the event is durable. cfg says whose bodies it records,
// and set which of their fields are secret.
func logCommands(l *eventsource.Log, cfg *config.Config, set *stash.Set) phases.CommitFunc {
	return func(ctx context.Context, cmd *phases.Command) error {
		ec := eventCommand(cmd.Call, cfg)
		if ec.Body != nil {
			ec.Body = redact(ec.Body, secretFields(set))
		}
		_, err := l.CommitBy(ctx, cmd.Deadline, ec, cmd.Status, cmd.Changes, eventEmits(cmd.Emits))
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

// secretFields are the names of the x-hash and x-hidden fields of every
// collection of set: a body may carry them to any endpoint (a login reads
// the users it does not write).
func secretFields(set *stash.Set) map[string]bool {
	if set == nil {
		return nil
	}
	var out map[string]bool
	for _, c := range set.Collections() {
		sc := c.Schema()
		if sc == nil {
			continue
		}
		for _, f := range append(sc.Hashed(), sc.Hidden()...) {
			if out == nil {
				out = map[string]bool{}
			}
			out[f] = true
		}
	}
	return out
}

// redact leaves out of a logged JSON body every member, at any depth, named
// as a secret field, so that a plain password never reaches the log, nor a
// hidden value the event stream.
func redact(body json.RawMessage, secret map[string]bool) json.RawMessage {
	if len(secret) == 0 || !json.Valid(body) {
		return body
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber() // numbers as written
	if err := d.Decode(&v); err != nil {
		return body
	}
	if !dropSecrets(v, secret) {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return out
}

// dropSecrets deletes the secret members of the objects in v, and reports
// whether it deleted any.
func dropSecrets(v any, secret map[string]bool) bool {
	dropped := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secret[k] {
				delete(x, k)
				dropped = true
			} else if dropSecrets(e, secret) {
				dropped = true
			}
		}
	case []any:
		for _, e := range x {
			if dropSecrets(e, secret) {
				dropped = true
			}
		}
	}
	return dropped
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

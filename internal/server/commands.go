package server

import (
	"context"
	"encoding/json"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/phases"
)

// logCommands returns the CommitFunc that makes each command one event of
// l (DESIGN §6): its stash writes and emits commit atomically with it, and
// it returns once the event is durable. cfg says whose bodies it records.
func logCommands(l *eventsource.Log, cfg *config.Config) phases.CommitFunc {
	return func(ctx context.Context, cmd *phases.Command) error {
		_, err := l.Commit(ctx, eventCommand(cmd.Call, cfg), cmd.Status, cmd.Changes, eventEmits(cmd.Emits))
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

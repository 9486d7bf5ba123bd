// Command minimi serves a folder of Lua scripts as an HTTP microservice.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is the GOGC that minimi runs with when the environment sets none.
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		// A request allocates short-lived Lua tables; collecting half as
		// often saves CPU for a heap of a few tens of MiB.
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logs := newLogWriter(os.Stderr)
	err := run(ctx, os.Args[1:], os.Stdout, logs)
	_ = logs.Close()
	var exit *exitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		os.Exit(exit.code)
	default:
		fmt.Fprintln(os.Stderr, "minimi:", err)
		os.Exit(1)
	}
}

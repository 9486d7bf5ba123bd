// Command minimi serves a folder of Lua scripts as an HTTP microservice.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// gcPercent is the GOGC that minimi runs with when the environment sets none.
const gcPercent = 400

// defaultProcs is the GOMAXPROCS that minimi runs with: procs, the
// runtime's own choice, when the environment sets GOMAXPROCS or when a CPU
// limit (a container's quota) made it fewer than the machine's cpus; else
// one more than cpus. With one P per core, a core that the kernel gives to
// another process (a proxy, a load generator, the kernel's own network
// work), or a P held by a blocking system call such as a commit's fdatasync,
// leaves requests waiting on a P that cannot run: on two shared cores the
// spare P served 5–20% more requests a second with a lower p99
// (docs/operations.md).
func defaultProcs(env string, procs, cpus int) int {
	if env != "" || procs != cpus {
		return procs
	}
	return cpus + 1
}

func main() {
	if os.Getenv("GOGC") == "" {
		// A request allocates short-lived Lua tables and JSON; the live
		// heap is a few MiB, so collecting at 5× it instead of 2× costs
		// little memory and measurably less CPU (about 6% more durable
		// commands per second in go run ./bench).
		debug.SetGCPercent(gcPercent)
	}
	runtime.GOMAXPROCS(defaultProcs(os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0), runtime.NumCPU()))
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

//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"

	"github.com/minimi-go/minimi/internal/config"
)

// A binary built with -tags pprof serves net/http/pprof on MINIMI_PPROF
// (default 127.0.0.1:6060), for profiling under load. Release builds do not
// include it.
func init() {
	addr := os.Getenv(config.EnvPprof)
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}

//go:build !windows

package main

import (
	"os"
	"syscall"
)

// backupSignals make a running service write a backup (docs/operations.md).
var backupSignals = []os.Signal{syscall.SIGUSR1}

package main

import "os"

// backupSignals: Windows has no SIGUSR1; a service there is backed up
// stopped.
var backupSignals []os.Signal

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/minimi-go/minimi/internal/stash"
)

// backupOnSignal writes a backup of set into dataDir/backups each time the
// process gets one of backupSignals (SIGUSR1), one at a time, until ctx ends; the channel it
// returns is closed once it has stopped, after a backup under way ended.
func backupOnSignal(ctx context.Context, set *stash.Set, dataDir string, lg *slog.Logger) <-chan struct{} {
	sig := make(chan os.Signal, 1)
	if len(backupSignals) > 0 { // none would relay every signal
		signal.Notify(sig, backupSignals...)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				if ctx.Err() != nil { // a stop came with the signal: it goes first
					return
				}
				if dir, err := backup(set, dataDir, time.Now()); err != nil {
					lg.Error("backup failed", "error", err.Error())
				} else {
					lg.Info("backup written", "dir", dir)
				}
			}
		}
	}()
	return done
}

// backup copies set's store files (stash.Set.BackupTo) into
// dataDir/backups/<UTC time>, which appears only once complete: the files
// are written into <UTC time>.partial, synced, and the folder renamed.
func backup(set *stash.Set, dataDir string, now time.Time) (string, error) {
	if set == nil {
		return "", errors.New("the service has no stores")
	}
	parent := filepath.Join(dataDir, "backups")
	if _, err := os.Stat(parent); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(parent, 0o700); err != nil {
			return "", err
		}
		if err := stash.SyncDir(dataDir); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(parent, now.UTC().Format("20060102-150405.000"))
	partial := dir + ".partial"
	if _, err := set.BackupTo(partial); err != nil {
		if !errors.Is(err, fs.ErrExist) { // a folder of another backup is not ours to remove
			_ = os.RemoveAll(partial)
		}
		return "", err
	}
	if err := os.Rename(partial, dir); err != nil {
		_ = os.RemoveAll(partial)
		return "", err
	}
	if err := stash.SyncDir(parent); err != nil {
		return "", fmt.Errorf("%s is complete, but the rename may not be on disk yet: %w", dir, err)
	}
	return dir, nil
}

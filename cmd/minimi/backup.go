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
	"strings"
	"time"

	"github.com/minimi-go/minimi/internal/stash"
)

// backups runs the backups that backupSignals (SIGUSR1) ask for, one at a
// time. The signals are taken for the whole of serve, as Go drops those that
// nothing takes: one that comes while the service starts is kept, and its
// backup runs once the service serves; one that comes once it stops starts
// no backup, and the log says so.
type backups struct {
	sig      chan os.Signal
	serving  chan backupTarget // the stores are open
	stopping chan struct{}     // taken between backups only
	quit     chan struct{}
	done     chan struct{}
	lg       *slog.Logger
}

// backupTarget is what a backup copies, and where to.
type backupTarget struct {
	set     *stash.Set
	dataDir string
}

// backupOnSignal takes backupSignals until close. The backups run from
// serve until ctx ends or stop.
func backupOnSignal(ctx context.Context, lg *slog.Logger) *backups {
	sig := make(chan os.Signal, 1)
	if len(backupSignals) > 0 { // none would relay every signal
		signal.Notify(sig, backupSignals...)
	}
	return newBackups(ctx, sig, lg)
}

// newBackups is backupOnSignal on the signals that come on sig.
func newBackups(ctx context.Context, sig chan os.Signal, lg *slog.Logger) *backups {
	b := &backups{sig: sig, serving: make(chan backupTarget), stopping: make(chan struct{}),
		quit: make(chan struct{}), done: make(chan struct{}), lg: lg}
	go b.run(ctx)
	return b
}

// serve lets the backups run: set's files are copied into
// dataDir/backups, at once for a signal that came before.
func (b *backups) serve(set *stash.Set, dataDir string) { b.serving <- backupTarget{set, dataDir} }

// stop ends the backups, after the one under way: a signal that comes
// after it is logged and skipped.
func (b *backups) stop() { b.stopping <- struct{}{} }

// close stops taking the signals, at the end of serve: Go drops those
// that come later.
func (b *backups) close() {
	signal.Stop(b.sig)
	close(b.quit)
	<-b.done
}

func (b *backups) run(ctx context.Context) {
	defer close(b.done)
	var to *backupTarget // nil until serving, and again once stopping
	pending, stopping := false, false
	for {
		select {
		case <-b.quit:
			if pending {
				b.lg.Info("backup skipped: the service is stopping")
			}
			return
		case t := <-b.serving:
			to = &t
		case <-b.stopping:
			to, stopping = nil, true
		case <-b.sig:
			if to == nil && !stopping && ctx.Err() == nil {
				b.lg.Info("backup signal received while starting: the backup runs once serving")
			}
			pending = true
		}
		switch {
		case !pending:
		case stopping || ctx.Err() != nil: // a stop came with the signal: it goes first
			b.lg.Info("backup skipped: the service is stopping")
			pending = false
		case to != nil:
			if dir, err := backup(to.set, to.dataDir, time.Now(), b.lg); err != nil {
				b.lg.Error("backup failed", "error", err.Error())
			} else {
				b.lg.Info("backup written", "dir", dir)
			}
			pending = false
		}
	}
}

// backup copies set's store files (stash.Set.BackupTo) into
// dataDir/backups/<UTC time>, which appears only once complete: the files
// are written into <UTC time>.partial, synced, and the folder renamed.
// First it removes the .partial folders that an ended process left.
func backup(set *stash.Set, dataDir string, now time.Time, lg *slog.Logger) (string, error) {
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
	if err := removePartials(parent, lg); err != nil {
		return "", err
	}
	free, err := diskFree(parent)
	if err != nil {
		return "", fmt.Errorf("free space of %s: %w", parent, err)
	}
	if err := checkRoom(set, free); err != nil {
		return "", err
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

// checkRoom refuses a backup of set onto a disk with free bytes free,
// before anything is written, when its files do not fit.
func checkRoom(set *stash.Set, free uint64) error {
	need, err := set.BackupSize()
	if err != nil {
		return err
	}
	if uint64(need) > free {
		const mib = 1 << 20
		return fmt.Errorf("backup needs %d MiB, the disk has %d MiB free", (uint64(need)+mib-1)/mib, free/mib)
	}
	return nil
}

// removePartials removes the .partial folders in parent, logging each. None
// is a backup under way: one backup runs at a time in a process (backups),
// and one process at a time serves a data_dir, as each holds its minimi.db
// open for writing, which bbolt locks (flock) for one process alone. So
// each was left by a process that ended during a backup.
func removePartials(parent string, lg *slog.Logger) error {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), ".partial") {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove a partial backup: %w", err)
		}
		lg.Info("partial backup removed", "dir", dir)
	}
	return nil
}

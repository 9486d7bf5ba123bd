package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/server"
	"github.com/minimi-go/minimi/internal/stash"
)

// seedCmd is the hidden first argument that makes the harness binary fill
// a service's event log: `bench _seed-events <service dir> <data dir> <n>`.
const seedCmd = "_seed-events"

// replayEvents is how many events the replay measurement rebuilds from.
const replayEvents = 1_000_000

// seedWorkers commit concurrently, so that rounds group many commands.
const seedWorkers = 64

// seedMain commits n one-note commands to the log of the service in svc,
// the way `minimi serve` does (a session per command, group commit), but
// without fsync: the seeding is not what is measured.
func seedMain(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: _seed-events <service dir> <data dir> <n>")
	}
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 1 {
		return fmt.Errorf("n %q: want a positive number", args[2])
	}
	cfg, err := config.ReadConfigFile(filepath.Join(args[0], "config.json"), false)
	if err != nil {
		return err
	}
	cfg.DataDir = args[1]
	set, err := server.OpenStashes(args[0], cfg, stash.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer set.Close()
	log, err := eventsource.Open(set, eventsource.Options{Service: cfg.Name})
	if err != nil {
		return err
	}
	defer log.Close(context.Background())
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, seedWorkers)
	for range seedWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := seedOne(log, set, i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func seedOne(log *eventsource.Log, set *stash.Set, i int64) error {
	ss := set.Session()
	if _, err := ss.Create("/notes", stash.Record{"title": "note " + strconv.FormatInt(i, 10), "body": "seeded for the replay measurement"}); err != nil {
		return err
	}
	cmd := eventsource.Command{Method: "POST", Path: "/notes", Route: "/notes", RequestID: "seed-" + strconv.FormatInt(i, 10)}
	_, err := log.Commit(context.Background(), cmd, 201, ss.Changes(), nil)
	return err
}

// replayTime fills a fresh copy of the notes service's log with
// replayEvents events, then times `minimi replay` rebuilding its stores.
func (h *harness) replayTime(ctx context.Context) (time.Duration, error) {
	dir, _, err := h.subjectDir("replay")
	if err != nil {
		return 0, err
	}
	svc := filepath.Join(h.root, "bench", "services", "notes")
	data := filepath.Join(dir, "data")
	h.progress("seeding %d events", replayEvents)
	seed := exec.CommandContext(ctx, h.self, seedCmd, svc, data, strconv.Itoa(replayEvents))
	if out, err := seed.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("seed: %w\n%s", err, out)
	}
	replay := exec.CommandContext(ctx, h.minimi, "replay", "--dir", svc)
	replay.Env = append(os.Environ(), "MINIMI_DATA_DIR="+data)
	start := time.Now()
	if out, err := replay.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("minimi replay: %w\n%s", err, out)
	}
	return time.Since(start), nil
}

package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/server"
	"github.com/minimi-go/minimi/internal/stash"
)

// toolLockTimeout is how long events and replay wait for the data files'
// lock before saying that the service is running.
const toolLockTimeout = time.Second

// maxEventLine bounds one line of the event stream read by events --url.
const maxEventLine = 64 << 20

func eventsCmd() *cobra.Command {
	var f serviceFlags
	var after uint64
	var follow bool
	var base string
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print the event log as JSON lines",
		Long: `Print the events of the service's log with a seq above --after, one JSON object per line.

Without --url, events reads the data files of a stopped service in --dir and
exits at the end of the log: a running "minimi serve" holds the lock of its
data files. With --url, it reads GET /_minimi/events of a running service
instead, and keeps printing new events until interrupted (--follow is
implied), connecting again after the last event printed when the stream
breaks; --follow without --url is an error. A service with client keys
wants one: events --url sends $MINIMI_CLIENT_KEY as X-Client-Key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if base != "" {
				if cmd.Flags().Changed("dir") || cmd.Flags().Changed("config") {
					return errors.New("--url reads a running service over HTTP: --dir and --config are for a stopped one's data files, not both")
				}
				return streamEvents(cmd.Context(), out, cmd.ErrOrStderr(), base, after)
			}
			if follow {
				return errors.New("--follow needs --url: a running service locks its data files, so follow it over HTTP")
			}
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			data := server.DataDir(f.dir, cfg)
			if err := checkDataDir(data); err != nil {
				return err
			}
			db, err := stash.OpenLogReadOnly(data, toolLockTimeout)
			if errors.Is(err, stash.ErrInUse) {
				return fmt.Errorf("%w: is the service running? Stop it, or read its events with --url", err)
			}
			if err != nil {
				return err
			}
			defer db.Close()
			return eventsource.ReadLog(db, after, 0, func(ev *eventsource.Event) error {
				_, err := fmt.Fprintf(out, "%s\n", ev.JSON())
				return err
			})
		},
	}
	f.register(cmd)
	cmd.Flags().Uint64Var(&after, "after", 0, "print the events with a seq above this one")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing new events as they commit (needs --url)")
	cmd.Flags().StringVar(&base, "url", "", "base URL of a running service, e.g. http://127.0.0.1:3000")
	return cmd
}

// openForReplay opens the stores of a stopped service for replay. It reads
// minimi.db through first (checkLog); then every other store file starts
// empty (stash.Options.Fresh), so that a damaged one is rebuilt rather than
// read. A data directory without the event log is an error: replay reads
// what a service wrote, and must not make empty stores in a mistyped
// directory.
func openForReplay(dir string, cfg *config.Config) (*stash.Set, error) {
	data := server.DataDir(dir, cfg)
	if err := checkDataDir(data); err != nil {
		return nil, err
	}
	err := checkLog(data)
	var set *stash.Set
	if err == nil {
		set, err = server.OpenStashes(dir, cfg, stash.Options{Timeout: toolLockTimeout, Fresh: true})
	}
	if errors.Is(err, stash.ErrInUse) {
		return nil, fmt.Errorf("%w: is the service running? Stop it first: replay rewrites its stores", err)
	}
	return set, err
}

// checkLog reads every page of minimi.db in data (stash.CheckFiles) and
// checks that every event of its log is JSON (eventsource.CheckLog).
// Replay runs it before it empties any store: the stores can be rebuilt
// only from a log that reads through.
func checkLog(data string) error {
	if _, err := stash.CheckFiles(stash.Options{DataDir: data, Timeout: toolLockTimeout}); err != nil {
		return err
	}
	db, err := stash.OpenLogReadOnly(data, toolLockTimeout)
	if err != nil {
		return err
	}
	defer db.Close()
	err = eventsource.CheckLog(db)
	if err != nil && !errors.Is(err, stash.ErrDamaged) { // ErrDamaged says what to do
		err = fmt.Errorf("the event log in %s: %w; restore it from a backup (docs/operations.md)", db.Path(), err)
	}
	return err
}

// checkDataDir refuses a data directory without an event log, or a path
// under a file (a --dir that names one) where none can be.
func checkDataDir(data string) error {
	if _, err := os.Stat(filepath.Join(data, stash.DefaultFile)); errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("no event log in %s: the service has not run with this data directory (check --dir, "+
			"data_dir and MINIMI_DATA_DIR)", data)
	}
	return nil
}

// follower reads a running service's event stream for events --url.
type follower struct {
	out, errOut io.Writer
	key         string        // sent as X-Client-Key when not empty
	first, most time.Duration // the waits before the first reconnect and at most
	idle        time.Duration // a connection silent this long is broken
	maxLine     int           // the longest line of the stream
}

// newFollower waits 250 ms, doubling to 5 s, between reconnects, and takes a
// connection that stays silent for three of the service's heartbeats as
// broken. The client key comes from MINIMI_CLIENT_KEY.
func newFollower(out, errOut io.Writer) *follower {
	return &follower{out: out, errOut: errOut, key: os.Getenv(config.EnvClientKey),
		first: 250 * time.Millisecond, most: 5 * time.Second, idle: 3 * eventsource.DefaultHeartbeat, maxLine: maxEventLine}
}

// streamEvents prints the data of each event of a running service's
// stream until ctx ends (nil). When the stream breaks after it started (the
// service restarts, the network drops) it reconnects after the last event
// printed, so nothing is printed twice or skipped, and says so on errOut. A
// first connection that fails, and a refusal (any answer but 200, a 5xx, 408
// or 429), is an error.
func streamEvents(ctx context.Context, out, errOut io.Writer, base string, after uint64) error {
	return newFollower(out, errOut).follow(ctx, base, after)
}

func (f *follower) follow(ctx context.Context, base string, after uint64) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("--url %q: want an http or https URL", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--url %q: want the service's base URL, such as http://127.0.0.1:3000, without a query: "+
			"events --url reads <url>/_minimi/events (--after sets where it starts)", base)
	}
	u = u.JoinPath("_minimi", "events")
	wait := f.first
	for connected := false; ; {
		began := time.Now()
		n, err := f.read(ctx, u, &after, connected)
		if ctx.Err() != nil {
			return nil
		}
		var final *finalError
		if !connected && n < 0 || errors.As(err, &final) {
			return err
		}
		connected = true
		if n > 0 || time.Since(began) > f.most { // a stream that worked for a while starts the waits over
			wait = f.first
		}
		fmt.Fprintf(f.errOut, "%v; reconnecting after seq %d in %v\n", err, after, wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, f.most)
	}
}

// causeOr is why ctx ended, if it did, else err.
func causeOr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return err
}

// finalError is a failure that reconnecting cannot mend.
type finalError struct{ error }

func (e *finalError) Unwrap() error { return e.error }

// retryable reports whether a reconnect may get a better answer than status.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// refusal is what a reply that refused the stream says: the detail of its
// problem, and for a 401 to a request without a key, where the key goes.
func (f *follower) refusal(resp *http.Response) string {
	var p struct {
		Detail string `json:"detail"`
	}
	var why string
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if json.Unmarshal(body, &p) == nil && p.Detail != "" {
			why = ": " + p.Detail
		}
	}
	if resp.StatusCode == http.StatusUnauthorized && f.key == "" {
		why += " (events --url sends the client key in $MINIMI_CLIENT_KEY)"
	}
	return why
}

// read reads one connection of the stream from *after on, moving *after to
// each event it prints. It returns the number of events printed, -1 if no
// stream started, and why the stream ended.
func (f *follower) read(ctx context.Context, u *url.URL, after *uint64, connected bool) (int, error) {
	q := *u
	q.RawQuery = url.Values{"after": {strconv.FormatUint(*after, 10)}}.Encode()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	silent := fmt.Errorf("nothing, not even a heartbeat, for %v", f.idle)
	watch := time.AfterFunc(f.idle, func() { cancel(silent) })
	defer watch.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.String(), nil)
	if err != nil {
		return -1, &finalError{err}
	}
	req.Header.Set("Accept", "text/event-stream")
	if f.key != "" {
		req.Header.Set("X-Client-Key", f.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, fmt.Errorf("events: %w", causeOr(ctx, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("events: GET %s: %s%s", q.Redacted(), resp.Status, f.refusal(resp))
		if !connected || !retryable(resp.StatusCode) {
			err = &finalError{err}
		}
		return -1, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		// Another server, or a page: no stream comes from reconnecting.
		err := fmt.Errorf("events: GET %s: %s is not an event stream (Content-Type %q): is --url the base URL of a "+
			"MiniMi service?", q.Redacted(), resp.Status, resp.Header.Get("Content-Type"))
		if !connected {
			err = &finalError{err}
		}
		return -1, err
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, min(64<<10, f.maxLine)), f.maxLine)
	var id uint64
	for sc.Scan() {
		watch.Reset(f.idle)
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id, _ = strconv.ParseUint(v, 10, 64)
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if _, err := fmt.Fprintln(f.out, data); err != nil {
			return n, &finalError{err}
		}
		n++
		if id > *after {
			*after = id
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return n, &finalError{fmt.Errorf("events: an event after seq %d is longer than %d bytes", *after, f.maxLine)}
	case err != nil:
		return n, fmt.Errorf("events: %w", causeOr(ctx, err))
	}
	return n, errors.New("events: the service ended the stream")
}

func replayCmd() *cobra.Command {
	var f serviceFlags
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Rebuild every stash of a stopped service from its event log",
		Long: `Empty every store of the service in --dir and replay its whole event log
into them, then print how many records each collection holds. The service
must be stopped: a running "minimi serve" holds the lock of its data files.

Every store file but minimi.db starts again from an empty file, so a damaged
one is rebuilt. minimi.db holds the log: replay reads all of it first, and
stops, changing nothing, if it is damaged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			set, err := openForReplay(f.dir, cfg)
			if err != nil {
				return err
			}
			defer set.Close()
			return replay(cmd.Context(), cmd.OutOrStdout(), set, cfg.Name)
		},
	}
	f.register(cmd)
	return cmd
}

// replay rebuilds set from its log and prints a summary.
func replay(ctx context.Context, out io.Writer, set *stash.Set, name string) error {
	l, err := eventsource.Open(set, eventsource.Options{Service: name})
	if err != nil {
		return err
	}
	if err := l.Rebuild(ctx); err != nil {
		_ = l.Close(context.Background())
		return err
	}
	if err := l.Close(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "replayed %d events\n", l.Head())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tSTORE\tRECORDS")
	ss := set.ReadOnlySession()
	for _, c := range set.Collections() {
		n, err := ss.Count(c.Path())
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Path(), cmp.Or(c.File(), "(memory)"), n)
	}
	return tw.Flush()
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
implied); --follow without --url is an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if base != "" {
				return streamEvents(cmd.Context(), out, base, after)
			}
			if follow {
				return errors.New("--follow needs --url: a running service locks its data files, so follow it over HTTP")
			}
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			set, err := openToolStashes(f.dir, cfg)
			if err != nil {
				return err
			}
			defer set.Close()
			return eventsource.ReadLog(set.DB(), after, 0, func(ev *eventsource.Event) error {
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

// openToolStashes opens the stores of a stopped service.
func openToolStashes(dir string, cfg *config.Config) (*stash.Set, error) {
	set, err := server.OpenStashes(dir, cfg, stash.Options{Timeout: toolLockTimeout})
	if errors.Is(err, stash.ErrInUse) {
		return nil, fmt.Errorf("%w: is the service running? Stop it, or read its events with --url", err)
	}
	return set, err
}

// streamEvents prints the data of each event of a running service's
// stream until ctx ends (nil) or the stream does (an error).
func streamEvents(ctx context.Context, out io.Writer, base string, after uint64) error {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/_minimi/events")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("--url %q: want an http or https URL", base)
	}
	u.RawQuery = url.Values{"after": {strconv.FormatUint(after, 10)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("events: GET %s: %s", u, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if _, err := fmt.Fprintln(out, data); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	return errors.New("events: the service ended the stream")
}

func replayCmd() *cobra.Command {
	var f serviceFlags
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Rebuild every stash of a stopped service from its event log",
		Long: `Empty every store of the service in --dir and replay its whole event log
into them, then print how many records each collection holds. The service
must be stopped: a running "minimi serve" holds the lock of its data files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			set, err := openToolStashes(f.dir, cfg)
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
		store := c.Store()
		if store == "" {
			store = stash.DefaultFile
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Path(), store, n)
	}
	return tw.Flush()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/server"
	"github.com/minimi-go/minimi/internal/stash"
)

// version is set at build time with -ldflags "-X main.version=…". Without
// it, init takes the module's version that the go command recorded: the
// release of go install …/cmd/minimi@v1.2.3, or the commit of a build from a
// clone.
var version = "dev"

func init() {
	bi, _ := debug.ReadBuildInfo()
	version = stampedVersion(version, bi)
}

// stampedVersion is v, or, when v is "dev", the main module's version in
// bi when the go command recorded one.
func stampedVersion(v string, bi *debug.BuildInfo) string {
	if v != "dev" || bi == nil || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return v
	}
	return bi.Main.Version
}

// exitError ends the process with code after its output was already printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// serviceFlags are the flags every command that loads a service takes.
type serviceFlags struct {
	dir    string
	config string
	port   int
	watch  bool
}

func (f *serviceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "dir", ".", "service directory (holds endpoints/, lib/ and config.json)")
	cmd.Flags().StringVar(&f.config, "config", "", "config file (default <dir>/config.json, optional)")
}

// configFile is the config file's path, and whether it must exist: the one
// named with --config, or else the optional <dir>/config.json.
func (f *serviceFlags) configFile() (path string, mustExist bool) {
	if f.config != "" {
		return f.config, true
	}
	return filepath.Join(f.dir, "config.json"), false
}

// loadConfig reads the config file and the environment, then applies the
// flags that were set. The variable of a key that a flag sets is not read:
// the flag overrides it, so a bad one must not stop the command.
func (f *serviceFlags) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	if f.config == "" && cmd.Flags().Changed("config") {
		return nil, errors.New(`--config "": want the config file's name (leave --config out for <dir>/config.json)`)
	}
	var opts config.Options
	portSet := cmd.Flags().Changed("port")
	if portSet {
		opts.Overridden = []string{"port"}
	}
	path, mustExist := f.configFile()
	cfg, err := config.ReadConfigFileWith(path, mustExist, opts)
	if err != nil {
		return nil, err
	}
	if portSet {
		cfg.Port = f.port
		if err := cfg.Validate(); err != nil {
			var ke *config.KeyError
			if errors.As(err, &ke) && ke.Key == "port" {
				ke.From = "--port"
			}
			return nil, err
		}
	}
	return cfg, nil
}

// run is the whole CLI: main only adds signals, the logger and the exit code.
// run runs the command line args. Log lines, the request log included, go
// to logs as JSON.
func run(ctx context.Context, args []string, stdout, logs io.Writer) error {
	lg := slog.New(slog.NewJSONHandler(logs, nil))
	root := &cobra.Command{
		Use:           "minimi",
		Short:         "Serve a folder of Lua scripts as an HTTP microservice",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.AddCommand(serveCmd(lg, logs), checkCmd(), routesCmd(), versionCmd(), keyCmd(), eventsCmd(), replayCmd(), initCmd())
	return root.ExecuteContext(ctx)
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "minimi", version)
			return nil
		},
	}
}

func serveCmd(lg *slog.Logger, logs io.Writer) *cobra.Command {
	var f serviceFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the service in --dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			setProcs()
			return serve(cmd.Context(), &f, cmd, cfg, lg, logs)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&f.port, "port", 0, "HTTP port (overrides config and MINIMI_PORT; 0 picks a free port)")
	cmd.Flags().BoolVar(&f.watch, "watch", false, "reload on changes under endpoints/, lib/ and config.json (always on in dev mode)")
	return cmd
}

func checkCmd() *cobra.Command {
	var f serviceFlags
	var stores bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Load the config and every script; report every problem with file and line",
		Long: `Load the config and every script, and report every problem with file and
line; exit 1 on any. With --stores, also read every page of every store file
of the service, which must be stopped, and report each damaged file, each
collection whose records share a value of a field its schema makes unique,
and each collection that a stash file moved into a store that has applied
events, which needs "minimi replay" (serve would refuse to start).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			cfg, err := f.loadConfig(cmd)
			if err == nil {
				var site *server.Site
				site, err = server.LoadSite(f.dir, cfg, server.SiteOptions{})
				if err == nil {
					site.Close()
					var files []string
					if stores {
						files, err = checkStores(f.dir, cfg, site.Spec)
					}
					if err == nil {
						fmt.Fprintf(out, "ok: %d folders%s\n", len(site.Table.Folders), storesChecked(stores, files))
						return nil
					}
				}
			}
			for _, e := range server.Problems(err) {
				fmt.Fprintln(out, e)
			}
			return &exitError{code: 1}
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&stores, "stores", false, "also read every store file of the stopped service and report damaged ones and unique values that records share")
	return cmd
}

// checkStores checks every store file of the stopped service in dir, whose
// endpoints declare spec, for damage, for records that would stop serve
// from rebuilding the indexes of spec's collections and for collections
// moved into a store that has applied events, and returns the files it
// checked.
func checkStores(dir string, cfg *config.Config, spec *server.Spec) ([]string, error) {
	opts := stash.Options{DataDir: server.DataDir(dir, cfg), Stores: spec.Stores,
		Collections: spec.Collections, Timeout: toolLockTimeout}
	files, err := stash.CheckFiles(opts)
	if err == nil {
		err = storesAhead(opts)
	}
	if errors.Is(err, stash.ErrInUse) {
		return nil, fmt.Errorf("%w: is the service running? Stop it first: --stores reads its store files", err)
	}
	return files, err
}

// storesAhead is the error serve stops with on a store that has applied
// events past the end of the event log (stash.AheadError), for each such
// store of opts; a missing or empty minimi.db (cut to zero bytes) is an
// empty log, as serve reads it.
func storesAhead(opts stash.Options) error {
	var head uint64
	if fi, err := os.Stat(filepath.Join(opts.DataDir, stash.DefaultFile)); err == nil && fi.Size() > 0 {
		db, err := stash.OpenLogReadOnly(opts.DataDir, opts.Timeout)
		if err != nil {
			return err
		}
		head, err = eventsource.LogHead(db)
		db.Close()
		if err != nil {
			return err
		}
	}
	return stash.StoresAhead(opts, head)
}

// storesChecked is what check adds to its ok line about the store files.
func storesChecked(stores bool, files []string) string {
	switch {
	case !stores:
		return ""
	case len(files) == 1:
		return ", 1 store file"
	}
	return fmt.Sprintf(", %d store files", len(files))
}

func routesCmd() *cobra.Command {
	var f serviceFlags
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "Print the route table: URL, methods, and each phase's processor file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			site, err := server.LoadSite(f.dir, cfg, server.SiteOptions{})
			if err != nil {
				return err
			}
			defer site.Close()
			return printRoutes(cmd.OutOrStdout(), server.Routes(site))
		},
	}
	f.register(cmd)
	return cmd
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/minimi-go/minimi/internal/bus"
	"github.com/minimi-go/minimi/internal/config"
	"github.com/minimi-go/minimi/internal/eventsource"
	"github.com/minimi-go/minimi/internal/metrics"
	"github.com/minimi-go/minimi/internal/server"
	natsvc "github.com/minimi-go/minimi/internal/service"
	"github.com/minimi-go/minimi/internal/stash"
)

// rpcCloseTimeout bounds the wait for requests over NATS in flight at shutdown.
const rpcCloseTimeout = 10 * time.Second

// outboxCloseTimeout bounds the outbox's last flush at shutdown: with NATS
// unreachable, the events left wait in the log for the next start.
const outboxCloseTimeout = 5 * time.Second

// service is everything `minimi serve` runs, in the order it starts: bus,
// stores, site, then the service over NATS. close stops them in reverse.
type service struct {
	metrics *metrics.Metrics
	set     *stash.Set
	log     *eventsource.Log
	outbox  *eventsource.Outbox // publishes events on NATS; nil with the bus off
	bus     *bus.Bus
	site    *server.Site
	rpc     *natsvc.Service // answers the routes over NATS; nil with the bus off
	lg      *slog.Logger
}

// open starts the bus, the stores and the site of the service in dir.
func open(ctx context.Context, dir string, cfg *config.Config, lg *slog.Logger) (*service, error) {
	svc := &service{lg: lg}
	if err := server.CheckDir(dir); err != nil {
		return svc, err
	}
	var err error
	if svc.metrics, err = metrics.New(metrics.Options{Logger: lg}); err != nil {
		return svc, err
	}
	svc.bus, err = bus.Start(bus.Options{Enabled: cfg.NATS.Enabled, URL: cfg.NATS.URL, Port: cfg.NATS.Port,
		Name: cfg.Name, Logger: lg})
	if err != nil {
		return svc, fmt.Errorf("nats: %w", err)
	}
	site, err := server.LoadSite(dir, cfg, server.SiteOptions{
		Logger:   lg.With("component", "lua"),
		Bus:      natsvc.NewClient(svc.bus.Conn()),
		Observer: svc.metrics,
		Open: func(stores []stash.StoreSpec, colls []stash.CollectionSpec) (server.Backend, error) {
			var err error
			if noFsync {
				lg.Warn("built with -tags nofsync: commits are not fsynced, a crash can lose acknowledged writes")
			}
			if svc.set, err = stash.Open(stash.Options{DataDir: server.DataDir(dir, cfg), Stores: stores, Collections: colls,
				NoSync: noFsync, Logger: lg}); err != nil {
				return server.Backend{}, err
			}
			// The log catches every store up with it before anything runs.
			if svc.log, err = eventsource.Open(svc.set, eventsource.Options{Service: cfg.Name,
				Logger: lg}); err != nil {
				return server.Backend{}, err
			}
			// Once caught up, every collection is indexed as its schema says.
			if err := svc.set.Reindex(); err != nil {
				return server.Backend{}, fmt.Errorf("open stash: %w", err)
			}
			return server.Backend{Stash: svc.set, Log: svc.log}, nil
		},
	})
	if err != nil {
		return svc, err
	}
	svc.site = site
	if nc := svc.bus.Conn(); nc != nil {
		svc.outbox = eventsource.NewOutbox(svc.log, nc, eventsource.OutboxOptions{Logger: lg})
		go func() {
			if err := svc.outbox.Run(context.WithoutCancel(ctx)); err != nil {
				lg.Error("outbox stopped", "error", err)
			}
		}()
	}
	if err := svc.registerCollectors(); err != nil {
		return svc, err
	}
	ran, err := site.RunInstalls(ctx)
	for _, url := range ran {
		lg.Info("install script ran", "folder", url)
	}
	return svc, err
}

// registerCollectors adds the collectors of the log, the outbox and the NATS
// connection (those that run) to the service's metrics.
func (svc *service) registerCollectors() error {
	if svc.log != nil {
		if err := svc.metrics.Register(metrics.NewLogCollector(svc.log)); err != nil {
			return err
		}
	}
	if svc.outbox != nil {
		if err := svc.metrics.Register(metrics.NewOutboxCollector(svc.outbox)); err != nil {
			return err
		}
	}
	if nc := svc.bus.Conn(); nc != nil {
		return svc.metrics.Register(metrics.NewNATSCollector(nc))
	}
	return nil
}

// close stops what open started, in reverse order; it is safe on a
// partly opened service.
func (svc *service) close() error {
	var err error
	if svc.rpc != nil {
		err = svc.closeRPC()
	}
	if svc.site != nil {
		svc.site.Close()
	}
	if svc.outbox != nil {
		err = errors.Join(err, svc.closeOutbox())
	}
	if svc.bus != nil {
		svc.bus.Close()
	}
	if svc.log != nil {
		ctx, cancel := context.WithTimeout(context.Background(), rpcCloseTimeout)
		err = errors.Join(err, svc.log.Close(ctx))
		cancel()
	}
	if svc.set != nil {
		err = errors.Join(err, svc.set.Close())
	}
	return err
}

// closeRPC stops answering over NATS and waits for the requests in flight,
// up to rpcCloseTimeout. Those still running then are cut off (their
// scripts stop), as over HTTP: the log says so and the stop goes on.
func (svc *service) closeRPC() error {
	ctx, cancel := context.WithTimeout(context.Background(), rpcCloseTimeout)
	defer cancel()
	cutOff, err := svc.rpc.CloseCutOff(ctx)
	if cutOff {
		svc.lg.Warn("shutdown grace ran out: the requests over NATS in flight are cut off", "grace", rpcCloseTimeout.String())
	}
	return err
}

// closeOutbox publishes what the outbox has left, for up to
// outboxCloseTimeout. Events it could not publish are not lost: they stay in
// the log, and the next start publishes them.
func (svc *service) closeOutbox() error {
	ctx, cancel := context.WithTimeout(context.Background(), outboxCloseTimeout)
	defer cancel()
	err := svc.outbox.Close(ctx)
	if lag := svc.outbox.Lag(); lag > 0 {
		svc.lg.Warn("outbox not flushed: the events left are published at the next start",
			"events", lag, "sent_seq", svc.outbox.Sent())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// serve runs the service until ctx ends: it stops accepting, lets requests
// in flight finish, then closes the bus and the stores.
func serve(ctx context.Context, f *serviceFlags, cmd *cobra.Command, cfg *config.Config, lg *slog.Logger, logs io.Writer) (err error) {
	// The backup signals are taken before anything opens and until the
	// end, so that none that comes while the service starts or stops is
	// dropped unheard.
	bk := backupOnSignal(ctx, lg)
	defer bk.close()
	svc, err := open(ctx, f.dir, cfg, lg)
	served := false
	defer func() {
		err = errors.Join(err, svc.close())
		if served && err == nil {
			lg.Info("stopped") // the last line: the bus, the outbox and the stores are closed
		}
	}()
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{Site: svc.site, Logger: lg, AccessLog: logs, Events: svc.log.SSE(), Metrics: svc.metrics})
	if err != nil {
		return err
	}
	if nc := svc.bus.Conn(); nc != nil {
		svc.rpc, err = natsvc.New(nc, natsvc.Options{Name: cfg.Name, Version: version, Handler: srv, Routes: svc.site.Engine, Logger: lg})
		if err != nil {
			return err
		}
	}
	// The watches are set before the service answers, so that no change
	// made once it does is missed.
	var watcher *server.Watcher
	if f.watch || cfg.Dev {
		cfgFile, _ := f.configFile()
		if watcher, err = server.NewWatcher(f.dir, cfgFile, lg); err != nil {
			lg.Error("watch stopped", "error", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		if watcher != nil {
			watcher.Close()
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen: %w (another MiniMi service?): give this service another port "+
				"(--port or MINIMI_PORT, 0 for any free port)", err)
		}
		return fmt.Errorf("listen: %w", err)
	}
	lg.Info("serving", "service", cfg.Name, "addr", ln.Addr().String(), "dir", f.dir, "nats", svc.bus.ClientURLRedacted())
	if watcher != nil {
		go watcher.Run(ctx, func() { reloadSite(f, cmd, srv, svc, lg) })
	}
	bk.serve(svc.set, server.DataDir(f.dir, cfg))
	defer bk.stop() // before the stores close
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	served = true
	return nil
}

// reloadSite loads the service again and swaps it in. A change that does not
// load leaves the running version serving, and the log says why.
func reloadSite(f *serviceFlags, cmd *cobra.Command, srv *server.Server, svc *service, lg *slog.Logger) {
	cur := srv.Site()
	cfg, err := f.loadConfig(cmd)
	if err == nil {
		if keys := bindingChanges(cur.Config, cfg, f.watch); len(keys) > 0 {
			err = fmt.Errorf("config.json: %s changed: %w", strings.Join(keys, ", "), server.ErrRestart)
		}
	}
	var site *server.Site
	if err == nil {
		site, err = server.LoadSite(f.dir, cfg, server.SiteOptions{Logger: lg.With("component", "lua"), Open: cur.Reuse(),
			Bus: natsvc.NewClient(svc.bus.Conn()), Observer: svc.metrics})
	}
	if err == nil {
		if err = site.Activate(); err != nil {
			site.Close()
		}
	}
	if err != nil {
		for _, e := range server.Problems(err) {
			lg.Error("reload failed; the previous version keeps serving", "error", e.Error())
		}
		return
	}
	srv.Swap(site)
	cur.Close() // its states close as their requests end
	// One collection now, so that the next heap goal is set from what is
	// live, not from the replaced site and its compiled scripts: they
	// stay reachable through one collection after a request ran on them,
	// and reloads faster than collections (an editor saving in a loop)
	// otherwise ratchet the goal up, and the memory with it.
	runtime.GC()
	if svc.rpc != nil {
		if err := svc.rpc.Update(site.Engine); err != nil {
			lg.Error("reload: the routes over NATS were not updated", "error", err)
		}
	}
	lg.Info("reloaded", "folders", len(site.Table.Folders))
}

// bindingChanges names the keys that differ between two configs among
// those the running process bound at start: its name, ports, files and bus,
// the HTTP server's read timeout (limits.request_ms) and header limit
// (limits.header_bytes), and dev unless watch (--watch) is set, since dev
// then decides whether the process watches. A reload cannot apply them.
func bindingChanges(a, b *config.Config, watch bool) []string {
	var keys []string
	for _, k := range []struct {
		key     string
		changed bool
	}{
		{"name", a.Name != b.Name},
		{"port", a.Port != b.Port},
		{"data_dir", a.DataDir != b.DataDir},
		{"nats", a.NATS != b.NATS},
		{"limits.request_ms", a.Limits.RequestMS != b.Limits.RequestMS},
		{"limits.header_bytes", a.Limits.HeaderBytes != b.Limits.HeaderBytes},
		{"dev", !watch && a.Dev != b.Dev},
	} {
		if k.changed {
			keys = append(keys, k.key)
		}
	}
	return keys
}

// Package daemon wires the agent together: device key, store, engine and the
// local channel. cmd/agent's `run` and the service both call Run.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/devicekey"
	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/paths"
	"github.com/jcmfa/jcmfa/internal/store"
)

// Config is where the daemon keeps things.
type Config struct {
	StateDir string
	Socket   string
	Log      *slog.Logger
	// Ready, if set, is called once the socket is listening.
	Ready func()
	// AuthDB is the macOS login-window rule the drift watch keeps
	// jcmfa:verify in (docs/macos.md, "When an OS update takes the
	// mechanism out"). nil: authdb.Default(), the installed authdb.sh on
	// macOS under root, nothing to watch elsewhere. Tests give the
	// script against stand-ins.
	AuthDB authdb.System
	// AuthDBInterval is how often the rule is checked; 0: every 5 minutes.
	AuthDBInterval time.Duration
}

// Run serves until ctx is cancelled, then ends the open dialogues (each
// with a deny), closes the store and returns: within a few seconds.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state directory %s: %w", cfg.StateDir, err)
	}
	kp := devicekey.Default(cfg.StateDir)
	key, err := kp.Key()
	if err != nil {
		return err
	}
	st, err := store.Open(paths.Store(cfg.StateDir), key, store.Options{})
	clear(key)
	if err != nil {
		if errors.Is(err, store.ErrWrongKey) {
			return fmt.Errorf("%w (key: %s)", err, kp.Location())
		}
		return err
	}
	// A clean close clears the store's serving mark: the next start puts
	// up no fence. Serve returns within its StopTimeout, so a stop gets
	// here in seconds even with dialogues open.
	defer func() {
		if err := st.Close(); err != nil {
			cfg.Log.Error("closing the store failed; the next start will fence codes as after a crash", "error", err.Error())
		}
	}()
	unclean, err := st.Serve(time.Now())
	if err != nil {
		return err
	}
	if unclean {
		cfg.Log.Warn("the previous daemon stopped without closing the store (crash, kill or power loss): "+
			"codes up to the current time step plus the skew are refused as possibly used, for every user",
			"fence", st.Fence().UTC().Format(time.RFC3339))
	}
	rctx, stopRelease := context.WithCancel(ctx)
	defer stopRelease() // before the store closes
	go releasePages(rctx, st)
	eng := engine.New(st, cfg.Log)
	warnings, err := eng.MigrateAccounts()
	if err != nil {
		// Records under their old names still serve logins by those
		// names; the next start tries again.
		cfg.Log.Error("could not key records by account", "error", err.Error())
	}
	for _, w := range warnings {
		cfg.Log.Error("two records for one account", "detail", w)
	}
	// The migration walks every record once (only on a store written by an
	// earlier version): give back the mapped pages it touched and the heap
	// it grew.
	st.ReleasePages()
	debug.FreeOSMemory()
	fl, err := startFleet(ctx, st, cfg.Log, eng.AccountKey)
	if err != nil {
		return err
	}
	defer fl.stop()
	sink, closeSink := auditSink(cfg.Log)
	defer closeSink()
	eng.Sink = sink
	watcher, stopWatch := watchAuthDB(ctx, cfg, st, eng)
	defer stopWatch() // before the store closes
	l, err := listen(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("listen on %s: %w", cfg.Socket, err)
	}
	srv := ipc.NewServer(&Handler{Engine: eng, Fleet: fl, AuthDB: watcher}, cfg.Log, os.Geteuid())
	// On Windows the address is the pipe's real name when --socket is auto.
	cfg.Log.Info("jcmfa daemon listening", "socket", l.Addr().String(), "store", st.Path())
	// Under systemd: READY=1 now (logins queue in the listening socket
	// until Serve accepts them), the watchdog while healthy, STOPPING=1 at
	// the cancel. Stopped before the store closes.
	stopNotify := tellServiceManager(ctx, cfg.Log, &health{st: st, srv: srv}, "serving logins on "+l.Addr().String())
	defer stopNotify()
	if cfg.Ready != nil {
		cfg.Ready()
	}
	err = srv.Serve(ctx, l)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// releaseInterval is how often the daemon drops the store file's mapped
// pages from its resident set.
const releaseInterval = 30 * time.Second

// releasePages keeps the pages logins touch through bbolt's mmap from
// piling up in the daemon's RSS: with 100,000 users, logins of random
// accounts would otherwise leave the whole file resident. The pages stay
// in the page cache, so the cost is a minor fault on the next touch.
func releasePages(ctx context.Context, st *store.Store) {
	t := time.NewTicker(releaseInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st.ReleasePages()
		}
	}
}

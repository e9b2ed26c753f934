package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/daemon"
	"github.com/jcmfa/jcmfa/internal/paths"
)

// program adapts daemon.Run to the service manager's Start/Stop.
type program struct {
	cfg    daemon.Config
	logOut *logWriter // flushed when the daemon stops
	cancel context.CancelFunc
	done   chan error
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() {
		err := daemon.Run(ctx, p.cfg)
		if err != nil {
			p.cfg.Log.Error("daemon stopped", "error", err.Error())
			p.flushLog()
			fmt.Fprintln(os.Stderr, "jcmfa-agent:", err)
			os.Exit(1)
		}
		p.done <- err
	}()
	return nil
}

// stopBound is how long Stop waits for the daemon. daemon.Run returns
// within a few seconds of the cancel (the channel bounds its own stop);
// this is the backstop for a store that will not close, well inside
// systemd's 90 s before SIGKILL.
const stopBound = 10 * time.Second

func (p *program) Stop(service.Service) error {
	p.cancel()
	select {
	case err := <-p.done:
		p.flushLog()
		return err
	case <-time.After(stopBound):
		p.cfg.Log.Error("the daemon did not stop within " + stopBound.String() + "; exiting without closing the store " +
			"(the next start fences codes as after a crash: docs/policy.md, D13)")
		p.flushLog()
		return fmt.Errorf("daemon did not stop within %v", stopBound)
	}
}

func (p *program) flushLog() {
	if p.logOut != nil {
		p.logOut.Flush()
	}
}

func serviceConfig(stateDir, socket string) *service.Config {
	args := []string{"run"}
	if stateDir != paths.StateDir {
		args = append(args, "--state-dir", stateDir)
	}
	if socket != paths.Socket {
		args = append(args, "--socket", socket)
	}
	return &service.Config{
		Name:        "jcmfa-agent",
		DisplayName: "jcmfa login agent",
		Description: "Decides TOTP multi-factor authentication for OS logins, offline.",
		Arguments:   args,
	}
}

func newRunCmd(c *cli) *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon in the foreground (also what the service runs)",
		Long: `Run the daemon in the foreground until interrupted.

The store (jcmfa.db) and its key (store.key) are kept in --state-dir, which is
created 0700. With the defaults this is the installed daemon (on Linux,
systemd runs it as the system user _jcmfa, root may run it by hand); as any
user with a local --state-dir and --socket it is a trial daemon that that user
administers.

Logs are JSON lines on stderr. Under systemd (Linux) the daemon:
  - serves the listening socket systemd passes (jcmfa-agent.socket) instead of
    creating one at --socket, and never removes or re-modes it, so logins that
    arrive while the daemon restarts wait in systemd's queue; with no socket
    passed it creates its own at --socket, as when started by hand;
  - tells systemd when it is ready (READY=1, for Type=notify) and stopping;
  - pings the watchdog (WatchdogSec=) every third of the interval, but only
    while a store read answers and the accept loop is alive: a hung daemon
    stops pinging and systemd restarts it;
  - logs native journal entries instead of JSON lines when stderr is the
    journal, a field per attribute: journalctl -u jcmfa-agent VERDICT=deny.
See docs/packaging.md, "Under systemd".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			abs, err := filepath.Abs(stateDir)
			if err != nil {
				return err
			}
			tuneGC()
			// Native journal fields under systemd, JSON lines (batched:
			// logwriter.go) everywhere else.
			var out *logWriter
			h := journalHandler()
			if h == nil {
				out = newLogWriter(os.Stderr)
				h = slog.NewJSONHandler(out, nil)
			}
			prg := &program{cfg: daemon.Config{StateDir: abs, Socket: c.socket, Log: slog.New(h)}, logOut: out}
			s, err := service.New(prg, serviceConfig(abs, c.socket))
			if err != nil {
				return err
			}
			return s.Run()
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", paths.StateDir, "directory for the store and its key")
	return cmd
}

func newServiceCmd(c *cli) *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:       "service install|uninstall|start|stop|status",
		Short:     "Manage the jcmfa-agent system service (systemd, launchd, Windows SCM)",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"install", "uninstall", "start", "stop", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := service.New(&program{}, serviceConfig(stateDir, c.socket))
			if err != nil {
				return err
			}
			if args[0] == "status" {
				st, err := s.Status()
				if err != nil {
					return fmt.Errorf("service status: %w", err)
				}
				fmt.Println(map[service.Status]string{service.StatusRunning: "running", service.StatusStopped: "stopped"}[st])
				if st != service.StatusRunning {
					return exitError{3}
				}
				return nil
			}
			switch args[0] {
			case "install", "uninstall", "start", "stop":
				if err := service.Control(s, args[0]); err != nil {
					return fmt.Errorf("service %s: %w", args[0], err)
				}
				// The Windows Event Log source for audit events; nothing
				// elsewhere.
				if args[0] == "install" {
					if err := daemon.InstallEventSource(); err != nil {
						fmt.Fprintln(os.Stderr, "warning: event log source not registered:", err)
					}
				} else if args[0] == "uninstall" {
					daemon.RemoveEventSource()
				}
				fmt.Printf("service %s: done\n", args[0])
				return nil
			}
			return fmt.Errorf("unknown service action %q: use install, uninstall, start, stop or status", args[0])
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", paths.StateDir, "state directory the installed service uses")
	return cmd
}

// tuneGC trades a little memory for CPU: the daemon's live heap is a few
// MB, so with Go's default GOGC=100 a busy daemon collects very often (the
// GC was ~20% of its CPU at 10,000 logins/s). GOGC=400 collects a quarter
// as often, and the 48 MiB soft limit makes it collect sooner whenever the
// heap nears that, so the daemon stays small. GOGC and GOMEMLIMIT in the
// environment still win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
}

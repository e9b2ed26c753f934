package systemd

import (
	"context"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// WatchdogInterval is the unit's WatchdogSec= (systemd passes it as
// WATCHDOG_USEC, with WATCHDOG_PID naming the process it is for), or zero
// when no watchdog watches this process. The variables are removed from
// the environment so that nothing the daemon starts inherits them.
func WatchdogInterval() (time.Duration, error) { return sd.SdWatchdogEnabled(true) }

// Watchdog pings systemd's watchdog only while the daemon is healthy.
//
// systemd kills and restarts a service that has not sent WATCHDOG=1 for
// WatchdogSec (systemd.service(5)). A ping from a timer alone would only
// prove that the Go runtime still schedules goroutines; a daemon whose
// store or accept loop is wedged would go on pinging while every login
// fails. So each ping follows a Check that exercises what a login needs,
// and a failing Check withholds the ping: once it has failed for
// WatchdogSec, systemd restarts the daemon (and the socket it holds keeps
// queueing logins meanwhile).
type Watchdog struct {
	// Interval is WatchdogSec. Run checks and pings every Interval/3,
	// so one slow check does not cost a restart.
	Interval time.Duration
	// Check returns nil if the daemon is healthy, having waited at most
	// bound for the answer (Interval/6: a check never holds up the next).
	Check func(bound time.Duration) error
	Log   *slog.Logger
	// notify sends to the service manager; nil means Notify.
	notify func(string) (bool, error)
}

// Run checks and pings until ctx is done.
func (w *Watchdog) Run(ctx context.Context) {
	notify := w.notify
	if notify == nil {
		notify = Notify
	}
	every := w.Interval / 3
	t := time.NewTicker(every)
	defer t.Stop()
	var failing error
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := w.Check(every / 2)
		if ctx.Err() != nil {
			return // stopping: a check cut short says nothing
		}
		if err != nil {
			if failing == nil {
				w.Log.Error("health check failed: not pinging systemd's watchdog; systemd restarts the daemon if this lasts "+
					w.Interval.String()+" (WatchdogSec=)", "error", err.Error())
				notify("STATUS=unhealthy: " + oneLine(err.Error()))
			}
			failing = err
			continue
		}
		if failing != nil {
			w.Log.Info("health check passes again; pinging systemd's watchdog")
			notify("STATUS=serving logins")
			failing = nil
		}
		if _, err := notify(sd.SdNotifyWatchdog); err != nil {
			w.Log.Warn("cannot ping systemd's watchdog", "error", err.Error())
		}
	}
}

package daemon

import (
	"context"
	"log/slog"
	"sync"

	"github.com/jcmfa/jcmfa/internal/systemd"
)

// tellServiceManager runs once the socket listens: under systemd
// (Type=notify) it says READY=1, pings the watchdog while h passes (when
// the unit sets WatchdogSec=) and says STOPPING=1 as soon as ctx is done.
// Started any other way it does nothing. The returned stop ends the
// watchdog; Run calls it before closing the store.
func tellServiceManager(ctx context.Context, log *slog.Logger, h *health, status string) (stop func()) {
	if _, err := systemd.Ready(status); err != nil {
		log.Warn("cannot tell systemd the daemon is ready (NOTIFY_SOCKET)", "error", err.Error())
	}
	// STOPPING=1 as soon as ctx is done, from AfterFunc's own goroutine;
	// stop sends it too (once), and waits for it, so that it is never lost
	// to the process exiting before that goroutine ran: seen in 3 of 20
	// runs of systemdtest in a systemd-nspawn container.
	var once sync.Once
	stopping := func() {
		once.Do(func() { systemd.Stopping("stopping: ending open dialogues, closing the store") })
	}
	stopNote := context.AfterFunc(ctx, stopping)
	interval, err := systemd.WatchdogInterval()
	if err != nil {
		log.Warn("ignoring a malformed watchdog setting from systemd (WATCHDOG_USEC)", "error", err.Error())
	}
	if interval <= 0 {
		return func() { stopNote(); stopping() }
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		(&systemd.Watchdog{Interval: interval, Check: h.check, Log: log}).Run(wctx)
	}()
	return func() { cancel(); wg.Wait(); stopNote(); stopping() }
}

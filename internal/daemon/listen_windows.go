package daemon

import (
	"context"
	"errors"
	"net"
	"time"

	"golang.org/x/sys/windows/svc/eventlog"

	"github.com/jcmfa/jcmfa/internal/ipc"
)

// listenRetry is how long the service waits before trying a taken pipe
// name again.
var listenRetry = 5 * time.Second

// eventPipeTaken is the Event Log id of "the fixed pipe name is taken".
const eventPipeTaken = 300

// listen opens the named pipe. The default (a fresh random name each start)
// cannot be taken in advance; a fixed name given with --socket can, by any
// user while the service is stopped. Then the service says exactly why in
// its log, the Event Log and HKLM\SOFTWARE\jcmfa\Agent ListenError (which
// `jcmfa-agent doctor` reports), and tries again until the name is free or
// the service is stopped.
func listen(ctx context.Context, cfg Config) (net.Listener, error) {
	for {
		l, err := ipc.Listen(cfg.Socket)
		var taken *ipc.PipeTakenError
		if !errors.As(err, &taken) {
			if err == nil {
				ipc.RecordListenProblem("")
			}
			return l, err
		}
		msg := taken.Error()
		cfg.Log.Error("cannot listen: pipe name taken", "socket", cfg.Socket, "holder_pid", taken.HolderPID,
			"retry_in", listenRetry.String(), "problem", msg)
		if e := ipc.RecordListenProblem(msg); e != nil {
			cfg.Log.Warn("cannot record the problem for jcmfa-agent doctor", "error", e.Error())
		}
		if el, e := eventlog.Open(EventSource); e == nil {
			el.Error(eventPipeTaken, msg)
			el.Close()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(listenRetry):
		}
	}
}

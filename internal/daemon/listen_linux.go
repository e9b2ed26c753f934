package daemon

import (
	"context"
	"net"
	"path/filepath"

	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/systemd"
)

// listen serves the socket systemd passed (jcmfa-agent.socket) when there
// is one, and otherwise creates the daemon's own at cfg.Socket (started by
// hand, by `make trial`, or by a unit without the socket).
//
// systemd's socket is left exactly as systemd made it: not unlinked or
// chmod-ed at start, not unlinked at stop, so logins arriving while the
// daemon restarts wait in its queue instead of finding no socket. Where it
// is not at --socket, the passed one is served anyway (it is the one
// logins reach), with a warning naming both.
func listen(_ context.Context, cfg Config) (net.Listener, error) {
	l, err := systemd.Listener()
	if err != nil {
		return nil, err
	}
	if l == nil {
		return ipc.Listen(cfg.Socket)
	}
	passed := l.Addr().String()
	if abs, err := filepath.Abs(cfg.Socket); err != nil || filepath.Clean(passed) != abs {
		cfg.Log.Warn("the socket systemd passed is not the one --socket names; serving the passed one, which is where logins connect: "+
			"make ListenStream= in jcmfa-agent.socket and --socket (or JCMFA_SOCKET) agree",
			"passed", passed, "socket", cfg.Socket)
	}
	cfg.Log.Info("serving the socket systemd passed (jcmfa-agent.socket)", "socket", passed)
	return l, nil
}

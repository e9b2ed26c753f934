//go:build !windows && !linux

package daemon

import (
	"context"
	"net"

	"github.com/jcmfa/jcmfa/internal/ipc"
)

// listen opens the local channel. A Unix socket path is the daemon's own
// root-only directory, so there is nothing to wait out.
func listen(_ context.Context, cfg Config) (net.Listener, error) { return ipc.Listen(cfg.Socket) }

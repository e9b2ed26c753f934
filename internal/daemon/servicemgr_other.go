//go:build !linux

package daemon

import (
	"context"
	"log/slog"
)

// tellServiceManager: launchd and the Windows service manager learn that
// the daemon runs from the process itself (and kardianos/service on
// Windows); there is nothing to tell them.
func tellServiceManager(context.Context, *slog.Logger, *health, string) (stop func()) {
	return func() {}
}

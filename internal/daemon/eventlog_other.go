//go:build !windows

package daemon

import (
	"log/slog"

	"github.com/jcmfa/jcmfa/internal/store"
)

// auditSink: on Linux and macOS the JSON log on stderr goes to journald or
// launchd's log, which is where admins look; no second sink.
func auditSink(*slog.Logger) (func(store.Event), func()) { return nil, func() {} }

// InstallEventSource is a Windows-only step.
func InstallEventSource() error { return nil }

// RemoveEventSource is a Windows-only step.
func RemoveEventSource() error { return nil }

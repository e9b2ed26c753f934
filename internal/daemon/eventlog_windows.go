package daemon

import (
	"encoding/json"
	"log/slog"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/eventlog"

	"github.com/jcmfa/jcmfa/internal/store"
)

// EventSource is the Windows Event Log source the service registers at
// install (see cmd/agent service install) and writes audit events to.
const EventSource = "jcmfa-agent"

// Event ids: one per outcome, so admins can filter in Event Viewer.
const (
	eventAllow  = 100
	eventSkip   = 101
	eventDeny   = 102
	eventChange = 200
)

// auditSink mirrors every audit event into the Application log. Without a
// registered source (a trial run) the store and the JSON log still have them.
func auditSink(log *slog.Logger) (func(store.Event), func()) {
	l, err := eventlog.Open(EventSource)
	if err != nil {
		log.Warn("Windows Event Log unavailable; audit events go to the store and the JSON log only", "error", err.Error())
		return nil, func() {}
	}
	return func(ev store.Event) {
		// Escaped as well as JSON-encoded: JSON leaves C1 controls and
		// bidirectional overrides as they are, and Event Viewer shows them.
		b, _ := json.Marshal(ev.Printable())
		switch ev.Verdict {
		case "allow":
			l.Info(eventAllow, string(b))
		case "skip":
			l.Info(eventSkip, string(b))
		case "deny":
			l.Warning(eventDeny, string(b))
		default:
			l.Info(eventChange, string(b))
		}
	}, func() { l.Close() }
}

// eventLogKey is where Windows keeps the Application log's sources (and
// where eventlog.Install writes).
const eventLogKey = `SYSTEM\CurrentControlSet\Services\EventLog\Application`

// InstallEventSource registers the source (service install). The MSI
// registers the same values itself (packaging/windows/jcmfa.wxs), so an
// existing source is not an error.
func InstallEventSource() error {
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, eventLogKey+`\`+EventSource, registry.QUERY_VALUE); err == nil {
		k.Close()
		return nil
	}
	return eventlog.InstallAsEventCreate(EventSource, eventlog.Error|eventlog.Warning|eventlog.Info)
}

// RemoveEventSource unregisters it (service uninstall).
func RemoveEventSource() error { return eventlog.Remove(EventSource) }

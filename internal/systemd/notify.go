package systemd

import (
	"strings"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// Notify sends state (newline-separated assignments, sd_notify(3)) to the
// service manager. It reports false, nil when the daemon was not started
// by one (no NOTIFY_SOCKET). NOTIFY_SOCKET stays set: the daemon sends
// more than once (READY, WATCHDOG, STOPPING).
func Notify(state string) (bool, error) { return sd.SdNotify(false, state) }

// Ready says the daemon accepts logins, with status as the text
// `systemctl status` shows. With Type=notify, units ordered after the
// daemon (and systemctl start) wait for this.
func Ready(status string) (bool, error) {
	return Notify(sd.SdNotifyReady + "\nSTATUS=" + oneLine(status))
}

// Stopping says the daemon has begun to stop.
func Stopping(status string) (bool, error) {
	return Notify(sd.SdNotifyStopping + "\nSTATUS=" + oneLine(status))
}

// Status replaces the text `systemctl status` shows.
func Status(status string) (bool, error) { return Notify("STATUS=" + oneLine(status)) }

// oneLine keeps a status to its one assignment: a newline would start
// another (and could forge READY=1 or MAINPID=).
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// Package systemd speaks the three protocols the daemon uses when systemd
// runs it, all through github.com/coreos/go-systemd/v22 rather than by
// hand: socket activation (sd_listen_fds(3): the listening socket comes
// from jcmfa-agent.socket), readiness and stopping (sd_notify(3): READY=1,
// STOPPING=1, STATUS=) and the service watchdog (WATCHDOG=1 while the
// daemon's health check passes; systemd.service(5), WatchdogSec=).
//
// Started any other way (by hand, by `make trial`, by launchd) none of the
// environment variables these protocols use is set, and every function
// here does nothing.
package systemd

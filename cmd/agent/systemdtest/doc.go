// Package systemdtest runs the real jcmfa-agent as systemd would start
// it, without systemd: a listening socket made by the test as descriptor
// 3 with LISTEN_FDS/LISTEN_PID (sd_listen_fds(3)), a NOTIFY_SOCKET the
// test reads (sd_notify(3)) and WATCHDOG_USEC. make test-systemd then
// proves the same under a real systemd with the packaged units.
package systemdtest

package paths

// StateDir is where the store and its key live.
const StateDir = "/var/lib/jcmfa"

// Socket is the daemon's socket. Under systemd, jcmfa-agent.socket makes it
// and passes it to the daemon; started by hand, the daemon makes it.
const Socket = "/run/jcmfa/agent.sock"

// DaemonUser is the system user the packaged daemon runs as under systemd
// (packaging/linux/sysusers.conf); started by hand it may run as root.
const DaemonUser = "_jcmfa"

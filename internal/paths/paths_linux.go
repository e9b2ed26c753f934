package paths

// StateDir is where the store and its key live.
const StateDir = "/var/lib/jcmfa"

// Socket is the daemon's socket; /run/jcmfa is systemd's RuntimeDirectory.
const Socket = "/run/jcmfa/agent.sock"

// DaemonUser is the system user the packaged daemon runs as under systemd
// (packaging/linux/sysusers.conf); started by hand it may run as root.
const DaemonUser = "_jcmfa"

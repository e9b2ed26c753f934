package paths

// StateDir is where the store and its key live.
const StateDir = "/var/lib/jcmfa"

// Socket is the daemon's socket; /run/jcmfa is systemd's RuntimeDirectory.
const Socket = "/run/jcmfa/agent.sock"

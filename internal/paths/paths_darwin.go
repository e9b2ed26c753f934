package paths

// StateDir is where the store and its key live.
const StateDir = "/Library/Application Support/jcmfa"

// Socket is the daemon's socket.
const Socket = "/var/run/jcmfa/agent.sock"

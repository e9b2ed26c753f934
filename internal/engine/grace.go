package engine

import (
	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
)

// originOf is where a login comes from for grace windows
// (policy/grace.go), or "" when the daemon cannot tell:
//   - a remote host that is an IP address: "ip:ADDR" (normalised as for
//     trusted networks; a host name gives no origin);
//   - no remote host: the login session of the process that asked, as
//     the kernel reports it for the peer's pid (SessionOf: on Linux the
//     audit session id that pam_loginuid set at the session's login, with
//     the boot id, since ids restart at boot), and the tty the client
//     sent. The pid is the kernel's word (SO_PEERCRED), the session the
//     kernel's; only the tty is the client's, and it can only narrow the
//     origin. A process outside any login session (sessionid unset: a
//     console login before its session opens, a daemon) has no origin.
//
// Only called with grace on: reading the session costs two small reads
// of /proc.
func (e *Engine) originOf(req LoginRequest) string {
	if a, ok := policy.RHostAddr(req.RHost); ok {
		return "ip:" + a.String()
	}
	if req.RHost != "" || req.PeerPID <= 0 || e.SessionOf == nil {
		return ""
	}
	s := e.SessionOf(req.PeerPID)
	if s == "" {
		return ""
	}
	return "session:" + s + " tty:" + truncate(req.TTY, 64)
}

// clearGrace drops the account's grace windows, for a deny (row G4).
func clearGrace(tx *store.Tx, user string) error {
	if user == "" {
		return nil
	}
	st, err := tx.State(user)
	if err != nil || len(st.Grace) == 0 {
		return err
	}
	st.Grace = nil
	return tx.PutState(user, st)
}

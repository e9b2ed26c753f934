//go:build !linux

package engine

// loginSession: only Linux exposes a process's login session to another
// user's process (/proc/PID/sessionid); elsewhere a local login has no
// grace origin.
func loginSession(int) string { return "" }

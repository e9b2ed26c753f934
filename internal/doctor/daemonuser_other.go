//go:build !linux && !windows

package doctor

// daemonUser: launchd runs the macOS daemon as root.
func daemonUser() string { return "" }

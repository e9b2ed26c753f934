//go:build !darwin

package authdb

// Default is nil off macOS: there is no login-window rule to watch.
func Default() System { return nil }

//go:build !windows

package accounts

// noSuchAccount: os/user reports an unknown name as UnknownUserError here.
func noSuchAccount(error) bool { return false }

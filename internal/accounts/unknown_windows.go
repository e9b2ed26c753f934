package accounts

import (
	"errors"

	"golang.org/x/sys/windows"
)

// noSuchAccount: os/user passes LSA's ERROR_NONE_MAPPED through as it is.
func noSuchAccount(err error) bool { return errors.Is(err, windows.ERROR_NONE_MAPPED) }

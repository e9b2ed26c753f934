//go:build !(linux && cgo) || nopam

package main

import (
	"errors"
	"runtime"

	"github.com/spf13/cobra"
)

func newTestLoginCmd(*cli) *cobra.Command {
	return &cobra.Command{
		Use:   "test-login USER",
		Short: "Run a real PAM authentication (Linux, built with libpam's headers)",
		Args:  cobra.ExactArgs(1),
		RunE: func(*cobra.Command, []string) error {
			if runtime.GOOS == "linux" {
				// make agent leaves libpam out where its headers are
				// missing, so that a trial needs nothing but Go.
				return errors.New("this jcmfa-agent was built without libpam (its headers were missing): " +
					"install libpam0g-dev (Debian, Ubuntu) or pam-devel (RHEL, Fedora) and run make agent again")
			}
			return errors.New("test-login drives libpam and exists only in the Linux build")
		},
	}
}

// pamValidator is nil: setup sudo refuses to keep a stack it cannot prove.
func pamValidator(string) func(string) error { return nil }

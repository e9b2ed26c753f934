//go:build !(linux && cgo)

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newTestLoginCmd(*cli) *cobra.Command {
	return &cobra.Command{
		Use:   "test-login USER",
		Short: "Run a real PAM authentication (Linux only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(*cobra.Command, []string) error {
			return errors.New("test-login drives libpam and exists only in the Linux build")
		},
	}
}

//go:build linux && cgo && !nopam

package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/msteinert/pam/v2"
	"github.com/spf13/cobra"
)

func newTestLoginCmd(*cli) *cobra.Command {
	var service, confDir, rhost string
	cmd := &cobra.Command{
		Use:   "test-login USER",
		Short: "Run a real PAM authentication for USER through the installed stack",
		Long: `Run pam_authenticate for USER with the PAM service (default sshd) exactly as
sshd would, answering the prompts from this terminal. Use it after "setup ssh"
to prove a login works before closing your current session.
Exit status 0 when PAM accepts the login, 1 when it refuses.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := pamAuthenticate(service, args[0], confDir, rhost); err != nil {
				fmt.Printf("refused: %v\n", err)
				return exitError{1}
			}
			fmt.Println("accepted")
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "sshd", "PAM service whose stack to run")
	cmd.Flags().StringVar(&confDir, "pam-dir", "", "a private PAM configuration directory (default: the system's)")
	cmd.Flags().StringVar(&rhost, "rhost", "localhost", "PAM_RHOST to set (empty: none, as sudo and su leave it)")
	return cmd
}

// pamAuthenticate runs pam_authenticate for user through service's stack
// (in confDir, or the system's), answering the prompts from this terminal.
// rhost, if not empty, is set as PAM_RHOST. It is what test-login runs and
// what setup sudo proves a new stack with.
func pamAuthenticate(service, user, confDir, rhost string) error {
	t := &terminal{in: bufio.NewReader(os.Stdin)}
	conv := pam.ConversationFunc(func(s pam.Style, msg string) (string, error) {
		switch s {
		case pam.PromptEchoOff:
			return t.Ask(false, msg)
		case pam.PromptEchoOn:
			return t.Ask(true, msg)
		case pam.ErrorMsg:
			return "", t.Error(msg)
		default:
			return "", t.Info(msg)
		}
	})
	var tx *pam.Transaction
	var err error
	if confDir != "" {
		tx, err = pam.StartConfDir(service, user, conv, confDir)
	} else {
		tx, err = pam.Start(service, user, conv)
	}
	if err != nil {
		return fmt.Errorf("pam_start(%s): %w", service, err)
	}
	defer tx.End()
	if rhost != "" {
		tx.SetItem(pam.Rhost, rhost)
	}
	return tx.Authenticate(0)
}

// pamValidator proves a changed stack by authenticating user through it.
func pamValidator(user string) func(service string) error {
	return func(service string) error {
		fmt.Printf("proving the new %s stack: a real PAM authentication for %s (answer its prompts)\n", service, user)
		return pamAuthenticate(service, user, "", "")
	}
}

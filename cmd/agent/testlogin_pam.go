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
	var service, confDir string
	cmd := &cobra.Command{
		Use:   "test-login USER",
		Short: "Run a real PAM authentication for USER through the installed stack",
		Long: `Run pam_authenticate for USER with the PAM service (default sshd) exactly as
sshd would, answering the prompts from this terminal. Use it after "setup ssh"
to prove a login works before closing your current session.
Exit status 0 when PAM accepts the login, 1 when it refuses.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
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
				tx, err = pam.StartConfDir(service, args[0], conv, confDir)
			} else {
				tx, err = pam.Start(service, args[0], conv)
			}
			if err != nil {
				return fmt.Errorf("pam_start(%s): %w", service, err)
			}
			defer tx.End()
			tx.SetItem(pam.Rhost, "localhost")
			if err := tx.Authenticate(0); err != nil {
				fmt.Printf("refused: %v\n", err)
				return exitError{1}
			}
			fmt.Println("accepted")
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "sshd", "PAM service whose stack to run")
	cmd.Flags().StringVar(&confDir, "pam-dir", "", "a private PAM configuration directory (default: the system's)")
	return cmd
}

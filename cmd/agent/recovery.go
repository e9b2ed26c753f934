package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/engine"
)

const recoveryLong = `Recovery codes are for the day the authenticator app is out of reach (a
lost phone, a laptop offline): each works once, at any code prompt (SSH,
console, sudo, the macOS login window, Windows logon and RDP), typed with or
without the dash, in any case. Wrong ones count toward the lockout like
wrong codes. A new set revokes every earlier code. The codes are shown
once: jcmfa keeps only salted hashes of them.`

// newUserRecoveryCmd is the admin's `user recovery-codes USER [--count N]`.
func newUserRecoveryCmd(c *cli) *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "recovery-codes USER",
		Short: "Make new single-use recovery codes for USER and show them once",
		Long:  recoveryLong + "\n\nUSER must have TOTP set up. Allowed on a fleet-managed device: the codes are\nthis device's own, like its used codes and lockouts.",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f := map[string]string{"user": args[0]}
			if count != 0 {
				f["count"] = strconv.Itoa(count)
			}
			rows, err := c.call("user.recovery-codes", f)
			if err != nil {
				return err
			}
			var ri engine.RecoveryIssue
			if err := json.Unmarshal(rows[0], &ri); err != nil {
				return err
			}
			fmt.Printf("%d new recovery codes for %s (each works once; earlier codes no longer work):\n", len(ri.Codes), ri.User)
			for _, code := range ri.Codes {
				fmt.Println("  " + code)
			}
			fmt.Println("Hand them to the user to keep somewhere safe. They are not shown again.")
			return nil
		},
	}
	cmd.Flags().IntVar(&count, "count", 10, "how many codes, 1-50")
	return cmd
}

// newRecoveryCmd is the person's own `recovery-codes`.
func newRecoveryCmd(c *cli) *cobra.Command {
	var user string
	var count int
	cmd := &cobra.Command{
		Use:   "recovery-codes",
		Short: "Make new recovery codes for your own account (asks for a current code)",
		Long: recoveryLong + `

You prove who you are with the code your authenticator app shows now (a
recovery code is not enough); wrong codes count toward the lockout. Root may
act for another account with --user.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t := &terminal{in: bufio.NewReader(os.Stdin)}
			n := 0 // the daemon's default
			if cmd.Flags().Changed("count") {
				n = count
			}
			return finishDialogue(c.client().Recovery(user, n, t))
		},
	}
	cmd.Flags().IntVar(&count, "count", 10, "how many codes, 1-50")
	cmd.Flags().StringVar(&user, "user", "", "(root only) the account")
	return cmd
}

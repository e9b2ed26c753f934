package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/jcmfa/jcmfa/internal/engine"
)

// terminal relays a dialogue to this process's stdin and stdout, as a login
// surface would to its person.
type terminal struct {
	in   *bufio.Reader
	code string // answer to the first ASK without reading stdin (--code)
	used bool
}

func (t *terminal) Info(text string) error  { fmt.Println(text); return nil }
func (t *terminal) Error(text string) error { fmt.Fprintln(os.Stderr, text); return nil }

func (t *terminal) Ask(echo bool, prompt string) (string, error) {
	if t.code != "" {
		if t.used {
			return "", errors.New("the daemon asked a second question; --code answers only one")
		}
		t.used = true
		return t.code, nil
	}
	fmt.Print(prompt)
	fd := int(os.Stdin.Fd())
	if !echo && term.IsTerminal(fd) {
		b, err := term.ReadPassword(fd)
		fmt.Println()
		return string(b), err
	}
	line, err := t.in.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", fmt.Errorf("no answer on stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// finishDialogue prints the verdict as the last line and turns it into the
// exit status: 0 for allow and skip, 1 for deny.
func finishDialogue(v engine.Verdict, err error) error {
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", v.Word, v.Reason)
	if v.Word == engine.Allow || v.Word == engine.Skip {
		return nil
	}
	return exitError{1}
}

func newLoginCmd(c *cli) *cobra.Command {
	var surface, code, service, rhost string
	cmd := &cobra.Command{
		Use:   "login USER",
		Short: "Run the login dialogue a login surface runs, from this terminal (root)",
		Long: `Run the same dialogue the PAM module, the macOS plugin or the Windows
credential provider runs for USER: the daemon's messages are shown, its
questions read from the terminal (or answered with --code), and the verdict
word and its reason (allow, skip or deny) printed as the last line.
Exit status: 0 on allow or skip, 1 on deny, 2 if the daemon cannot be reached.
Attempts count towards USER's lockout like any login. Needs root (or the uid
that runs a trial daemon).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			t := &terminal{in: bufio.NewReader(os.Stdin), code: code}
			req := engine.LoginRequest{User: args[0], Surface: surface, Service: service, RHost: rhost,
				TTY: "cli", Interactive: code == ""}
			return finishDialogue(c.client().Login(req, t))
		},
	}
	cmd.Flags().StringVar(&surface, "surface", "console", "login surface: ssh, console, sudo, gui, rdp, unlock or uac")
	cmd.Flags().StringVar(&code, "code", "", "answer the code prompt with CODE (non-interactive; no in-band enrollment)")
	cmd.Flags().StringVar(&service, "service", "jcmfa-agent", "service name recorded in the audit log")
	cmd.Flags().StringVar(&rhost, "rhost", "", "remote host recorded in the audit log")
	return cmd
}

func newEnrollCmd(c *cli) *cobra.Command {
	var user string
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "Set up TOTP for your own account (during your enrollment period)",
		Long: `Set up TOTP for the account running this command: the daemon shows a QR
code and the secret for your authenticator app, then asks for a code to
confirm. Works while MFA is required of you and your enrollment period has
not ended. Root may enroll another account with --user.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			t := &terminal{in: bufio.NewReader(os.Stdin)}
			return finishDialogue(c.client().Enroll(user, t))
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "(root only) the account to enroll")
	return cmd
}

func newStatusCmd(c *cli) *cobra.Command {
	var user string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show your own MFA status (root: --user for anyone's)",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			f := map[string]string{}
			if user != "" {
				f["user"] = user
			}
			rows, err := c.client().Command("STATUS", f, printNote)
			if err != nil {
				return err
			}
			if asJSON {
				fmt.Println(string(rows[0]))
				return nil
			}
			return printUser(rows[0])
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the account (root, or your own name)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// Command jcmfa-agent is the jcmfa daemon and its admin and user CLI in one
// binary: `run` serves logins, every other verb talks to a running daemon
// over its local socket.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/paths"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// cli holds what every subcommand shares: where the daemon is.
type cli struct {
	socket        string
	timeout       time.Duration
	localOverride bool // change fleet-owned configuration on this device anyway
}

func (c *cli) client() ipc.Client {
	return ipc.Client{Path: c.socket, Timeout: c.timeout, Kind: "cli"}
}

// exitError carries an exit status out of a command without printing more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	root := newRoot()
	err := root.Execute()
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "jcmfa-agent:", err)
		os.Exit(2)
	}
}

func newRoot() *cobra.Command {
	c := &cli{}
	root := &cobra.Command{
		Use:   "jcmfa-agent",
		Short: "TOTP multi-factor authentication for operating system logins",
		Long: `jcmfa-agent is the jcmfa daemon and its command line.

The daemon ("jcmfa-agent run", or the installed service) keeps every secret
and policy in an encrypted store on this device and decides each login that a
login surface (the PAM module, the macOS plugin, the Windows credential
provider) relays to it. Every other command talks to the daemon over its
local socket: admin commands need root, "enroll", "status" and
"recovery-codes" work for any user about their own account.

Trial without installing (no root needed):
  jcmfa-agent run --state-dir ./trial/state --socket ./trial/agent.sock &
  export JCMFA_SOCKET=./trial/agent.sock
  jcmfa-agent org totp enable && jcmfa-agent device mfa enable
  jcmfa-agent user require alice && jcmfa-agent user enroll alice
  jcmfa-agent login alice`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	def := paths.Socket
	if env := os.Getenv("JCMFA_SOCKET"); env != "" {
		def = env
	}
	root.PersistentFlags().StringVar(&c.socket, "socket", def, "the daemon's socket or named pipe; on Windows \"auto\" is the pipe the service published in HKLM\\SOFTWARE\\jcmfa\\Agent; also $JCMFA_SOCKET")
	root.PersistentFlags().DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for the daemon")
	root.PersistentFlags().BoolVar(&c.localOverride, "local-override", false, "on a fleet-managed device, change its configuration anyway (until the next bundle; shown in the audit log and fleet status)")
	root.AddCommand(
		newRunCmd(c), newServiceCmd(c),
		newOrgCmd(c), newDeviceCmd(c), newUserCmd(c), newUsersCmd(c),
		newPolicyCmd(c), newSettingsCmd(c), newAuditCmd(c),
		newLoginCmd(c), newEnrollCmd(c), newStatusCmd(c), newRecoveryCmd(c),
		newDoctorCmd(c), newSetupCmd(c), newTestLoginCmd(c),
		newManCmd(c),
		newFleetCmd(c),
	)
	return root
}

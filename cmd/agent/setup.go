package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/sshsetup"
)

func newSetupCmd(c *cli) *cobra.Command {
	setup := &cobra.Command{Use: "setup", Short: "Switch the second factor on for a login surface"}
	var o sshsetup.Options
	var undo bool
	ssh := &cobra.Command{
		Use:   "ssh [--dry-run] [--undo]",
		Short: "Require the code for SSH logins: sshd drop-in + PAM line, validated, rolled back on failure",
		Long: `Write /etc/ssh/sshd_config.d/50-jcmfa.conf (UsePAM yes, keyboard-interactive on,
AuthenticationMethods so that every login ends with keyboard-interactive) and
add "auth required pam_jcmfa.so" to /etc/pam.d/sshd after the password modules.
The result is checked with "sshd -t"; if sshd rejects it, every file is
restored. --undo removes exactly what was added.

Afterwards: reload sshd (systemctl reload ssh), then prove a login works with
"jcmfa-agent test-login USER" before you close the session you are in.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			apply := sshsetup.Apply
			if undo {
				apply = sshsetup.Undo
			}
			changes, err := apply(o)
			for _, ch := range changes {
				verb := "write"
				if ch.After == nil {
					verb = "remove"
				}
				if o.DryRun {
					fmt.Printf("would %s %s:\n%s\n", verb, ch.Path, ch.After)
				} else if err == nil {
					fmt.Printf("%s %s\n", map[string]string{"write": "wrote", "remove": "removed"}[verb], ch.Path)
				}
			}
			if err != nil {
				return err
			}
			switch {
			case len(changes) == 0:
				fmt.Println("nothing to change")
			case o.DryRun:
				fmt.Println("(dry run: nothing written)")
			case undo:
				fmt.Println("sshd -t accepts the configuration. Reload sshd (systemctl reload ssh): SSH logins then no longer ask for a code.")
			default:
				fmt.Println("sshd -t accepts the configuration. Next: systemctl reload ssh, then jcmfa-agent test-login USER from a second terminal.")
			}
			return nil
		},
	}
	f := ssh.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "show the changes without writing them")
	f.BoolVar(&undo, "undo", false, "remove what setup ssh added")
	f.StringVar(&o.SSHDConfig, "sshd-config", "/etc/ssh/sshd_config", "main sshd configuration")
	f.StringVar(&o.PAMFile, "pam-file", "/etc/pam.d/sshd", "sshd PAM service file")
	f.StringVar(&o.Module, "module", "pam_jcmfa.so", "module name or path for the PAM line")
	f.StringVar(&o.ModuleArgs, "module-args", "", "arguments for the PAM line, e.g. \"socket=/run/jcmfa/agent.sock timeout=10\"")
	f.StringVar(&o.SSHD, "sshd", "/usr/sbin/sshd", "sshd binary used to validate")
	setup.AddCommand(ssh)
	return setup
}

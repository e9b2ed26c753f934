package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/doctor"
	"github.com/jcmfa/jcmfa/internal/paths"
	"github.com/jcmfa/jcmfa/internal/sshsetup"
	"github.com/jcmfa/jcmfa/internal/store"
)

func newDoctorCmd(c *cli) *cobra.Command {
	var stateDir, sshd, sshdConfig, pamDir, service string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Find what lets a login skip the second factor, or locks everyone out",
		Long: `Check this machine's login path end to end and say how to fix each problem:

  sshd   the effective configuration (sshd -T): UsePAM, keyboard-interactive,
         and whether any allowed authentication path (public key, host-based,
         GSSAPI) skips PAM and so the code
  pam    whether pam_jcmfa is in the sshd auth stack with a control that makes
         a wrong code refuse the login
  files  the store, its key and the socket directory are root-only
  daemon the daemon answers, and TOTP (org) and MFA (device) are switched on

Exit status 1 when anything would bypass the second factor or lock people out.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			var r doctor.Report
			if runtime.GOOS == "linux" {
				out, err := exec.Command(sshd, "-T", "-f", sshdConfig).CombinedOutput()
				if err != nil {
					r = append(r, doctor.Finding{Severity: doctor.Warn, Area: "sshd",
						Problem: fmt.Sprintf("cannot read the effective sshd configuration (%s -T): %v: %s", sshd, err, out),
						Fix:     "run doctor as root on a machine with openssh-server, or pass --sshd"})
				} else {
					r = append(r, doctor.SSHD(string(out))...)
				}
				r = append(r, doctor.PAM(pamDir, service)...)
			}
			r = append(r, platformFindings()...)
			r = append(r, doctor.Files(stateDir, c.socket)...)
			r = append(r, daemonFindings(c)...)
			fmt.Print(r.String())
			if r.Failed() {
				return exitError{1}
			}
			fmt.Println("no problems found")
			return nil
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", paths.StateDir, "the daemon's state directory")
	cmd.Flags().StringVar(&sshd, "sshd", "/usr/sbin/sshd", "sshd binary")
	cmd.Flags().StringVar(&sshdConfig, "sshd-config", "/etc/ssh/sshd_config", "sshd configuration file")
	cmd.Flags().StringVar(&pamDir, "pam-dir", "/etc/pam.d", "PAM configuration directory")
	cmd.Flags().StringVar(&service, "service", "sshd", "PAM service to check")
	return cmd
}

func daemonFindings(c *cli) doctor.Report {
	rows, err := c.client().Command("settings.get", nil, nil)
	if err != nil {
		return doctor.Report{{Severity: doctor.Fail, Area: "daemon", Problem: err.Error(),
			Fix: "start it: systemctl start jcmfa-agent (or jcmfa-agent service start); with failmode=secure every protected login is refused meanwhile"}}
	}
	var s store.Settings
	json.Unmarshal(rows[0], &s)
	r := doctor.Report{{Severity: doctor.OK, Area: "daemon", Problem: "answers on " + c.socket}}
	if !s.OrgTOTP {
		r = append(r, doctor.Finding{Severity: doctor.Warn, Area: "daemon", Problem: "TOTP is disabled for the org: nobody is asked for a code", Fix: "jcmfa-agent org totp enable"})
	}
	if !s.DeviceMFA {
		r = append(r, doctor.Finding{Severity: doctor.Warn, Area: "daemon", Problem: "MFA is disabled on this device: nobody is asked for a code", Fix: "jcmfa-agent device mfa enable"})
	}
	return append(r, fleetFindings(c)...)
}

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

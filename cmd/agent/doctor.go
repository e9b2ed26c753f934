package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/doctor"
	"github.com/jcmfa/jcmfa/internal/paths"
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
  sudo   whether sudo asks for the code (setup sudo): not protected, protected,
         or a sufficient module before pam_jcmfa that ends the stack first
  files  the store, its key and the socket directory are root-only
  daemon the daemon answers, and TOTP (org) and MFA (device) are switched on
  login  macOS (as root): jcmfa:verify is in system.login.console right after
         builtin:authenticate,privileged, no other product's mechanism is
         there unaccepted, and what the daemon's drift watch last found

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
				r = append(r, doctor.Sudo(pamDir)...)
			}
			r = append(r, platformFindings(c)...)
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

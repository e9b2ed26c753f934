package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/credprovs"
	"github.com/jcmfa/jcmfa/internal/sshsetup"
	"github.com/jcmfa/jcmfa/internal/sudosetup"
	"github.com/jcmfa/jcmfa/internal/winsetup"
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
			printSetupOutcome(len(changes), o.DryRun, undo,
				"sshd -t accepts the configuration. Reload sshd (systemctl reload ssh): SSH logins then no longer ask for a code.",
				"sshd -t accepts the configuration. Next: systemctl reload ssh, then jcmfa-agent test-login USER from a second terminal.")
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
	setup.AddCommand(ssh, newSetupSudoCmd(), newSetupWindowsCmd(), newSetupKeepProvidersCmd())
	return setup
}

func newSetupSudoCmd() *cobra.Command {
	var o sudosetup.Options
	var undo bool
	var as string
	cmd := &cobra.Command{
		Use:   "sudo [--dry-run] [--undo] [--as USER]",
		Short: "Require the code for sudo and su (surface sudo): one PAM line, proved by a real authentication, rolled back on failure",
		Long: `Add "auth required pam_jcmfa.so surface=sudo" after the password modules of
/etc/pam.d/sudo and /etc/pam.d/su (whichever exist), marked so that --undo
removes exactly that line. Before the new stack is kept, a real PAM
authentication runs through it for --as USER (default: $SUDO_USER, the admin
who ran sudo): answer its password and code prompts. If PAM refuses it, every
file is restored.

Who is asked then follows the policy: a user required on the sudo surface
(user require USER --surfaces sudo, or any requirement without --surfaces)
types a code after the password. su as root passes pam_rootok before the
code, as it passes the password. "jcmfa-agent doctor" shows sudo's state.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			apply := sudosetup.Apply
			if undo {
				apply = sudosetup.Undo
			} else if !o.DryRun {
				if as == "" {
					as = os.Getenv("SUDO_USER")
				}
				if as == "" {
					return fmt.Errorf("name the account whose password and code prove the new stack: jcmfa-agent setup sudo --as USER")
				}
				o.Validate = pamValidator(as)
			}
			changes, err := apply(o)
			for _, ch := range changes {
				if o.DryRun {
					fmt.Printf("would write %s:\n%s\n", ch.Path, ch.After)
				} else if err == nil {
					fmt.Printf("wrote %s\n", ch.Path)
				}
			}
			if err != nil {
				return err
			}
			printSetupOutcome(len(changes), o.DryRun, undo,
				"sudo and su no longer ask for a code.",
				"The new stack accepted a real authentication. sudo and su now ask required users for a code after the password.")
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "show the changes without writing them")
	f.BoolVar(&undo, "undo", false, "remove what setup sudo added")
	f.StringVar(&as, "as", "", "the account whose PAM authentication proves the new stack (default $SUDO_USER)")
	f.StringSliceVar(&o.PAMFiles, "pam-file", []string{"/etc/pam.d/sudo", "/etc/pam.d/su"}, "PAM service files to change")
	f.StringVar(&o.Module, "module", "pam_jcmfa.so", "module name or path for the PAM line")
	f.StringVar(&o.ModuleArgs, "module-args", "", "more arguments for the PAM line, e.g. \"socket=/run/jcmfa/agent.sock\"")
	return cmd
}

func newSetupWindowsCmd() *cobra.Command {
	var o winsetup.Options
	var undo bool
	win := &cobra.Command{
		Use:   "windows [--dry-run] [--undo]",
		Short: "Close safe mode and automatic restart sign-on, where Windows logs on without asking jcmfa",
		Long: `Set two policy values under HKLM\` + winsetup.PolicyKey + ` to 1:
  SafeModeBlockNonAdmins         only administrators may log on in safe mode,
                                 where Windows loads no credential provider
  DisableAutomaticRestartSignOn  no automatic sign-on of the last user after
                                 an update restart (ARSO)
Each value's previous state (absent, or its number) is recorded under
HKLM\` + winsetup.RecordKey + ` before it is changed; a value already 1 is left
alone and not recorded, so running it again changes nothing. --undo puts
back exactly what was recorded (an absent value is deleted) and removes the
record. Needs an elevated prompt, except with --dry-run.

Afterwards "jcmfa-agent doctor" shows both as ok.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			apply := winsetup.Apply
			if undo {
				apply = winsetup.Undo
			}
			changes, err := apply(o)
			for _, ch := range changes {
				fmt.Println(describeWinChange(ch, undo, o.DryRun))
			}
			if err != nil {
				return err
			}
			printSetupOutcome(len(changes), o.DryRun, undo,
				"Previous values restored. jcmfa-agent doctor warns again about whichever of the two is back on.",
				"Next: jcmfa-agent doctor (both show ok). To put the previous values back: jcmfa-agent setup windows --undo")
			return nil
		},
	}
	f := win.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "show the changes without writing them")
	f.BoolVar(&undo, "undo", false, "put back the values setup windows recorded")
	return win
}

// describeWinChange is one line of setup windows' output.
func describeWinChange(ch winsetup.Change, undo, dryRun bool) string {
	name := `HKLM\` + winsetup.PolicyKey + `\` + ch.Name
	var verb, rest string
	switch {
	case !undo:
		verb, rest = "set", fmt.Sprintf("%s = 1 (was %s; recorded in HKLM\\%s)", name, ch.Before, winsetup.RecordKey)
	case ch.Kept:
		verb, rest = "leave", fmt.Sprintf("%s = %s as it is: changed since setup windows set it to 1; its record is dropped", name, ch.Before)
	case !ch.After.Present:
		verb, rest = "delete", name+" (absent before setup windows)"
	default:
		verb, rest = "set", fmt.Sprintf("%s = %s (its value before setup windows)", name, ch.After)
	}
	if dryRun {
		return "would " + verb + " " + rest
	}
	return map[string]string{"set": "set", "leave": "left", "delete": "deleted"}[verb] + " " + rest
}

// printSetupOutcome is the last line every setup verb prints: what was done,
// or not, and what the admin does next.
func printSetupOutcome(changed int, dryRun, undo bool, undone, next string) {
	switch {
	case changed == 0:
		fmt.Println("nothing to change")
	case dryRun:
		fmt.Println("(dry run: nothing written)")
	case undo:
		fmt.Println(undone)
	default:
		fmt.Println(next)
	}
}

func newSetupKeepProvidersCmd() *cobra.Command {
	var clear, dryRun bool
	cmd := &cobra.Command{
		Use:   "keep-providers [NAME|CLSID...] [--clear] [--dry-run]",
		Short: "Windows: which other credential providers stay visible while MFA is on (each one a way around the code)",
		Long: `With MFA on, the jcmfa filter hides every other credential provider at
logon, unlock and in elevated CredUI. This writes the exceptions, the
REG_MULTI_SZ value HKLM\` + winsetup.SettingsKey + ` ` + winsetup.KeepValue + `, which the
credential provider reads each time LogonUI starts it.

Each entry is a class ID ({8-4-4-4-12}) or one of these names:
` + knownTable() + `
Whoever can sign in with a kept provider skips the verification code there
(a smart card or Windows Hello is a factor of its own; a kept password
provider undoes jcmfa altogether); doctor warns about each. A smart card
over RDP is left to Windows only while SmartCardProvider is kept.

Every entry is checked as the credential provider reads it: one it would
ignore refuses the whole list and nothing is written. With no entries,
shows the current value; --clear removes it (only jcmfa's tile again).
Needs an elevated prompt, except to show or with --dry-run.`,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 && !clear {
				values, split, err := winsetup.ReadKeepProviders()
				if err != nil {
					return err
				}
				kept, ignored := credprovs.Parse(values, split)
				if len(kept) == 0 && len(ignored) == 0 {
					fmt.Println("KeepProviders is not set: with MFA on, only jcmfa's tile is shown")
				}
				for _, k := range kept {
					fmt.Println(describeKept(k))
				}
				for _, e := range ignored {
					fmt.Printf("ignored %q: %v\n", e, winsetup.ErrBadKeepEntry)
				}
				return nil
			}
			if clear && len(args) > 0 {
				return fmt.Errorf("--clear takes no entries")
			}
			before, err := winsetup.KeepProviders(args, dryRun)
			if err != nil {
				return err
			}
			verb := "wrote"
			if dryRun {
				verb = "would write"
			}
			if clear {
				fmt.Printf("%s: no KeepProviders (was %q); with MFA on only jcmfa's tile is shown\n", map[string]string{"wrote": "removed", "would write": "would remove"}[verb], before)
				return nil
			}
			fmt.Printf("%s HKLM\\%s %s = %q (was %q)\n", verb, winsetup.SettingsKey, winsetup.KeepValue, args, before)
			for _, a := range args {
				k, _ := credprovs.ParseEntry(a)
				fmt.Println(describeKept(k))
			}
			fmt.Println("Each provider kept is a way to sign in without the verification code; jcmfa-agent doctor lists them.")
			return nil
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove KeepProviders: only jcmfa's tile while MFA is on")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the entries and show the change without writing it")
	return cmd
}

func describeKept(k credprovs.Kept) string {
	what := k.What
	if what == "" {
		what = "a credential provider"
	}
	return fmt.Sprintf("keep %s: %s %v", k.Entry, what, k.CLSIDs)
}

func knownTable() string {
	out := ""
	for _, t := range credprovs.Table {
		out += fmt.Sprintf("  %-18s %s  %s\n", t.Name, t.CLSID, t.What)
	}
	return out
}

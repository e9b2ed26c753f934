package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/policy"
	"github.com/jcmfa/jcmfa/internal/store"
)

// call runs one admin command and returns its rows; the daemon's notes go
// to stderr (warnings) or stdout (everything else, e.g. QR rows).
func (c *cli) call(name string, f map[string]string) ([]json.RawMessage, error) {
	if c.localOverride {
		f = maps.Clone(f)
		if f == nil {
			f = map[string]string{}
		}
		f["local_override"] = "1"
	}
	return c.client().Command(name, f, printNote)
}

func printNote(text string) {
	if strings.HasPrefix(text, "warning: ") {
		fmt.Fprintln(os.Stderr, text)
		return
	}
	fmt.Println(text)
}

func onOff(verb string) (string, error) {
	switch verb {
	case "enable", "on":
		return "1", nil
	case "disable", "off":
		return "0", nil
	}
	return "", fmt.Errorf("say enable or disable, not %q", verb)
}

func printSettings(raw json.RawMessage) error {
	var s store.Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	lock := s.Lockout.String()
	if s.Lockout == 0 {
		lock = "until an admin unlocks"
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "org TOTP\t%s\n", enabled(s.OrgTOTP))
	fmt.Fprintf(w, "device MFA\t%s\n", enabled(s.DeviceMFA))
	fmt.Fprintf(w, "attempt limit\t%d consecutive failures\n", s.AttemptLimit)
	fmt.Fprintf(w, "lockout\t%s\n", lock)
	fmt.Fprintf(w, "clock skew\t±%d steps\n", s.Skew)
	fmt.Fprintf(w, "enrollment period\t%d days\n", s.EnrollDays)
	fmt.Fprintf(w, "code at unlock\t%s\n", enabled(s.UnlockRequiresCode))
	fmt.Fprintf(w, "code at elevation (Windows UAC)\t%s\n", enabled(s.UACRequiresCode))
	fmt.Fprintf(w, "in-band enrollment\t%s\n", enabled(s.InBandEnrollment))
	drift := s.AuthDBDrift
	if drift == "" {
		drift = "repair"
	}
	fmt.Fprintf(w, "login-window rule drift (macOS)\t%s\n", drift)
	nets := strings.Join(s.TrustedNetworks, ", ")
	if nets == "" {
		nets = "none"
	}
	fmt.Fprintf(w, "trusted networks\t%s\n", nets)
	if s.Grace > 0 {
		sf := s.GraceSurfaces
		if len(sf) == 0 {
			sf = policy.DefaultGraceSurfaces
		}
		fmt.Fprintf(w, "grace\t%s on %s\n", s.Grace, strings.Join(sf, ","))
	} else {
		fmt.Fprintf(w, "grace\toff\n")
	}
	return w.Flush()
}

func enabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func toggleCmd(c *cli, use, short, cmdName string) *cobra.Command {
	return &cobra.Command{
		Use:       use + " enable|disable",
		Short:     short,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"enable", "disable"},
		RunE: func(_ *cobra.Command, args []string) error {
			v, err := onOff(args[0])
			if err != nil {
				return err
			}
			rows, err := c.call(cmdName, map[string]string{"enable": v})
			if err != nil {
				return err
			}
			return printSettings(rows[0])
		},
	}
}

func newOrgCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Organisation-wide switches"}
	cmd.AddCommand(toggleCmd(c, "totp", "Enable or disable TOTP for the organisation (nobody is prompted while disabled)", "org.totp"))
	return cmd
}

func newDeviceCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{Use: "device", Short: "Switches for this device"}
	cmd.AddCommand(toggleCmd(c, "mfa", "Enable or disable MFA on this device (nobody is prompted while disabled)", "device.mfa"))
	cmd.AddCommand(newDeviceIDCmd(c))
	return cmd
}

func printUser(raw json.RawMessage) error {
	var r engine.UserRow
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "user\t%s\n", r.User)
	fmt.Fprintf(w, "status\t%s\n", r.StatusText)
	req := "no"
	if r.Required {
		req = "yes (" + strings.Replace(r.RequiredBy, "policy:", "policy ", 1) + ")"
	}
	if r.Required && len(r.Surfaces) > 0 && r.RequiredBy == "user" {
		req += " on " + strings.Join(r.Surfaces, ",")
	}
	fmt.Fprintf(w, "required\t%s\n", req)
	if r.EnrolledAt != nil {
		fmt.Fprintf(w, "enrolled\t%s\n", r.EnrolledAt.Local().Format(time.DateTime))
	}
	fmt.Fprintf(w, "failed attempts\t%d\n", r.Failures)
	if r.Enrolled || r.RecoveryCodes > 0 {
		fmt.Fprintf(w, "recovery codes\t%d left\n", r.RecoveryCodes)
	}
	if r.FleetRecoverySet != "" {
		// Both sets work, each code once (R16): say how the total splits.
		fmt.Fprintf(w, "\t%d issued here, %d of fleet set %s\n", r.RecoveryCodes-r.FleetRecoveryCodes, r.FleetRecoveryCodes, r.FleetRecoverySet)
	}
	return w.Flush()
}

func userCmd(c *cli, use, short, cmdName string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: use + " USER", Short: short, Args: cobra.ExactArgs(1),
		Long: short + `.

USER is any name of the account (a uid alias, another case on a directory
that ignores case, user@domain): the daemon resolves it to the account and
shows it under the account's own name.`,
		RunE: func(_ *cobra.Command, args []string) error {
			rows, err := c.call(cmdName, map[string]string{"user": args[0]})
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				fmt.Printf("%s: done\n", args[0])
				return nil
			}
			if asJSON {
				fmt.Println(string(rows[0]))
				return nil
			}
			return printUser(rows[0])
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the account's row as JSON")
	return cmd
}

func newUserCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Require, enroll, inspect, reset, unlock or remove one user"}

	var days int
	var forced, pre bool
	var reqSurfaces []string
	require := &cobra.Command{
		Use:   "require USER",
		Short: "Require MFA of USER",
		Long: `Require MFA of USER (a login name).

Until USER sets TOTP up they are in an enrollment period (default: the device's
setting, 7 days) during which they are not asked for a code and are offered
setup at SSH logins; when it ends they are refused until an admin runs
"user reset". --forced leaves no period: setup is required at the next login.
The period starts now for an existing account, or at the account's first
login when the name is not known yet or --pre-enroll is given.
--surfaces ssh,rdp asks only on those surfaces (default: every surface;
requiring again replaces the scope). Surfaces: ` + strings.Join(policy.Surfaces, ", ") + `.
unlock and uac still ask only with settings --unlock-code / --uac-code.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f := map[string]string{"user": args[0]}
			if days != 0 {
				f["days"] = strconv.Itoa(days)
			}
			if forced {
				f["forced"] = "1"
			}
			if pre {
				f["pre"] = "1"
			}
			if len(reqSurfaces) > 0 {
				f["surfaces"] = strings.Join(reqSurfaces, ",")
			}
			rows, err := c.call("user.require", f)
			if err != nil {
				return err
			}
			return printUser(rows[0])
		},
	}
	require.Flags().IntVar(&days, "enroll-days", 0, "enrollment period in days, 1-365 (default: the device setting)")
	require.Flags().BoolVar(&forced, "forced", false, "no enrollment period: the user must set up TOTP at the next login")
	require.Flags().BoolVar(&pre, "pre-enroll", false, "start the enrollment period at the account's first login, not now")
	require.Flags().StringSliceVar(&reqSurfaces, "surfaces", nil, "require only on these surfaces (comma-separated; default all)")

	var alg string
	var digits, period int
	enroll := &cobra.Command{
		Use:   "enroll USER",
		Short: "Set up TOTP for USER now and show the QR code and otpauth:// URI",
		Long: `Generate a TOTP secret for USER on their behalf. The QR code is drawn in the
terminal and the otpauth:// URI is printed on a line of its own: hand either to
the user for their authenticator app. USER counts as enrolled at once.
Run "user reset USER" first to replace an existing secret.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f := map[string]string{"user": args[0], "algorithm": alg, "digits": strconv.Itoa(digits), "period": strconv.Itoa(period)}
			rows, err := c.call("user.enroll", f)
			if err != nil {
				return err
			}
			var r struct{ Secret, URI string }
			if err := json.Unmarshal(rows[0], &r); err != nil {
				return err
			}
			fmt.Printf("secret: %s\n%s\n", r.Secret, r.URI)
			return nil
		},
	}
	enroll.Flags().StringVar(&alg, "algorithm", "SHA1", "HMAC algorithm: SHA1, SHA256 or SHA512 (not every app supports the last two)")
	enroll.Flags().IntVar(&digits, "digits", 6, "code length: 6 or 8")
	enroll.Flags().IntVar(&period, "period", 30, "seconds per code")

	cmd.AddCommand(require, enroll,
		userCmd(c, "unrequire", "Stop requiring MFA of USER (conditional policies still apply)", "user.unrequire"),
		userCmd(c, "status", "Show USER's status", "user.status"),
		userCmd(c, "reset", "Remove USER's TOTP secret and restart their enrollment period", "user.reset"),
		userCmd(c, "unlock", "Clear USER's lockout and failed attempts", "user.unlock"),
		userCmd(c, "remove", "Delete everything jcmfa holds about USER", "user.remove"),
		newUserRecoveryCmd(c),
	)
	return cmd
}

func newUsersCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "users",
		Short: "List every user jcmfa knows, with their status",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if asJSON {
				// Streamed, so a store of 100,000 users is never held twice.
				first := true
				fmt.Print("[")
				err := c.client().Stream("users.list", nil, printNote, func(raw json.RawMessage) error {
					if !first {
						fmt.Print(",")
					}
					first = false
					fmt.Printf("\n%s", raw)
					return nil
				})
				fmt.Println("\n]")
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "USER\tSTATUS\tREQUIRED BY\tFAILURES\tRECOVERY CODES")
			err := c.client().Stream("users.list", nil, printNote, func(raw json.RawMessage) error {
				var r engine.UserRow
				if err := json.Unmarshal(raw, &r); err != nil {
					return err
				}
				by := r.RequiredBy
				if by == "" {
					by = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\n", r.User, r.StatusText, by, r.Failures, r.RecoveryCodes)
				return nil
			})
			w.Flush()
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of user rows")
	return cmd
}

func newPolicyCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Conditional policies: require MFA of all users or of groups"}
	var all, disabled bool
	var groups, exclude, surfaces, polNets []string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a policy requiring MFA of all users (--all) or of members of --groups",
		Long: `Add a conditional policy. It requires MFA of every user (--all) or of the
members of --groups, except members of --exclude. Group membership is read
from the OS at each login, so the policy follows the OS groups. --surfaces
ssh,rdp scopes it to those surfaces (default: every surface); a user's own
requirement and every policy in scope add up. Surfaces: ` + strings.Join(policy.Surfaces, ", ") + `.
--trusted-networks 10.0.0.0/8,... lifts this policy for logins whose remote
address (an IP, never a host name) is inside one of them; a user's own
requirement or another policy still asks, and a locked account stays locked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f := map[string]string{"name": args[0], "groups": strings.Join(groups, ","), "exclude": strings.Join(exclude, ",")}
			if all {
				f["all"] = "1"
			}
			if disabled {
				f["enabled"] = "0"
			}
			if len(surfaces) > 0 {
				f["surfaces"] = strings.Join(surfaces, ",")
			}
			if len(polNets) > 0 {
				f["trusted_networks"] = strings.Join(polNets, ",")
			}
			rows, err := c.call("policy.add", f)
			if err != nil {
				return err
			}
			return printPolicies(rows)
		},
	}
	add.Flags().BoolVar(&all, "all", false, "apply to all users")
	add.Flags().StringSliceVar(&groups, "groups", nil, "apply to members of these groups (comma-separated)")
	add.Flags().StringSliceVar(&exclude, "exclude", nil, "never apply to members of these groups")
	add.Flags().BoolVar(&disabled, "disabled", false, "add the policy switched off")
	add.Flags().StringSliceVar(&surfaces, "surfaces", nil, "apply only on these surfaces (comma-separated; default all)")
	add.Flags().StringSliceVar(&polNets, "trusted-networks", nil, "CIDR prefixes whose logins this policy does not ask for a code")

	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List the conditional policies", Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			rows, err := c.call("policy.list", nil)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(rows)
			}
			return printPolicies(rows)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	remove := &cobra.Command{
		Use: "remove ID", Short: "Remove a policy", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			_, err := c.call("policy.remove", map[string]string{"id": args[0]})
			if err == nil {
				fmt.Printf("policy %s removed\n", args[0])
			}
			return err
		},
	}
	onoff := func(verb string) *cobra.Command {
		return &cobra.Command{
			Use: verb + " ID", Short: strings.ToUpper(verb[:1]) + verb[1:] + " a policy", Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				v, _ := onOff(verb)
				rows, err := c.call("policy.enable", map[string]string{"id": args[0], "enable": v})
				if err != nil {
					return err
				}
				return printPolicies(rows)
			},
		}
	}
	cmd.AddCommand(add, list, remove, onoff("enable"), onoff("disable"))
	return cmd
}

func printPolicies(rows []json.RawMessage) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTATUS\tAPPLIES TO\tEXCEPT\tSURFACES")
	for _, raw := range rows {
		var p store.Policy
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		to := "groups " + strings.Join(p.Groups, ",")
		if p.AllUsers {
			to = "all users"
		}
		ex := strings.Join(p.Exclude, ",")
		if ex == "" {
			ex = "-"
		}
		st := "on"
		if !p.Enabled {
			st = "off"
		}
		sf := strings.Join(p.Surfaces, ",")
		if sf == "" {
			sf = "all"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, st, to, ex, sf)
	}
	return w.Flush()
}

func printJSON(rows []json.RawMessage) error {
	if rows == nil {
		rows = []json.RawMessage{}
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

func newSettingsCmd(c *cli) *cobra.Command {
	var attempts, skew, enrollDays int
	var lockout, drift string
	var unlock, uac, inband bool
	var trusted, graceSurfaces []string
	var grace string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show or change the attempt limit, lockout, clock skew and enrollment defaults",
		Long: `Show the settings, or change those given as flags.

  --attempts N        consecutive failed codes before lockout (1-100, default 5)
  --lockout D         how long a lockout lasts, e.g. 15m; 0 = until "user unlock"
  --skew N            time steps accepted either side of now (0-10, default 1)
  --enroll-days N     default enrollment period (1-365, default 7)
  --unlock-code B     also ask for a code when unlocking a session (default false)
  --uac-code B        also ask for a code at a Windows elevation prompt that asks
                      for credentials (surface uac; default false)
  --inband-enroll B   offer TOTP setup inside SSH logins during the period (default true)
  --authdb-drift M    macOS: when an OS update (or anything else) takes jcmfa:verify
                      out of the login window's rule, "repair" puts it back with
                      authdb.sh (default); "report" only logs and audits it, for
                      Macs whose MDM owns system.login.console
  --trusted-networks CIDR,...
                      logins whose remote address is inside one of these networks
                      are not asked for a code (audited as trusted-network); the
                      address must be an IP (sshd UseDNS no), so it works for SSH
                      and has no effect where the client sends none (Windows
                      logon and RDP, the macOS login window, console, sudo);
                      a locked account stays locked; "" clears the list
  --grace D           after an allowed code, the same account from the same origin
                      (an SSH client's IP; for sudo the same login session and tty)
                      is not asked again for D on --grace-surfaces (0 = off, the
                      default; at most 24h); any deny, a lockout, user reset, a new
                      secret or a settings change ends the account's windows
  --grace-surfaces S,...
                      surfaces a window spares (default ssh,sudo)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := map[string]string{}
			fl := cmd.Flags()
			if fl.Changed("attempts") {
				f["attempts"] = strconv.Itoa(attempts)
			}
			if fl.Changed("skew") {
				f["skew"] = strconv.Itoa(skew)
			}
			if fl.Changed("enroll-days") {
				f["enroll_days"] = strconv.Itoa(enrollDays)
			}
			if fl.Changed("lockout") {
				f["lockout"] = lockout
			}
			if fl.Changed("unlock-code") {
				f["unlock"] = strconv.FormatBool(unlock)
			}
			if fl.Changed("uac-code") {
				f["uac"] = strconv.FormatBool(uac)
			}
			if fl.Changed("inband-enroll") {
				f["inband"] = strconv.FormatBool(inband)
			}
			if fl.Changed("authdb-drift") {
				f["authdb_drift"] = drift
			}
			if fl.Changed("grace") {
				f["grace"] = grace
			}
			if fl.Changed("grace-surfaces") {
				f["grace_surfaces"] = strings.Join(graceSurfaces, ",")
			}
			if fl.Changed("trusted-networks") {
				f["trusted_networks"] = strings.Join(trusted, ",")
			}
			name := "settings.get"
			if len(f) > 0 {
				name = "settings.set"
			}
			rows, err := c.call(name, f)
			if err != nil {
				return err
			}
			if asJSON {
				fmt.Println(string(rows[0]))
				return nil
			}
			return printSettings(rows[0])
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&attempts, "attempts", 5, "consecutive failed codes before lockout")
	fl.StringVar(&lockout, "lockout", "15m", "lockout duration; 0 = until an admin unlocks")
	fl.IntVar(&skew, "skew", 1, "time steps accepted either side of now")
	fl.IntVar(&enrollDays, "enroll-days", 7, "default enrollment period in days")
	fl.BoolVar(&unlock, "unlock-code", false, "ask for a code when unlocking a session")
	fl.BoolVar(&uac, "uac-code", false, "ask for a code at a Windows elevation (UAC) credential prompt")
	fl.BoolVar(&inband, "inband-enroll", true, "offer setup inside SSH logins during the enrollment period")
	fl.StringVar(&drift, "authdb-drift", "repair", "macOS: repair or report when jcmfa:verify is gone from system.login.console")
	fl.StringVar(&grace, "grace", "0", "how long an allowed code spares the same origin; 0 = off")
	fl.StringSliceVar(&graceSurfaces, "grace-surfaces", nil, "surfaces a grace window spares (default ssh,sudo)")
	fl.StringSliceVar(&trusted, "trusted-networks", nil, "CIDR prefixes whose logins are not asked for a code (\"\" clears)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newAuditCmd(c *cli) *cobra.Command {
	var n int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the newest audit events (verdicts, enrollments, resets, unlocks, setting changes)",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			rows, err := c.call("audit", map[string]string{"n": strconv.Itoa(n)})
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(rows)
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TIME\tEVENT\tUSER\tVERDICT\tREASON\tWHERE\tPEER\tDETAIL")
			for _, raw := range rows {
				var ev store.Event
				if err := json.Unmarshal(raw, &ev); err != nil {
					return err
				}
				// Fields come in part from less-privileged parties (a
				// login's rhost and tty): shown escaped, never acted on
				// by the terminal, and never able to start a line.
				ev = ev.Printable()
				who := dash(ev.User)
				if ev.Typed != "" {
					who += " (as " + ev.Typed + ")"
				}
				where := strings.TrimSpace(strings.Join([]string{ev.Surface, ev.Service, ev.RHost, ev.TTY}, " "))
				peer := "-"
				switch {
				case ev.PeerUID != nil && *ev.PeerUID < 0:
					peer = "pipe" // Windows: SYSTEM or an administrator
				case ev.PeerUID != nil:
					peer = "uid " + strconv.Itoa(*ev.PeerUID)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.Local().Format(time.DateTime), ev.Kind,
					who, dash(ev.Verdict), dash(ev.Reason), dash(where), peer, dash(strings.TrimSpace(ev.Actor+" "+ev.Detail)))
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVarP(&n, "number", "n", 50, "how many events")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

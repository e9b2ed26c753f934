package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcmfa/jcmfa/internal/daemon"
	"github.com/jcmfa/jcmfa/internal/doctor"
	"github.com/jcmfa/jcmfa/internal/fleet"
	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// The admin side of a fleet (init, device add, publish, status, collect,
// secret add, recovery-codes) lives in jcmfa-agent rather than a second binary: admins
// already have it, it is the same version as the devices it publishes for
// (one bundle format, one validation of settings), and the go-tuf metadata
// code it needs is the code the daemon already links to verify. These
// commands work on local files only and never talk to a daemon.

func newFleetCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Manage many devices from one signed repository (admin side) or follow one (device side)",
		Long: `A fleet is a directory of signed files (a TUF repository) that any static
HTTPS host serves. The admin keeps the desired state in fleet.yaml, and
"fleet publish" writes one bundle per device, sealed to that device's key.
Devices poll, verify and apply their bundle; living data (used codes,
failures, lockouts, audit) stays on each device. See docs/fleet.md.

Admin side (files only):   init, device add, publish, status DIR, collect, secret add,
                           recovery-codes add|remove|list
Device side (the daemon):  join, leave, status, check   and   "device id"`,
	}
	identity := os.Getenv("JCMFA_FLEET_IDENTITY")
	cmd.PersistentFlags().StringVar(&identity, "identity", identity, "the admin's age identity file (default DIR/keys/admin.age; also $JCMFA_FLEET_IDENTITY)")

	var bits int
	initCmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Create a fleet workspace: TUF keys, the admin's age key, an empty repository",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			w, err := fleet.Init(args[0], fleet.InitOptions{BinBits: bits})
			if err != nil {
				return err
			}
			fmt.Printf(`fleet workspace: %s
  serve over HTTPS:   %s
  give devices:       %s  (jcmfa-agent fleet join URL --root root.json)
  keys (never commit): %s
Move keys/root.key offline now; it is needed only to rotate keys.
`, w.Dir, w.RepositoryDir(), filepath.Join(w.RepositoryDir(), "1.root.json"), filepath.Join(w.Dir, "keys"))
			return nil
		},
	}
	initCmd.Flags().IntVar(&bits, "bin-bits", 8, "split the device list into 2^N signed bins (8 up to ~50,000 devices, 10 beyond)")

	devCmd := &cobra.Command{Use: "device", Short: "Register devices (admin side)"}
	var key string
	devAdd := &cobra.Command{
		Use:   "add NAME --key AGE_RECIPIENT DIR",
		Short: "Register a device by the key `jcmfa-agent device id` prints on it",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := (fleet.Workspace{Dir: args[1]}).AddDevice(args[0], key, time.Now()); err != nil {
				return err
			}
			fmt.Printf("device %s registered; run `jcmfa-agent fleet publish fleet.yaml %s`\n", args[0], args[1])
			return nil
		},
	}
	devAdd.Flags().StringVar(&key, "key", "", "the device's age recipient (age1...)")
	devAdd.MarkFlagRequired("key")
	devCmd.AddCommand(devAdd)

	publish := &cobra.Command{
		Use:   "publish FLEET.YAML DIR",
		Short: "Validate fleet.yaml, seal one bundle per device and sign the repository",
		Long: `Validate FLEET.YAML (every problem is listed with its line and field, and
nothing is published if there is one), then write a bundle for each
registered device holding only the users bound to it, their secrets sealed to
its key, and sign new metadata. Devices whose configuration did not change
keep their bundle. Run it at least daily (cron): the timestamp it signs
expires after 24 hours, and devices then report expired metadata.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			res, err := (fleet.Workspace{Dir: args[1]}).Publish(args[0], fleet.PublishOptions{Identity: identity})
			if err != nil {
				return err
			}
			fmt.Printf("published serial %d: %d devices, %d bundle(s) changed (%d bytes), snapshot %d, timestamp valid until %s\n",
				res.Serial, res.Devices, len(res.Resealed), res.BundleBytes, res.SnapshotVer, res.TimestampUntil.Local().Format(time.DateTime))
			return nil
		},
	}

	var asJSON bool
	status := &cobra.Command{
		Use:   "status [DIR]",
		Short: "With DIR: what is published and when it expires; without: this device's fleet state",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				return adminStatus(args[0], identity, asJSON)
			}
			rows, err := c.call("fleet.status", nil)
			if err != nil {
				return err
			}
			if asJSON {
				fmt.Println(string(rows[0]))
				return nil
			}
			return printDeviceFleet(rows[0])
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var root, ca string
	var interval time.Duration
	join := &cobra.Command{
		Use:   "join URL --root root.json",
		Short: "Follow the fleet at URL, trusting the root.json the admin gave you",
		Long: `Pin the fleet's root of trust (the 1.root.json from "fleet init", copied to
this device by a trusted channel) and start polling URL. The first check runs
at once. From the first bundle on, local admin edits are refused unless
--local-override is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f := map[string]string{"url": args[0]}
			for k, p := range map[string]string{"root": root, "ca": ca} {
				if p == "" {
					continue
				}
				abs, err := filepath.Abs(p)
				if err != nil {
					return err
				}
				f[k] = abs
			}
			if interval != 0 {
				f["interval"] = interval.String()
			}
			rows, err := c.call("fleet.join", f)
			if err != nil {
				return err
			}
			var p daemon.PollRecord
			json.Unmarshal(rows[0], &p)
			if p.Reason != "ok" {
				fmt.Printf("joined; the first check failed (%s): %s\nthe daemon keeps trying every poll; see `jcmfa-agent fleet status`\n", p.Reason, p.Error)
				return nil
			}
			fmt.Println("joined; the fleet verifies")
			return nil
		},
	}
	join.Flags().StringVar(&root, "root", "", "the fleet's root.json")
	join.Flags().StringVar(&ca, "ca", "", "PEM CA certificate(s) for a host with a private CA")
	join.Flags().DurationVar(&interval, "interval", 0, "poll interval (default 60s, ±10% jitter)")
	join.MarkFlagRequired("root")

	leave := &cobra.Command{
		Use: "leave", Short: "Stop following the fleet; the last bundle's configuration stays, local edits are allowed again",
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			_, err := c.call("fleet.leave", nil)
			return err
		},
	}
	check := &cobra.Command{
		Use: "check", Short: "Check the fleet now (device side)", Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			rows, err := c.call("fleet.check", nil)
			if err != nil {
				return err
			}
			var p daemon.PollRecord
			json.Unmarshal(rows[0], &p)
			fmt.Printf("%s %s\n", p.Reason, p.Error)
			if p.Reason != "ok" {
				return exitError{1}
			}
			return nil
		},
	}

	var spec string
	var replace bool
	collect := &cobra.Command{
		Use:   "collect DIR FILE...",
		Short: "Add enrollments from devices' outboxes (state/fleet/outbox/*.age) to secrets.age",
		Long: `Read the sealed enrollments devices wrote when people set TOTP up in-band,
check that each comes from a registered device and is for a user --spec binds
to that device, and add the secrets to secrets.age. Then publish, and the
secret reaches the user's other devices. Copy the files from the devices with
your config management (they are sealed to the admin key and authenticated
by the device).`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			res, err := (fleet.Workspace{Dir: args[0]}).Collect(spec, identity, args[1:], replace)
			if err != nil {
				return err
			}
			for _, a := range res.Added {
				fmt.Println("added", a)
			}
			for _, s := range res.Skipped {
				fmt.Fprintln(os.Stderr, "skipped", s)
			}
			return nil
		},
	}
	collect.Flags().StringVar(&spec, "spec", "fleet.yaml", "the fleet.yaml that binds users to devices")
	collect.Flags().BoolVar(&replace, "replace", false, "replace a secret the admin already holds")

	secret := &cobra.Command{Use: "secret", Short: "Admin-side TOTP secrets (secrets.age)"}
	secretAdd := &cobra.Command{
		Use:   "add USER DIR",
		Short: "Make a TOTP secret for USER in secrets.age and show it once",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			key, uri, err := totp.NewKey("jcmfa", args[0], totp.Default)
			if err != nil {
				return err
			}
			sec := store.Secret{Key: key, Algorithm: totp.Default.Algorithm, Digits: totp.Default.Digits, Period: totp.Default.Period, EnrolledAt: time.Now().UTC()}
			if err := (fleet.Workspace{Dir: args[1]}).AddSecret(identity, args[0], sec, replace); err != nil {
				return err
			}
			fmt.Printf("secret: %s\n%s\nset enrolled: true (or leave it out) for %s in fleet.yaml and publish\n", key, uri, args[0])
			return nil
		},
	}
	secretAdd.Flags().BoolVar(&replace, "replace", false, "replace an existing secret")
	secret.AddCommand(secretAdd)

	cmd.AddCommand(initCmd, devCmd, publish, status, join, leave, check, collect, secret, newFleetRecoveryCmd(&identity))
	return cmd
}

// newFleetRecoveryCmd is `fleet recovery-codes add|remove|list`: recovery
// codes the fleet admin issues (docs/fleet.md, "Recovery codes").
func newFleetRecoveryCmd(identity *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recovery-codes",
		Short: "Fleet-issued recovery codes (hashes in secrets.age, sent in the user's bundles)",
		Long: recoveryLong + `

Fleet codes go, as hashes, to every device the user is bound to (at the next
publish), and are spent per device: a code used on one device still works
on the others until you issue a new set ("add" again) and publish. Codes
made on a device (jcmfa-agent user recovery-codes) keep working beside them.`,
	}
	var count int
	add := &cobra.Command{
		Use:   "add USER DIR",
		Short: "Make new recovery codes for USER, show them once and keep their hashes in secrets.age",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			ri, err := (fleet.Workspace{Dir: args[1]}).IssueRecovery(*identity, args[0], count, time.Now())
			if err != nil {
				return err
			}
			fmt.Printf("%d new fleet recovery codes for %s, set %s (each works once per device):\n", len(ri.Codes), ri.User, ri.Set)
			for _, code := range ri.Codes {
				fmt.Println("  " + code)
			}
			if ri.Replaced != "" {
				fmt.Printf("They replace set %s: its codes stop working on each device at its next bundle.\n", ri.Replaced)
			}
			fmt.Printf("Hand them to the user to keep somewhere safe. They are not shown again.\nrun `jcmfa-agent fleet publish fleet.yaml %s` to send them to %s's devices\n", args[1], ri.User)
			return nil
		},
	}
	add.Flags().IntVar(&count, "count", recovery.DefaultCount, fmt.Sprintf("how many codes, 1-%d", recovery.MaxCount))
	remove := &cobra.Command{
		Use:   "remove USER DIR",
		Short: "Revoke USER's fleet recovery codes (on each device at its next bundle)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			rs, err := (fleet.Workspace{Dir: args[1]}).RemoveRecovery(*identity, args[0])
			if err != nil {
				return err
			}
			fmt.Printf("removed set %s (%d codes) of %s; run `jcmfa-agent fleet publish fleet.yaml %s`\n", rs.Set, rs.Codes, rs.User, args[1])
			return nil
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list DIR",
		Short: "Show each user's fleet recovery set: its id, how many codes, when issued (never the codes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			sets, err := (fleet.Workspace{Dir: args[0]}).RecoverySets(*identity)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(sets)
			}
			return printRecoverySets(os.Stdout, sets)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(add, remove, list)
	return cmd
}

// printRecoverySets is the table of `fleet recovery-codes list` and of
// `fleet status DIR`. Codes counts the set as issued: which were spent is
// known only to each device (`user status` there).
func printRecoverySets(out io.Writer, sets []fleet.RecoverySet) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USER\tRECOVERY SET\tCODES\tISSUED")
	for _, r := range sets {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", r.User, r.Set, r.Codes, r.Issued.Local().Format(time.DateTime))
	}
	return w.Flush()
}

func adminStatus(dir, identity string, asJSON bool) error {
	ws := fleet.Workspace{Dir: dir}
	s, err := ws.Status()
	if err != nil {
		return err
	}
	// The recovery sets are in secrets.age: shown when the identity
	// opens it, and said so when it does not (status needs no identity).
	sets, setsErr := ws.RecoverySets(identity)
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(struct {
			fleet.Status
			Recovery []fleet.RecoverySet `json:"recovery,omitempty"`
		}{s, sets})
	}
	defer func() {
		fmt.Println()
		if setsErr != nil {
			fmt.Printf("recovery codes: not shown (%v)\n", setsErr)
		} else if len(sets) == 0 {
			fmt.Println("recovery codes: no fleet sets (jcmfa-agent fleet recovery-codes add USER DIR)")
		} else {
			printRecoverySets(os.Stdout, sets)
		}
	}()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	pub := "never"
	if !s.Published.IsZero() {
		pub = s.Published.Local().Format(time.DateTime)
	}
	fmt.Fprintf(w, "serial\t%d (published %s)\n", s.Serial, pub)
	for _, r := range s.Roles {
		warn := ""
		if left := time.Until(r.Expires); left < 0 {
			warn = "  EXPIRED: devices keep their last bundle and report it; run fleet publish"
		} else if left < 6*time.Hour {
			warn = "  expires soon: run fleet publish"
		}
		fmt.Fprintf(w, "%s\tversion %d, expires %s%s\n", r.Role, r.Version, r.Expires.Local().Format(time.DateTime), warn)
	}
	fmt.Fprintf(w, "bins\t%d\n", 1<<s.BinBits)
	w.Flush()
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nDEVICE\tSERIAL\tUSERS\tBYTES\tKEY")
	for _, d := range s.Devices {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", d.Name, d.Serial, d.Users, d.Bytes, d.Recipient)
	}
	return w.Flush()
}

func printDeviceFleet(raw json.RawMessage) error {
	var s daemon.FleetStatus
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "device key\t%s\n", s.Recipient)
	if !s.Joined {
		fmt.Fprintf(w, "fleet\tnot joined (local administration)\n")
	} else {
		fmt.Fprintf(w, "fleet\t%s, every %s\n", s.URL, s.Interval)
	}
	if s.Bundle.Serial > 0 {
		managed := "yes: local edits need --local-override"
		if !s.Bundle.Managed {
			managed = "no (left the fleet)"
		}
		fmt.Fprintf(w, "managed\t%s\n", managed)
		fmt.Fprintf(w, "bundle\tdevice %s, serial %d, applied %s\n", s.Bundle.Device, s.Bundle.Serial, s.Bundle.AppliedAt.Local().Format(time.DateTime))
	}
	if !s.Poll.LastCheck.IsZero() {
		fmt.Fprintf(w, "last check\t%s: %s\n", s.Poll.LastCheck.Local().Format(time.DateTime), s.Poll.Reason)
		if s.Poll.Error != "" {
			fmt.Fprintf(w, "\t%s\n", s.Poll.Error)
			fmt.Fprintf(w, "\tthe bundle in force stays in force\n")
		}
		if !s.Poll.LastSuccess.IsZero() {
			fmt.Fprintf(w, "last success\t%s\n", s.Poll.LastSuccess.Local().Format(time.DateTime))
		}
	}
	for _, ev := range s.Overrides {
		fmt.Fprintf(w, "local override\t%s %s %s %s by %s\n", ev.Time.Local().Format(time.DateTime), ev.Kind, ev.User, ev.Detail, ev.Actor)
	}
	for _, f := range s.Outbox {
		fmt.Fprintf(w, "outbox\t%s\n", f)
	}
	return w.Flush()
}

func newDeviceIDCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Print this device's age recipient (give it to `fleet device add`)",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			rows, err := c.call("device.id", nil)
			if err != nil {
				return err
			}
			var r struct{ Recipient string }
			json.Unmarshal(rows[0], &r)
			fmt.Println(r.Recipient)
			return nil
		},
	}
}

// fleetFindings is doctor's view of fleet management: a failing check, an
// override or an outbox waiting for the admin.
func fleetFindings(c *cli) doctor.Report {
	rows, err := c.client().Command("fleet.status", nil, nil)
	if err != nil || len(rows) == 0 {
		return nil
	}
	var s daemon.FleetStatus
	if json.Unmarshal(rows[0], &s) != nil || !s.Joined {
		return nil
	}
	var r doctor.Report
	in := fmt.Sprintf("bundle serial %d applied %s", s.Bundle.Serial, s.Bundle.AppliedAt.Local().Format(time.DateTime))
	switch {
	case s.Bundle.Serial == 0:
		r = append(r, doctor.Finding{Severity: doctor.Warn, Area: "fleet", Problem: fmt.Sprintf("joined %s but no bundle applied yet (%s: %s)", s.URL, s.Poll.Reason, s.Poll.Error),
			Fix: "register this device (jcmfa-agent device id; fleet device add) and publish; see jcmfa-agent fleet status"})
	case s.Poll.Reason != "ok":
		r = append(r, doctor.Finding{Severity: doctor.Warn, Area: "fleet", Problem: fmt.Sprintf("fleet check fails (%s): %s; the %s stays in force", s.Poll.Reason, s.Poll.Error, in),
			Fix: "see jcmfa-agent fleet status and docs/fleet.md; expired-metadata: the admin must run fleet publish"})
	default:
		r = append(r, doctor.Finding{Severity: doctor.OK, Area: "fleet", Problem: fmt.Sprintf("%s; last check ok from %s", in, s.URL)})
	}
	if len(s.Overrides) > 0 {
		r = append(r, doctor.Finding{Severity: doctor.Warn, Area: "fleet", Problem: fmt.Sprintf("%d local override(s) since the bundle was applied", len(s.Overrides)),
			Fix: "put them in fleet.yaml and publish, or let the next bundle replace them"})
	}
	if len(s.Outbox) > 0 {
		r = append(r, doctor.Finding{Severity: doctor.Warn, Area: "fleet", Problem: fmt.Sprintf("%d enrollment(s) in the outbox wait for the admin", len(s.Outbox)),
			Fix: "copy " + filepath.Dir(s.Outbox[0]) + "/*.age to the admin; jcmfa-agent fleet collect"})
	}
	return r
}

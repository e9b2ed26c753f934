// Package authdb watches the macOS login window's authorization rule,
// system.login.console, for jcmfa's mechanism, and puts it back when an OS
// update has taken it out.
//
// Why it goes missing: authd re-imports
// /System/Library/Security/authorization.plist whenever that file's mtime
// differs from the one it recorded (_copy_plist and _db_load_data), and
// replaces every right whose shipped "version" is higher than the stored
// one (_import_rules, "new version %lld vs existing version %lld, will
// update"), both in apple-oss-distributions/Security OSX/authd/authdb.c.
// system.login.console went from version 8 (macOS 12.0) to 9 (12.5), 10
// (13.0) and 11 (14.0, 15.0): each such update silently drops jcmfa:verify,
// and logins go on without the second factor. Duo documents the same for
// its own plugin.
//
// There is one implementation of reading and editing the rule:
// packaging/macos/authdb.sh, the installer's script. The daemon runs its
// "check" (read only) and, in repair mode, its "repair" (the installer's
// own insertion, under the script's lock). The pkg's preinstall runs before
// the agent binary exists, and an admin in Recovery or over SSH must be
// able to take the mechanism out with a broken agent, so the script cannot
// be the one that calls Go; Go calls the script. This package parses the
// script's report and decides (OS-neutral, tested on Linux against
// stand-ins); only the wiring that finds the installed script and the OS
// build is in system_darwin.go.
package authdb

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Right is the rule this package watches.
const Right = "system.login.console"

// Mechanism is jcmfa's entry, and Anchor the entry it must directly follow.
const (
	Mechanism = "jcmfa:verify"
	Anchor    = "builtin:authenticate,privileged"
)

// States of the rule, as authdb.sh check reports them.
const (
	StateOK        = "ok"        // jcmfa:verify once, right after the anchor
	StateMissing   = "missing"   // no jcmfa entry
	StateMisplaced = "misplaced" // elsewhere, or more than once
)

// Report is what `authdb.sh check` says about the rule.
type Report struct {
	Right      string   `json:"right"`
	Version    int      `json:"version"`   // the rule's "version" (authd compares it at import)
	Installed  bool     `json:"installed"` // install ran and remove has not since
	Anchor     bool     `json:"anchor"`    // builtin:authenticate,privileged is in the rule
	State      string   `json:"state"`
	Mechanisms []string `json:"mechanisms"`
	Others     []string `json:"others,omitempty"`  // third-party mechanisms
	Allowed    []string `json:"allowed,omitempty"` // those the admin accepted at install
}

// Drifted reports whether the mechanism should be in the rule, where the
// installer put it, and is not.
func (r Report) Drifted() bool { return r.Installed && r.State != StateOK }

// Unaccepted are the third-party mechanisms the admin has not accepted.
func (r Report) Unaccepted() []string {
	var out []string
	for _, m := range r.Others {
		ok := false
		for _, a := range r.Allowed {
			ok = ok || a == m
		}
		if !ok {
			out = append(out, m)
		}
	}
	return out
}

// Describe says what is wrong in a sentence an admin can act on.
func (r Report) Describe() string {
	switch {
	case r.State == StateMissing:
		return fmt.Sprintf("%s (version %d) has no %s: logins at the login window are not asked for a code", r.Right, r.Version, Mechanism)
	case r.State == StateMisplaced:
		return fmt.Sprintf("%s (version %d) has %s, but not once right after %s: the code may be asked after the session is set up, or not at all", r.Right, r.Version, Mechanism, Anchor)
	}
	return fmt.Sprintf("%s (version %d) has %s right after %s", r.Right, r.Version, Mechanism, Anchor)
}

// maxReport bounds what is read of the script's output: the rule has fewer
// than twenty mechanisms.
const maxReport = 64 << 10

// Parse reads `authdb.sh check` output: one "key value" a line.
func Parse(text string) (Report, error) {
	if len(text) > maxReport {
		return Report{}, errors.New("authdb.sh check: report too long")
	}
	var r Report
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "right", "version", "installed", "anchor", "state":
			if seen[k] {
				return Report{}, fmt.Errorf("authdb.sh check: %s given twice", k)
			}
			seen[k] = true
		}
		switch k {
		case "right":
			r.Right = v
		case "version":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Report{}, fmt.Errorf("authdb.sh check: version %q is not a number", v)
			}
			r.Version = n
		case "installed", "anchor":
			if v != "yes" && v != "no" {
				return Report{}, fmt.Errorf("authdb.sh check: %s %q is not yes or no", k, v)
			}
			if k == "installed" {
				r.Installed = v == "yes"
			} else {
				r.Anchor = v == "yes"
			}
		case "state":
			if v != StateOK && v != StateMissing && v != StateMisplaced {
				return Report{}, fmt.Errorf("authdb.sh check: unknown state %q", v)
			}
			r.State = v
		case "mechanism":
			r.Mechanisms = append(r.Mechanisms, v)
		case "other":
			r.Others = append(r.Others, v)
		case "allowed":
			r.Allowed = append(r.Allowed, v)
		default:
			return Report{}, fmt.Errorf("authdb.sh check: unknown line %q", k)
		}
	}
	for _, k := range []string{"right", "version", "installed", "anchor", "state"} {
		if !seen[k] {
			return Report{}, fmt.Errorf("authdb.sh check: no %s line (is the installed authdb.sh older than the agent?)", k)
		}
	}
	if r.Right != Right {
		return Report{}, fmt.Errorf("authdb.sh check: reported right %q, not %s", r.Right, Right)
	}
	return r, nil
}

// Mode is what the daemon does about drift (settings --authdb-drift).
type Mode string

const (
	// Repair puts the mechanism back (the default).
	Repair Mode = "repair"
	// ReportOnly only logs and audits it: for Macs whose MDM owns the rule.
	ReportOnly Mode = "report"
)

// ParseMode reads a setting; empty is the default, repair.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", Repair:
		return Repair, nil
	case ReportOnly:
		return ReportOnly, nil
	}
	return "", fmt.Errorf("authdb drift mode must be repair or report, not %q", s)
}

// Package doctor finds what would let a login around the second factor, or
// lock everyone out: sshd settings, the PAM stack, file permissions and the
// daemon itself. Each check returns findings with the fix an admin can apply;
// gathering the inputs (running sshd -T, reading files) is kept apart so the
// rules are tested on text.
package doctor

import (
	"fmt"
	"strings"
)

// Severity of a finding.
type Severity int

const (
	OK Severity = iota
	Warn
	Fail
)

func (s Severity) String() string { return [...]string{"ok", "WARN", "FAIL"}[s] }

// Finding is one result: what was checked, what is wrong, how to fix it.
type Finding struct {
	Severity Severity
	Area     string // sshd, pam, files, daemon
	Problem  string
	Fix      string
}

// Report is every finding of a run.
type Report []Finding

// Failed reports whether anything would bypass the second factor or lock
// people out.
func (r Report) Failed() bool {
	for _, f := range r {
		if f.Severity == Fail {
			return true
		}
	}
	return false
}

// String renders the report for a terminal.
func (r Report) String() string {
	var b strings.Builder
	for _, f := range r {
		fmt.Fprintf(&b, "%-4s  %s: %s\n", f.Severity, f.Area, f.Problem)
		if f.Fix != "" {
			fmt.Fprintf(&b, "      fix: %s\n", f.Fix)
		}
	}
	return b.String()
}

func ok(area, what string) Finding { return Finding{Severity: OK, Area: area, Problem: what} }

// kbdInteractive reports whether a method name is keyboard-interactive
// (with or without a submethod such as :pam).
func kbdInteractive(m string) bool {
	return m == "keyboard-interactive" || strings.HasPrefix(m, "keyboard-interactive:")
}

// SSHD checks the effective sshd configuration as printed by `sshd -T`.
func SSHD(effective string) Report {
	cfg := map[string]string{}
	for _, line := range strings.Split(effective, "\n") {
		k, v, found := strings.Cut(strings.TrimSpace(line), " ")
		if found {
			cfg[strings.ToLower(k)] = strings.TrimSpace(v)
		}
	}
	var r Report
	const dropIn = "run `jcmfa-agent setup ssh`, which writes it to /etc/ssh/sshd_config.d/50-jcmfa.conf"
	if cfg["usepam"] != "yes" {
		r = append(r, Finding{Fail, "sshd", "UsePAM is off: sshd never calls PAM, so nobody is asked for a code", "set `UsePAM yes`; " + dropIn})
	} else {
		r = append(r, ok("sshd", "UsePAM yes"))
	}
	kbd := cfg["kbdinteractiveauthentication"]
	if kbd == "" {
		kbd = cfg["challengeresponseauthentication"]
	}
	if kbd != "yes" {
		r = append(r, Finding{Fail, "sshd", "keyboard-interactive authentication is off: sshd cannot ask for the code", "set `KbdInteractiveAuthentication yes`; " + dropIn})
	} else {
		r = append(r, ok("sshd", "keyboard-interactive authentication on"))
	}
	enabled := map[string]bool{
		"publickey":            cfg["pubkeyauthentication"] == "yes",
		"password":             cfg["passwordauthentication"] == "yes",
		"hostbased":            cfg["hostbasedauthentication"] == "yes",
		"gssapi-with-mic":      cfg["gssapiauthentication"] == "yes",
		"keyboard-interactive": kbd == "yes",
	}
	am := cfg["authenticationmethods"]
	var lists [][]string
	if am == "" || am == "any" {
		for _, m := range []string{"publickey", "password", "hostbased", "gssapi-with-mic", "keyboard-interactive"} {
			if enabled[m] {
				lists = append(lists, []string{m})
			}
		}
	} else {
		for _, l := range strings.Fields(am) {
			lists = append(lists, strings.Split(l, ","))
		}
	}
	bypass := false
	for _, l := range lists {
		hasKbd, onlyPassword := false, true
		for _, m := range l {
			if kbdInteractive(m) {
				hasKbd = true
			}
			if m != "password" {
				onlyPassword = false
			}
		}
		switch {
		case hasKbd:
		case onlyPassword:
			r = append(r, Finding{Warn, "sshd", "password logins are allowed on their own: sshd answers every PAM prompt with the password, so each such login counts as a failed code and can lock the user out",
				"set `PasswordAuthentication no` (keyboard-interactive asks for the password and then the code), or `AuthenticationMethods publickey,keyboard-interactive keyboard-interactive`"})
		default:
			bypass = true
			r = append(r, Finding{Fail, "sshd", fmt.Sprintf("logins by %s skip PAM and so the second factor", strings.Join(l, " then ")),
				"set `AuthenticationMethods publickey,keyboard-interactive keyboard-interactive` so keyboard-interactive (the code) follows every other method; " + dropIn})
		}
	}
	if !bypass {
		r = append(r, ok("sshd", "every allowed authentication path ends in keyboard-interactive"))
	}
	return r
}

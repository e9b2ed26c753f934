package doctor

import (
	"fmt"
	"time"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/printable"
)

const authdbScript = "/usr/local/share/jcmfa/authdb.sh"

// LoginWindowRule checks macOS's system.login.console as `authdb.sh check`
// reports it (r, or checkErr), and what the daemon's drift watch last did
// (watch, or watchErr when the daemon did not say).
func LoginWindowRule(r authdb.Report, checkErr error, watch *authdb.Status, watchErr error) Report {
	const area = "login"
	var out Report
	if checkErr != nil {
		out = append(out, Finding{Fail, area, "cannot read the login window's rule (system.login.console): " + checkErr.Error(),
			"run doctor as root (sudo jcmfa-agent doctor); if " + authdbScript + " is missing, reinstall the package"})
	} else {
		switch {
		case r.State == authdb.StateOK && r.Installed:
			out = append(out, ok(area, r.Describe()))
		case r.State == authdb.StateOK:
			out = append(out, Finding{Warn, area, r.Describe() + ", but install was not recorded: the daemon will not put it back after an OS update",
				"sudo " + authdbScript + " install"})
		case !r.Installed:
			out = append(out, Finding{Fail, area, fmt.Sprintf("%s (version %d) has no %s and it is not installed (the package held it back, or authdb.sh remove ran): the login window asks nobody for a code",
				r.Right, r.Version, authdb.Mechanism),
				"sudo " + authdbScript + " install (the package's log says why postinstall held it back: /var/log/install.log)"})
		default:
			fix := "sudo " + authdbScript + " repair; the daemon does this itself at start, every few minutes and when the OS build changes, unless the setting is report"
			if !r.Anchor {
				fix = authdb.Anchor + " is gone from the rule, so authdb.sh will not guess where the code belongs: restore the rule (docs/macos.md, Recovery) and run authdb.sh install"
			}
			out = append(out, Finding{Fail, area, r.Describe(), fix})
		}
		accepted := map[string]bool{}
		for _, m := range r.Allowed {
			accepted[m] = true
		}
		for _, raw := range r.Others {
			m := printable.Escape(raw) // another product's text
			if accepted[raw] {
				out = append(out, ok(area, "another product's mechanism "+m+" is in "+r.Right+", accepted at install (--allow-other-plugins)"))
				continue
			}
			out = append(out, Finding{Warn, area, "another product's mechanism " + m + " is in " + r.Right + ": two products in the login window's path can lock people out, or one may let logins skip the other's factor",
				"remove the other product, or, if both are meant to run: sudo " + authdbScript + " install --allow-other-plugins (docs/macos.md, Other plugins)"})
		}
	}
	switch {
	case watchErr != nil:
		out = append(out, Finding{Warn, area, "the daemon did not say how its drift watch is doing: " + watchErr.Error(),
			"start the daemon: sudo launchctl kickstart -k system/com.jcmfa.agent"})
	case watch == nil:
	default:
		if watch.Error != "" {
			out = append(out, Finding{Fail, area, "the daemon cannot check the login window's rule, so an OS update that drops " + authdb.Mechanism + " goes unrepaired: " + printable.Escape(watch.Error),
				"see the daemon's log (/Library/Logs/jcmfa/agent.log) and fix what it names"})
		}
		if watch.Mode == authdb.ReportOnly {
			out = append(out, Finding{Warn, area, "login-window drift is only reported (settings --authdb-drift report): after an OS update the login window asks for no code until your MDM or an admin puts " + authdb.Mechanism + " back",
				"make sure your MDM's rule has " + authdb.Mechanism + " right after " + authdb.Anchor + ", or: jcmfa-agent settings --authdb-drift repair"})
		}
		if watch.Drift != "" {
			sev := Warn
			if watch.Drift == authdb.RepairFailed || watch.Drift == authdb.Reported {
				sev = Fail
			}
			if watch.Drift != authdb.Repaired && checkErr == nil && !r.Drifted() {
				sev = Warn // since put right
			}
			out = append(out, Finding{sev, area, fmt.Sprintf("the daemon found the rule drifted at %s (%s): %s",
				watch.DriftAt.Local().Format(time.DateTime), watch.Drift, printable.Escape(watch.DriftDetail)),
				"jcmfa-agent audit shows each " + authdb.EventKind + " event"})
		}
	}
	return out
}

package engine

import (
	"os"
	"strconv"
	"strings"
)

// unsetSession is what /proc/PID/sessionid reads for a process outside
// any audited login session (AUDIT_SID_UNSET, (unsigned int)-1).
const unsetSession = "4294967295"

// loginSession is the kernel's login session of process pid, qualified by
// the boot it belongs to: /proc/PID/sessionid is the audit session id,
// set by pam_loginuid when a login's session opens and inherited by every
// process of the session (sudo included), readable by any user (proc(5));
// /proc/sys/kernel/random/boot_id changes at each boot, when session ids
// start again. "" when either cannot be read or the session is unset.
func loginSession(pid int) string {
	sid, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/sessionid")
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(sid))
	if id == "" || id == unsetSession {
		return ""
	}
	if _, err := strconv.ParseUint(id, 10, 32); err != nil {
		return ""
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(boot)) + ":" + id
}

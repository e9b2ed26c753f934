package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Sudo reports whether sudo asks for the code (`setup sudo`): not
// protected (ok with a hint, not a failure: the code at sudo is a choice),
// protected, or protected in name only because a `sufficient` module
// before ours ends the stack first. pam_rootok is left out of the last
// check: it succeeds only for root, who needs no privilege change.
func Sudo(dir string) Report {
	stack, err := readStack(dir, "sudo", 0)
	if errors.Is(err, fs.ErrNotExist) {
		return Report{ok("sudo", "sudo is not installed ("+filepath.Join(dir, "sudo")+" does not exist)")}
	}
	if err != nil {
		return Report{{Warn, "sudo", fmt.Sprintf("cannot read the sudo PAM stack: %v", err), "check " + filepath.Join(dir, "sudo")}}
	}
	for i, l := range stack {
		if l.typ != "auth" || !strings.Contains(filepath.Base(l.module), "pam_jcmfa") {
			continue
		}
		if l.control == "optional" || l.control == "sufficient" {
			return Report{{Fail, "sudo", fmt.Sprintf("pam_jcmfa is %q in %s: a wrong code does not refuse sudo", l.control, l.file),
				"jcmfa-agent setup sudo --undo, then jcmfa-agent setup sudo"}}
		}
		for _, before := range stack[:i] {
			if before.typ == "auth" && filepath.Base(before.module) != "pam_rootok.so" &&
				(before.control == "sufficient" || strings.Contains(before.control, "success=done")) {
				return Report{{Fail, "sudo", fmt.Sprintf("%s is %q before pam_jcmfa (%s): when it succeeds sudo asks no code", before.module, before.control, before.file),
					"move pam_jcmfa above it, or change its control"}}
			}
		}
		return Report{ok("sudo", fmt.Sprintf("protected: sudo asks required users for a code (%s %s, %s)", l.control, l.module, l.file))}
	}
	return Report{{OK, "sudo", "not protected: sudo asks no code (a requirement scoped to the sudo surface is never asked)",
		"jcmfa-agent setup sudo, if sudo should ask for a code"}}
}

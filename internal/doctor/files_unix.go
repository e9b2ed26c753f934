//go:build !windows

package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Files checks that the store, its key and the socket's directory are
// reachable by their owner only (root, for an installed daemon).
func Files(stateDir, socket string) Report {
	var r Report
	check := func(path string, wantMax os.FileMode, fix string) {
		fi, err := os.Stat(path)
		if err != nil {
			r = append(r, Finding{Warn, "files", fmt.Sprintf("%s: %v", path, err), "start the daemon once to create it"})
			return
		}
		perm := fi.Mode().Perm()
		if perm&^wantMax != 0 {
			r = append(r, Finding{Fail, "files", fmt.Sprintf("%s is mode %04o: other users can reach it", path, perm), fix})
			return
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 && st.Uid != 0 {
			r = append(r, Finding{Fail, "files", fmt.Sprintf("%s belongs to uid %d, not root", path, st.Uid), "run: chown root:root " + path})
			return
		}
		r = append(r, ok("files", fmt.Sprintf("%s is %04o", path, perm)))
	}
	check(stateDir, 0o700, "run: chmod 700 "+stateDir)
	check(filepath.Join(stateDir, "store.key"), 0o600, "run: chmod 600 "+filepath.Join(stateDir, "store.key"))
	check(filepath.Join(stateDir, "jcmfa.db"), 0o600, "run: chmod 600 "+filepath.Join(stateDir, "jcmfa.db"))
	check(filepath.Dir(socket), 0o755, "run: chmod 755 "+filepath.Dir(socket)+" (nobody else may create or replace the socket)")
	return r
}

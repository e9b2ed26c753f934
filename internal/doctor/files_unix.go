//go:build !windows

package doctor

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Files checks that the store, its key and the socket's directory are
// reachable by their owner only. The installed daemon runs as its system
// user under systemd (Linux: paths.DaemonUser) and as root when started by
// hand, so the state directory may belong to either; the key and the store
// must belong to the same owner as their directory, and the socket's
// directory to root (nobody else may replace the socket).
func Files(stateDir, socket string) Report {
	return files(stateDir, socket, daemonUIDs())
}

// daemonUIDs are the owners an installed state directory may have.
func daemonUIDs() map[uint32]string {
	owners := map[uint32]string{0: "root"}
	if name := daemonUser(); name != "" {
		if u, err := user.Lookup(name); err == nil {
			if uid, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
				owners[uint32(uid)] = name
			}
		}
	}
	return owners
}

func files(stateDir, socket string, owners map[uint32]string) Report {
	var r Report
	// Only root can see another owner's mistake; a trial daemon's files are
	// its user's.
	checkOwner := os.Geteuid() == 0
	var stateOwner uint32
	check := func(path string, wantMax os.FileMode, fix string, wantOwner func(uid uint32) (ok bool, want string)) {
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
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && checkOwner {
			if good, want := wantOwner(st.Uid); !good {
				r = append(r, Finding{Fail, "files", fmt.Sprintf("%s belongs to uid %d, not %s", path, st.Uid, want), "run: chown " + want + ":" + want + " " + path})
				return
			}
		}
		r = append(r, ok("files", fmt.Sprintf("%s is %04o", path, perm)))
	}
	anyDaemon := func(uid uint32) (bool, string) {
		if _, ok := owners[uid]; ok {
			stateOwner = uid
			return true, ""
		}
		want := "root"
		for u, n := range owners {
			if u != 0 {
				want = n
			}
		}
		return false, want
	}
	sameAsState := func(uid uint32) (bool, string) { return uid == stateOwner, owners[stateOwner] }
	isRoot := func(uid uint32) (bool, string) { return uid == 0, "root" }
	check(stateDir, 0o700, "run: chmod 700 "+stateDir, anyDaemon)
	key, db := filepath.Join(stateDir, "store.key"), filepath.Join(stateDir, "jcmfa.db")
	check(key, 0o600, "run: chmod 600 "+key, sameAsState)
	check(db, 0o600, "run: chmod 600 "+db, sameAsState)
	check(filepath.Dir(socket), 0o755, "run: chmod 755 "+filepath.Dir(socket)+" (nobody else may create or replace the socket)", isRoot)
	return r
}

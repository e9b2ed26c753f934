//go:build !windows

package devicekey

import (
	"fmt"
	"os"
	"syscall"
)

// File is a key kept in a file only its owner, the daemon's uid, can read:
// _jcmfa for the packaged daemon on Linux under systemd (which hands it the
// state directory), root on macOS and when started by hand.
type File struct{ Path string }

// Default is the platform's key provider for a state directory.
func Default(stateDir string) Provider { return File{Path: stateDir + "/store.key"} }

// Location implements Provider.
func (f File) Location() string { return f.Path }

// Key implements Provider. It refuses a key file that others can read or that
// belongs to someone else: such a key no longer protects anything.
func (f File) Key() ([]byte, error) {
	if fi, err := os.Stat(f.Path); err == nil {
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("store key %s is readable by other users (mode %04o); run: chmod 600 %s", f.Path, perm, f.Path)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
			return nil, fmt.Errorf("store key %s belongs to uid %d, not to the daemon's uid %d; run: chown %d %s", f.Path, st.Uid, os.Geteuid(), os.Geteuid(), f.Path)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("store key %s is not a regular file", f.Path)
		}
	}
	plain := func(b []byte) ([]byte, error) { return b, nil }
	return loadOrCreate(f.Path, plain, plain)
}

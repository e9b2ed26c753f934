//go:build !windows

package doctor

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

func TestFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "store.key"), make([]byte, 32), 0o600)
	os.WriteFile(filepath.Join(dir, "jcmfa.db"), nil, 0o600)
	sock := filepath.Join(t.TempDir(), "run", "agent.sock")
	os.Mkdir(filepath.Dir(sock), 0o755)
	if r := Files(dir, sock); r.Failed() {
		t.Fatalf("%s", r)
	}
	os.Chmod(filepath.Join(dir, "store.key"), 0o644)
	if r := Files(dir, sock); !r.Failed() || !strings.Contains(r.String(), "chmod 600") {
		t.Fatalf("%s", r)
	}
}

// TestFilesOwners: as root, the state directory may belong to root or to
// the daemon's system user; the key and store must belong to the same owner
// as their directory, and the socket's directory to root.
func TestFilesOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Need(t, errors.New("needs root to chown files to another user (CI runs as root)"))
	}
	u, err := user.Lookup(testenv.OSAccount)
	testenv.Need(t, err)
	uid, _ := strconv.Atoi(u.Uid)
	owners := map[uint32]string{0: "root", uint32(uid): u.Username}

	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o700)
	key, db := filepath.Join(dir, "store.key"), filepath.Join(dir, "jcmfa.db")
	os.WriteFile(key, make([]byte, 32), 0o600)
	os.WriteFile(db, nil, 0o600)
	sock := filepath.Join(t.TempDir(), "run", "agent.sock")
	os.Mkdir(filepath.Dir(sock), 0o755)
	if r := files(dir, sock, owners); r.Failed() {
		t.Fatalf("all root: %s", r)
	}
	for _, p := range []string{dir, key, db} {
		os.Chown(p, uid, uid)
	}
	if r := files(dir, sock, owners); r.Failed() {
		t.Fatalf("all the daemon user's: %s", r)
	}
	// A key left to root under a directory the daemon user owns: the
	// daemon could not read it.
	os.Chown(key, 0, 0)
	if r := files(dir, sock, owners); !r.Failed() || !strings.Contains(r.String(), "chown "+u.Username) {
		t.Fatalf("root's key in the daemon user's directory: %s", r)
	}
	os.Chown(key, uid, uid)
	// A directory owned by anyone else.
	os.Chown(dir, uid+1, uid+1)
	if r := files(dir, sock, owners); !r.Failed() {
		t.Fatalf("a stranger's state directory: %s", r)
	}
	os.Chown(dir, uid, uid)
	// The socket's directory must be root's, whoever the daemon is.
	os.Chown(filepath.Dir(sock), uid, uid)
	if r := files(dir, sock, owners); !r.Failed() || !strings.Contains(r.String(), "chown root:root") {
		t.Fatalf("socket directory of the daemon user: %s", r)
	}
}

//go:build !windows

package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

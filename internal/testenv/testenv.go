// Package testenv is shared by the tests that build and run the real
// binaries (the PAM module, the macOS plugin harness, the daemon): finding
// the checkout, building from it, stopping a test that cannot run here, and
// filling a store directly. Only tests import it.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/devicekey"
	"github.com/jcmfa/jcmfa/internal/paths"
	"github.com/jcmfa/jcmfa/internal/store"
)

// Main is a harness package's TestMain: it makes a scratch directory
// named after prefix (short, so that socket paths under it fit sun_path),
// calls setup with it to build what the tests need (setup records why it
// could not, for Need), runs the tests, removes the directory and exits.
func Main(m *testing.M, prefix string, setup func(dir string)) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", prefix)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		setup(dir)
		return m.Run()
	}())
}

// Root is the checkout's top directory: the nearest parent with go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Make runs `make -C <root>/<dir> [target] OUT=out`; hint says which
// packages a failure usually means are missing.
func Make(dir, target, out, hint string) error {
	root, err := Root()
	if err != nil {
		return err
	}
	for _, tool := range []string{"make", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (Debian: apt-get install build-essential)", tool)
		}
	}
	args := []string{"-C", filepath.Join(root, dir)}
	if target != "" {
		args = append(args, target)
	}
	if b, err := exec.Command("make", append(args, "OUT="+out)...).CombinedOutput(); err != nil {
		return fmt.Errorf("make -C %s %s failed (%s): %v\n%s", dir, target, hint, err, b)
	}
	return nil
}

// BuildModule builds pam_jcmfa.so into out and returns its path.
func BuildModule(out string) (string, error) {
	if err := Make("cmd/pam_jcmfa", "", out, "needs build-essential and libpam0g-dev"); err != nil {
		return "", err
	}
	return filepath.Join(out, "pam_jcmfa.so"), nil
}

// BuildAgent builds jcmfa-agent from this checkout into out.
func BuildAgent(out string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(out, "jcmfa-agent")
	gb := exec.Command("go", "build", "-o", bin, "./cmd/agent")
	gb.Dir = root
	if b, err := gb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building jcmfa-agent failed: %v\n%s", err, b)
	}
	return bin, nil
}

// PAMModule finds a module of the system's libpam (pam_debug.so, say) in
// the directories Debian, Fedora and others install them in.
func PAMModule(name string) (string, error) {
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu/security", "/usr/lib/aarch64-linux-gnu/security",
		"/lib/x86_64-linux-gnu/security", "/usr/lib64/security", "/lib/security", "/usr/lib/security"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name), nil
		}
	}
	return "", fmt.Errorf("%s not found (Debian: apt-get install libpam-modules)", name)
}

// Need stops a test whose prerequisites are missing (err != nil): a skip
// on a developer machine, a failure under CI, where everything must run.
func Need(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("prerequisite missing in CI: %v", err)
	}
	tb.Skipf("skipping: %v", err)
}

// Populate writes n enrolled, required users straight into the store in
// stateDir (created with its key if new), as a fleet bundle or a
// long-lived device would have them, with TOTP and MFA switched on.
func Populate(tb testing.TB, stateDir string, n int, name func(int) string, secret func(string) string, period int) {
	tb.Helper()
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		tb.Fatal(err)
	}
	key, err := devicekey.Default(stateDir).Key()
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(paths.Store(stateDir), key, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for lo := 0; lo < n; lo += 10000 {
		err := st.Update(func(tx *store.Tx) error {
			if lo == 0 {
				s := store.DefaultSettings()
				s.OrgTOTP, s.DeviceMFA = true, true
				if err := tx.PutSettings(s); err != nil {
					return err
				}
			}
			for i := lo; i < min(lo+10000, n); i++ {
				u := store.User{Name: name(i), Required: true, Created: now,
					TOTP: &store.Secret{Key: secret(name(i)), Algorithm: "SHA1", Digits: 6, Period: period, EnrolledAt: now}}
				if err := tx.PutUser(u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// Admin runs one jcmfa-agent command against the daemon at sock.
func Admin(tb testing.TB, bin, sock string, args ...string) string {
	tb.Helper()
	b, err := exec.Command(bin, append([]string{"--socket", sock}, args...)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("jcmfa-agent %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b)
}

package authdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// System is what the watcher needs of the Mac: the rule's state, the
// installer's repair, and the OS build (a change is an update).
type System interface {
	Check(ctx context.Context) (Report, error)
	Repair(ctx context.Context) (output string, err error)
	Build() (string, error)
}

// Script is a System that runs authdb.sh: on a Mac the installed copy
// (system_darwin.go), in the tests the checkout's copy against stand-ins.
type Script struct {
	Path string
	// Env is the script's whole environment; nil is launchd's PATH only,
	// so nothing from the daemon's own environment reaches a root script.
	Env []string
	// OSBuild returns the OS build; nil: always "".
	OSBuild func() (string, error)
	// TrustPath checks the script and every directory above it before
	// each run (see Trusted); nil: no check (the tests' temporary copies).
	TrustPath func(string) error
}

// scriptTimeout bounds one run: the script waits up to 30 s for its lock.
const scriptTimeout = 90 * time.Second

// Check runs `authdb.sh check`.
func (s *Script) Check(ctx context.Context) (Report, error) {
	out, err := s.run(ctx, "check")
	if err != nil {
		return Report{}, err
	}
	return Parse(out)
}

// Repair runs `authdb.sh repair`: the installer's own insertion.
func (s *Script) Repair(ctx context.Context) (string, error) { return s.run(ctx, "repair") }

// Build implements System.
func (s *Script) Build() (string, error) {
	if s.OSBuild == nil {
		return "", nil
	}
	return s.OSBuild()
}

// limited keeps the first n bytes written to it.
type limited struct {
	bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (s *Script) run(ctx context.Context, arg string) (string, error) {
	if s.TrustPath != nil {
		if err := s.TrustPath(s.Path); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", s.Path, arg)
	cmd.Env = s.Env
	if cmd.Env == nil {
		cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
	}
	cmd.Dir = "/"
	stdout, stderr := &limited{n: maxReport + 1}, &limited{n: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", s.Path, arg, err, msg)
	}
	return stdout.String() + stderr.String(), nil
}

// Trusted checks that path and every directory above it are owned by root
// and writable by nobody else: the daemon runs the script as root, and
// whoever can replace it, or rename a directory on the way to it, would
// run their code as root. (A Mac where Homebrew gave /usr/local/share to a
// user fails this; so would the agent binary in /usr/local/sbin.)
func Trusted(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s is not an absolute path", path)
	}
	for p := path; ; p = filepath.Dir(p) {
		if err := rootOnly(p); err != nil {
			return fmt.Errorf("not running %s as root: %w; run: sudo chown root:wheel %q && sudo chmod go-w %q", path, err, p, p)
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	// A link is as safe as the directory it is in (checked above) and
	// where it leads.
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	if real != path {
		return Trusted(real)
	}
	return nil
}

// errNotRootOnly is rootOnly's complaint.
var errNotRootOnly = errors.New("writable by someone other than root")

// rootOnly reports whether p (not followed if a link) is owned by root
// and not writable by group or others.
func rootOnly(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	uid, ok := ownerOf(fi)
	if !ok {
		return nil // no owners on this OS (Windows): nothing to check
	}
	// A link's own mode bits mean nothing (lrwxrwxrwx everywhere).
	writable := fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0
	if uid != 0 || writable {
		return fmt.Errorf("%s (owner uid %d, mode %v) is %w", p, uid, fi.Mode().Perm(), errNotRootOnly)
	}
	return nil
}

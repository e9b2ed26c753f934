// Package sshsetup switches the second factor on for sshd: a drop-in for
// sshd_config and one line in the sshd PAM stack. Every change is validated
// with `sshd -t` and rolled back on any failure, so a typo can never leave
// sshd unable to start or admins locked out; Undo removes exactly what Apply
// added.
package sshsetup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Marker tags every line this package writes, so Undo finds them.
const Marker = "# jcmfa: added by `jcmfa-agent setup ssh`; remove with `jcmfa-agent setup ssh --undo`"

// Options say where sshd's files are; the zero value is Debian's layout.
type Options struct {
	SSHDConfig string // main sshd_config
	DropInDir  string // its Include directory
	PAMFile    string // the sshd PAM service file
	Module     string // module path or name for the PAM line
	ModuleArgs string // e.g. "timeout=10"
	SSHD       string // sshd binary, for -t
	DryRun     bool
}

func (o *Options) defaults() {
	if o.SSHDConfig == "" {
		o.SSHDConfig = "/etc/ssh/sshd_config"
	}
	if o.DropInDir == "" {
		o.DropInDir = filepath.Join(filepath.Dir(o.SSHDConfig), "sshd_config.d")
	}
	if o.PAMFile == "" {
		o.PAMFile = "/etc/pam.d/sshd"
	}
	if o.Module == "" {
		o.Module = "pam_jcmfa.so"
	}
	if o.SSHD == "" {
		o.SSHD = "/usr/sbin/sshd"
	}
}

// DropInName is the drop-in's file name; "50-" sorts it before most local
// files, and sshd keeps the first value it reads for most keywords.
const DropInName = "50-jcmfa.conf"

// DropIn is the sshd configuration the second factor needs: PAM on,
// keyboard-interactive on, and every login path ending in
// keyboard-interactive (public key alone would skip PAM entirely).
const DropIn = Marker + `
UsePAM yes
KbdInteractiveAuthentication yes
AuthenticationMethods publickey,keyboard-interactive keyboard-interactive
`

// Change is one file Apply writes.
type Change struct {
	Path   string
	Before []byte // nil: the file did not exist
	After  []byte
}

func (o Options) pamLine() string {
	l := "auth required " + o.Module
	if o.ModuleArgs != "" {
		l += " " + o.ModuleArgs
	}
	return l
}

// Plan computes the changes without touching anything.
func Plan(o Options) ([]Change, error) {
	o.defaults()
	main, err := os.ReadFile(o.SSHDConfig)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", o.SSHDConfig, err)
	}
	if !includesDropIns(main, o.DropInDir) {
		return nil, fmt.Errorf("%s does not include %s/*.conf; add `Include %s/*.conf` as its first line, then run this again",
			o.SSHDConfig, o.DropInDir, o.DropInDir)
	}
	var changes []Change
	dropIn := filepath.Join(o.DropInDir, DropInName)
	old, err := os.ReadFile(dropIn)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if !bytes.Equal(old, []byte(DropIn)) {
		changes = append(changes, Change{Path: dropIn, Before: old, After: []byte(DropIn)})
	}
	pam, err := os.ReadFile(o.PAMFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", o.PAMFile, err)
	}
	if newPAM, changed := insertPAM(pam, o.pamLine()); changed {
		changes = append(changes, Change{Path: o.PAMFile, Before: pam, After: newPAM})
	}
	return changes, nil
}

func includesDropIns(cfg []byte, dir string) bool {
	for _, l := range strings.Split(string(cfg), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && strings.EqualFold(f[0], "Include") {
			for _, p := range f[1:] {
				if p == dir+"/*.conf" || p == "sshd_config.d/*.conf" && filepath.Base(dir) == "sshd_config.d" {
					return true
				}
			}
		}
	}
	return false
}

// insertPAM adds our auth line, marked, after the password (InsertAuthLine).
func insertPAM(pam []byte, line string) ([]byte, bool) { return InsertAuthLine(pam, Marker, line) }

// InsertAuthLine adds marker and an auth line after the last auth rule
// (Debian: after `@include common-auth`), so the password is checked first
// and the code second. It leaves a stack that already has a pam_jcmfa auth
// line alone. setup sudo uses it with its own marker.
func InsertAuthLine(pam []byte, marker, line string) ([]byte, bool) {
	lines := strings.Split(string(pam), "\n")
	last := -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Fields(t)
		if len(f) >= 3 && strings.TrimPrefix(f[0], "-") == "auth" && strings.Contains(f[2], "pam_jcmfa") {
			return pam, false
		}
		if t == "@include common-auth" || len(f) >= 1 && strings.TrimPrefix(f[0], "-") == "auth" {
			last = i
		}
	}
	add := []string{marker, line}
	var out []string
	if last < 0 {
		out = append(add, lines...)
	} else {
		out = append(append(append([]string{}, lines[:last+1]...), add...), lines[last+1:]...)
	}
	return []byte(strings.Join(out, "\n")), true
}

// removePAM drops our marker and the auth line after it.
func removePAM(pam []byte) ([]byte, bool) { return RemoveMarked(pam, Marker) }

// RemoveMarked drops marker and the pam_jcmfa line after it, and nothing
// else.
func RemoveMarked(pam []byte, marker string) ([]byte, bool) {
	lines := strings.Split(string(pam), "\n")
	var out []string
	changed := false
	for i := 0; i < len(lines); i++ {
		if lines[i] == marker {
			changed = true
			if i+1 < len(lines) && strings.Contains(lines[i+1], "pam_jcmfa") {
				i++
			}
			continue
		}
		out = append(out, lines[i])
	}
	return []byte(strings.Join(out, "\n")), changed
}

// Apply writes the planned changes, validates them with `sshd -t`, and
// restores every file if anything fails.
func Apply(o Options) ([]Change, error) {
	o.defaults()
	changes, err := Plan(o)
	if err != nil || o.DryRun || len(changes) == 0 {
		return changes, err
	}
	return changes, write(o, changes)
}

// Undo removes the drop-in and the PAM line, validating as Apply does.
func Undo(o Options) ([]Change, error) {
	o.defaults()
	var changes []Change
	dropIn := filepath.Join(o.DropInDir, DropInName)
	if old, err := os.ReadFile(dropIn); err == nil {
		if !bytes.HasPrefix(old, []byte(Marker)) {
			return nil, fmt.Errorf("%s was not written by jcmfa-agent; remove it by hand if you mean to", dropIn)
		}
		changes = append(changes, Change{Path: dropIn, Before: old, After: nil})
	}
	if pam, err := os.ReadFile(o.PAMFile); err == nil {
		if newPAM, changed := removePAM(pam); changed {
			changes = append(changes, Change{Path: o.PAMFile, Before: pam, After: newPAM})
		}
	}
	if o.DryRun || len(changes) == 0 {
		return changes, nil
	}
	return changes, write(o, changes)
}

func write(o Options, changes []Change) error {
	return WriteValidated(changes, func() error {
		out, err := exec.Command(o.SSHD, "-t", "-f", o.SSHDConfig).CombinedOutput()
		if err != nil {
			return fmt.Errorf("`%s -t -f %s` rejected the new configuration: %v: %s", o.SSHD, o.SSHDConfig, err, bytes.TrimSpace(out))
		}
		return nil
	})
}

// WriteValidated writes changes in order, then runs validate; if a write
// or validate fails, every file written is put back as it was.
func WriteValidated(changes []Change, validate func() error) error {
	var done []Change
	rollback := func(cause error) error {
		for i := len(done) - 1; i >= 0; i-- {
			c := done[i]
			if c.Before == nil {
				os.Remove(c.Path)
			} else {
				os.WriteFile(c.Path, c.Before, 0o644)
			}
		}
		return fmt.Errorf("%w; every file was restored", cause)
	}
	for _, c := range changes {
		var err error
		if c.After == nil {
			err = os.Remove(c.Path)
		} else {
			err = writeAtomic(c.Path, c.After)
		}
		if err != nil {
			return rollback(fmt.Errorf("write %s: %w", c.Path, err))
		}
		done = append(done, c)
	}
	if err := validate(); err != nil {
		return rollback(err)
	}
	return nil
}

// writeAtomic replaces path so a reader never sees half a file, keeping the
// mode of the file it replaces.
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".jcmfa-tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Package sudosetup switches the second factor on for privilege changes
// inside a session: one marked line in the sudo (and su) PAM stacks, after
// the password. Unlike sshd there is no `-t` to ask, so the new stack is
// proved by a real PAM authentication through it (the same code as
// `jcmfa-agent test-login`) before it is kept; if that fails, every file is
// put back. Undo removes exactly the lines Apply added.
package sudosetup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jcmfa/jcmfa/internal/sshsetup"
)

// Marker tags every line this package writes, so Undo finds them.
const Marker = "# jcmfa: added by `jcmfa-agent setup sudo`; remove with `jcmfa-agent setup sudo --undo`"

// Options say which stacks to change and how to prove them.
type Options struct {
	// PAMFiles are the stacks to change; default /etc/pam.d/sudo and
	// /etc/pam.d/su (a file that does not exist is left out, so a machine
	// without sudo still gets su).
	PAMFiles   []string
	Module     string // module path or name for the PAM line
	ModuleArgs string // e.g. "socket=/run/jcmfa/agent.sock"; surface=sudo is always added
	DryRun     bool
	// Validate runs a real PAM authentication through service's new stack
	// (its file's base name) and returns an error unless PAM accepted it.
	// It is required unless DryRun: a stack nobody proved is not kept.
	Validate func(service string) error
}

func (o *Options) defaults() {
	if len(o.PAMFiles) == 0 {
		o.PAMFiles = []string{"/etc/pam.d/sudo", "/etc/pam.d/su"}
	}
	if o.Module == "" {
		o.Module = "pam_jcmfa.so"
	}
}

// pamLine is the rule Apply adds. surface=sudo names the surface
// explicitly, so a stack under another service name (sudoers'
// pam_service, a distribution's renamed su) is still the sudo surface.
func (o Options) pamLine() string {
	l := "auth required " + o.Module + " surface=sudo"
	if o.ModuleArgs != "" {
		l += " " + o.ModuleArgs
	}
	return l
}

// Plan computes the changes without touching anything.
func Plan(o Options) ([]sshsetup.Change, error) {
	o.defaults()
	var changes []sshsetup.Change
	found := 0
	for _, path := range o.PAMFiles {
		pam, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		found++
		if after, changed := sshsetup.InsertAuthLine(pam, Marker, o.pamLine()); changed {
			changes = append(changes, sshsetup.Change{Path: path, Before: pam, After: after})
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("none of %v exists: install sudo (apt-get install sudo), or name the stack with --pam-file", o.PAMFiles)
	}
	return changes, nil
}

// Apply adds the line to each stack, proves each changed stack with
// Validate, and restores every file if anything fails.
func Apply(o Options) ([]sshsetup.Change, error) {
	o.defaults()
	changes, err := Plan(o)
	if err != nil || o.DryRun || len(changes) == 0 {
		return changes, err
	}
	if o.Validate == nil {
		return changes, errors.New("setup sudo needs a PAM authentication to prove the new stack; this build cannot run one")
	}
	return changes, sshsetup.WriteValidated(changes, func() error {
		for _, c := range changes {
			service := filepath.Base(c.Path)
			if err := o.Validate(service); err != nil {
				return fmt.Errorf("a PAM authentication through the new %s stack failed (%v), so it is not kept", service, err)
			}
		}
		return nil
	})
}

// Undo removes the marked lines. Nothing is proved: the stacks go back to
// what they were before Apply, which sudo already ran.
func Undo(o Options) ([]sshsetup.Change, error) {
	o.defaults()
	var changes []sshsetup.Change
	for _, path := range o.PAMFiles {
		pam, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if after, changed := sshsetup.RemoveMarked(pam, Marker); changed {
			changes = append(changes, sshsetup.Change{Path: path, Before: pam, After: after})
		}
	}
	if o.DryRun || len(changes) == 0 {
		return changes, nil
	}
	return changes, sshsetup.WriteValidated(changes, func() error { return nil })
}

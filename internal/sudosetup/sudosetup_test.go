package sudosetup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const debianSudo = "#%PAM-1.0\n\nsession    required   pam_limits.so\n\n@include common-auth\n@include common-account\n@include common-session-noninteractive\n"

func files(t *testing.T) (string, string) {
	dir := t.TempDir()
	sudo, su := filepath.Join(dir, "sudo"), filepath.Join(dir, "su")
	os.WriteFile(sudo, []byte(debianSudo), 0o644)
	os.WriteFile(su, []byte("auth       sufficient pam_rootok.so\n@include common-auth\n"), 0o644)
	return sudo, su
}

func TestApplyProvesEachStackThenUndoRestores(t *testing.T) {
	sudo, su := files(t)
	var proved []string
	o := Options{PAMFiles: []string{sudo, su, filepath.Join(filepath.Dir(sudo), "absent")}, ModuleArgs: "timeout=5",
		Validate: func(service string) error {
			if b, _ := os.ReadFile(filepath.Join(filepath.Dir(sudo), service)); !strings.Contains(string(b), Marker) {
				t.Errorf("%s proved before it was written", service)
			}
			proved = append(proved, service)
			return nil
		}}
	if _, err := Apply(o); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(sudo)
	if !strings.Contains(string(b), "@include common-auth\n"+Marker+"\nauth required pam_jcmfa.so surface=sudo timeout=5\n@include common-account") {
		t.Fatalf("sudo stack:\n%s", b)
	}
	if strings.Join(proved, ",") != "sudo,su" {
		t.Fatalf("proved %v", proved)
	}
	if ch, err := Apply(o); err != nil || len(ch) != 0 {
		t.Fatalf("second apply: %v %v, want nothing to change", ch, err)
	}
	if _, err := Undo(o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(sudo); string(b) != debianSudo {
		t.Fatalf("undo left:\n%s", b)
	}
}

func TestApplyRollsBackWhenTheProofFails(t *testing.T) {
	sudo, su := files(t)
	before, _ := os.ReadFile(su)
	o := Options{PAMFiles: []string{sudo, su}, Validate: func(service string) error {
		if service == "su" {
			return errors.New("authentication failure")
		}
		return nil
	}}
	_, err := Apply(o)
	if err == nil || !strings.Contains(err.Error(), "every file was restored") {
		t.Fatalf("err %v", err)
	}
	if b, _ := os.ReadFile(sudo); string(b) != debianSudo {
		t.Fatalf("sudo not restored:\n%s", b)
	}
	if b, _ := os.ReadFile(su); string(b) != string(before) {
		t.Fatalf("su not restored:\n%s", b)
	}
	if _, err := Apply(Options{PAMFiles: []string{sudo}}); err == nil {
		t.Fatal("applied with no way to prove the stack")
	}
	if _, err := Apply(Options{PAMFiles: []string{filepath.Join(t.TempDir(), "none")}, DryRun: true}); err == nil {
		t.Fatal("no stack exists, yet no error")
	}
}

package sshsetup

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sshdFixture is a private sshd configuration with its own host key, so the
// real `sshd -t` validates what Apply writes without touching /etc/ssh.
func sshdFixture(t *testing.T, mainConfig string) Options {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root and openssh-server (/usr/sbin/sshd); CI installs both")
		}
		t.Skip("needs root and openssh-server (apt-get install openssh-server)")
	}
	os.MkdirAll("/run/sshd", 0o755) // sshd -t wants its privilege separation directory
	dir := t.TempDir()
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	dropins := filepath.Join(dir, "sshd_config.d")
	os.Mkdir(dropins, 0o755)
	cfg := filepath.Join(dir, "sshd_config")
	body := strings.ReplaceAll(mainConfig, "DROPINS", dropins) + "\nHostKey " + key + "\n"
	os.WriteFile(cfg, []byte(body), 0o644)
	pam := filepath.Join(dir, "pam-sshd")
	os.WriteFile(pam, []byte("# PAM configuration for sshd\n@include common-auth\naccount required pam_nologin.so\n@include common-account\n"), 0o644)
	return Options{SSHDConfig: cfg, DropInDir: dropins, PAMFile: pam, Module: "/opt/jcmfa/pam_jcmfa.so", ModuleArgs: "timeout=10"}
}

const debianLike = "Include DROPINS/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n"

func TestApplyThenUndo(t *testing.T) {
	o := sshdFixture(t, debianLike)
	pamBefore, _ := os.ReadFile(o.PAMFile)
	changes, err := Apply(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("%d changes, want drop-in and PAM", len(changes))
	}
	pam, _ := os.ReadFile(o.PAMFile)
	if !strings.Contains(string(pam), "@include common-auth\n"+Marker+"\nauth required /opt/jcmfa/pam_jcmfa.so timeout=10\naccount") {
		t.Fatalf("PAM file:\n%s", pam)
	}
	// The effective configuration has what the second factor needs.
	out, err := exec.Command("/usr/sbin/sshd", "-T", "-f", o.SSHDConfig).CombinedOutput()
	if err != nil {
		t.Fatalf("sshd -T: %v %s", err, out)
	}
	for _, want := range []string{"kbdinteractiveauthentication yes", "authenticationmethods publickey,keyboard-interactive keyboard-interactive"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("sshd -T lacks %q", want)
		}
	}
	// Applying again changes nothing.
	if changes, err := Apply(o); err != nil || len(changes) != 0 {
		t.Fatalf("second apply: %d changes, %v", len(changes), err)
	}
	if _, err := Undo(o); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(o.PAMFile)
	if !bytes.Equal(after, pamBefore) {
		t.Fatalf("undo left the PAM file changed:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(o.DropInDir, DropInName)); !os.IsNotExist(err) {
		t.Fatal("undo left the drop-in")
	}
}

func TestRejectedConfigIsRolledBack(t *testing.T) {
	// KbdInteractiveAuthentication no *before* the Include wins (sshd keeps
	// the first value), so our AuthenticationMethods cannot be satisfied and
	// sshd -t refuses: nothing may stay written.
	o := sshdFixture(t, "KbdInteractiveAuthentication no\nInclude DROPINS/*.conf\nUsePAM yes\n")
	pamBefore, _ := os.ReadFile(o.PAMFile)
	_, err := Apply(o)
	if err == nil || !strings.Contains(err.Error(), "restored") {
		t.Fatalf("err = %v, want a rejection with rollback", err)
	}
	pam, _ := os.ReadFile(o.PAMFile)
	if !bytes.Equal(pam, pamBefore) {
		t.Fatal("PAM file not restored")
	}
	if _, err := os.Stat(filepath.Join(o.DropInDir, DropInName)); !os.IsNotExist(err) {
		t.Fatal("drop-in not removed")
	}
}

func TestMissingIncludeIsExplained(t *testing.T) {
	o := sshdFixture(t, "UsePAM yes\n")
	_, err := Apply(o)
	if err == nil || !strings.Contains(err.Error(), "Include") {
		t.Fatalf("err = %v", err)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	o := sshdFixture(t, debianLike)
	o.DryRun = true
	changes, err := Apply(o)
	if err != nil || len(changes) != 2 {
		t.Fatalf("%d changes, %v", len(changes), err)
	}
	if _, err := os.Stat(filepath.Join(o.DropInDir, DropInName)); !os.IsNotExist(err) {
		t.Fatal("dry run wrote the drop-in")
	}
}

func TestInsertPAMWithoutCommonAuth(t *testing.T) {
	out, changed := insertPAM([]byte("auth required pam_unix.so\naccount required pam_unix.so\n"), "auth required pam_jcmfa.so")
	if !changed || !strings.HasPrefix(string(out), "auth required pam_unix.so\n"+Marker+"\nauth required pam_jcmfa.so\naccount") {
		t.Fatalf("%s", out)
	}
	back, _ := removePAM(out)
	if string(back) != "auth required pam_unix.so\naccount required pam_unix.so\n" {
		t.Fatalf("%q", back)
	}
}

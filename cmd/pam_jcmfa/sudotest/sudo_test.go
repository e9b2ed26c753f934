//go:build linux

package sudotest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

var (
	moduleSO, agentBin, work string
	prereq                   error
)

func TestMain(m *testing.M) {
	testenv.Main(m, "jcmfa-sudo", func(dir string) {
		os.Chmod(dir, 0o755)
		work, prereq = dir, build(dir)
	})
}

func build(out string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (to add an account, a sudoers entry and a PAM service)")
	}
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		return fmt.Errorf("needs sudo (apt-get install sudo; mk/deps.sh test)")
	}
	if _, err := os.Stat("/etc/pam.d/sudo"); err != nil {
		return fmt.Errorf("needs Debian's /etc/pam.d/sudo (the sudo package)")
	}
	var err error
	if moduleSO, err = testenv.BuildModule(out); err != nil {
		return err
	}
	agentBin, err = testenv.BuildAgent(out)
	return err
}

// fixture is one test account whose sudo runs the PAM service pamFile.
type fixture struct {
	user, password, service, pamFile string
	uid, gid                         int
	agent                            *testenv.Agent
}

func newFixture(t *testing.T) *fixture {
	testenv.Need(t, prereq)
	f := &fixture{user: fmt.Sprintf("jcsudo%d", os.Getpid()%100000), password: "Pw-" + strconv.Itoa(os.Getpid()),
		service: fmt.Sprintf("sudo-jcmfa-test-%d", os.Getpid())}
	f.pamFile = "/etc/pam.d/" + f.service
	exec.Command("userdel", f.user).Run()
	run(t, nil, "useradd", "--no-create-home", "--shell", "/bin/sh", f.user)
	t.Cleanup(func() { exec.Command("userdel", f.user).Run() })
	run(t, strings.NewReader(f.user+":"+f.password+"\n"), "chpasswd")
	u, err := user.Lookup(f.user)
	if err != nil {
		t.Fatal(err)
	}
	f.uid, _ = strconv.Atoi(u.Uid)
	f.gid, _ = strconv.Atoi(u.Gid)

	stack, err := os.ReadFile("/etc/pam.d/sudo")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.pamFile, stack, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.pamFile) })
	sudoers := "/etc/sudoers.d/jcmfa-test-" + strconv.Itoa(os.Getpid())
	rule := fmt.Sprintf("Defaults:%s pam_service=%s, !lecture\n%s ALL=(ALL) ALL\n", f.user, f.service, f.user)
	if err := os.WriteFile(sudoers, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(sudoers) })
	run(t, nil, "visudo", "-c", "-f", sudoers)

	f.agent = testenv.StartAgent(t, agentBin, work)
	return f
}

func run(t *testing.T, stdin *strings.Reader, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sudo runs `sudo -S -k id -u` as the test account with answers on stdin,
// and returns whether sudo ran the command and what it said on stderr.
func (f *fixture) sudo(t *testing.T, answers ...string) (ok bool, stderr string) {
	t.Helper()
	// No -p: sudo(8) says a -p prompt overrides every PAM prompt, the
	// code's too.
	cmd := exec.Command("/usr/bin/sudo", "-S", "-k", "id", "-u")
	cmd.Stdin = strings.NewReader(strings.Join(answers, "\n") + "\n")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(f.uid), Gid: uint32(f.gid)}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return err == nil && strings.TrimSpace(out.String()) == "0", errb.String()
}

func (f *fixture) setup(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	argv := append([]string{"setup", "sudo", "--pam-file", f.pamFile, "--module", moduleSO,
		"--module-args", "socket=" + f.agent.Sock, "--as", f.user}, args...)
	cmd := exec.Command(agentBin, argv...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const codePrompt = "Verification code"

func TestSudoAsksForTheCodeAfterSetupAndNotAfterUndo(t *testing.T) {
	f := newFixture(t)
	sec := testenv.Enroll(t, agentBin, f.agent.Sock, f.user)
	f.agent.Admin(t, "user", "require", f.user, "--surfaces", "sudo")

	if ok, stderr := f.sudo(t, f.password); !ok || strings.Contains(stderr, codePrompt) {
		t.Fatalf("before setup sudo: ok=%v, stderr:\n%s", ok, stderr)
	}

	// The new stack is proved by a real authentication: here the account
	// is not required yet on that surface, so its password alone passes
	// and the module is consulted (skip), leaving the code unused.
	f.agent.Admin(t, "user", "require", f.user, "--surfaces", "ssh")
	out, err := f.setup(t, f.password+"\n")
	if err != nil {
		t.Fatalf("setup sudo: %v\n%s", err, out)
	}
	if stack, _ := os.ReadFile(f.pamFile); !strings.Contains(string(stack), "pam_jcmfa.so surface=sudo") {
		t.Fatalf("setup sudo did not add the line:\n%s\n%s", stack, out)
	}
	if ok, stderr := f.sudo(t, f.password); !ok || strings.Contains(stderr, codePrompt) {
		t.Fatalf("required on ssh only, sudo asked or failed: ok=%v, stderr:\n%s", ok, stderr)
	}

	f.agent.Admin(t, "user", "require", f.user, "--surfaces", "sudo")
	if ok, stderr := f.sudo(t, f.password, testenv.WrongCode(t, sec)); ok || !strings.Contains(stderr, codePrompt) {
		t.Fatalf("a wrong code: ok=%v, stderr:\n%s", ok, stderr)
	}
	if ok, stderr := f.sudo(t, f.password, testenv.Code(t, sec)); !ok || !strings.Contains(stderr, codePrompt) {
		t.Fatalf("the right code: ok=%v, stderr:\n%s", ok, stderr)
	}
	audit := f.agent.Admin(t, "audit", "-n", "3")
	if !strings.Contains(audit, "sudo") {
		t.Fatalf("audit does not show the sudo surface:\n%s", audit)
	}

	if out, err := f.setup(t, "", "--undo"); err != nil {
		t.Fatalf("setup sudo --undo: %v\n%s", err, out)
	}
	if stack, _ := os.ReadFile(f.pamFile); strings.Contains(string(stack), "jcmfa") {
		t.Fatalf("--undo left:\n%s", stack)
	}
	if ok, stderr := f.sudo(t, f.password); !ok || strings.Contains(stderr, codePrompt) {
		t.Fatalf("after --undo: ok=%v, stderr:\n%s", ok, stderr)
	}
}

// TestSetupSudoRollsBackAStackThatRefuses: a module PAM cannot load makes
// the proving authentication fail, and the file is put back byte for byte.
func TestSetupSudoRollsBackAStackThatRefuses(t *testing.T) {
	f := newFixture(t)
	before, _ := os.ReadFile(f.pamFile)
	cmd := exec.Command(agentBin, "setup", "sudo", "--pam-file", f.pamFile, "--module", "/nonexistent/pam_jcmfa.so", "--as", f.user)
	cmd.Stdin = strings.NewReader(f.password + "\n")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "every file was restored") {
		t.Fatalf("setup sudo with a missing module: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(f.pamFile); !bytes.Equal(before, after) {
		t.Fatalf("not restored:\n%s", after)
	}
	if ok, stderr := f.sudo(t, f.password); !ok {
		t.Fatalf("sudo after the rollback: %s", stderr)
	}
}

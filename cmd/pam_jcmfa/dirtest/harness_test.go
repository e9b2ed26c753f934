//go:build linux

package dirtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/testenv"
)

var (
	work     string // short scratch directory, reachable by the nslcd user
	agentBin string
	moduleSO string
	pamDrive string // a plain libpam application: pam_drive CONFDIR SERVICE USER [ANSWER...]
	pamDebug string // pam_debug.so, which turns pam_jcmfa's PAM_IGNORE into PAM_TRY_AGAIN
	prereq   error  // why the tests cannot run here
)

func TestMain(m *testing.M) {
	testenv.Main(m, "jcmfa-dir", func(dir string) {
		os.Chmod(dir, 0o755) // nslcd drops to its own user before it dials slapd's socket under here
		work, prereq = dir, build(dir)
	})
}

func build(out string) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (to run nslcd and mount over /etc/nsswitch.conf in a private mount namespace)")
	}
	for _, tool := range []string{"slapd", "slapadd", "nslcd", "unshare", "nsenter", "getent"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (Debian: apt-get install slapd nslcd libnss-ldapd util-linux; see .ci/run for the preseeding that keeps nsswitch.conf unchanged)", tool)
		}
	}
	for _, f := range []string{"/etc/nslcd.conf", "/etc/nsswitch.conf", "/etc/ldap/schema/nis.schema"} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%v (Debian: apt-get install slapd nslcd libnss-ldapd)", err)
		}
	}
	if _, err := exec.Command("sh", "-c", "ls /lib/*/libnss_ldap.so.2 /usr/lib/*/libnss_ldap.so.2").Output(); err != nil {
		return errors.New("libnss_ldap.so.2 not found (Debian: apt-get install libnss-ldapd)")
	}
	var err error
	if pamDebug, err = testenv.PAMModule("pam_debug.so"); err != nil {
		return err
	}
	if moduleSO, err = testenv.BuildModule(out); err != nil {
		return err
	}
	if err = testenv.Make("cmd/pam_jcmfa", "pam-drive", out, "needs build-essential and libpam0g-dev"); err != nil {
		return err
	}
	pamDrive = filepath.Join(out, "pam_drive")
	agentBin, err = testenv.BuildAgent(out)
	return err
}

// ---- the directory ------------------------------------------------------------

const suffix = "dc=jcmfa,dc=test"

// directoryLDIF is the whole directory: alice and bob, each in their own
// primary group, and mfa-staff with bob as its only member. The uids are far
// from any local account's, so a match can only have come from LDAP.
const directoryLDIF = `dn: dc=jcmfa,dc=test
objectClass: dcObject
objectClass: organization
dc: jcmfa
o: jcmfa directory test

dn: ou=people,dc=jcmfa,dc=test
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=jcmfa,dc=test
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=jcmfa,dc=test
objectClass: account
objectClass: posixAccount
uid: alice
cn: Alice
uidNumber: 70001
gidNumber: 70001
homeDirectory: /nonexistent
loginShell: /usr/sbin/nologin

dn: uid=bob,ou=people,dc=jcmfa,dc=test
objectClass: account
objectClass: posixAccount
uid: bob
cn: Bob
uidNumber: 70002
gidNumber: 70002
homeDirectory: /nonexistent
loginShell: /usr/sbin/nologin

dn: cn=alice,ou=groups,dc=jcmfa,dc=test
objectClass: posixGroup
cn: alice
gidNumber: 70001

dn: cn=bob,ou=groups,dc=jcmfa,dc=test
objectClass: posixGroup
cn: bob
gidNumber: 70002

dn: cn=mfa-staff,ou=groups,dc=jcmfa,dc=test
objectClass: posixGroup
cn: mfa-staff
gidNumber: 70100
memberUid: bob
`

// slapdConf is a slapd.conf for one mdb database under dir, readable by
// anyone (slapd's default access), as a directory's posix data usually is.
func slapdConf(dir string) string {
	return fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
database mdb
maxsize 16777216
suffix "%[2]s"
rootdn "cn=admin,%[2]s"
directory %[1]s/db
index objectClass eq
index uid eq
index memberUid eq
`, dir, suffix)
}

// startSlapd loads directoryLDIF into a new database under dir and serves it
// on an ldapi socket there; it returns the socket's URI. slapd is the test's
// child and is stopped (SIGTERM, then SIGKILL after 5 s) when the test ends.
func startSlapd(t *testing.T, dir string) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil { // nslcd's user must reach the socket here
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf, ldif := filepath.Join(dir, "slapd.conf"), filepath.Join(dir, "directory.ldif")
	writeFile(t, conf, slapdConf(dir), 0o644)
	writeFile(t, ldif, directoryLDIF, 0o644)
	if b, err := exec.Command("slapadd", "-q", "-f", conf, "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, b)
	}
	sock := filepath.Join(dir, "ldapi")
	uri := "ldapi://" + url.QueryEscape(sock)
	var log testenv.SyncBuffer
	cmd := exec.Command("slapd", "-d", "0", "-f", conf, "-h", uri)
	cmd.Stdout, cmd.Stderr = &log, &log
	stop := testenv.StartChild(t, "slapd", cmd, &log)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return uri
		}
		select {
		case <-stop:
			t.Fatalf("slapd exited before listening:\n%s", log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not listen on %s within 10s:\n%s", sock, log.String())
		}
	}
}

// ---- the namespace: NSS through nslcd, and the daemon --------------------------

// nsswitch is the namespace's /etc/nsswitch.conf: local files first, as on
// a real directory client, then LDAP through nslcd.
const nsswitch = "passwd: files ldap\ngroup: files ldap\nshadow: files\nhosts: files\n"

// nslcdConf is the namespace's /etc/nslcd.conf. `ignorecase yes` is the
// point of the test: nslcd then answers a lookup of ALICE with alice's
// entry, as AD-backed and other case-insensitive directories do.
func nslcdConf(uri string) string {
	return fmt.Sprintf("uid nslcd\ngid nslcd\nuri %s\nbase %s\nignorecase yes\n", uri, suffix)
}

// enterScript runs as `unshare --mount --propagation private sh enterScript
// DIR`: the mounts it makes are seen by it and the processes that later join
// its namespace only. It then becomes nslcd, in the foreground (-d: debug
// log on stderr), so that nslcd is the test's own child and holds the
// namespace open for the daemon to join.
const enterScript = `set -eu
mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$1/nslcd.conf" /etc/nslcd.conf
mount -t tmpfs -o mode=0755 jcmfa-dirtest /run
mkdir -m 0755 /run/nslcd
chown nslcd:nslcd /run/nslcd
exec nslcd -d </dev/null
`

// env is one directory, one namespace and the daemon living in it.
type env struct {
	*testenv.Agent
	ns int // a process in the namespace: nslcd
}

// start runs slapd, then nslcd in a new private mount namespace that reads
// accounts from that slapd, then `jcmfa-agent run` in that namespace, and
// stops all three when the test ends. Once they are stopped it also checks
// that the machine's own NSS configuration is as it was.
func start(t *testing.T) *env {
	t.Helper()
	testenv.Need(t, prereq)
	hostNSSUnchanged(t)
	dir, err := os.MkdirTemp(work, "t")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	uri := startSlapd(t, filepath.Join(dir, "slapd"))
	writeFile(t, filepath.Join(dir, "nsswitch.conf"), nsswitch, 0o644)
	writeFile(t, filepath.Join(dir, "nslcd.conf"), nslcdConf(uri), 0o640)
	writeFile(t, filepath.Join(dir, "enter.sh"), enterScript, 0o644)

	var log testenv.SyncBuffer
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", filepath.Join(dir, "enter.sh"), dir)
	cmd.Stdout, cmd.Stderr = &log, &log
	exited := testenv.StartChild(t, "nslcd", cmd, &log)
	ns := cmd.Process.Pid // unshare and sh exec, so this is nslcd's pid
	// The namespace's /run is the process's view of it, under /proc/PID/root.
	nslcdSock := filepath.Join("/proc", fmt.Sprint(ns), "root/run/nslcd/socket")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if fi, err := os.Stat(nslcdSock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		select {
		case <-exited:
			t.Fatalf("nslcd (or the namespace set-up before it) exited:\n%s", log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nslcd did not create /run/nslcd/socket in its namespace within 10s:\n%s", log.String())
		}
	}
	// nsenter joins the namespace and execs the daemon: its pid is the daemon's.
	a := testenv.StartAgentIn(t, agentBin, dir, "nsenter", "--target", fmt.Sprint(ns), "--mount", "--")
	return &env{Agent: a, ns: ns}
}

// hostNSSUnchanged snapshots the machine's /etc/nsswitch.conf, /etc/nslcd.conf
// and /run/nslcd now, and fails the test if any differs once everything the
// test started is stopped: the namespace must have kept every change to itself.
func hostNSSUnchanged(t *testing.T) {
	t.Helper()
	snap := func() string {
		var b strings.Builder
		for _, f := range []string{"/etc/nsswitch.conf", "/etc/nslcd.conf"} {
			data, err := os.ReadFile(f)
			fmt.Fprintf(&b, "== %s (%v)\n%s\n", f, err, data)
		}
		ents, err := os.ReadDir("/run/nslcd")
		fmt.Fprintf(&b, "== /run/nslcd (%v)\n", err)
		for _, e := range ents {
			fmt.Fprintln(&b, e.Name())
		}
		return b.String()
	}
	before := snap()
	t.Cleanup(func() {
		if after := snap(); after != before {
			t.Errorf("the machine's NSS configuration changed during the test:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

// inside runs a command in the daemon's mount namespace, where NSS reads the
// directory; it returns the output and exit status.
func (e *env) inside(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{"--target", fmt.Sprint(e.ns), "--mount", "--"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("nsenter %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), 0
}

// ---- logins ----------------------------------------------------------------------

// PAM return codes pam_drive exits with.
const (
	pamSuccess  = 0
	pamAuthErr  = 7
	pamTryAgain = 24 // pam_jcmfa said PAM_IGNORE (see writeStack)
)

// writeStack writes a private PAM config dir with one service, "sshd":
//
//	auth [success=done ignore=ignore default=die] pam_jcmfa.so socket=SOCK
//	auth requisite pam_debug.so auth=try_again
//
// so that pam_drive's exit status tells allow, deny and skip apart.
func (e *env) writeStack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("auth [success=done ignore=ignore default=die] %s socket=%s timeout=5\nauth requisite %s auth=try_again\n",
		moduleSO, e.Sock, pamDebug)
	writeFile(t, filepath.Join(dir, "sshd"), conf, 0o644)
	return dir
}

// pamLogin runs one pam_authenticate for user through the real libpam and
// module inside the namespace (where the name resolves as on a directory
// client), answering the prompts in order. It returns pam_drive's output
// ("prompt: ...", "error: ...", "result: ...") and the PAM return code.
func (e *env) pamLogin(t *testing.T, confDir, user string, answers ...string) (string, int) {
	t.Helper()
	return e.inside(t, append([]string{pamDrive, confDir, "sshd", user}, answers...)...)
}

// cliLogin runs `jcmfa-agent login USER --code CODE` and returns the verdict
// line it ends with ("skip not-required", "deny wrong-code", ...).
func (e *env) cliLogin(t *testing.T, user, code string) string {
	t.Helper()
	b, _ := exec.Command(e.Bin, "--socket", e.Sock, "login", user, "--code", code).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// ---- what the daemon says ----------------------------------------------------------

// userStatus is `user status USER` as a row.
func (e *env) userStatus(t *testing.T, user string) engine.UserRow {
	t.Helper()
	rows, err := ipc.Client{Path: e.Sock, Timeout: 10 * time.Second}.Command("user.status", map[string]string{"user": user}, nil)
	if err != nil || len(rows) != 1 {
		t.Fatalf("user status %s: %v (%d rows)", user, err, len(rows))
	}
	var r engine.UserRow
	if err := json.Unmarshal(rows[0], &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// policyID is the id of the policy called name (`policy list --json`).
func (e *env) policyID(t *testing.T, name string) string {
	t.Helper()
	var ps []store.Policy
	out := e.Admin(t, "policy", "list", "--json")
	testenv.DecodeJSON(t, out, &ps)
	for _, p := range ps {
		if p.Name == name {
			return p.ID
		}
	}
	t.Fatalf("no policy %s in:\n%s", name, out)
	return ""
}

// users is `users --json`.
func (e *env) users(t *testing.T) []engine.UserRow {
	t.Helper()
	var rows []engine.UserRow
	testenv.DecodeJSON(t, e.Admin(t, "users", "--json"), &rows)
	return rows
}

// auditEvent is the part of `jcmfa-agent audit --json` these tests read.
type auditEvent struct {
	Kind    string `json:"kind"`
	User    string `json:"user"`
	Typed   string `json:"typed"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
}

// lastLogin is the newest login event in the audit log.
func (e *env) lastLogin(t *testing.T) auditEvent {
	t.Helper()
	var evs []auditEvent
	out := e.Admin(t, "audit", "--json")
	testenv.DecodeJSON(t, out, &evs)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == "login" {
			return evs[i]
		}
	}
	t.Fatalf("no login event in the audit log:\n%s", out)
	return auditEvent{}
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

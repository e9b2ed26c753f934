//go:build !windows

// These tests use Unix sockets and POSIX credentials; the Windows named
// pipe is exercised under wine by credprovider/test (make test-wine).

package ipc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/testenv"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// startDaemon runs a real daemon (store, engine, socket) in temp dirs.
func startDaemon(t testing.TB) ipc.Client {
	t.Helper()
	sock := testenv.RunDaemon(t, filepath.Join(t.TempDir(), "state"))
	return ipc.Client{Path: sock, Timeout: 10 * time.Second}
}

func cmd(t testing.TB, c ipc.Client, name string, kv ...string) []json.RawMessage {
	t.Helper()
	f := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	rows, err := c.Command(name, f, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

// enrolled switches MFA on and enrolls user, returning the secret.
func enrolled(t testing.TB, c ipc.Client, user string) string {
	cmd(t, c, "org.totp", "enable", "1")
	cmd(t, c, "device.mfa", "enable", "1")
	cmd(t, c, "user.require", "user", user)
	rows := cmd(t, c, "user.enroll", "user", user)
	var r struct{ Secret string }
	json.Unmarshal(rows[0], &r)
	if r.Secret == "" {
		t.Fatalf("no secret in %s", rows[0])
	}
	return r.Secret
}

type answer struct{ code string }

func (a answer) Info(string) error                { return nil }
func (a answer) Error(string) error               { return nil }
func (a answer) Ask(bool, string) (string, error) { return a.code, nil }

func login(t testing.TB, c ipc.Client, user, code string) engine.Verdict {
	t.Helper()
	v, err := c.Login(engine.LoginRequest{User: user, Surface: "ssh", Interactive: false}, answer{code})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return v
}

// wrongCode is a code that is not valid for secret around now.
func wrongCode(secret string) string {
	valid := map[string]bool{}
	now := time.Now()
	for d := -2; d <= 2; d++ {
		c, _ := totp.Code(secret, now.Add(time.Duration(d)*30*time.Second), totp.Default)
		valid[c] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", i)
		if !valid[c] {
			return c
		}
	}
}

func TestRightWrongReplayedOverSocket(t *testing.T) {
	c := startDaemon(t)
	sec := enrolled(t, c, "alice")
	code, _ := totp.Code(sec, time.Now(), totp.Default)
	if v := login(t, c, "alice", code); v.Word != "allow" {
		t.Fatalf("right code: %+v", v)
	}
	if v := login(t, c, "alice", code); v.Word != "deny" || v.Reason != "replayed-code" {
		t.Fatalf("replayed code: %+v", v)
	}
	if v := login(t, c, "alice", wrongCode(sec)); v.Word != "deny" || v.Reason != "wrong-code" {
		t.Fatalf("wrong code: %+v", v)
	}
	if v := login(t, c, testenv.OSAccount, ""); v.Word != "skip" || v.Reason != "not-required" {
		t.Fatalf("not required: %+v", v)
	}
	if v := login(t, c, "nobody-here", ""); v.Word != "deny" || v.Reason != "unknown-account" {
		t.Fatalf("a name the OS does not know: %+v", v)
	}
}

func TestParallelWrongCodesLockAfterExactlyTheLimit(t *testing.T) {
	c := startDaemon(t)
	sec := enrolled(t, c, "alice")
	const limit, clients = 5, 200
	cmd(t, c, "settings.set", "attempts", fmt.Sprint(limit), "lockout", "1h")
	wrong := wrongCode(sec)
	var mu sync.Mutex
	reasons := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Login(engine.LoginRequest{User: "alice", Surface: "ssh"}, answer{wrong})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				reasons["error: "+err.Error()]++
				return
			}
			reasons[v.Word+" "+v.Reason]++
		}()
	}
	wg.Wait()
	if reasons["deny wrong-code"] != limit || reasons["deny locked-out"] != clients-limit || len(reasons) != 2 {
		t.Fatalf("verdicts %v; want %d wrong-code and %d locked-out", reasons, limit, clients-limit)
	}
	var row engine.UserRow
	json.Unmarshal(cmd(t, c, "user.status", "user", "alice")[0], &row)
	if row.Failures != limit || !row.Locked {
		t.Fatalf("status %+v", row)
	}
	// The right code does not get through a lockout.
	code, _ := totp.Code(sec, time.Now(), totp.Default)
	if v := login(t, c, "alice", code); v.Reason != "locked-out" {
		t.Fatalf("right code while locked: %+v", v)
	}
}

// raw sends lines as bytes and returns everything the daemon says.
func raw(t *testing.T, c ipc.Client, payload string) string {
	t.Helper()
	conn, err := net.Dial("unix", c.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, payload); err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(conn)
	return string(out)
}

func TestMalformedLinesGetAnErrorAndADeny(t *testing.T) {
	c := startDaemon(t)
	sec := enrolled(t, c, "alice")
	hello := "HELLO 1 test\n"
	cases := map[string]string{
		"overlong line":          hello + "LOGIN user=" + strings.Repeat("a", 5000) + "\n",
		"bad escape":             hello + "LOGIN user=%zz\n",
		"not UTF-8":              hello + "LOGIN user=%ff%fe\n",
		"unknown verb":           hello + "FROB user=alice\n",
		"NUL byte":               hello + "LOGIN user=al\x00ice\n",
		"encoded NUL in user":    hello + "LOGIN user=al%00ice\n",
		"CR":                     hello + "LOGIN user=alice\r\n",
		"no HELLO":               "LOGIN user=alice\n",
		"wrong version":          "HELLO 99 test\n",
		"answer not a code":      hello + "LOGIN user=alice\nANSWER text=%0A%0Adrop%20table\n",
		"verb instead of answer": hello + "LOGIN user=alice\nLOGIN user=bob\n",
		"doubled space":          hello + "LOGIN  user=alice\n",
		// The client word becomes the audit's actor: a token, not text.
		"client word with LF":  "HELLO 1 pam%0Aforged\nLOGIN user=alice\n",
		"client word with ESC": "HELLO 1 pam%1B[2J\nLOGIN user=alice\n",
		"client word too long": "HELLO 1 " + strings.Repeat("a", 33) + "\nLOGIN user=alice\n",
		"client word upper":    "HELLO 1 PAM\nLOGIN user=alice\n",
		"client word space":    "HELLO 1 pam%20x\nLOGIN user=alice\n",
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			out := raw(t, c, payload)
			if !strings.Contains(out, "VERDICT deny") {
				t.Fatalf("daemon said %q", out)
			}
			if name != "answer not a code" && !strings.Contains(out, "ERROR text=") {
				t.Fatalf("no ERROR line in %q", out)
			}
		})
	}
	// None of that counted against alice, except the one real (bad) answer,
	// and the daemon still serves.
	var row engine.UserRow
	json.Unmarshal(cmd(t, c, "user.status", "user", "alice")[0], &row)
	if row.Failures != 1 {
		t.Fatalf("failures %d, want 1 (only the non-code ANSWER)", row.Failures)
	}
	code, _ := totp.Code(sec, time.Now(), totp.Default)
	if v := login(t, c, "alice", code); v.Word != "allow" {
		t.Fatalf("after malformed input: %+v", v)
	}
}

func TestSilentClientIsDisconnected(t *testing.T) {
	c := startDaemon(t)
	// The default request timeout is 10s; a client that says nothing must
	// not hold a slot for ever. Check the daemon closes it in time.
	conn, err := net.Dial("unix", c.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	buf := make([]byte, 10)
	_, err = conn.Read(buf)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v after %v; want the daemon to close the connection", err, time.Since(start))
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestDaemonAbsent(t *testing.T) {
	c := ipc.Client{Path: filepath.Join(t.TempDir(), "none.sock"), Timeout: time.Second}
	_, err := c.Login(engine.LoginRequest{User: "alice"}, answer{"123456"})
	if !errors.Is(err, ipc.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

// The unprivileged half of TestNonRootPeer, run as uid 65534 by the parent.
func init() {
	sock := os.Getenv("JCMFA_PEER_TEST_SOCKET")
	if sock == "" {
		return
	}
	c := ipc.Client{Path: sock, Timeout: 5 * time.Second}
	report := func(what string, err error) {
		if err != nil {
			fmt.Printf("%s: %v\n", what, err)
		} else {
			fmt.Printf("%s: ok\n", what)
		}
	}
	_, err := c.Command("users.list", nil, nil)
	report("admin command", err)
	v, err := c.Login(engine.LoginRequest{User: "alice"}, answer{"123456"})
	report("login other "+v.Word+" "+v.Reason, err)
	_, err = c.Command("STATUS", map[string]string{"user": "alice"}, nil)
	report("status other", err)
	_, err = c.Command("STATUS", nil, nil)
	report("status self", err)
	v, err = c.Enroll("alice", answer{"123456"})
	report("enroll other "+v.Word+" "+v.Reason, err)
	v, err = c.Recovery("alice", 0, answer{"123456"})
	report("recovery other "+v.Word+" "+v.Reason, err)
	v, err = c.Recovery("", 0, answer{"123456"})
	report("recovery self "+v.Word+" "+v.Reason, err)
	os.Exit(0)
}

func TestNonRootPeerCannotAdministerOrLogInOthers(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test needs root (to run a peer as uid 65534); CI runs as root")
		}
		t.Skip("needs root to run a peer as another uid (CI runs it as root)")
	}
	c := startDaemon(t)
	enrolled(t, c, "alice")
	// Copy the test binary where uid 65534 can execute it.
	dir, _ := os.MkdirTemp("", "jcmfa-peer")
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "peer.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, data, 0o755)
	p := exec.Command(bin, "-test.run=^$")
	p.Env = []string{"JCMFA_PEER_TEST_SOCKET=" + c.Path}
	p.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := p.CombinedOutput()
	if err != nil {
		t.Fatalf("peer: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"admin command: admin commands need root",
		"login other deny forbidden: ok",
		"status other: you (nobody) may only ask about your own account",
		"status self: ok",
		"enroll other deny forbidden: ok",
		"recovery other deny forbidden: ok",
		// nobody may ask for its own codes, and has no TOTP secret.
		"recovery self deny not-enrolled: ok",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in peer output:\n%s", want, got)
		}
	}
}

func TestConnectionsAreBounded(t *testing.T) {
	// A server with two privileged slots: two idle root clients hold them,
	// a third is accepted but waits for a slot, and is served as soon as
	// one leaves.
	sockDir, _ := os.MkdirTemp("", "jcmfa")
	defer os.RemoveAll(sockDir)
	l, err := ipc.Listen(filepath.Join(sockDir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	srv := ipc.NewServer(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), os.Geteuid())
	srv.MaxConns = 2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, l)
	var held []net.Conn
	for i := 0; i < 2; i++ {
		cn, err := net.Dial("unix", filepath.Join(sockDir, "s"))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, cn)
	}
	third, err := net.Dial("unix", filepath.Join(sockDir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.Write([]byte("HELLO 1 t\n"))
	r := bufio.NewReader(third)
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("a third connection was served beyond MaxConns=2")
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || line != "HELLO 1\n" {
		t.Fatalf("third connection after a slot freed: %q %v", line, err)
	}
	held[1].Close()
}

// FuzzServerLine sends arbitrary bytes as the request after a valid HELLO:
// the daemon must answer with a verdict or a command result, or close, and
// keep serving.
func FuzzServerLine(f *testing.F) {
	for _, s := range []string{"LOGIN user=alice\n", "CMD users.list\n", "STATUS\n", "ENROLL\n", "LOGIN user=%ff\n", "\n", "CMD\n", "LOGIN user=alice surface=unlock interactive=0\n"} {
		f.Add(s)
	}
	c := startDaemon(f)
	f.Fuzz(func(t *testing.T, payload string) {
		conn, err := net.Dial("unix", c.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(conn, "HELLO 1 fuzz\n"+payload)
		if uc, ok := conn.(*net.UnixConn); ok {
			uc.CloseWrite()
		}
		io.ReadAll(conn)
		if _, err := c.Command("settings.get", nil, nil); err != nil {
			t.Fatalf("daemon stopped serving after %q: %v", payload, err)
		}
	})
}

// The uac surface (a Windows elevation prompt) is exempt until settings.set
// uac=1, exactly as unlock is until unlock=1, and one does not switch the
// other (docs/windows.md, "Where jcmfa asks").
func TestUACSurfaceIsItsOwnSetting(t *testing.T) {
	c := startDaemon(t)
	sec := enrolled(t, c, "alice")
	on := func(surface string) engine.Verdict {
		t.Helper()
		v, err := c.Login(engine.LoginRequest{User: "alice", Surface: surface}, answer{wrongCode(sec)})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := on("uac"); v.Word != "skip" || v.Reason != "surface-exempt" {
		t.Fatalf("uac by default: %+v", v)
	}
	cmd(t, c, "settings.set", "unlock", "1")
	if v := on("uac"); v.Word != "skip" || v.Reason != "surface-exempt" {
		t.Fatalf("uac with only unlock=1: %+v", v)
	}
	cmd(t, c, "settings.set", "uac", "1", "unlock", "0")
	if v := on("uac"); v.Word != "deny" || v.Reason != "wrong-code" {
		t.Fatalf("uac=1 must ask for the code: %+v", v)
	}
	if v := on("unlock"); v.Word != "skip" || v.Reason != "surface-exempt" {
		t.Fatalf("unlock with only uac=1: %+v", v)
	}
	var s store.Settings
	json.Unmarshal(cmd(t, c, "settings.get")[0], &s)
	if !s.UACRequiresCode || s.UnlockRequiresCode {
		t.Fatalf("settings.get: %+v", s)
	}
}

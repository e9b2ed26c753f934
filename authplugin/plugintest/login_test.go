package plugintest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

func TestRightCodeIsAllowed(t *testing.T) {
	sock := startDaemon(t)
	secret := enroll(t, sock, "alice")
	r := invoke(t, at(sock, "alice", "--answer", code(t, secret))...)
	wantResult(t, r, "allow")
	wantPrompts(t, r, 1)
	if r.get("echo") != "0" {
		t.Errorf("the code prompt echoes input:\n%s", r)
	}
	if v, reason, surface := lastLogin(t, sock, "alice"); v != "allow" || reason != "totp" || surface != "gui" {
		t.Errorf("audited as %s/%s on %q, want allow/totp on gui", v, reason, surface)
	}
}

func TestWrongCodeIsDeniedAndSaysWhy(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	r := invoke(t, at(sock, "alice", "--answer", "000000")...)
	wantResult(t, r, "deny")
	wantPrompts(t, r, 1)
	if v, reason, _ := lastLogin(t, sock, "alice"); v != "deny" || reason != "wrong-code" {
		t.Errorf("audited as %s/%s, want deny/wrong-code", v, reason)
	}
}

func TestReplayedCodeIsDenied(t *testing.T) {
	sock := startDaemon(t)
	secret := enroll(t, sock, "alice")
	c := code(t, secret)
	wantResult(t, invoke(t, at(sock, "alice", "--answer", c)...), "allow")
	r := invoke(t, at(sock, "alice", "--answer", c)...)
	wantResult(t, r, "deny")
	if v, reason, _ := lastLogin(t, sock, "alice"); v != "deny" || reason != "replayed-code" {
		t.Errorf("audited as %s/%s, want deny/replayed-code", v, reason)
	}
	// The daemon's ERROR text reaches the person: nothing else tells them
	// to wait for the next code.
	if r.get("notice") == "" {
		t.Errorf("no message shown after the replayed code:\n%s", r)
	}
}

func TestNotRequiredUserIsAllowedWithoutPrompt(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	r := invoke(t, at(sock, testenv.OSAccount)...)
	wantResult(t, r, "allow")
	wantPrompts(t, r, 0)
	if v, reason, _ := lastLogin(t, sock, testenv.OSAccount); v != "skip" || reason != "not-required" {
		t.Errorf("audited as %s/%s, want skip/not-required", v, reason)
	}
}

func TestCancelledPromptIsUserCanceled(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	wantResult(t, invoke(t, at(sock, "alice", "--cancel")...), "canceled")
}

func TestNoUIDeniesEnrolledUser(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	wantResult(t, invoke(t, at(sock, "alice", "--no-ui")...), "deny")
}

// The uid from builtin:authenticate names the account, whatever was typed:
// a typed full name must not turn into a "not-required" stranger.
func TestAccountComesFromUIDNotTypedName(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	r := invoke(t, append(at(sock, "alice"), "--username", "Alice Smith")...)
	wantResult(t, r, "canceled") // prompted for alice's code, no answer scripted
	wantPrompts(t, r, 1)
}

func TestTypedNameIsUsedWhenThereIsNoUID(t *testing.T) {
	sock := startDaemon(t)
	secret := enroll(t, sock, "alice")
	r := invoke(t, "--username", "alice", "--set", "socket="+sock, "--answer", code(t, secret))
	wantResult(t, r, "allow")
	wantPrompts(t, r, 1)
}

func TestUnknownUIDIsDenied(t *testing.T) {
	sock := startDaemon(t)
	r := invoke(t, "--uid", "777", "--username", "alice", "--set", "socket="+sock)
	wantResult(t, r, "deny")
	wantPrompts(t, r, 0)
}

func TestNoAccountInContextIsDenied(t *testing.T) {
	sock := startDaemon(t)
	r := invoke(t, "--set", "socket="+sock)
	wantResult(t, r, "deny")
	if !strings.Contains(r.log, "after builtin:authenticate") {
		t.Errorf("log does not point at the mechanism's placement:\n%s", r.log)
	}
}

// Login window only: placed in another right by mistake, the mechanism
// neither asks nor blocks, and the daemon never hears of it.
func TestOtherRightsAreNotAsked(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	for _, right := range []string{"system.login.screensaver", "system.preferences", "authenticate-session-owner"} {
		t.Run(right, func(t *testing.T) {
			args := at(sock, "alice")
			args[5] = right // the --right value
			r := invoke(t, args...)
			wantResult(t, r, "allow")
			wantPrompts(t, r, 0)
		})
	}
	if v, _, _ := lastLogin(t, sock, "alice"); v != "" {
		t.Errorf("daemon saw a login for another right: %s", v)
	}
}

func TestUnknownMechanismIsRefused(t *testing.T) {
	needBuild(t)
	r := invoke(t, "--mechanism", "login")
	if r.get("mechanism_create") == "0" {
		t.Fatalf("jcmfa:login was created:\n%s", r)
	}
}

func TestDaemonAbsentFollowsFailMode(t *testing.T) {
	needBuild(t)
	absent := shortSocket(t) // nothing listens here
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"default is secure", nil, "deny"},
		{"secure", []string{"--set", "failmode=secure"}, "deny"},
		{"safe", []string{"--set", "failmode=safe"}, "allow"},
		{"unknown failmode keeps secure", []string{"--set", "failmode=open"}, "deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := invoke(t, append(at(absent, "alice"), tc.set...)...)
			wantResult(t, r, tc.want)
			wantPrompts(t, r, 0)
		})
	}
}

func TestSilentDaemonTimesOut(t *testing.T) {
	sock := fakeDaemon(t, func(r *bufio.Reader, c net.Conn) {
		io.Copy(io.Discard, r) // reads HELLO, never answers, until the plugin hangs up
	})
	// FailMode safe means "the daemon is not there", never "the daemon is
	// slow": otherwise a connection flood would be a way around the code.
	for _, tc := range []struct{ failmode, want string }{{"secure", "deny"}, {"safe", "deny"}} {
		t.Run(tc.failmode, func(t *testing.T) {
			r := invoke(t, append(at(sock, "alice"), "--set", "timeout=1", "--set", "failmode="+tc.failmode)...)
			wantResult(t, r, tc.want)
			if r.elapsed > 4*time.Second {
				t.Errorf("took %v with a 1 s timeout", r.elapsed)
			}
			if !strings.Contains(r.log, "timed out") && !strings.Contains(r.log, "deadline") {
				t.Logf("log does not mention the timeout (informational):\n%s", r.log)
			}
		})
	}
}

// Once the daemon has asked for a code, a broken channel is not a reason to
// let the login through, whatever the fail mode.
func TestChannelBrokenAfterAskDeniesEvenWhenSafe(t *testing.T) {
	sock := fakeDaemon(t, func(r *bufio.Reader, c net.Conn) {
		r.ReadString('\n')
		c.Write([]byte("HELLO 1\n"))
		r.ReadString('\n')
		c.Write([]byte("ASK echo=off text=Verification%20code%3A%20\n"))
		r.ReadString('\n')
		// closes without a VERDICT
	})
	r := invoke(t, append(at(sock, "alice"), "--set", "failmode=safe", "--answer", "123456")...)
	wantResult(t, r, "deny")
	wantPrompts(t, r, 1)
}

func TestMessagesBeforeAPromptAreShownWithIt(t *testing.T) {
	sock := fakeDaemon(t, func(r *bufio.Reader, c net.Conn) {
		r.ReadString('\n')
		c.Write([]byte("HELLO 1\n"))
		r.ReadString('\n')
		c.Write([]byte("INFO text=Your%20administrator%20requires%20a%20code.\n"))
		c.Write([]byte("ASK echo=off text=Code%3A%20\n"))
		r.ReadString('\n')
		c.Write([]byte("VERDICT allow reason=totp\n"))
	})
	r := invoke(t, append(at(sock, "alice"), "--answer", "123456")...)
	wantResult(t, r, "allow")
	if got := r.get("detail"); got != "Your administrator requires a code." {
		t.Errorf("prompt detail = %q\n%s", got, r)
	}
	if r.get("prompt") != "Code: " {
		t.Errorf("prompt = %q", r.get("prompt"))
	}
}

func TestGarbledDaemonLineIsBroken(t *testing.T) {
	sock := fakeDaemon(t, func(r *bufio.Reader, c net.Conn) {
		r.ReadString('\n')
		c.Write([]byte("HELLO 1\n"))
		r.ReadString('\n')
		c.Write([]byte("VERDICT  allow\n"))
	})
	wantResult(t, invoke(t, append(at(sock, "alice"), "--set", "failmode=secure")...), "deny")
	// A daemon that answers garbage is there: FailMode safe does not apply.
	wantResult(t, invoke(t, append(at(sock, "alice"), "--set", "failmode=safe")...), "deny")
}

func TestBadSettingsKeepDefaults(t *testing.T) {
	needBuild(t)
	absent := shortSocket(t)
	for _, set := range []string{"socket=relative.sock", "timeout=0", "timeout=999", "socket=/" + strings.Repeat("x", 200)} {
		r := invoke(t, append(at(absent, "alice"), "--set", set)...)
		wantResult(t, r, "deny")
		if !strings.Contains(r.log, "using") {
			t.Errorf("%s: no log line saying which value is used instead:\n%s", set, r.log)
		}
	}
}

// The uid context value: builtin:authenticate stores a binary uid_t, but a
// mechanism before ours may store decimal text, which authd accepts
// (Security OSX/authd/authitems.c, auth_items_get_uint: atoi of a string
// item). Both name the account; anything else, or a four-byte value whose
// two readings both name accounts, is denied without asking the daemon.
func TestUIDContextValueEncodings(t *testing.T) {
	sock := startDaemon(t)
	enroll(t, sock, "alice")
	hex := func(s string) string { return fmt.Sprintf("%x", s) }
	// 3223605 is "501\0" read as a little-endian uint32.
	for _, tc := range []struct {
		name, bytes string
		uidmap      []string // default: 501=alice
		want        string   // canceled: alice was asked for her code (none scripted)
	}{
		{"binary uid_t", "f5010000", nil, "canceled"},
		{"text with its NUL", hex("501\x00"), nil, "canceled"},
		{"text as authd stores it (no NUL)", hex("501"), nil, "canceled"},
		{"five-digit text", hex("50100\x00"), []string{"50100=alice"}, "canceled"},
		{"zero is root's uid, as text", hex("0\x00"), []string{"0=alice"}, "canceled"},
		{"four-digit text, 4 bytes, only the text is an account", hex("1000"), []string{"1000=alice"}, "canceled"},
		{"binary reading of text-like bytes is the account", hex("501\x00"), []string{"3223605=alice", "502=bob"}, "canceled"},
		{"both readings are accounts", hex("501\x00"), []string{"3223605=bob", "501=alice"}, "deny"},
		{"neither reading is an account", hex("777\x00"), nil, "deny"},
		{"letters", hex("50x1\x00"), nil, "deny"}, // 4 bytes would be some binary uid
		{"leading space", hex(" 501\x00"), nil, "deny"},
		{"sign", hex("+501\x00"), nil, "deny"},
		{"leading zero", hex("0501\x00"), nil, "deny"},
		{"two NULs", hex("501\x00\x00"), nil, "deny"},
		{"NUL inside", hex("5\x0001\x00"), nil, "deny"},
		{"over 32 bits", hex("4294967296\x00"), nil, "deny"},
		{"eight bytes binary", "f501000000000000", nil, "deny"},
		{"two bytes binary", "f501", nil, "deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--uid-bytes", tc.bytes, "--right", "system.login.console",
				"--set", "socket=" + sock, "--set", "timeout=5"}
			if tc.uidmap == nil {
				tc.uidmap = []string{"501=alice"}
			}
			for _, m := range tc.uidmap {
				args = append(args, "--uidmap", m)
			}
			r := invoke(t, args...)
			wantResult(t, r, tc.want)
			if tc.want == "deny" {
				wantPrompts(t, r, 0)
				if !strings.Contains(r.log, "uid") {
					t.Errorf("denied without saying the context uid is the problem:\n%s", r.log)
				}
			}
		})
	}
}

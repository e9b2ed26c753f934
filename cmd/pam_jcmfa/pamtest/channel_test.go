//go:build linux && cgo

package pamtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/msteinert/pam/v2"
	"github.com/pquerna/otp/totp"

	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/testenv"
)

// The unprivileged halves of the tests below, run as nobody by
// testenv.AsUID; they exit here, before TestMain builds anything.
func init() {
	sock := os.Getenv("SOCK")
	switch os.Getenv(testenv.ChildEnv) {
	case "flood":
		fmt.Println("started")
		fmt.Println(testenv.Flood(sock, floodConns, floodFor))
	case "forge":
		forge(sock)
	default:
		return
	}
	os.Exit(0)
}

const (
	floodConns = 3000
	floodFor   = 6 * time.Second
)

// shareSocketDir lets the peers that run as nobody reach the sockets
// under socketDir (it holds nothing secret: the built module and agent).
func shareSocketDir(t *testing.T) {
	t.Helper()
	needBuild(t)
	if err := os.Chmod(socketDir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// An unprivileged user keeps 3,000 connections to the socket open for 6 s,
// refilled as the daemon closes them (issue 13: ~6,000 of them starved
// every login). Meanwhile logins through the real PAM module with
// failmode=safe each get their verdict well under a second, none passes
// without the right code, the admin CLI answers, and the daemon's log
// holds one refusal warning, not thousands.
func TestFloodFromAnUnprivilegedUserDoesNotStarveLogins(t *testing.T) {
	shareSocketDir(t)
	d := startDaemon(t)
	secret := enroll(t, d.Sock, "root")
	d.Admin(t, "settings", "--attempts", "100")
	conf := writeStack(t, "socket="+d.Sock, "timeout=5", "failmode=safe")

	flood := testenv.AsUID(t, testenv.Nobody, "flood", "SOCK="+d.Sock)
	out, err := flood.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	defer flood.Process.Kill() // bounded by itself; this is for a failed test
	fr := bufio.NewReader(out)
	testenv.ReadUntil(t, fr, "started", 10*time.Second)
	time.Sleep(500 * time.Millisecond) // let it reach its full size
	floodEnd := time.Now().Add(floodFor - time.Second)

	right := code(t, secret)
	wrong := string('0'+(right[0]-'0'+5)%10) + right[1:] // never valid in the skew window
	var lat []time.Duration
	// Spread over the flood, fewer than the 100 attempts before lockout.
	for i := 0; i < 50 && time.Now().Before(floodEnd); i++ {
		l := authenticate(t, conf, "root", answers(wrong))
		wantResult(t, l, pam.ErrAuth)
		lat = append(lat, l.elapsed)
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	users := d.Admin(t, "users")
	cliTook := time.Since(start)
	if !strings.Contains(users, "root") {
		t.Errorf("`jcmfa-agent users` during the flood:\n%s", users)
	}
	l := authenticate(t, conf, "root", answers(right))
	wantResult(t, l, nil)
	lat = append(lat, l.elapsed)

	stats, _ := testenv.ReadUntil(t, fr, "flood", 15*time.Second)
	flood.Wait()
	slices.Sort(lat)
	t.Logf("during the flood (%s): %d PAM logins, verdict in median %v, max %v; `jcmfa-agent users` took %v",
		stats, len(lat), lat[len(lat)/2], lat[len(lat)-1], cliTook)
	if lat[len(lat)-1] > time.Second {
		t.Errorf("slowest login took %v during the flood; want < 1 s each", lat[len(lat)-1])
	}
	if cliTook > 2*time.Second {
		t.Errorf("the admin CLI took %v during the flood", cliTook)
	}
	var refused int
	fmt.Sscanf(stats[strings.Index(stats, "refused="):], "refused=%d", &refused)
	if refused < 1000 {
		t.Errorf("the flood was refused only %d times (%s): it did not reach the caps, so this test proved nothing", refused, stats)
	}
	if n := strings.Count(d.Log(), "connections from an unprivileged uid refused"); n < 1 || n > 2 {
		t.Errorf("%d refusal warnings in the daemon's log; want one per uid per minute", n)
	}
	auditHas(t, d.Sock, "root", "allow", "totp")
}

// forge is what a hostile local user sends to forge audit lines: HELLO
// client words with a line feed or an escape sequence, and an ENROLL that
// claims to come over SSH from a host whose name carries a terminal escape
// and a line break. It confirms the enrollment (it sees its own secret),
// so that the event is audited.
func forge(sock string) {
	for _, word := range []string{"pam%0Aforged", "pam%1B[2J"} {
		c, err := net.Dial("unix", sock)
		if err != nil {
			fmt.Println("dial:", err)
			return
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "HELLO 1 "+word+"\nSTATUS\n")
		b, _ := io.ReadAll(c)
		c.Close()
		fmt.Printf("hello %s: %q\n", word, b)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "HELLO 1 cli\nENROLL surface=ssh service=sshd tty=pts/9 rhost=10.0.0.1%1B[2J%0Aforged%20login%20root%20allow\n")
	r := bufio.NewReader(c)
	var secret string
	for {
		l, err := ipc.ReadLine(r)
		if err != nil {
			fmt.Println("enroll:", err)
			return
		}
		if m := testenv.SecretRE.FindStringSubmatch(l.Get("text")); m != nil {
			secret = m[1]
		}
		switch l.Verb {
		case "ASK":
			code, _ := totp.GenerateCode(secret, time.Now())
			io.WriteString(c, "ANSWER text="+code+"\n")
		case "VERDICT":
			fmt.Printf("enroll: %s %s\n", l.Args[0], l.Get("reason"))
			return
		}
	}
}

// A forged HELLO and a forged ENROLL from an unprivileged account: the
// client words are refused, and the enrollment is audited with the peer's
// uid, surface cli and none of the peer's claims; the audit's text shows
// no escape byte and no injected line.
func TestForgedHelloAndEnrollFromAnUnprivilegedAccount(t *testing.T) {
	shareSocketDir(t)
	d := startDaemon(t)
	d.Admin(t, "user", "require", "nobody")
	p := testenv.AsUID(t, testenv.Nobody, "forge", "SOCK="+d.Sock)
	b, err := p.CombinedOutput()
	if err != nil {
		t.Fatalf("forging child: %v\n%s", err, b)
	}
	out := string(b)
	t.Logf("child:\n%s", out)
	for _, w := range []string{"pam%0Aforged", "pam%1B[2J"} {
		if !strings.Contains(out, "hello "+w+`: "ERROR text=`) || !strings.Contains(out, "VERDICT deny reason=protocol") {
			t.Errorf("client word %s not refused as a protocol error", w)
		}
	}
	if !strings.Contains(out, "enroll: allow enrolled") {
		t.Fatalf("the forged ENROLL did not reach the engine (so nothing below is tested)")
	}

	raw := d.Admin(t, "audit", "--json")
	var evs []map[string]any
	if err := json.Unmarshal([]byte(raw), &evs); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, raw)
	}
	var ev map[string]any
	for _, e := range evs {
		if e["kind"] == "enroll" && e["user"] == "nobody" {
			ev = e
		}
	}
	if ev == nil {
		t.Fatalf("no enroll event of nobody in the audit:\n%s", raw)
	}
	if uid, ok := ev["peer_uid"].(float64); !ok || uid != testenv.Nobody {
		t.Errorf("peer_uid = %v, want %d", ev["peer_uid"], testenv.Nobody)
	}
	if ev["surface"] != "cli" || ev["actor"] != "cli" {
		t.Errorf("surface %v actor %v, want cli and cli", ev["surface"], ev["actor"])
	}
	for _, k := range []string{"rhost", "tty", "service"} {
		if v, ok := ev[k]; ok && v != "" {
			t.Errorf("%s = %q: the peer's own claim was kept", k, v)
		}
	}
	text := d.Admin(t, "audit")
	if strings.ContainsRune(text, 0x1b) {
		t.Errorf("`jcmfa-agent audit` prints an ESC byte:\n%q", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "forged") {
			t.Errorf("`jcmfa-agent audit` shows the forged text: %q", line)
		}
	}
}

// A stop (SIGTERM, as systemd sends it) with an ENROLL waiting at its ASK
// ends within the bound: the waiting client gets a deny or a closed
// channel, never an allow, the store is closed cleanly, and the next start
// on the same state puts up no fence: a fresh valid code is accepted at
// once.
func TestStopWithAnEnrollOpenIsBoundedAndClean(t *testing.T) {
	needBuild(t)
	state := filepath.Join(t.TempDir(), "state")
	sock := shortSocket(t)
	stop := runAgent(t, state, sock)
	adminAt(t, sock, "org", "totp", "enable")
	adminAt(t, sock, "device", "mfa", "enable")
	adminAt(t, sock, "user", "require", "root")

	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "HELLO 1 test\nENROLL user=root\n")
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("before the ASK: %v", err)
		}
		if strings.HasPrefix(l, "ASK ") {
			break
		}
	}

	start := time.Now()
	log := stop(syscall.SIGTERM)
	elapsed := time.Since(start)
	t.Logf("SIGTERM with an ENROLL open: the daemon exited after %v", elapsed)
	if elapsed > 5*time.Second {
		t.Errorf("daemon took %v to stop; want < 5 s", elapsed)
	}
	rest, _ := io.ReadAll(r)
	if strings.Contains(string(rest), "VERDICT allow") || (len(rest) > 0 && !strings.Contains(string(rest), "VERDICT deny")) {
		t.Errorf("the waiting client read %q; want a deny verdict or a closed channel", rest)
	}
	if strings.Contains(log, "not waiting for them") || strings.Contains(log, "did not stop within") {
		t.Errorf("the stop was not clean:\n%s", log)
	}

	stop = runAgent(t, state, sock)
	secret := enroll(t, sock, "root")
	if got := cliLogin(t, sock, "root", code(t, secret)); got != "allow totp" {
		t.Errorf("fresh valid code after the restart: %q, want allow totp (no fence)", got)
	}
	if log := stop(os.Interrupt); strings.Contains(log, "stopped without closing the store") {
		t.Errorf("the stop with an ENROLL open was taken for a crash:\n%s", log)
	}
}

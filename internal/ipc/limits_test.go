//go:build !windows

package ipc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/testenv"
)

// limitsHandler answers commands with OK, denies logins, and keeps an
// ENROLL asking until the channel gives up on the answer.
type limitsHandler struct{}

func (limitsHandler) Login(context.Context, engine.LoginRequest, engine.Conversation) engine.Verdict {
	return engine.Verdict{Word: engine.Deny, Reason: "test"}
}

func (limitsHandler) Enroll(_ context.Context, _ engine.LoginRequest, conv engine.Conversation) engine.Verdict {
	for {
		if _, err := conv.Ask(true, "code: "); err != nil {
			return engine.Verdict{Word: engine.Deny, Reason: "cancelled"}
		}
	}
}

func (limitsHandler) Command(context.Context, ipc.Peer, string, map[string]string, *ipc.Reply) error {
	return nil
}

// limitsServer is a server with small limits, so that the test reaches them
// with a few connections; the mechanism is the same as at full size.
func limitsServer(t *testing.T, tune func(*ipc.Server)) (sock string, stop func()) {
	t.Helper()
	dir, err := os.MkdirTemp("", "jcmfa") // short: sun_path is ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // the peers run as other uids
	sock = testenv.ShortSocket(t, dir)
	l, err := ipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := ipc.NewServer(limitsHandler{}, slog.New(slog.NewTextHandler(io.Discard, nil)), os.Geteuid())
	srv.MaxConns, srv.PeerConns, srv.UnprivConns = 2, 2, 3
	srv.UnprivRequestTimeout = 1500 * time.Millisecond
	srv.UnprivAnswerTimeout = time.Second
	srv.UnprivEnrollTimeout = 1500 * time.Millisecond
	if tune != nil {
		tune(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, l); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return sock, stop
}

// The unprivileged halves of the limits tests, run as another uid.
func init() {
	role, sock := os.Getenv(testenv.ChildEnv), os.Getenv("SOCK")
	switch role {
	case "hold":
		n, _ := strconv.Atoi(os.Getenv("HOLD"))
		childHold(sock, n)
	case "enroll":
		childEnroll(sock)
	default:
		return
	}
	os.Exit(0)
}

// childHold opens n idle connections, then one more, and says how the
// daemon answered that one; then how long the idle ones were kept.
func childHold(sock string, n int) {
	start := time.Now()
	var held []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("unix", sock)
		if err != nil {
			fmt.Println("dial:", err)
			return
		}
		held = append(held, c)
	}
	// The daemon has taken ours once it answers nothing to them for a
	// moment; give the accept loop that moment before the extra one.
	time.Sleep(100 * time.Millisecond)
	t := time.Now()
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	b, err := io.ReadAll(c)
	fmt.Printf("refused ms=%d err=%v reply=%s\n", time.Since(t).Milliseconds(), err, decoded(b))
	fmt.Println("holding")
	for _, h := range held {
		h.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.ReadAll(h)
		fmt.Printf("closed ms=%d err=%v\n", time.Since(start).Milliseconds(), err)
	}
}

// childEnroll opens an ENROLL and answers each ASK after 600 ms (inside
// the 1 s per answer, but the dialogue's 1.5 s bound ends it); meanwhile a
// second ENROLL of the same uid is refused.
func childEnroll(sock string) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	io.WriteString(c, "HELLO 1 test\nENROLL\n")
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	second := false
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			fmt.Printf("first ms=%d err=%v lines=%q\n", time.Since(start).Milliseconds(), err, lines)
			return
		}
		lines = append(lines, strings.TrimSpace(l))
		if strings.HasPrefix(l, "VERDICT") {
			fmt.Printf("first ms=%d lines=%q\n", time.Since(start).Milliseconds(), lines)
			return
		}
		if !strings.HasPrefix(l, "ASK") {
			continue
		}
		if !second {
			second = true
			c2, err := net.Dial("unix", sock)
			if err != nil {
				fmt.Println("dial:", err)
				return
			}
			io.WriteString(c2, "HELLO 1 test\nENROLL\n")
			c2.SetReadDeadline(time.Now().Add(2 * time.Second))
			b, err := io.ReadAll(c2)
			fmt.Printf("second err=%v reply=%s\n", err, decoded(b))
		}
		time.Sleep(600 * time.Millisecond)
		io.WriteString(c, "ANSWER text=123456\n")
	}
}

func runChild(t *testing.T, cmd interface {
	StdoutPipe() (io.ReadCloser, error)
	Start() error
}) *bufio.Reader {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return bufio.NewReader(out)
}

// Any local user can connect. One uid gets PeerConns connections and no
// more, all unprivileged uids UnprivConns together; a connection over
// either is refused at once, not queued; root's capacity is its own; and
// an idle unprivileged connection is dropped after the short deadline
// while root's is not.
func TestUnprivilegedPeersAreCappedAndRootIsNot(t *testing.T) {
	// uid b's connections must arrive while uid a's are still held, so the
	// idle limit is longer here than the 1.5 s the other tests use: under
	// load (CI beside other work) starting b took longer than 1.5 s, a's
	// connections had gone, and b's extra one was served, not refused.
	const idleLimit = 5 * time.Second
	sock, _ := limitsServer(t, func(s *ipc.Server) { s.UnprivRequestTimeout = idleLimit })
	a := testenv.AsUID(t, testenv.Nobody, "hold", "SOCK="+sock, "HOLD=2")
	ra := runChild(t, a)
	defer a.Wait()
	refused, _ := testenv.ReadUntil(t, ra, "refused", 10*time.Second)
	testenv.ReadUntil(t, ra, "holding", 5*time.Second)
	if !strings.Contains(refused, "reason=busy") || !strings.Contains(refused, "too many connections from uid 65534") {
		t.Errorf("third connection of uid 65534: %s; want ERROR + VERDICT deny reason=busy", refused)
	}
	if ms := msOf(t, refused); ms > 500 {
		t.Errorf("refusal took %d ms; want it at once", ms)
	}

	// Another uid: one connection fits in the total of 3, the next not.
	b := testenv.AsUID(t, testenv.Nobody-1, "hold", "SOCK="+sock, "HOLD=1")
	rb := runChild(t, b)
	defer b.Wait()
	refused, _ = testenv.ReadUntil(t, rb, "refused", 10*time.Second)
	if !strings.Contains(refused, "too many connections from unprivileged users") {
		t.Errorf("over the unprivileged total: %s", refused)
	}

	// Root, with every unprivileged slot taken: served at once, and both
	// of its slots are free.
	idle, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	c := ipc.Client{Path: sock, Timeout: 5 * time.Second, Kind: "test"}
	start := time.Now()
	if _, err := c.Command("settings.get", nil, nil); err != nil {
		t.Fatalf("root command with the unprivileged budget full: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("root command took %v", d)
	}

	// The unprivileged idle connections go after the idle limit; root's
	// idle one (10 s deadline) is still open then.
	for i := 0; i < 2; i++ {
		closed, _ := testenv.ReadUntil(t, ra, "closed", 10*time.Second)
		if ms := msOf(t, closed); int64(ms) < idleLimit.Milliseconds()-300 || int64(ms) > idleLimit.Milliseconds()+2000 {
			t.Errorf("idle unprivileged connection %s; want closed after ~%v", closed, idleLimit)
		}
	}
	idle.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := idle.Read(make([]byte, 1)); !os.IsTimeout(err) {
		t.Errorf("root's idle connection: %v; want still open", err)
	}
}

// An unprivileged ENROLL: one per uid at a time, each answer within
// UnprivAnswerTimeout and the whole dialogue within UnprivEnrollTimeout,
// which ends it with a deny.
func TestUnprivilegedEnrollIsBounded(t *testing.T) {
	sock, _ := limitsServer(t, nil)
	p := testenv.AsUID(t, testenv.Nobody, "enroll", "SOCK="+sock)
	r := runChild(t, p)
	defer p.Wait()
	second, _ := testenv.ReadUntil(t, r, "second", 10*time.Second)
	if !strings.Contains(second, "already have an enrollment open") || !strings.Contains(second, "VERDICT deny reason=busy") {
		t.Errorf("second ENROLL of the same uid: %s", second)
	}
	first, _ := testenv.ReadUntil(t, r, "first", 10*time.Second)
	if !strings.Contains(first, "VERDICT deny reason=cancelled") {
		t.Errorf("first ENROLL: %s; want it ended with a deny", first)
	}
	if ms := msOf(t, first); ms < 1300 || ms > 3000 {
		t.Errorf("first ENROLL lasted %d ms; want ~1500 (the dialogue's bound), answers came every 600 ms", ms)
	}
}

// A stop ends a root ENROLL waiting at its ASK (an hour's answer timeout)
// at once, with the deny written.
func TestStopEndsOpenDialoguesWithADeny(t *testing.T) {
	sock, stop := limitsServer(t, func(s *ipc.Server) { s.AnswerTimeout = time.Hour })
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "HELLO 1 test\nENROLL user=alice\n")
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(l, "ASK") {
			break
		}
	}
	start := time.Now()
	stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Serve returned %v after the stop; want at once (the dialogue is woken)", d)
	}
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), "VERDICT deny reason=cancelled") {
		t.Errorf("after the stop the client read %q; want the deny verdict", rest)
	}
}

// decoded shows the daemon's lines in b with their values decoded.
func decoded(b []byte) string {
	r := bufio.NewReader(strings.NewReader(string(b)))
	var out []string
	for {
		l, err := ipc.ReadLine(r)
		if err != nil {
			return strings.Join(out, " | ")
		}
		s := strings.Join(append([]string{l.Verb}, l.Args...), " ")
		for _, k := range []string{"text", "reason"} {
			if v, ok := l.Fields[k]; ok {
				s += " " + k + "=" + v
			}
		}
		out = append(out, s)
	}
}

// msOf reads ms=N from a child's line.
func msOf(t *testing.T, line string) int {
	t.Helper()
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "ms="); ok {
			n, err := strconv.Atoi(v)
			if err == nil {
				return n
			}
		}
	}
	t.Fatalf("no ms= in %q", line)
	return 0
}

// stuckHandler never finishes a command until released.
type stuckHandler struct {
	limitsHandler
	release chan struct{}
}

func (h stuckHandler) Command(context.Context, ipc.Peer, string, map[string]string, *ipc.Reply) error {
	<-h.release
	return nil
}

// A handler that never returns does not hold up the stop: Serve returns
// within StopTimeout, having closed the connection.
func TestStopIsBoundedEvenWithAStuckHandler(t *testing.T) {
	dir, err := os.MkdirTemp("", "jcmfa")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := testenv.ShortSocket(t, dir)
	l, err := ipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	h := stuckHandler{release: make(chan struct{})}
	defer close(h.release)
	srv := ipc.NewServer(h, slog.New(slog.NewTextHandler(io.Discard, nil)), os.Geteuid())
	srv.StopTimeout = 1500 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, l); close(done) }()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "HELLO 1 test\nCMD settings.get\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	time.Sleep(200 * time.Millisecond) // the handler is in Command now (HELLO is still queued)
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5 s of the stop")
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 2*time.Second {
		t.Errorf("Serve returned %v after the stop; want about StopTimeout (1.5 s)", d)
	}
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("the connection was not closed: %v", err)
	}
}

package ipc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jcmfa/jcmfa/internal/accounts"
	"github.com/jcmfa/jcmfa/internal/engine"
)

// Handler carries out what the server has parsed and authorised.
type Handler interface {
	Login(ctx context.Context, req engine.LoginRequest, conv engine.Conversation) engine.Verdict
	Enroll(ctx context.Context, req engine.LoginRequest, conv engine.Conversation) engine.Verdict
	// Command runs an admin command (or user.status for STATUS) and writes
	// its rows to out. A returned error becomes FAIL with its text.
	Command(ctx context.Context, peer Peer, name string, fields map[string]string, out *Reply) error
}

// Server accepts connections and runs one exchange on each.
type Server struct {
	Handler Handler
	Log     *slog.Logger
	// MaxConns bounds connections served at once; further clients wait in
	// the listen backlog until a slot frees or their own timeout fires.
	MaxConns int
	// RequestTimeout bounds waiting for HELLO and the request line;
	// AnswerTimeout bounds waiting for a person's ANSWER.
	RequestTimeout time.Duration
	AnswerTimeout  time.Duration
	// AdminUID is the uid besides 0 that counts as admin: the daemon's own.
	AdminUID int

	wg sync.WaitGroup
}

// NewServer returns a server with the documented limits.
func NewServer(h Handler, log *slog.Logger, adminUID int) *Server {
	return &Server{Handler: h, Log: log, MaxConns: 2048, RequestTimeout: 10 * time.Second,
		AnswerTimeout: 5 * time.Minute, AdminUID: adminUID}
}

// Serve accepts on l until ctx is done or l fails, then waits for the
// exchanges under way to end.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	sem := make(chan struct{}, max(s.MaxConns, 1))
	handoff := make(chan net.Conn)
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer s.wg.Wait()
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		c, err := l.Accept()
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: pause rather than
			// spin, and keep serving the connections we have.
			s.Log.Warn("accept failed", "error", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		select {
		case handoff <- c: // an idle worker takes it
		default:
			s.wg.Add(1)
			go s.worker(ctx, c, sem, handoff)
		}
	}
}

// workerIdle is how long a connection goroutine waits for another
// connection before it ends.
const workerIdle = 10 * time.Second

// worker serves c, then further connections handed to it, until it has
// been idle for workerIdle. Reusing goroutines keeps their stacks, grown
// once by the login path (JSON, bbolt, AES-GCM), instead of growing a new
// 8 KB stack for each connection: at high login rates that stack copying
// and the scanning of many short-lived stacks was ~10% of the daemon's CPU.
func (s *Server) worker(ctx context.Context, c net.Conn, sem chan struct{}, handoff chan net.Conn) {
	defer s.wg.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	// The line buffers too are the worker's, reset for each connection:
	// 8 KiB a login was most of the daemon's allocation.
	r, w := bufio.NewReaderSize(nil, MaxLine), bufio.NewWriterSize(nil, MaxLine)
	for {
		r.Reset(c)
		w.Reset(c)
		s.serveConn(ctx, c, r, w)
		<-sem
		idle.Reset(workerIdle)
		select {
		case c = <-handoff:
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// session is one connection: its reader, its peer, and how it writes.
type session struct {
	s     *Server
	c     net.Conn
	r     *bufio.Reader
	w     *bufio.Writer
	peer  Peer
	proto error // a protocol error seen inside a dialogue
}

// write queues a line. Lines go out together when the daemon next waits
// for the client (read) or ends the exchange: HELLO with the ASK after
// it, an ERROR with its VERDICT, a listing's rows by the buffer-full.
// Each write wakes the client, and on a VM every wake-up of another CPU
// costs tens of microseconds.
func (ss *session) write(verb string, args []string, kv ...string) error {
	line, err := Format(verb, args, kv...)
	if err != nil {
		return err
	}
	ss.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = ss.w.WriteString(line)
	return err
}

// flush sends the queued lines.
func (ss *session) flush() error {
	if ss.w.Buffered() == 0 {
		return nil
	}
	ss.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return ss.w.Flush()
}

// read returns the client's next line, first sending what is queued
// unless that line is already here (a client that sent its request with
// its HELLO): a client waiting for our lines must get them before we wait
// for its own.
func (ss *session) read(timeout time.Duration) (Line, error) {
	if !ss.lineBuffered() {
		if err := ss.flush(); err != nil {
			return Line{}, err
		}
	}
	ss.c.SetReadDeadline(time.Now().Add(timeout))
	return ReadLine(ss.r)
}

func (ss *session) lineBuffered() bool {
	b, _ := ss.r.Peek(ss.r.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// refuse ends a dialogue: an ERROR the person sees, then a deny verdict.
func (ss *session) refuse(reason, text string) {
	ss.write("ERROR", nil, "text", text)
	ss.write("VERDICT", []string{engine.Deny}, "reason", reason)
}

func (s *Server) serveConn(ctx context.Context, c net.Conn, r *bufio.Reader, w *bufio.Writer) {
	defer c.Close()
	ss := &session{s: s, c: c, r: r, w: w}
	defer ss.flush()
	peer, err := peerOf(c, s.AdminUID)
	if err != nil {
		s.Log.Warn("cannot identify peer; closing", "error", err)
		return
	}
	ss.peer = peer
	hello, err := ss.read(s.RequestTimeout)
	if err != nil {
		ss.fail(err, "HELLO")
		return
	}
	if hello.Verb != "HELLO" || len(hello.Args) < 1 {
		ss.refuse("protocol", "protocol error: expected HELLO <version> <client>")
		return
	}
	if hello.Args[0] != strconv.Itoa(Version) {
		ss.refuse("version", fmt.Sprintf("protocol version %q is not supported; this daemon speaks %d", hello.Args[0], Version))
		return
	}
	client := "unknown"
	if len(hello.Args) > 1 {
		client = hello.Args[1]
	}
	if ss.write("HELLO", []string{strconv.Itoa(Version)}) != nil {
		return
	}
	req, err := ss.read(s.RequestTimeout)
	if err != nil {
		ss.fail(err, "request")
		return
	}
	switch req.Verb {
	case "LOGIN":
		ss.login(ctx, req, client)
	case "ENROLL":
		ss.enroll(ctx, req, client)
	case "STATUS":
		ss.status(ctx, req)
	case "CMD":
		ss.command(ctx, req)
	default:
		ss.refuse("protocol", fmt.Sprintf("protocol error: unknown or unexpected verb %q", req.Verb))
	}
}

// fail reports a read failure: protocol errors get an answer, timeouts and
// closed connections just end.
func (ss *session) fail(err error, what string) {
	if errors.Is(err, ErrProtocol) {
		ss.refuse("protocol", err.Error())
		return
	}
	ss.s.Log.Debug("connection ended before "+what, "error", err)
}

func loginRequest(l Line, client string) engine.LoginRequest {
	return engine.LoginRequest{
		User: l.Get("user"), Surface: l.Get("surface"), Service: l.Get("service"),
		RHost: l.Get("rhost"), TTY: l.Get("tty"), Client: client,
		Interactive: l.Get("interactive") != "0",
	}
}

// checkFields rejects control characters in the identifying fields, which
// would otherwise forge lines in logs.
func checkFields(l Line) error {
	for _, k := range []string{"user", "service", "surface", "rhost", "tty"} {
		for _, r := range l.Get(k) {
			if r < 0x20 || r == 0x7f {
				return protoErr("field %s contains a control character", k)
			}
		}
	}
	return nil
}

func (ss *session) login(ctx context.Context, l Line, client string) {
	if !ss.peer.Admin && !(ss.peer.LoginAgent && l.Get("surface") == "gui") {
		ss.s.Log.Warn("login request from a non-root peer refused", "uid", ss.peer.UID, "user", l.Get("user"))
		ss.refuse("forbidden", "only root may ask the daemon to log someone in")
		return
	}
	if err := checkFields(l); err != nil {
		ss.refuse("protocol", err.Error())
		return
	}
	if l.Get("user") == "" {
		ss.refuse("protocol", "protocol error: LOGIN needs user=")
		return
	}
	v := ss.s.Handler.Login(ctx, loginRequest(l, client), ss)
	ss.verdict(v)
}

func (ss *session) verdict(v engine.Verdict) {
	if ss.proto != nil {
		ss.refuse("protocol", ss.proto.Error())
		return
	}
	ss.write("VERDICT", []string{v.Word}, "reason", v.Reason)
}

// selfName resolves who a non-admin peer is; it may act only as itself.
func (ss *session) selfName(asked string) (string, error) {
	if ss.peer.Admin && asked != "" {
		return asked, nil
	}
	name, err := ss.peer.name()
	if err != nil {
		return "", fmt.Errorf("cannot resolve your uid %d to a login name: %v", ss.peer.UID, err)
	}
	if asked != "" && asked != name {
		return "", fmt.Errorf("you (%s) may only ask about your own account, not %q", name, asked)
	}
	return name, nil
}

func (ss *session) enroll(ctx context.Context, l Line, client string) {
	if err := checkFields(l); err != nil {
		ss.refuse("protocol", err.Error())
		return
	}
	name, err := ss.selfName(l.Get("user"))
	if err != nil {
		ss.refuse("forbidden", err.Error())
		return
	}
	req := loginRequest(l, client)
	req.User, req.Interactive = name, true
	if req.Surface == "" {
		req.Surface = "cli"
	}
	ss.verdict(ss.s.Handler.Enroll(ctx, req, ss))
}

func (ss *session) status(ctx context.Context, l Line) {
	name, err := ss.selfName(l.Get("user"))
	if err != nil {
		ss.write("FAIL", nil, "text", err.Error())
		return
	}
	ss.runCommand(ctx, "user.status", map[string]string{"user": name})
}

func (ss *session) command(ctx context.Context, l Line) {
	if !ss.peer.Admin {
		ss.s.Log.Warn("admin command from a non-root peer refused", "uid", ss.peer.UID)
		ss.write("FAIL", nil, "text", "admin commands need root (run with sudo)")
		return
	}
	if len(l.Args) != 1 {
		ss.write("FAIL", nil, "text", "protocol error: CMD needs exactly one command name")
		return
	}
	ss.runCommand(ctx, l.Args[0], l.Fields)
}

func (ss *session) runCommand(ctx context.Context, name string, fields map[string]string) {
	if fields == nil {
		fields = map[string]string{}
	}
	out := &Reply{ss: ss}
	if err := ss.s.Handler.Command(ctx, ss.peer, name, fields, out); err != nil {
		ss.write("FAIL", nil, "text", err.Error())
		return
	}
	ss.write("OK", nil)
}

// Info implements engine.Conversation.
func (ss *session) Info(text string) error { return ss.write("INFO", nil, "text", text) }

// Error implements engine.Conversation.
func (ss *session) Error(text string) error { return ss.write("ERROR", nil, "text", text) }

// Ask implements engine.Conversation: the only place the daemon waits for a
// person, bounded by AnswerTimeout.
func (ss *session) Ask(echo bool, prompt string) (string, error) {
	e := "off"
	if echo {
		e = "on"
	}
	if err := ss.write("ASK", nil, "echo", e, "text", prompt); err != nil {
		return "", err
	}
	l, err := ss.read(ss.s.AnswerTimeout)
	if err != nil {
		if errors.Is(err, ErrProtocol) {
			ss.proto = err
		}
		return "", err
	}
	if l.Verb != "ANSWER" {
		ss.proto = protoErr("expected ANSWER, got %q", l.Verb)
		return "", ss.proto
	}
	return l.Get("text"), nil
}

// Reply is where a command writes its notes and rows.
type Reply struct{ ss *session }

// Info sends a note for the admin.
// It goes out at once: a long command's progress should show as it comes.
func (r *Reply) Info(text string) error {
	if err := r.ss.write("INFO", nil, "text", text); err != nil {
		return err
	}
	return r.ss.flush()
}

// Data sends one row as JSON.
func (r *Reply) Data(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return r.ss.write("DATA", nil, "json", string(b))
}

// Peer is the process at the other end of a connection.
type Peer struct {
	UID   int // -1 where the platform has no uid (Windows)
	Admin bool
	// LoginAgent marks the OS's own login UI host, which may send LOGIN for
	// the gui surface and nothing else: macOS runs authorization plugins
	// that show UI inside SecurityAgent as _securityagent, not as root.
	LoginAgent bool
}

func (p Peer) name() (string, error) { return accounts.NameOfUID(strconv.Itoa(p.UID)) }

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
	"sync/atomic"
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
//
// Any local user can connect, so the server reads the peer's uid right
// after accept, before the connection holds anything, and keeps two
// separate budgets: privileged peers (root, the daemon's own uid, the
// platform's login identity: Peer.Privileged) share MaxConns, which no
// other peer can touch; every other uid gets a few connections, short
// deadlines and one ENROLL at a time, out of a small budget of their own.
// docs/protocol.md ("Limits of the channel") states the figures.
type Server struct {
	Handler Handler
	Log     *slog.Logger
	// MaxConns bounds privileged connections served at once; a privileged
	// connection beyond it waits (in its own goroutine, not the accept
	// loop) until a slot frees or the daemon stops.
	MaxConns int
	// RequestTimeout bounds waiting for HELLO and the request line;
	// AnswerTimeout bounds waiting for a person's ANSWER. Privileged peers.
	RequestTimeout time.Duration
	AnswerTimeout  time.Duration
	// AdminUID is the uid besides 0 that counts as admin: the daemon's own.
	AdminUID int

	// Unprivileged peers. A connection beyond PeerConns for its uid or
	// beyond UnprivConns for them all is refused at once (ERROR, VERDICT
	// deny reason=busy, close), never queued.
	PeerConns   int
	UnprivConns int
	// UnprivRequestTimeout replaces RequestTimeout for them; an ENROLL of
	// theirs waits at most UnprivAnswerTimeout for each ANSWER and lasts at
	// most UnprivEnrollTimeout in all. One uid has at most one ENROLL open,
	// and all of them together at most UnprivEnrolls.
	UnprivRequestTimeout time.Duration
	UnprivAnswerTimeout  time.Duration
	UnprivEnrollTimeout  time.Duration
	UnprivEnrolls        int

	// StopTimeout bounds Serve's return once ctx is done: open dialogues
	// are woken at once (their pending read fails, so a login or
	// enrollment ends with a deny that is still written); connections
	// still open after StopTimeout-1s are closed, and Serve returns after
	// StopTimeout even if a handler is stuck.
	StopTimeout time.Duration

	wg       sync.WaitGroup
	unpriv   unprivileged
	loop     atomic.Int64 // see AcceptStall
	stopping atomic.Bool
	liveMu   sync.Mutex
	live     map[*worker]struct{}
}

// NewServer returns a server with the documented limits.
func NewServer(h Handler, log *slog.Logger, adminUID int) *Server {
	return &Server{Handler: h, Log: log, MaxConns: 2048, RequestTimeout: 10 * time.Second,
		AnswerTimeout: 5 * time.Minute, AdminUID: adminUID,
		PeerConns: 4, UnprivConns: 64, UnprivEnrolls: 8,
		UnprivRequestTimeout: 2 * time.Second, UnprivAnswerTimeout: 2 * time.Minute,
		UnprivEnrollTimeout: 5 * time.Minute, StopTimeout: 3 * time.Second}
}

// conn is an accepted connection and who is at the other end.
type conn struct {
	c    net.Conn
	peer Peer
}

// Serve accepts on l until ctx is done or l fails, then ends the exchanges
// under way (see StopTimeout) and returns.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	priv := make(chan struct{}, max(s.MaxConns, 1))
	handoff := make(chan conn)
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer s.shutdown()
	// Cancelled before shutdown runs, also when l fails: idle workers and
	// connections waiting for a slot end at once.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.loop.Store(loopStopped)
	for {
		s.loop.Store(loopInAccept)
		c, err := l.Accept()
		s.loop.Store(time.Now().UnixNano())
		if err != nil {
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
		// One getsockopt: cheap, and the kernel's word, not the peer's.
		peer, err := peerOf(c, s.AdminUID)
		if err != nil {
			s.Log.Warn("cannot identify peer; closing", "error", err)
			c.Close()
			continue
		}
		cn := conn{c, peer}
		if peer.Privileged() {
			select {
			case priv <- struct{}{}:
			default:
				// Full: wait for a slot without holding up accept, which
				// must keep refusing floods and reading peers.
				s.wg.Add(1)
				go s.await(ctx, cn, priv, handoff)
				continue
			}
		} else if ok, why := s.unpriv.admit(peer.UID, s.PeerConns, s.UnprivConns); !ok {
			s.refuseConn(cn, why)
			continue
		}
		s.dispatch(ctx, cn, priv, handoff)
	}
}

// States of the accept loop in Server.loop besides "handling a
// connection since" (unix nanoseconds).
const (
	loopStopped  = 0  // Serve has not started, or has returned
	loopInAccept = -1 // parked in Accept: nothing waits on the loop
)

// AcceptStall says whether Serve's accept loop is running, and for how
// long it has been busy with what its last Accept returned (zero while it
// waits in Accept). Everything the loop does between two accepts is
// meant to take microseconds (a getsockopt, a slot check, a hand-off), so
// a stall of seconds means it is wedged (a blocked log write, a lock never
// released) and no login can reach the daemon: the service manager's
// watchdog uses this (internal/daemon's health check).
func (s *Server) AcceptStall(now time.Time) (stall time.Duration, serving bool) {
	switch v := s.loop.Load(); v {
	case loopStopped:
		return 0, false
	case loopInAccept:
		return 0, true
	default:
		return max(now.Sub(time.Unix(0, v)), 0), true
	}
}

// dispatch gives cn, which holds its slot, to an idle worker or a new one.
func (s *Server) dispatch(ctx context.Context, cn conn, priv chan struct{}, handoff chan conn) {
	select {
	case handoff <- cn: // an idle worker takes it
	default:
		s.wg.Add(1)
		go s.worker(ctx, cn, priv, handoff)
	}
}

// await waits for a privileged slot for cn.
func (s *Server) await(ctx context.Context, cn conn, priv chan struct{}, handoff chan conn) {
	defer s.wg.Done()
	select {
	case priv <- struct{}{}:
		s.dispatch(ctx, cn, priv, handoff)
	case <-ctx.Done():
		cn.c.Close()
	}
}

// refuseConn closes an unprivileged connection over its limits, telling
// the client why in the form every client reads before HELLO (a version
// refusal's): an ERROR, then VERDICT deny.
func (s *Server) refuseConn(cn conn, why string) {
	s.unpriv.noteRefusal(s.Log, cn.peer.UID, "connections from an unprivileged uid refused: over its limit", time.Now(), "limit", why)
	text := fmt.Sprintf("too many connections from uid %d (at most %d at once); try again later", cn.peer.UID, s.PeerConns)
	if why == "total" {
		text = "too many connections from unprivileged users; try again later"
	}
	line, _ := Format("ERROR", nil, "text", text)
	// A new connection's send buffer is empty: this does not wait, and the
	// deadline makes sure of it.
	cn.c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	cn.c.Write([]byte(line + "VERDICT deny reason=busy\n"))
	cn.c.Close()
}

// release gives back cn's slot.
func (s *Server) release(cn conn, priv chan struct{}) {
	if cn.peer.Privileged() {
		<-priv
	} else {
		s.unpriv.release(cn.peer.UID)
	}
}

// workerIdle is how long a connection goroutine waits for another
// connection before it ends.
const workerIdle = 10 * time.Second

// worker is one connection goroutine; the server knows every live one so
// that a stop can wake the connection it is serving.
type worker struct {
	mu sync.Mutex
	c  net.Conn // being served; nil between connections
}

// setConn records the connection being served (nil: none).
func (wk *worker) setConn(c net.Conn) {
	wk.mu.Lock()
	wk.c = c
	wk.mu.Unlock()
}

// worker serves c, then further connections handed to it, until it has
// been idle for workerIdle. Reusing goroutines keeps their stacks, grown
// once by the login path (JSON, bbolt, AES-GCM), instead of growing a new
// 8 KB stack for each connection: at high login rates that stack copying
// and the scanning of many short-lived stacks was ~10% of the daemon's CPU.
func (s *Server) worker(ctx context.Context, cn conn, priv chan struct{}, handoff chan conn) {
	defer s.wg.Done()
	wk := &worker{}
	s.liveMu.Lock()
	if s.live == nil {
		s.live = map[*worker]struct{}{}
	}
	s.live[wk] = struct{}{}
	s.liveMu.Unlock()
	defer func() {
		s.liveMu.Lock()
		delete(s.live, wk)
		s.liveMu.Unlock()
	}()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	// The line buffers too are the worker's, reset for each connection:
	// 8 KiB a login was most of the daemon's allocation.
	r, w := bufio.NewReaderSize(nil, MaxLine), bufio.NewWriterSize(nil, MaxLine)
	for {
		r.Reset(cn.c)
		w.Reset(cn.c)
		wk.setConn(cn.c)
		s.serveConn(ctx, wk, cn, r, w)
		wk.setConn(nil)
		s.release(cn, priv)
		idle.Reset(workerIdle)
		select {
		case cn = <-handoff:
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// shutdown ends the exchanges under way, within StopTimeout: every live
// connection's pending read fails at once, so a dialogue waiting for an
// ANSWER ends with its deny verdict written; whatever is still open a
// second before the bound is closed.
func (s *Server) shutdown() {
	s.stopping.Store(true)
	bound := max(s.StopTimeout, time.Second)
	start := time.Now()
	s.eachLive(func(c net.Conn) { c.SetReadDeadline(start) })
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(bound - time.Second):
	}
	n := 0
	s.eachLive(func(c net.Conn) { c.Close(); n++ })
	s.Log.Warn("stopping: closed connections whose exchange had not ended", "connections", n)
	select {
	case <-done:
	case <-time.After(bound - time.Since(start)):
		s.Log.Warn("stopping: exchanges still running after the stop bound; not waiting for them", "bound", bound.String())
	}
}

// eachLive calls fn with the connection each live worker is serving.
// Holding the worker's lock orders this with session.read: a read either
// set its deadline before (and fn's wins) or sees s.stopping after.
func (s *Server) eachLive(fn func(net.Conn)) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	for wk := range s.live {
		wk.mu.Lock()
		if wk.c != nil {
			fn(wk.c)
		}
		wk.mu.Unlock()
	}
}

// session is one connection: its reader, its peer, and how it writes.
type session struct {
	s     *Server
	wk    *worker
	c     net.Conn
	r     *bufio.Reader
	w     *bufio.Writer
	peer  Peer
	proto error // a protocol error seen inside a dialogue
	// answerTimeout bounds each ANSWER and writeTimeout each write; until,
	// if set, bounds every read of the exchange (a late verdict is still
	// written).
	answerTimeout time.Duration
	writeTimeout  time.Duration
	until         time.Time
}

// deadline is now+d, or the end of the exchange if that is sooner: for reads.
func (ss *session) deadline(d time.Duration) time.Time {
	t := time.Now().Add(d)
	if !ss.until.IsZero() && ss.until.Before(t) {
		return ss.until
	}
	return t
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
	ss.c.SetWriteDeadline(time.Now().Add(ss.writeTimeout))
	_, err = ss.w.WriteString(line)
	return err
}

// flush sends the queued lines.
func (ss *session) flush() error {
	if ss.w.Buffered() == 0 {
		return nil
	}
	ss.c.SetWriteDeadline(time.Now().Add(ss.writeTimeout))
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
	dl := ss.deadline(timeout)
	ss.wk.mu.Lock() // see eachLive
	if ss.s.stopping.Load() {
		dl = time.Now()
	}
	ss.c.SetReadDeadline(dl)
	ss.wk.mu.Unlock()
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

func (s *Server) serveConn(ctx context.Context, wk *worker, cn conn, r *bufio.Reader, w *bufio.Writer) {
	c := cn.c
	defer c.Close()
	ss := &session{s: s, wk: wk, c: c, r: r, w: w, peer: cn.peer, answerTimeout: s.AnswerTimeout, writeTimeout: 10 * time.Second}
	defer ss.flush()
	reqTimeout := s.RequestTimeout
	if !cn.peer.Privileged() {
		// A local client reads its socket at once: an unprivileged one
		// that does not is not let to hold its slot for long.
		reqTimeout, ss.writeTimeout = s.UnprivRequestTimeout, s.UnprivRequestTimeout
	}
	hello, err := ss.read(reqTimeout)
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
		if !validClientWord(client) {
			ss.refuse("protocol", "protocol error: the client word in HELLO must be 1-32 characters from a-z, 0-9, '.', '_', '-', starting with a letter")
			return
		}
	}
	if ss.write("HELLO", []string{strconv.Itoa(Version)}) != nil {
		return
	}
	req, err := ss.read(reqTimeout)
	if err != nil {
		ss.fail(err, "request")
		return
	}
	switch req.Verb {
	case "LOGIN":
		ss.login(ctx, req, client)
	case "ENROLL":
		ss.enroll(ctx, req, client)
	case "RECOVERY":
		ss.recovery(ctx, req, client)
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

// validClientWord: HELLO's client word becomes the audit's actor, so it
// is a short token (^[a-z][a-z0-9._-]{0,31}$), never free text that could
// carry a line break or an escape sequence into a log or a terminal.
func validClientWord(w string) bool {
	if len(w) == 0 || len(w) > 32 || w[0] < 'a' || w[0] > 'z' {
		return false
	}
	for i := 1; i < len(w); i++ {
		switch c := w[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func (ss *session) loginRequest(l Line, client string) engine.LoginRequest {
	return engine.LoginRequest{
		User: l.Get("user"), Surface: l.Get("surface"), Service: l.Get("service"),
		RHost: l.Get("rhost"), TTY: l.Get("tty"), Client: client,
		Interactive: l.Get("interactive") != "0", PeerUID: ss.peer.UID, PeerPID: ss.peer.PID,
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
		ss.s.unpriv.noteRefusal(ss.s.Log, ss.peer.UID, "login request from a non-root peer refused", time.Now(), "user", l.Get("user"))
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
	v := ss.s.Handler.Login(ctx, ss.loginRequest(l, client), ss)
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

// boundSelfService puts an unprivileged peer's self-service dialogue
// (ENROLL, RECOVERY) under its limits: one such dialogue per uid at a time
// and within the unprivileged total, a shorter wait for each answer and a
// deadline for the whole. The caller defers release. ok is false, and the
// peer refused as busy, when it may not start one now. Root runs unbounded.
func (ss *session) boundSelfService() (release func(), ok bool) {
	if ss.peer.Privileged() {
		return func() {}, true
	}
	uid := ss.peer.UID
	if ok, why := ss.s.unpriv.startEnroll(uid, ss.s.UnprivEnrolls); !ok {
		ss.refuse("busy", why)
		return nil, false
	}
	ss.answerTimeout = ss.s.UnprivAnswerTimeout
	ss.until = time.Now().Add(ss.s.UnprivEnrollTimeout)
	return func() { ss.s.unpriv.endEnroll(uid) }, true
}

func (ss *session) enroll(ctx context.Context, l Line, client string) {
	req, ok := ss.selfDialogue(l, client)
	if !ok {
		return
	}
	release, ok := ss.boundSelfService()
	if !ok {
		return
	}
	defer release()
	ss.verdict(ss.s.Handler.Enroll(ctx, req, ss))
}

// selfDialogue reads the request of a dialogue a peer runs about its own
// account (ENROLL, RECOVERY): an admin peer may name another account and
// say where it runs. ok is false when the request was refused (answered).
func (ss *session) selfDialogue(l Line, client string) (engine.LoginRequest, bool) {
	if !ss.peer.Admin {
		// Where it runs and from which terminal is the peer's word, and
		// the audit must not carry a peer's word as fact: all the daemon
		// knows is its uid (PeerUID) and that it used the channel. So its
		// surface, service, rhost and tty are dropped unread.
		l = Line{Verb: l.Verb, Fields: map[string]string{"user": l.Get("user")}}
	}
	if err := checkFields(l); err != nil {
		ss.refuse("protocol", err.Error())
		return engine.LoginRequest{}, false
	}
	name, err := ss.selfName(l.Get("user"))
	if err != nil {
		ss.refuse("forbidden", err.Error())
		return engine.LoginRequest{}, false
	}
	req := ss.loginRequest(l, client)
	req.User, req.Interactive = name, true
	if req.Surface == "" {
		req.Surface = "cli"
	}
	return req, true
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
		ss.s.unpriv.noteRefusal(ss.s.Log, ss.peer.UID, "admin command from a non-root peer refused", time.Now())
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
// person, bounded by AnswerTimeout (an unprivileged peer's ENROLL: by
// UnprivAnswerTimeout and the dialogue's own end).
func (ss *session) Ask(echo bool, prompt string) (string, error) {
	e := "off"
	if echo {
		e = "on"
	}
	if err := ss.write("ASK", nil, "echo", e, "text", prompt); err != nil {
		return "", err
	}
	l, err := ss.read(ss.answerTimeout)
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
	PID   int // the kernel's (Linux SO_PEERCRED); 0 where not read
	Admin bool
	// LoginAgent marks the OS's own login UI host, which may send LOGIN for
	// the gui surface and nothing else: macOS runs authorization plugins
	// that show UI inside SecurityAgent as _securityagent, not as root.
	LoginAgent bool
}

// Privileged peers share the server's reserved capacity and its long
// deadlines; every other uid is held to the small budget of limits.go.
func (p Peer) Privileged() bool { return p.Admin || p.LoginAgent }

func (p Peer) name() (string, error) { return accounts.NameOfUID(strconv.Itoa(p.UID)) }

package ipc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
)

// Client talks to the daemon; each call is one connection.
type Client struct {
	Path    string
	Timeout time.Duration // for connecting and for each daemon line
	Kind    string        // sent in HELLO; "cli" by default
}

// CommandError is a FAIL from the daemon: its text says what to do.
type CommandError struct{ Text string }

func (e *CommandError) Error() string { return e.Text }

// ErrUnreachable wraps failures to reach the daemon at all.
var ErrUnreachable = errors.New("cannot reach the jcmfa daemon")

type clientConn struct {
	c       net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

// dial connects and sends HELLO and the request line in one write (the
// daemon's HELLO carries nothing the request depends on, so waiting for it
// would only add a round trip), then reads the daemon's HELLO.
func (c Client) dial(verb string, args []string, kv ...string) (*clientConn, error) {
	t := c.Timeout
	if t == 0 {
		t = 10 * time.Second
	}
	kind := c.Kind
	if kind == "" {
		kind = "cli"
	}
	hello, err := Format("HELLO", []string{strconv.Itoa(Version), kind})
	if err != nil {
		return nil, err
	}
	req, err := Format(verb, args, kv...)
	if err != nil {
		return nil, err
	}
	nc, err := Dial(c.Path, t)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v (is it running? start it with `jcmfa-agent run` or `jcmfa-agent service start`, or pass --socket)", ErrUnreachable, c.Path, err)
	}
	// Lines from the daemon are short but for QR rows and listing rows;
	// readRaw takes longer ones in pieces.
	cc := &clientConn{c: nc, r: bufio.NewReaderSize(nc, 512), timeout: t}
	nc.SetWriteDeadline(time.Now().Add(t))
	if _, err := nc.Write([]byte(hello + req)); err != nil {
		nc.Close()
		return nil, err
	}
	l, err := cc.read(t)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if l.Verb != "HELLO" || len(l.Args) != 1 || l.Args[0] != strconv.Itoa(Version) {
		nc.Close()
		if l.Verb == "ERROR" {
			return nil, &CommandError{Text: l.Get("text")}
		}
		return nil, fmt.Errorf("daemon answered %q to HELLO", l.Verb)
	}
	return cc, nil
}

func (cc *clientConn) send(verb string, args []string, kv ...string) error {
	line, err := Format(verb, args, kv...)
	if err != nil {
		return err
	}
	cc.c.SetWriteDeadline(time.Now().Add(cc.timeout))
	_, err = cc.c.Write([]byte(line))
	return err
}

func (cc *clientConn) read(t time.Duration) (Line, error) {
	if t > 0 {
		cc.c.SetReadDeadline(time.Now().Add(t))
	} else {
		cc.c.SetReadDeadline(time.Time{})
	}
	return ReadLine(cc.r)
}

// Login runs a login dialogue, relaying the daemon's messages to conv.
func (c Client) Login(req engine.LoginRequest, conv engine.Conversation) (engine.Verdict, error) {
	inter := "1"
	if !req.Interactive {
		inter = "0"
	}
	return c.dialogue(conv, "LOGIN", "user", req.User, "surface", req.Surface, "service", req.Service,
		"rhost", req.RHost, "tty", req.TTY, "interactive", inter)
}

// Enroll runs the self-service enrollment dialogue; user may be "" (self).
func (c Client) Enroll(user string, conv engine.Conversation) (engine.Verdict, error) {
	if user == "" {
		return c.dialogue(conv, "ENROLL")
	}
	return c.dialogue(conv, "ENROLL", "user", user)
}

func (c Client) dialogue(conv engine.Conversation, verb string, kv ...string) (engine.Verdict, error) {
	// Empty optional fields are left out rather than sent empty.
	var fields []string
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] != "" {
			fields = append(fields, kv[i], kv[i+1])
		}
	}
	cc, err := c.dial(verb, nil, fields...)
	if err != nil {
		return engine.Verdict{}, err
	}
	defer cc.c.Close()
	for {
		l, err := cc.read(cc.timeout)
		if err != nil {
			return engine.Verdict{}, fmt.Errorf("reading from daemon: %w", err)
		}
		switch l.Verb {
		case "INFO":
			conv.Info(l.Get("text"))
		case "ERROR":
			conv.Error(l.Get("text"))
		case "ASK":
			ans, err := conv.Ask(l.Get("echo") == "on", l.Get("text"))
			if err != nil {
				return engine.Verdict{}, err
			}
			if err := cc.send("ANSWER", nil, "text", ans); err != nil {
				return engine.Verdict{}, err
			}
		case "VERDICT":
			if len(l.Args) != 1 {
				return engine.Verdict{}, fmt.Errorf("daemon sent a VERDICT without a word")
			}
			return engine.Verdict{Word: l.Args[0], Reason: l.Get("reason")}, nil
		default:
			return engine.Verdict{}, fmt.Errorf("daemon sent unexpected %q", l.Verb)
		}
	}
}

// Command runs an admin command. info receives the daemon's notes; the
// rows come back as raw JSON, one per DATA line.
func (c Client) Command(name string, fields map[string]string, info func(string)) ([]json.RawMessage, error) {
	var rows []json.RawMessage
	err := c.Stream(name, fields, info, func(row json.RawMessage) error {
		rows = append(rows, row)
		return nil
	})
	return rows, err
}

// Stream is Command for long listings: each row goes to fn as it arrives.
func (c Client) Stream(name string, fields map[string]string, info func(string), fn func(json.RawMessage) error) error {
	var kv []string
	for k, v := range fields {
		kv = append(kv, k, v)
	}
	verb, args := "CMD", []string{name}
	if name == "STATUS" {
		verb, args = "STATUS", nil
	}
	cc, err := c.dial(verb, args, kv...)
	if err != nil {
		return err
	}
	defer cc.c.Close()
	for {
		l, err := cc.read(cc.timeout)
		if err != nil {
			return fmt.Errorf("reading from daemon: %w", err)
		}
		switch l.Verb {
		case "INFO":
			if info != nil {
				info(l.Get("text"))
			}
		case "DATA":
			if err := fn(json.RawMessage(l.Get("json"))); err != nil {
				return err
			}
		case "OK":
			return nil
		case "FAIL":
			return &CommandError{Text: l.Get("text")}
		case "ERROR":
			return &CommandError{Text: l.Get("text")}
		default:
			return fmt.Errorf("daemon sent unexpected %q", l.Verb)
		}
	}
}

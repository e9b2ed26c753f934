// Package ipc is the local channel between the daemon and its clients: the
// line protocol of docs/protocol.md, a server that checks who is calling, and
// a Go client for the CLI and tests. The native shims implement the same
// protocol in internal/cshim.
package ipc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Version is the protocol version this package speaks.
const Version = 1

// MaxLine is the longest line, including its '\n'.
const MaxLine = 4096

// ErrProtocol wraps every violation of the framing rules.
var ErrProtocol = errors.New("protocol error")

func protoErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, a...))
}

// Line is one parsed message.
type Line struct {
	Verb   string
	Args   []string          // positional words, decoded
	Fields map[string]string // key=value fields, decoded
}

// Get returns a field's value ("" if absent).
func (l Line) Get(key string) string { return l.Fields[key] }

const hexDigits = "0123456789ABCDEF"

// Encode percent-encodes s: every byte outside 0x21-0x7E, '%', and '=' (so
// a positional word can never be mistaken for a key=value field).
func Encode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func needsEscape(c byte) bool { return c <= 0x20 || c >= 0x7f || c == '%' || c == '=' }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Decode reverses Encode. The result must be valid UTF-8.
func Decode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		if !utf8.ValidString(s) {
			return "", protoErr("value is not UTF-8")
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", protoErr("truncated %% escape")
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", protoErr("bad %% escape %q", s[i:i+3])
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	if !utf8.Valid(b) {
		return "", protoErr("value is not UTF-8")
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return "", protoErr("value contains NUL")
	}
	return string(b), nil
}

// Parse splits one line (without its '\n') into verb, positional words and
// fields, enforcing the framing rules.
func Parse(raw string) (Line, error) {
	if len(raw)+1 > MaxLine {
		return Line{}, protoErr("line longer than %d bytes", MaxLine)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c >= 0x7f {
			return Line{}, protoErr("byte 0x%02x must be percent-encoded", c)
		}
	}
	parts := strings.Split(raw, " ")
	l := Line{Verb: parts[0]}
	if err := checkVerb(l.Verb); err != nil {
		return Line{}, err
	}
	for _, p := range parts[1:] {
		if p == "" {
			return Line{}, protoErr("empty field (doubled or trailing space)")
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			w, err := Decode(p)
			if err != nil {
				return Line{}, err
			}
			if l.Fields != nil {
				return Line{}, protoErr("positional word %q after key=value fields", p)
			}
			l.Args = append(l.Args, w)
			continue
		}
		if err := checkKey(k); err != nil {
			return Line{}, err
		}
		dv, err := Decode(v)
		if err != nil {
			return Line{}, err
		}
		if l.Fields == nil {
			l.Fields = make(map[string]string)
		}
		if _, dup := l.Fields[k]; dup {
			return Line{}, protoErr("repeated key %q", k)
		}
		l.Fields[k] = dv
	}
	return l, nil
}

func checkVerb(v string) error {
	if len(v) == 0 || len(v) > 16 {
		return protoErr("verb must be 1-16 letters")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 'A' || v[i] > 'Z' {
			return protoErr("verb %q is not upper-case letters", v)
		}
	}
	return nil
}

func checkKey(k string) error {
	if len(k) == 0 || len(k) > 32 {
		return protoErr("key must be 1-32 characters")
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return protoErr("key %q has characters outside a-z 0-9 _", k)
		}
	}
	return nil
}

// Format builds one line (with '\n') from a verb, positional words and
// key/value pairs. It fails if the result would exceed MaxLine.
func Format(verb string, args []string, kv ...string) (string, error) {
	if len(kv)%2 != 0 {
		return "", errors.New("ipc.Format: odd key/value list")
	}
	var b strings.Builder
	b.WriteString(verb)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(Encode(a))
	}
	for i := 0; i < len(kv); i += 2 {
		b.WriteByte(' ')
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(Encode(kv[i+1]))
	}
	b.WriteByte('\n')
	if b.Len() > MaxLine {
		return "", fmt.Errorf("%s line would be %d bytes, more than %d", verb, b.Len(), MaxLine)
	}
	return b.String(), nil
}

// ReadLine reads one line of at most MaxLine bytes and parses it. A line
// cut short by EOF is a protocol error, as is an overlong one.
func ReadLine(r *bufio.Reader) (Line, error) {
	raw, err := readRaw(r)
	if err != nil {
		return Line{}, err
	}
	return Parse(raw)
}

func readRaw(r *bufio.Reader) (string, error) {
	// Most lines fit the reader's buffer: one copy, into the string.
	chunk, err := r.ReadSlice('\n')
	if err == nil && len(chunk) <= MaxLine {
		return string(chunk[:len(chunk)-1]), nil
	}
	buf := append([]byte(nil), chunk...)
	if len(buf) > MaxLine {
		return "", protoErr("line longer than %d bytes", MaxLine)
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		if errors.Is(err, io.EOF) && len(buf) > 0 {
			return "", protoErr("connection closed in the middle of a line")
		}
		return "", err
	}
	for {
		chunk, err := r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxLine {
			return "", protoErr("line longer than %d bytes", MaxLine)
		}
		switch {
		case err == nil:
			return string(buf[:len(buf)-1]), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return "", protoErr("connection closed in the middle of a line")
		default:
			return "", err
		}
	}
}

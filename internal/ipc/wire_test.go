package ipc

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		line   string
		verb   string
		args   []string
		fields map[string]string
		bad    bool
	}{
		{line: "HELLO 1 pam", verb: "HELLO", args: []string{"1", "pam"}},
		{line: "LOGIN user=alice service=sshd", verb: "LOGIN", fields: map[string]string{"user": "alice", "service": "sshd"}},
		{line: "INFO text=Hello%20world%0Anext", verb: "INFO", fields: map[string]string{"text": "Hello world\nnext"}},
		{line: "INFO text=%e2%96%88", verb: "INFO", fields: map[string]string{"text": "█"}},
		{line: "ANSWER text=", verb: "ANSWER", fields: map[string]string{"text": ""}},
		{line: "CMD user.require user=a days=3", verb: "CMD", args: []string{"user.require"}, fields: map[string]string{"user": "a", "days": "3"}},
		{line: "OK", verb: "OK"},
		{line: "LOGIN text=a=b", verb: "LOGIN", fields: map[string]string{"text": "a=b"}},
		{line: "", bad: true},
		{line: "login user=a", bad: true},
		{line: "LOGIN  user=a", bad: true},
		{line: "LOGIN user=a ", bad: true},
		{line: " LOGIN", bad: true},
		{line: "LOGIN user=a user=b", bad: true},
		{line: "LOGIN User=a", bad: true},
		{line: "LOGIN user=%zz", bad: true},
		{line: "LOGIN user=%4", bad: true},
		{line: "LOGIN user=%ff", bad: true},
		{line: "LOGIN user=a\x00", bad: true},
		{line: "LOGIN user=a%00", bad: true},
		{line: "INFO text=\xe2\x96\x88", bad: true},
		{line: "LOGIN user=a\r", bad: true},
		{line: "LOGIN user=a\tb", bad: true},
		{line: "LOGIN user=a b", bad: true},
		{line: "VERYLONGVERBNAMEXX", bad: true},
		{line: "LOGIN " + strings.Repeat("k", 33) + "=v", bad: true},
		{line: "LOGIN =v", bad: true},
		{line: "LOGIN text=" + strings.Repeat("a", MaxLine), bad: true},
	}
	for _, tc := range cases {
		l, err := Parse(tc.line)
		if tc.bad {
			if !errors.Is(err, ErrProtocol) {
				t.Errorf("Parse(%q) = %+v, %v; want a protocol error", tc.line, l, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.line, err)
			continue
		}
		if l.Verb != tc.verb || strings.Join(l.Args, ",") != strings.Join(tc.args, ",") || len(l.Fields) != len(tc.fields) {
			t.Errorf("Parse(%q) = %+v", tc.line, l)
		}
		for k, v := range tc.fields {
			if l.Fields[k] != v {
				t.Errorf("Parse(%q)[%s] = %q, want %q", tc.line, k, l.Fields[k], v)
			}
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	text := "Scan this:\n█▀▄ 100% done=yes"
	line, err := Format("INFO", nil, "text", text)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(line, " ") != 1 || strings.ContainsAny(line[:len(line)-1], "\r\n\x00") {
		t.Fatalf("encoded line has raw separators: %q", line)
	}
	l, err := Parse(strings.TrimSuffix(line, "\n"))
	if err != nil || l.Get("text") != text {
		t.Fatalf("round trip: %q, %v", l.Get("text"), err)
	}
	word, _ := Format("CMD", []string{"a=b"})
	if l, err := Parse(strings.TrimSuffix(word, "\n")); err != nil || len(l.Args) != 1 || l.Args[0] != "a=b" {
		t.Fatalf("positional word with '=': %q -> %+v %v", word, l, err)
	}
	if _, err := Format("INFO", nil, "text", strings.Repeat("█", 1400)); err == nil {
		t.Fatal("an over-long line was formatted")
	}
}

func TestReadLineLimits(t *testing.T) {
	ok := strings.Repeat("a", MaxLine-1) + "\n"
	if _, err := ReadLine(bufio.NewReaderSize(strings.NewReader("INFO text="+ok[10:]), 16)); err != nil {
		t.Fatalf("a %d-byte line was refused: %v", MaxLine, err)
	}
	long := "INFO text=" + strings.Repeat("a", MaxLine) + "\n"
	if _, err := ReadLine(bufio.NewReaderSize(strings.NewReader(long), 16)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("overlong line: %v", err)
	}
	if _, err := ReadLine(bufio.NewReader(strings.NewReader("HELLO 1"))); !errors.Is(err, ErrProtocol) {
		t.Fatalf("line without newline: %v", err)
	}
}

// FuzzParse: any line either parses into fields that format back to a line
// that parses the same, or is a protocol error. Never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"HELLO 1 pam", "LOGIN user=alice service=sshd surface=ssh rhost=10.0.0.5 tty=ssh",
		"ASK echo=off text=Verification%20code%3A%20", "VERDICT allow reason=totp", "ANSWER text=123456",
		"INFO text=%E2%96%88", "LOGIN user=%", "X a=b=c", "CMD a b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		l, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("non-protocol error %v", err)
			}
			return
		}
		var kv []string
		for k, v := range l.Fields {
			kv = append(kv, k, v)
		}
		line, err := Format(l.Verb, l.Args, kv...)
		if err != nil {
			return // re-encoding may grow past the limit
		}
		l2, err := Parse(strings.TrimSuffix(line, "\n"))
		if err != nil {
			t.Fatalf("re-formatted %q does not parse: %v", line, err)
		}
		if l2.Verb != l.Verb || len(l2.Fields) != len(l.Fields) || len(l2.Args) != len(l.Args) {
			t.Fatalf("round trip changed %q -> %q", raw, line)
		}
		for k, v := range l.Fields {
			if l2.Fields[k] != v {
				t.Fatalf("round trip changed %s", k)
			}
		}
	})
}

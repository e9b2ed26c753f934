package printable

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"192.0.2.7", "192.0.2.7"},
		{"Zoë 東京", "Zoë 東京"},
		{"evil\nJan 1 login alice allow", `evil\nJan 1 login alice allow`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"a\rb\tc\x00d\x7f", `a\rb\tc\x00d\x7f`},
		{"csi\u009b2J", `csi\u{009b}2J`},
		{"bidi\u202eflipped\u2066", `bidi\u{202e}flipped\u{2066}`},
		{"not utf8 \xff\xfe", `not utf8 \xff\xfe`},
		{`back\slash`, `back\\slash`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"alice", "a\nb", "\x1b[2J", "\u202e", "\xff", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || needsEscape(r, utf8.RuneLen(r)) && r != '\\' {
				t.Fatalf("Escape(%q) = %q still holds %U", s, out, r)
			}
		}
		if !strings.ContainsAny(s, "\\") && utf8.ValidString(s) && Escape(s) == s {
			for _, r := range s {
				if needsEscape(r, utf8.RuneLen(r)) {
					t.Fatalf("Escape(%q) left %U", s, r)
				}
			}
		}
	})
}

package recovery

import (
	"strings"
	"testing"
)

func TestNormalizeReadsWhatPeopleType(t *testing.T) { // R4
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"4k7m-9xqp", "4k7m9xqp", true},
		{"4k7m9xqp", "4k7m9xqp", true},
		{"4K7M-9XQP", "4k7m9xqp", true},
		{"  4k7m - 9xqp\t", "4k7m9xqp", true},
		{"4k7m 9xqp", "4k7m9xqp", true},
		{"4k7m-9xq", "", false},                           // short
		{"4k7m-9xqpz", "", false},                         // long
		{"0k7m-9xqp", "", false},                          // 0 is not in the alphabet
		{"ok7m-9xqp", "", false},                          // nor o
		{"1k7m-9xqp", "", false},                          // nor 1
		{"lk7m-9xqp", "", false},                          // nor l
		{"123456", "", false},                             // a TOTP code
		{"", "", false},                                   // Enter
		{"4k7m_9xqp", "", false},                          // other punctuation
		{"4k7m-9xqp\x00", "", false},                      // NUL
		{"４k7m-9xqp", "", false},                          // full-width digit
		{strings.Repeat(" ", 60) + "4k7m9xqp", "", false}, // over maxInput
	} {
		got, ok := Normalize(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAlphabetHas32UnambiguousSymbols(t *testing.T) { // R1
	if len(Alphabet) != 32 || 1<<(Bits/Length) != len(Alphabet) {
		t.Fatalf("alphabet of %d symbols, %d bits per code", len(Alphabet), Bits)
	}
	seen := map[rune]bool{}
	for _, r := range Alphabet {
		if seen[r] || strings.ContainsRune("01lo", r) {
			t.Fatalf("symbol %q repeated or ambiguous", r)
		}
		seen[r] = true
	}
}

func TestGenerateMakesDistinctReadableCodes(t *testing.T) { // R1
	codes, err := Generate(MaxCount)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != Length+1 || c[4] != '-' {
			t.Fatalf("code %q is not two groups of four", c)
		}
		canon, ok := Normalize(c)
		if !ok || Format(canon) != c || seen[canon] {
			t.Fatalf("code %q: normalize %q %v, or repeated", c, canon, ok)
		}
		seen[canon] = true
	}
	for _, n := range []int{0, -1, MaxCount + 1} {
		if _, err := Generate(n); err == nil {
			t.Errorf("Generate(%d) accepted", n)
		}
	}
}

// Every symbol turns up at roughly its share: no symbol is favoured.
func TestGenerateIsUniform(t *testing.T) {
	count := map[rune]int{}
	total := 0
	for i := 0; i < 200; i++ {
		codes, _ := Generate(MaxCount)
		for _, c := range codes {
			for _, r := range strings.ReplaceAll(c, "-", "") {
				count[r]++
				total++
			}
		}
	}
	want := total / len(Alphabet) // 2500
	for _, r := range Alphabet {
		if n := count[r]; n < want*8/10 || n > want*12/10 {
			t.Errorf("symbol %q: %d of %d, want about %d", r, n, total, want)
		}
	}
}

func TestHashMatchesOnlyItsCode(t *testing.T) { // R2
	codes, _ := Generate(5)
	hashes, err := HashAll(codes)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range codes {
		canon, _ := Normalize(strings.ToUpper(c))
		if got := Match(hashes, canon); got != i {
			t.Fatalf("code %d matched %d", i, got)
		}
	}
	if Match(hashes, "22222222") != -1 {
		t.Fatal("a code never issued matched")
	}
	// Salted: the same code hashes differently each time.
	a, _ := HashCode(codes[0])
	if string(a.Sum) == string(hashes[0].Sum) {
		t.Fatal("two hashes of one code are equal: no salt")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"4k7m-9xqp", "4K7M9XQP", " 4k7m - 9xqp ", "123456", "", "----", "0o1l-0o1l", "ｋ", "4k7m-9xqp-", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		canon, ok := Normalize(in)
		if !ok {
			if canon != "" {
				t.Fatalf("refused %q but returned %q", in, canon)
			}
			return
		}
		if len(canon) != Length {
			t.Fatalf("%q → %q: not %d symbols", in, canon, Length)
		}
		for i := 0; i < len(canon); i++ {
			if !strings.ContainsRune(Alphabet, rune(canon[i])) {
				t.Fatalf("%q → %q: %q is not in the alphabet", in, canon, canon[i])
			}
		}
		// Canonical forms are fixed points, in every spelling a person
		// might type them.
		for _, spelling := range []string{canon, Format(canon), strings.ToUpper(Format(canon)), " " + Format(canon) + " "} {
			if again, ok := Normalize(spelling); !ok || again != canon {
				t.Fatalf("%q → %q, but %q → %q %v", in, canon, spelling, again, ok)
			}
		}
		// What was accepted is the input with separators dropped and
		// case folded: nothing else was changed or invented.
		stripped := strings.NewReplacer(" ", "", "\t", "", "-", "").Replace(strings.ToLower(in))
		if stripped != canon {
			t.Fatalf("%q → %q, want %q", in, canon, stripped)
		}
	})
}

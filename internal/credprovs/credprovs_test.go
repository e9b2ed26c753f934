package credprovs

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The DLL's table (credprovider/settings.cpp, kKnownProviders) and this
// one must be the same rows: a name the command accepts must keep what the
// filter keeps.
func TestTableMatchesTheDLL(t *testing.T) {
	src, err := os.ReadFile("../../credprovider/settings.cpp")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`\{L"(\w+)", L"(\{[0-9a-f-]+\})"\}`).FindAllStringSubmatch(string(src), -1)
	if len(rows) != len(Table) {
		t.Fatalf("settings.cpp has %d rows, Table %d", len(rows), len(Table))
	}
	for i, r := range rows {
		if r[1] != Table[i].Name || r[2] != Table[i].CLSID {
			t.Errorf("row %d: settings.cpp %s %s, Table %s %s", i, r[1], r[2], Table[i].Name, Table[i].CLSID)
		}
	}
}

func TestParseKeepsExactlyTheValidEntries(t *testing.T) {
	tests := []struct {
		in      []string
		split   bool
		clsids  []string
		ignored int
	}{
		{nil, false, nil, 0},
		{[]string{"NGC", "{F8A1793B-7873-4046-B2A7-1F318747F427}"}, false, []string{"{d6886603-9d2f-4eb2-b667-1971041fa96b}", "{f8a1793b-7873-4046-b2a7-1f318747f427}"}, 0},
		{[]string{"smartcardprovider"}, false, []string{"{8fd7e19c-3bf7-489b-a72c-846ab3678c96}", "{94596c7e-3744-41ce-893e-bbf09122f76a}", "{1b283861-754f-4022-ad47-a5eaaa618894}", "{1ee7337f-85ac-45e2-a23c-37c753209769}"}, 0},
		{[]string{"FIDO; d6886603-9d2f-4eb2-b667-1971041fa96b"}, true, []string{"{f8a1793b-7873-4046-b2a7-1f318747f427}", "{d6886603-9d2f-4eb2-b667-1971041fa96b}"}, 0},
		// The harness's near misses: none keeps anything.
		{[]string{"bogus", "Password", "PasswordProvider*", "{60b78e88-ead8-445c-9cfd-0b87f74ea6cd", "60b78e88ead8445c9cfd0b87f74ea6cd",
			"{60b78e88-ead8-445c-9cfd-0b87f74ea6cdX}", "{g0b78e88-ead8-445c-9cfd-0b87f74ea6cd}", "*", "{}"}, false, nil, 9},
		// One REG_MULTI_SZ string is one entry: a list inside it is not a name.
		{[]string{"FIDO;NGC"}, false, nil, 1},
		{[]string{"junk", "FIDO", "{zz}"}, false, []string{"{f8a1793b-7873-4046-b2a7-1f318747f427}"}, 2},
	}
	for _, tt := range tests {
		kept, ignored := Parse(tt.in, tt.split)
		var got []string
		for _, k := range kept {
			got = append(got, k.CLSIDs...)
		}
		if strings.Join(got, " ") != strings.Join(tt.clsids, " ") || len(ignored) != tt.ignored {
			t.Errorf("Parse(%q) = %v, ignored %q; want %v and %d ignored", tt.in, got, ignored, tt.clsids, tt.ignored)
		}
	}
}

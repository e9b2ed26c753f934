package accounts

import (
	"os/user"
	"testing"
)

// The account running the test resolves, and its canonical name resolves
// to the same account: the key is stable whichever spelling arrives.
func TestLookupOfARealAccount(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	a, found, err := System{}.Lookup(me.Username)
	if err != nil || !found {
		t.Fatalf("Lookup(%q) = %+v, %v, %v", me.Username, a, found, err)
	}
	if a.ID != me.Uid { // the uid, or the SID on Windows
		t.Fatalf("Lookup(%q).ID = %q, want %q", me.Username, a.ID, me.Uid)
	}
	again, found, err := System{}.Lookup(a.Name)
	if err != nil || !found || again != a {
		t.Fatalf("Lookup of the canonical name %q = %+v, %v, %v; want %+v", a.Name, again, found, err, a)
	}
}

func TestUnknownNameIsNotFoundWithoutError(t *testing.T) {
	a, found, err := System{}.Lookup("jcmfa-no-such-account-7f3a")
	if err != nil || found {
		t.Fatalf("Lookup of an unknown name = %+v, %v, %v; want not found, no error", a, found, err)
	}
}

func TestLoose(t *testing.T) {
	for in, want := range map[string]string{"alice": "alice", "ALICE": "alice", "alice@corp.example": "alice",
		`CORP\Alice`: "alice", `.\alice`: "alice"} {
		if got := Loose(in); got != want {
			t.Errorf("Loose(%q) = %q, want %q", in, got, want)
		}
	}
}

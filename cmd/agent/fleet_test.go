package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/fleet"
	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
)

// run runs jcmfa-agent with args in this process and returns what it
// printed on stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	err = root.Execute()
	os.Stdout = saved
	w.Close()
	return <-done, err
}

var shownCode = regexp.MustCompile(`(?m)^  ([2-9a-z]{4}-[2-9a-z]{4})$`)

// The admin's CLI round trip: add prints the codes once, list and status
// show the set's size (never a code), publish sends it, remove revokes it.
// The device side of the same round trip is in internal/daemon's
// TestFleetTwoDevicesOverHTTPS (FleetRecoveryCodeIsSpentPerDevice).
func TestFleetRecoveryCodesCLI(t *testing.T) { // R13, R15, R18
	dir := filepath.Join(t.TempDir(), "fleet")
	if _, err := run(t, "fleet", "init", dir, "--bin-bits", "2"); err != nil {
		t.Fatal(err)
	}
	id, _ := fleet.NewIdentity()
	ws := fleet.Workspace{Dir: dir}
	ws.AddDevice("a", id.Recipient().String(), time.Now())
	ws.AddSecret("", "alice", store.Secret{Key: "JBSWY3DPEHPK3PXP", Algorithm: "SHA1", Digits: 6, Period: 30}, false)
	spec := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(spec, []byte("version: 1\norg: {totp: true}\nusers:\n  alice: {devices: [a]}\n"), 0o644)

	out, err := run(t, "fleet", "recovery-codes", "add", "alice", dir, "--count", "4")
	if err != nil {
		t.Fatal(err)
	}
	codes := shownCode.FindAllStringSubmatch(out, -1)
	if len(codes) != 4 || !strings.Contains(out, "4 new fleet recovery codes for alice, set ") || !strings.Contains(out, "fleet publish") {
		t.Fatalf("add printed:\n%s", out)
	}
	for _, c := range codes {
		if _, ok := recovery.Normalize(c[1]); !ok {
			t.Fatalf("%q is not a recovery code", c[1])
		}
	}
	set := regexp.MustCompile(`set ([0-9a-f]{32})`).FindStringSubmatch(out)[1]
	if _, err := run(t, "fleet", "recovery-codes", "add", "alice", dir, "--count", "51"); err == nil {
		t.Fatal("--count 51 accepted")
	}
	out, err = run(t, "fleet", "recovery-codes", "add", "alice", dir)
	if err != nil || len(shownCode.FindAllString(out, -1)) != recovery.DefaultCount || !strings.Contains(out, "They replace set "+set) {
		t.Fatalf("re-issue printed (%v):\n%s", err, out)
	}
	set2 := regexp.MustCompile(`set ([0-9a-f]{32})`).FindStringSubmatch(out)[1]
	for _, args := range [][]string{{"fleet", "recovery-codes", "list", dir}, {"fleet", "status", dir}} {
		out, err = run(t, args...)
		if err != nil || !regexp.MustCompile(`alice\s+`+set2+`\s+10\s`).MatchString(out) {
			t.Fatalf("%s printed (%v):\n%s", strings.Join(args, " "), err, out)
		}
		for _, c := range codes {
			if strings.Contains(out, c[1]) {
				t.Fatalf("%s shows a code", strings.Join(args, " "))
			}
		}
	}
	if _, err := run(t, "fleet", "publish", spec, dir); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "fleet", "recovery-codes", "remove", "alice", dir)
	if err != nil || !strings.Contains(out, "removed set "+set2+" (10 codes) of alice") {
		t.Fatalf("remove printed (%v):\n%s", err, out)
	}
	if out, _ := run(t, "fleet", "status", dir); !strings.Contains(out, "recovery codes: no fleet sets") {
		t.Fatalf("status after remove:\n%s", out)
	}
}

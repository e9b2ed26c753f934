package fleet

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/jcmfa/jcmfa/internal/recovery"
	"github.com/jcmfa/jcmfa/internal/store"
)

// bundleFor opens the bundle publish wrote for the device with id.
func bundleFor(t *testing.T, w Workspace, id *age.X25519Identity) Payload {
	t.Helper()
	dir, base := filepath.Split(TargetPath(id.Recipient().String()))
	files, _ := filepath.Glob(filepath.Join(w.RepositoryDir(), "targets", dir, "*."+base))
	var newest string
	var at time.Time
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && !fi.ModTime().Before(at) {
			newest, at = f, fi.ModTime()
		}
	}
	raw, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenBundle(raw, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func recoveryOf(p Payload, user string) *store.FleetRecovery {
	for _, u := range p.Users {
		if u.Name == user {
			return u.Recovery
		}
	}
	return nil
}

// The fleet's recovery codes: shown once, kept as hashes with a set id in
// secrets.age, published in the bound users' bundle records only.
func TestFleetRecoveryCodesGoIntoTheBundleAsHashes(t *testing.T) { // R13, R15, R18
	w, err := Init(filepath.Join(t.TempDir(), "fleet"), InitOptions{BinBits: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := NewIdentity()
	b, _ := NewIdentity()
	now := time.Now()
	for name, id := range map[string]*age.X25519Identity{"a": a, "b": b} {
		if err := w.AddDevice(name, id.Recipient().String(), now); err != nil {
			t.Fatal(err)
		}
	}
	sec := store.Secret{Key: "JBSWY3DPEHPK3PXP", Algorithm: "SHA1", Digits: 6, Period: 30, EnrolledAt: now}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := w.AddSecret("", u, sec, false); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(w.Dir, "fleet.yaml")
	os.WriteFile(spec, []byte("version: 1\norg: {totp: true}\nusers:\n  alice: {devices: [a]}\n  bob: {devices: [a, b]}\n  carol: {devices: [a], enrolled: false}\n"), 0o644)

	alice, err := w.IssueRecovery("", "alice", 0, now)
	if err != nil || len(alice.Codes) != recovery.DefaultCount || len(alice.Set) != 32 || alice.Replaced != "" {
		t.Fatalf("issue: %+v %v", alice, err)
	}
	bob1, _ := w.IssueRecovery("", "bob", 3, now)
	if _, err := w.IssueRecovery("", "carol", 2, now); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{-1, recovery.MaxCount + 1} {
		if _, err := w.IssueRecovery("", "bob", n, now); err == nil {
			t.Errorf("count %d accepted", n)
		}
	}
	if _, err := w.IssueRecovery("", "../x", 1, now); err == nil {
		t.Error("a name that is no account name accepted")
	}
	// secrets.age holds hashes, never a code (R2).
	id, _ := w.LoadIdentity("")
	raw, _ := os.ReadFile(w.path(secretsFile))
	rd, _ := age.Decrypt(bytes.NewReader(raw), id)
	plain, _ := io.ReadAll(rd)
	for _, c := range append(alice.Codes, bob1.Codes...) {
		canon, _ := recovery.Normalize(c)
		if bytes.Contains(plain, []byte(c)) || bytes.Contains(plain, []byte(canon)) {
			t.Fatalf("secrets.age holds code %s", c)
		}
	}
	// Adding a secret keeps the sets (secrets.age is rewritten whole).
	if err := w.AddSecret("", "dave", sec, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Publish(spec, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	pa, pb := bundleFor(t, w, a), bundleFor(t, w, b)
	ra := recoveryOf(pa, "alice")
	if ra == nil || ra.Set != alice.Set || len(ra.Codes) != 10 || ra.Check() != nil {
		t.Fatalf("alice's set in a's bundle: %+v", ra)
	}
	for i, c := range alice.Codes {
		canon, _ := recovery.Normalize(c)
		if recovery.Match(ra.Codes, canon) != i {
			t.Fatalf("code %d does not match its hash in the bundle", i)
		}
	}
	if rb := recoveryOf(pb, "bob"); rb == nil || rb.Set != bob1.Set || recoveryOf(pb, "alice") != nil {
		t.Fatalf("b's bundle: bob %+v; alice (not bound to b) must be absent", rb)
	}
	if recoveryOf(pa, "carol") != nil {
		t.Fatal("carol is withheld (enrolled: false), yet her recovery set was published")
	}

	// Re-issue: a new set id replaces the old one (R15).
	bob2, err := w.IssueRecovery("", "bob", 4, now)
	if err != nil || bob2.Set == bob1.Set || bob2.Replaced != bob1.Set {
		t.Fatalf("re-issue: %+v %v", bob2, err)
	}
	sets, err := w.RecoverySets("")
	if err != nil || len(sets) != 3 || sets[1].User != "bob" || sets[1].Codes != 4 || sets[1].Set != bob2.Set {
		t.Fatalf("list: %+v %v", sets, err)
	}
	if _, err := w.Publish(spec, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if rb := recoveryOf(bundleFor(t, w, b), "bob"); rb == nil || rb.Set != bob2.Set || len(rb.Codes) != 4 {
		t.Fatalf("b's bundle after re-issue: %+v", rb)
	}

	// Remove: the next bundle carries no set.
	if rs, err := w.RemoveRecovery("", "bob"); err != nil || rs.Set != bob2.Set || rs.Codes != 4 {
		t.Fatalf("remove: %+v %v", rs, err)
	}
	if _, err := w.RemoveRecovery("", "bob"); err == nil || !strings.Contains(err.Error(), "no fleet recovery codes") {
		t.Fatalf("remove twice: %v", err)
	}
	if _, err := w.Publish(spec, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if rb := recoveryOf(bundleFor(t, w, b), "bob"); rb != nil {
		t.Fatalf("b's bundle after removal still has %+v", rb)
	}

	// A set devices would refuse (R17) is refused at publish first.
	doc, _ := w.openSecrets(id)
	rs := doc.Recovery["alice"]
	for len(rs.Codes) <= recovery.MaxCount {
		rs.Codes = append(rs.Codes, rs.Codes[0])
	}
	doc.Recovery["alice"] = rs
	if err := w.saveSecrets(doc); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Publish(spec, PublishOptions{}); err == nil || !strings.Contains(err.Error(), "alice: recovery set "+alice.Set+" has 51 codes") {
		t.Fatalf("publish with an over-limit set: %v", err)
	}
}

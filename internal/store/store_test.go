package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func testKey(t testing.TB) []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

func openTemp(t testing.TB) (*Store, string, []byte) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "jcmfa.db")
	key := testKey(t)
	s, err := Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path, key
}

func TestRecordsRoundTrip(t *testing.T) {
	s, _, _ := openTemp(t)
	now := time.Now().UTC().Truncate(time.Second)
	u := User{Name: "alice", Required: true, EnrollDays: 14, TOTP: &Secret{Key: "JBSWY3DPEHPK3PXP", Algorithm: "SHA1", Digits: 6, Period: 30, EnrolledAt: now}, Created: now}
	st := State{PeriodStart: now, LastStep: 42, Failures: 2}
	err := s.Update(func(tx *Tx) error {
		if err := tx.PutUser(u); err != nil {
			return err
		}
		return tx.PutState("alice", st)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		got, found, err := tx.User("alice")
		if err != nil || !found || got.TOTP.Key != u.TOTP.Key || !got.Required || got.EnrollDays != 14 {
			t.Fatalf("user = %+v, %v, %v", got, found, err)
		}
		gst, err := tx.State("alice")
		if err != nil || gst.LastStep != 42 || gst.Failures != 2 || !gst.PeriodStart.Equal(now) {
			t.Fatalf("state = %+v, %v", gst, err)
		}
		if _, found, err := tx.User("bob"); found || err != nil {
			t.Fatalf("bob: found=%v err=%v", found, err)
		}
		return nil
	})
}

func TestSecretsAreNotStoredInClear(t *testing.T) {
	s, path, _ := openTemp(t)
	s.Update(func(tx *Tx) error {
		return tx.PutUser(User{Name: "alice", TOTP: &Secret{Key: "SECRETSECRETSECRETSECRET", Algorithm: "SHA1", Digits: 6, Period: 30}})
	})
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("SECRETSECRET")) {
		t.Fatal("the TOTP secret is readable in the store file")
	}
}

// rawPut writes bytes straight into the bbolt file, as an attacker with
// write access to it would.
func rawEdit(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestTamperedRecordsFailClosed(t *testing.T) {
	cases := []struct {
		name string
		edit func(tx *bolt.Tx) error
	}{
		{"flipped byte", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketUsers)
			v := append([]byte(nil), b.Get([]byte("alice"))...)
			v[len(v)-1] ^= 1
			return b.Put([]byte("alice"), v)
		}},
		{"truncated", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketUsers).Put([]byte("alice"), []byte{1, 2, 3})
		}},
		{"copied from bob", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketUsers)
			return b.Put([]byte("alice"), append([]byte(nil), b.Get([]byte("bob"))...))
		}},
		{"moved from state bucket", func(tx *bolt.Tx) error {
			v := append([]byte(nil), tx.Bucket(bucketState).Get([]byte("alice"))...)
			return tx.Bucket(bucketUsers).Put([]byte("alice"), v)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, path, key := openTemp(t)
			s.Update(func(tx *Tx) error {
				tx.PutUser(User{Name: "alice", Required: true})
				tx.PutState("alice", State{Failures: 1})
				return tx.PutUser(User{Name: "bob", Required: true, TOTP: &Secret{Key: "AAAA"}})
			})
			s.Close()
			rawEdit(t, path, tc.edit)
			s2, err := Open(path, key, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			err = s2.View(func(tx *Tx) error {
				_, found, err := tx.User("alice")
				if found {
					t.Error("a tampered record was returned as found")
				}
				return err
			})
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("err = %v, want ErrTampered", err)
			}
		})
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	s, path, _ := openTemp(t)
	s.Close()
	_, err := Open(path, testKey(t), Options{})
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
}

func TestUnknownSchemaIsRefused(t *testing.T) {
	s, path, key := openTemp(t)
	s.Close()
	rawEdit(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, 9})
	})
	_, err := Open(path, key, Options{})
	if !errors.Is(err, ErrSchema) {
		t.Fatalf("err = %v, want ErrSchema", err)
	}
}

func TestSecondOpenIsRefusedClearly(t *testing.T) {
	_, path, key := openTemp(t)
	_, err := Open(path, key, Options{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("in use")) {
		t.Fatalf("err = %v, want 'in use'", err)
	}
}

func TestAuditRingIsBounded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s, err := Open(filepath.Join(dir, "db"), testKey(t), Options{AuditCap: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 25; i++ {
		s.Update(func(tx *Tx) error { return tx.AppendEvent(&Event{Kind: "login", Detail: string(rune('a' + i))}) })
	}
	s.View(func(tx *Tx) error {
		evs, err := tx.Events(100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 10 || evs[0].Seq != 16 || evs[9].Seq != 25 {
			t.Fatalf("got %d events, first %d last %d; want 10 events 16..25", len(evs), evs[0].Seq, evs[len(evs)-1].Seq)
		}
		last, _ := tx.Events(3)
		if len(last) != 3 || last[2].Seq != 25 || last[0].Seq != 23 {
			t.Fatalf("Events(3) = %+v", last)
		}
		return nil
	})
}

func TestPoliciesCRUD(t *testing.T) {
	s, _, _ := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		for _, name := range []string{"a", "b"} {
			id, err := tx.NewPolicyID()
			if err != nil {
				return err
			}
			if err := tx.PutPolicy(Policy{ID: id, Name: name, Enabled: true, AllUsers: true}); err != nil {
				return err
			}
		}
		return tx.DeletePolicy("1")
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		ps, err := tx.Policies()
		if err != nil || len(ps) != 1 || ps[0].Name != "b" {
			t.Fatalf("policies = %+v, %v", ps, err)
		}
		if err := tx.DeletePolicy("1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete missing: %v", err)
		}
		return nil
	})
}

// FuzzOpenRecord: whatever bytes sit in a record's slot, reading it returns
// the record that was sealed there or ErrTampered — never a panic, never a
// different record.
func FuzzOpenRecord(f *testing.F) {
	key := make([]byte, KeySize)
	sl, _ := newSealer(key)
	// A fixed nonce, so every fuzz worker process computes the same record.
	nonce := make([]byte, sl.aead.NonceSize())
	good := append([]byte{sealVersion}, nonce...)
	good = sl.aead.Seal(good, nonce, []byte(`{"name":"alice"}`), additionalData(bucketUsers, []byte("alice")))
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(append([]byte{2}, good[1:]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := sl.open(bucketUsers, []byte("alice"), b)
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("error %v is not ErrTampered", err)
			}
			return
		}
		if !bytes.Equal(b, good) || string(pt) != `{"name":"alice"}` {
			t.Fatalf("forged input opened: %q", pt)
		}
	})
}

// The config cache must never answer with a value the file no longer holds.
func TestConfigCacheFollowsEveryWrite(t *testing.T) {
	s, _, _ := openTemp(t)
	for i, org := range []bool{true, false, true} {
		s.Update(func(tx *Tx) error {
			st := DefaultSettings()
			st.OrgTOTP, st.AttemptLimit = org, i+1
			return tx.PutSettings(st)
		})
		s.View(func(tx *Tx) error {
			st, err := tx.Settings()
			if err != nil || st.OrgTOTP != org || st.AttemptLimit != i+1 {
				t.Fatalf("write %d: read %+v, %v", i, st, err)
			}
			return nil
		})
	}
	s.Update(func(tx *Tx) error { return tx.PutPolicy(Policy{ID: "1", Name: "a", Enabled: true, AllUsers: true}) })
	s.View(func(tx *Tx) error { tx.Policies(); return nil })
	s.Update(func(tx *Tx) error { return tx.PutPolicy(Policy{ID: "1", Name: "a", Enabled: false, AllUsers: true}) })
	s.View(func(tx *Tx) error {
		ps, err := tx.Policies()
		if err != nil || len(ps) != 1 || ps[0].Enabled {
			t.Fatalf("after disabling: %+v, %v", ps, err)
		}
		return nil
	})
	s.Update(func(tx *Tx) error { return tx.DeletePolicy("1") })
	s.View(func(tx *Tx) error {
		if ps, _ := tx.Policies(); len(ps) != 0 {
			t.Fatalf("deleted policy still listed: %+v", ps)
		}
		return nil
	})
}

// User records are cached by their sealed bytes: what a caller does to the
// record it got never changes what the next read returns, and a rewrite
// (fresh nonce) is read anew.
func TestUserCacheIsInvisible(t *testing.T) {
	s, _, _ := openTemp(t)
	put := func(key string) {
		t.Helper()
		if err := s.Update(func(tx *Tx) error {
			return tx.PutUser(User{Name: "alice", TOTP: &Secret{Key: key, Digits: 6, Period: 30}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	get := func() User {
		t.Helper()
		var u User
		if err := s.View(func(tx *Tx) (err error) { u, _, err = tx.User("alice"); return err }); err != nil {
			t.Fatal(err)
		}
		return u
	}
	put("AAAA")
	u := get()
	u.TOTP.Key = "changed by a caller"
	if got := get().TOTP.Key; got != "AAAA" {
		t.Fatalf("second read gave %q", got)
	}
	put("BBBB")
	if got := get().TOTP.Key; got != "BBBB" {
		t.Fatalf("read after a rewrite gave %q", got)
	}
}

package store

import (
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jcmfa/jcmfa/internal/recovery"
)

// A recovery record is sealed and bound to its account like every other:
// copied to another account's slot it does not open (R8); removing the
// user removes it; a bundle leaves it (R11).
func TestRecoveryRecordIsSealedToItsAccount(t *testing.T) {
	s, path, key := openTemp(t)
	h, err := recovery.HashCode("2345-6789")
	if err != nil {
		t.Fatal(err)
	}
	rc := RecoveryCodes{Issued: time.Unix(1_800_000_000, 0).UTC(), By: "test", Total: 1, Codes: []recovery.Hash{h}}
	err = s.Update(func(tx *Tx) error {
		for _, u := range []string{"alice", "bob"} {
			if err := tx.PutUser(User{Name: u}); err != nil {
				return err
			}
			if err := tx.PutRecovery(u, rc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyBundle(Bundle{Record: FleetRecord{Managed: true, Serial: 1}, Settings: DefaultSettings()}, nil); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		got, found, err := tx.Recovery("alice")
		if err != nil || !found || len(got.Codes) != 1 || recovery.Match(got.Codes, "23456789") != 0 {
			t.Fatalf("after a bundle: %+v %v %v", got, found, err)
		}
		return nil
	})
	if err := s.Update(func(tx *Tx) error { return tx.DeleteUser("bob") }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		if _, found, _ := tx.Recovery("bob"); found {
			t.Fatal("DeleteUser left bob's recovery codes")
		}
		return nil
	})
	s.Close()

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecovery)
		return b.Put([]byte("carol"), append([]byte(nil), b.Get([]byte("alice"))...))
	})
	db.Close()
	s, err = Open(path, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.View(func(tx *Tx) error {
		if _, _, err := tx.Recovery("carol"); !errors.Is(err, ErrTampered) {
			t.Fatalf("alice's record under carol: err = %v, want ErrTampered", err)
		}
		return nil
	})
}

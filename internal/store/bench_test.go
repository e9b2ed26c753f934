package store

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// benchStore is a store with n enrolled users, as the login path sees it.
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	s, _, _ := openTemp(b)
	now := time.Now()
	err := s.Update(func(tx *Tx) error {
		for i := range n {
			u := User{Name: fmt.Sprintf("user%d", i), Required: true, Created: now,
				TOTP: &Secret{Key: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", Algorithm: "SHA1", Digits: 6, Period: 30, EnrolledAt: now}}
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkOpenSealed: AES-256-GCM open of one user record's bytes, with
// its bucket/key additional data: the decryption on every login.
func BenchmarkOpenSealed(b *testing.B) {
	s := benchStore(b, 1)
	var raw []byte
	s.View(func(tx *Tx) error {
		raw = append(raw, tx.tx.Bucket(bucketUsers).Get([]byte("user0"))...)
		return nil
	})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.seal.open(bucketUsers, []byte("user0"), raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadUser: Tx.User on a store of 10,000 users: the B+tree lookup,
// the decryption and the JSON decode of one record.
func BenchmarkReadUser(b *testing.B) {
	s := benchStore(b, 10000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		err := s.View(func(tx *Tx) error {
			_, ok, err := tx.User(fmt.Sprintf("user%d", i%10000))
			if !ok && err == nil {
				b.Fatal("user missing")
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateCommit: one writer at a time saving one user's living
// data with Update: the latency of one durable commit (fsync included).
func BenchmarkUpdateCommit(b *testing.B) {
	s := benchStore(b, 10000)
	i := 0
	for b.Loop() {
		i++
		err := s.Update(func(tx *Tx) error {
			return tx.PutState(fmt.Sprintf("user%d", i%10000), State{LastStep: int64(i)})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecord: the same through Record on a served store, as the
// daemon's logins write: the rolling transaction, committed every
// commitDelay.
func BenchmarkRecord(b *testing.B) {
	s := benchStore(b, 10000)
	if _, err := s.Serve(time.Now()); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		name := fmt.Sprintf("user%d", i%10000)
		err := s.Record(name, func(tx *Tx) error { return tx.PutState(name, State{LastStep: int64(i)}) })
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordParallel: 64 writers per CPU at once, as concurrent
// logins write.
func BenchmarkRecordParallel(b *testing.B) {
	s := benchStore(b, 10000)
	if _, err := s.Serve(time.Now()); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			name := fmt.Sprintf("user%d", i%10000)
			err := s.Record(name, func(tx *Tx) error { return tx.PutState(name, State{LastStep: i}) })
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReadConfig: the settings and two policies every login reads
// (twice): a cache hit after the first read, as long as the stored bytes
// are unchanged.
func BenchmarkReadConfig(b *testing.B) {
	s := benchStore(b, 1)
	err := s.Update(func(tx *Tx) error {
		st := DefaultSettings()
		st.OrgTOTP, st.DeviceMFA = true, true
		if err := tx.PutSettings(st); err != nil {
			return err
		}
		for _, id := range []string{"1", "2"} {
			if err := tx.PutPolicy(Policy{ID: id, Name: "p" + id, Enabled: true, Groups: []string{"wheel", "staff"}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		err := s.View(func(tx *Tx) error {
			if _, err := tx.Settings(); err != nil {
				return err
			}
			ps, err := tx.Policies()
			if len(ps) != 2 {
				b.Fatalf("%d policies", len(ps))
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

package engine

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

const benchSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// benchEngine is an engine over a store of n enrolled, required users
// (user0..), with a clock the benchmark moves.
func benchEngine(b *testing.B, n int, clock *atomic.Int64) *Engine {
	b.Helper()
	return benchEngineWith(b, n, clock, nil)
}

// benchEngineWith is benchEngine whose users each carry the fleet
// recovery set fs (nil: none), as a bundle gives them.
func benchEngineWith(b *testing.B, n int, clock *atomic.Int64, fs *store.FleetRecovery) *Engine {
	b.Helper()
	path := filepath.Join(b.TempDir(), "state", "jcmfa.db")
	key := make([]byte, store.KeySize)
	st, err := store.Open(path, key, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.Unix(clock.Load(), 0)
	s := store.DefaultSettings()
	s.OrgTOTP, s.DeviceMFA = true, true
	users := make([]store.User, n)
	for i := range users {
		users[i] = store.User{Name: fmt.Sprintf("user%d", i), Required: true, Created: now,
			TOTP: &store.Secret{Key: benchSecret, Algorithm: "SHA1", Digits: 6, Period: 30, EnrolledAt: now}, Recovery: fs}
	}
	if fs != nil {
		// Only a bundle brings fleet sets.
		err = st.ApplyBundle(store.Bundle{Record: store.FleetRecord{Managed: true, Serial: 1}, Settings: s, Users: users}, nil)
	} else {
		err = st.Update(func(tx *store.Tx) error {
			if err := tx.PutSettings(s); err != nil {
				return err
			}
			for _, u := range users {
				if err := tx.PutUser(u); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		b.Fatal(err)
	}
	e := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
	e.Directory = fakeDir{}
	return e
}

type silent struct{}

func (silent) Info(string) error                { return nil }
func (silent) Error(string) error               { return nil }
func (silent) Ask(bool, string) (string, error) { return "", nil }

// codeAt is the right code at a pass: the clock moves one time step per
// pass over the users, so every check is a first use of its step.
func codeAt(b *testing.B, pass int64) string {
	c, err := totp.Code(benchSecret, time.Unix(1_800_000_000+pass*30, 0), totp.Default)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkCheckCode: the write half of a login with a right code, one at a
// time: re-read the user, settings and state in a write transaction, verify,
// record the step and the audit event, commit (fsync included).
func BenchmarkCheckCode(b *testing.B) {
	benchCheckCode(b, nil)
}

// BenchmarkCheckCodeFleetRecovery: the same for users whose bundle gave
// them a fleet recovery set of 50 codes (the most R17 lets in). The set is
// kept beside the user record, read only for a recovery-shaped answer, so
// a TOTP login costs the same as without one (docs/policy.md R14).
func BenchmarkCheckCodeFleetRecovery(b *testing.B) {
	_, hashes, err := newRecoverySet(50)
	if err != nil {
		b.Fatal(err)
	}
	benchCheckCode(b, &store.FleetRecovery{Set: "00112233445566778899aabbccddeeff", Codes: hashes})
}

func benchCheckCode(b *testing.B, fs *store.FleetRecovery) {
	const users = 1000
	var clock atomic.Int64
	clock.Store(1_800_000_000)
	e := benchEngineWith(b, users, &clock, fs)
	code, i := codeAt(b, 0), 0
	for b.Loop() {
		if i > 0 && i%users == 0 {
			clock.Add(30)
			code = codeAt(b, int64(i/users))
		}
		req := LoginRequest{User: fmt.Sprintf("user%d", i%users), Surface: "ssh"}
		if v := e.checkCode(req, silent{}, code, nil); v.Word != Allow {
			b.Fatalf("login %d: %v", i, v)
		}
		i++
	}
}

// BenchmarkCheckCodeParallel: the same with 64 logins per CPU at once, as
// the daemon runs them: their writes share commits.
func BenchmarkCheckCodeParallel(b *testing.B) {
	const users = 10000
	var clock atomic.Int64
	clock.Store(1_800_000_000)
	e := benchEngine(b, users, &clock)
	var n atomic.Int64
	codes := make([]string, 0, 64)
	for p := range int64(cap(codes)) {
		codes = append(codes, codeAt(b, p))
	}
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1) - 1
			pass := i / users
			if pass >= int64(len(codes)) {
				b.Error("benchmark ran past its precomputed codes")
				return
			}
			// The clock only moves forward; a check from the previous pass
			// still in flight sees its step at -1, inside the window.
			for {
				c := clock.Load()
				if c >= 1_800_000_000+pass*30 || clock.CompareAndSwap(c, 1_800_000_000+pass*30) {
					break
				}
			}
			req := LoginRequest{User: fmt.Sprintf("user%d", i%users), Surface: "ssh"}
			if v := e.checkCode(req, silent{}, codes[pass], nil); v.Word != Allow {
				b.Errorf("login %d: %v", i, v)
				return
			}
		}
	})
}

// BenchmarkCheckWrongCode: the write half of a login with a wrong 6-digit
// code, the path a recovery-code lookup sits on (issue 17): it must not
// slow it, since only answers shaped like a recovery code are looked up.
// The failure count is cleared every few logins so no account locks.
func BenchmarkCheckWrongCode(b *testing.B) {
	const users = 1000
	var clock atomic.Int64
	clock.Store(1_800_000_000)
	e := benchEngine(b, users, &clock)
	wrong := "000000"
	if codeAt(b, 0) == wrong {
		wrong = "111111"
	}
	i := 0
	for b.Loop() {
		req := LoginRequest{User: fmt.Sprintf("user%d", i%users), Surface: "ssh"}
		if v := e.checkCode(req, silent{}, wrong, nil); v.Reason != "wrong-code" {
			b.Fatalf("login %d: %v", i, v)
		}
		i++
		if i%(users*4) == 0 {
			b.StopTimer()
			for u := range users {
				e.UnlockUser("bench", fmt.Sprintf("user%d", u))
			}
			b.StartTimer()
		}
	}
}

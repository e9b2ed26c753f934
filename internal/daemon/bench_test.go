//go:build !windows

// These tests use Unix sockets and POSIX credentials; the Windows named
// pipe is exercised under wine by credprovider/test (make test-wine).

package daemon_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/testenv"

	"github.com/jcmfa/jcmfa/internal/devicekey"
	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/paths"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/totp"
)

const benchSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// populate writes n enrolled, required users straight into a store.
func populate(tb testing.TB, stateDir string, n int) {
	testenv.Populate(tb, stateDir, n, func(i int) string { return "user" + strconv.Itoa(i) },
		func(string) string { return benchSecret }, 30)
}

func runDaemon(tb testing.TB, stateDir string) ipc.Client {
	return ipc.Client{Path: testenv.RunDaemon(tb, stateDir), Timeout: 30 * time.Second, Kind: "bench"}
}

type code string

func (c code) Info(string) error                { return nil }
func (c code) Error(string) error               { return nil }
func (c code) Ask(bool, string) (string, error) { return string(c), nil }

var (
	benchOnce  sync.Once
	benchState string
)

// BenchmarkLoginOverSocket: full login dialogues (connect, HELLO, LOGIN,
// ASK, ANSWER, VERDICT) against a daemon holding 100,000 enrolled users,
// each login a different user with a valid code, at several concurrencies.
// Reports verifications/s and the p99 latency of one login.
func BenchmarkLoginOverSocket(b *testing.B) {
	const users = 100000
	benchOnce.Do(func() {
		benchState, _ = os.MkdirTemp("", "jcmfa-bench-state")
		populate(b, filepath.Join(benchState, "s"), users)
	})
	c := runDaemon(b, filepath.Join(benchState, "s"))
	var next atomic.Int64
	for _, clients := range []int{1, 16, 256, 1024} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			var errs, allowed atomic.Int64 // allowed: every login is a fresh step for its user
			var done atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < clients; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var mine []time.Duration
					for done.Add(1) <= int64(b.N) {
						u := "user" + strconv.Itoa(int(next.Add(1)%users))
						cd, _ := totp.Code(benchSecret, time.Now(), totp.Default)
						t0 := time.Now()
						v, err := c.Login(engine.LoginRequest{User: u, Surface: "ssh", Interactive: false}, code(cd))
						mine = append(mine, time.Since(t0))
						if err != nil {
							errs.Add(1)
						} else if v.Word == engine.Allow {
							allowed.Add(1)
						}
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/el.Seconds(), "verifications/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			if errs.Load() > 0 {
				b.Fatalf("%d of %d logins failed at the transport", errs.Load(), b.N)
			}
			b.ReportMetric(float64(allowed.Load())/float64(b.N)*100, "%allowed")
		})
	}
}

// BenchmarkStoreOpen100k: opening a store of 100,000 users and reading the
// size of the file.
func BenchmarkStoreOpen100k(b *testing.B) {
	dir, _ := os.MkdirTemp("", "jcmfa-open")
	defer os.RemoveAll(dir)
	sd := filepath.Join(dir, "s")
	populate(b, sd, 100000)
	key, _ := devicekey.Default(sd).Key()
	fi, _ := os.Stat(paths.Store(sd))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := store.Open(paths.Store(sd), key, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	b.ReportMetric(float64(fi.Size())/1e6, "MB")
}

// BenchmarkListUsers100k: `users` over the socket with 100,000 users.
func BenchmarkListUsers100k(b *testing.B) {
	benchOnce.Do(func() {
		benchState, _ = os.MkdirTemp("", "jcmfa-bench-state")
		populate(b, filepath.Join(benchState, "s"), 100000)
	})
	c := runDaemon(b, filepath.Join(benchState, "s"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := c.Stream("users.list", nil, nil, func(json.RawMessage) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 100000 {
			b.Fatalf("%d rows", n)
		}
	}
}

//go:build linux && cgo

package benchtest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
)

const throughputUsers = 100000

var (
	tputOnce   sync.Once
	tputDaemon *daemonProc
	tputCodes  *codes
)

func bigName(i int) string { return "u" + strconv.Itoa(i) }

func throughputSetup(tb testing.TB) {
	tputOnce.Do(func() {
		names := make([]string, throughputUsers)
		for i := range names {
			names[i] = bigName(i)
		}
		sd := filepath.Join(work, "tput-state")
		populate(tb, sd, throughputUsers, bigName)
		tputDaemon = startDaemon(tb, sd)
		tputCodes = newCodes(names)
	})
	if tputDaemon == nil {
		tb.Fatal("throughput daemon setup failed earlier")
	}
}

type answer string

func (a answer) Info(string) error                { return nil }
func (a answer) Error(string) error               { return nil }
func (a answer) Ask(bool, string) (string, error) { return string(a), nil }

type tally struct {
	mu            sync.Mutex
	lat           latencies
	errs, allowed atomic.Int64
	firstErr      atomic.Value
	verdicts      sync.Map // reason -> *atomic.Int64
}

func (t *tally) add(lat []time.Duration) {
	t.mu.Lock()
	t.lat = append(t.lat, lat...)
	t.mu.Unlock()
}

// login runs one whole dialogue (connect, HELLO, LOGIN, ASK, ANSWER,
// VERDICT) as pam_jcmfa does and counts its outcome.
func (t *tally) login(c ipc.Client, user, code string, wantAllow bool) {
	v, err := c.Login(engine.LoginRequest{User: user, Surface: "ssh", Service: "sshd"}, answer(code))
	switch {
	case err != nil:
		t.errs.Add(1)
		t.firstErr.CompareAndSwap(nil, err.Error())
	case v.Word == engine.Allow:
		t.allowed.Add(1)
	}
	if err == nil {
		n, _ := t.verdicts.LoadOrStore(v.Word+"/"+v.Reason, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
}

func (t *tally) summary() string {
	s := ""
	t.verdicts.Range(func(k, v any) bool {
		s += fmt.Sprintf("%s %d ", k, v.(*atomic.Int64).Load())
		return true
	})
	if e := t.firstErr.Load(); e != nil {
		s += "first error: " + e.(string)
	}
	return s
}

// closedLoop: clients goroutines each run logins back to back until n
// logins are done. Latency includes connecting.
func closedLoop(c ipc.Client, clients, n int, next func() (string, string), wantAllow bool) (*tally, time.Duration) {
	t := &tally{}
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for done.Add(1) <= int64(n) {
				u, cd := next()
				t0 := time.Now()
				t.login(c, u, cd, wantAllow)
				mine = append(mine, time.Since(t0))
			}
			t.add(mine)
		}()
	}
	wg.Wait()
	return t, time.Since(start)
}

// openLoop offers rate logins a second for n logins, at most inFlight at a
// time. Each login's latency is measured from when it was due, not from
// when a worker got to it, so a daemon that falls behind shows it.
func openLoop(c ipc.Client, rate, inFlight, n int, next func() (string, string)) (*tally, time.Duration) {
	t := &tally{}
	type job struct {
		due        time.Time
		user, code string
	}
	jobs := make(chan job, n)
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for j := range jobs {
				if d := time.Until(j.due); d > 0 {
					time.Sleep(d)
				}
				t.login(c, j.user, j.code, true)
				mine = append(mine, time.Since(j.due))
			}
			t.add(mine)
		}()
	}
	start := time.Now().Add(20 * time.Millisecond)
	interval := time.Second / time.Duration(rate)
	for i := range n {
		u, cd := next()
		jobs <- job{due: start.Add(time.Duration(i) * interval), user: u, code: cd}
	}
	close(jobs)
	wg.Wait()
	return t, time.Since(start)
}

// BenchmarkDaemon: the daemon's throughput over its socket with 100,000
// enrolled users, every login a different user with a fresh valid code.
// The clients run in this process and share the machine's cores with the
// daemon.
func BenchmarkDaemon(b *testing.B) {
	need(b)
	throughputSetup(b)
	c := ipc.Client{Path: tputDaemon.sock, Timeout: 30 * time.Second, Kind: "bench"}
	for range 2000 { // warm: the page cache holds the store, the daemon's pools are grown
		u, cd := tputCodes.fresh()
		(&tally{}).login(c, u, cd, true)
	}
	runs := []struct {
		clients, n int
	}{{1, 5000}, {16, 20000}, {256, 40000}, {1024, 40000}}
	for _, r := range runs {
		name := fmt.Sprintf("closed loop, %d clients", r.clients)
		b.Run(fmt.Sprintf("clients=%d", r.clients), func(b *testing.B) {
			var t *tally
			var el time.Duration
			for range b.N {
				t, el = closedLoop(c, r.clients, r.n, tputCodes.fresh, true)
			}
			daemonReport(b, name, t, el, r.n)
		})
	}
	// Little's law: with 256 clients back to back, latency = 256 / rate, so
	// a latency bound at 256 clients means a bound on a given offered load.
	for _, rate := range []int{10000, 20000} {
		n := rate * 2
		name := fmt.Sprintf("open loop, %d/s offered, ≤256 in flight", rate)
		b.Run(fmt.Sprintf("open=%d/s", rate), func(b *testing.B) {
			var t *tally
			var el time.Duration
			for range b.N {
				t, el = openLoop(c, rate, 256, n, tputCodes.fresh)
			}
			daemonReport(b, name, t, el, n)
		})
	}
	b.Run("wrong-code,clients=1024", func(b *testing.B) { wrongCodeRun(b, c) })
	rss, hwm, anon := tputDaemon.memory()
	record(secDaemon, "daemon memory after these runs", result{cols: []string{"", "", "", "", ""},
		note: fmt.Sprintf("RSS %.1f MB (%.1f MB its own, the rest mapped store pages), peak %.1f MB", rss, anon, hwm)})
}

func daemonReport(b *testing.B, name string, t *tally, el time.Duration, n int) {
	rate := float64(n) / el.Seconds()
	b.ReportMetric(rate, "verifications/s")
	b.ReportMetric(ms(t.lat.pct(50)), "p50-ms")
	b.ReportMetric(ms(t.lat.pct(99)), "p99-ms")
	b.ReportMetric(float64(t.errs.Load()), "errors")
	note := t.summary()
	if int(t.allowed.Load()) != n {
		b.Errorf("%s: %d of %d logins allowed: %s", name, t.allowed.Load(), n, note)
	}
	record(secDaemon, name, result{cols: []string{fmt.Sprintf("%.0f", rate), fmtMS(t.lat.pct(50)),
		fmtMS(t.lat.pct(99)), strconv.Itoa(n), strconv.FormatInt(t.errs.Load(), 10)}, note: note})
}

// wrongCodeRun sends wrong codes from 1024 clients at once, users
// u0..u9999 getting (i%3)+1 each and several at the same time, then checks
// that every user's failure counter is exactly what it was sent: no attempt
// lost or counted twice under contention.
func wrongCodeRun(b *testing.B, c ipc.Client) {
	const users = 10000
	var sent [users]atomic.Int64
	var plan []int
	for i := range users {
		for range i%3 + 1 {
			plan = append(plan, i)
		}
	}
	// Interleave so the attempts of one user run concurrently.
	wrong := make([]string, users)
	for i := range wrong {
		wrong[i] = wrongCode(tputCodes.secrets[i])
	}
	var idx atomic.Int64
	next := func() (string, string) {
		k := int(idx.Add(1) - 1)
		u := plan[(k*7919)%len(plan)] // a permutation: 7919 is prime and does not divide len(plan)
		sent[u].Add(1)
		return bigName(u), wrong[u]
	}
	if len(plan)%7919 == 0 {
		b.Fatal("plan length must not be a multiple of 7919")
	}
	before := counters(b, c)
	t, el := closedLoop(c, 1024, len(plan), next, false)
	rate := float64(len(plan)) / el.Seconds()
	b.ReportMetric(rate, "verifications/s")
	b.ReportMetric(ms(t.lat.pct(99)), "p99-ms")
	b.ReportMetric(float64(t.errs.Load()), "errors")
	got := counters(b, c)
	lost, total := 0, 0
	for i := range users {
		d := got[bigName(i)] - before[bigName(i)]
		total += d
		if int64(d) != sent[i].Load() {
			lost++
		}
	}
	note := fmt.Sprintf("%d wrong codes to %d users; counters grew by %d; %d users off; %s",
		len(plan), users, total, lost, t.summary())
	if lost > 0 || t.errs.Load() > 0 {
		b.Errorf("wrong-code run: %s", note)
	}
	record(secDaemon, "wrong codes, 1024 clients", result{cols: []string{fmt.Sprintf("%.0f", rate),
		fmtMS(t.lat.pct(50)), fmtMS(t.lat.pct(99)), strconv.Itoa(len(plan)), strconv.FormatInt(t.errs.Load(), 10)}, note: note})
	// The next logins of these users succeed and reset the counters.
}

// counters reads every user's failure counter through `users`.
func counters(b *testing.B, c ipc.Client) map[string]int {
	got := map[string]int{}
	err := c.Stream("users.list", nil, nil, func(row json.RawMessage) error {
		var r struct {
			Name     string `json:"user"`
			Failures int    `json:"failures"`
		}
		if err := json.Unmarshal(row, &r); err != nil {
			return err
		}
		got[r.Name] = r.Failures
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return got
}

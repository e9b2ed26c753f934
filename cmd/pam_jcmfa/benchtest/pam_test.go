//go:build linux && cgo

package benchtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msteinert/pam/v2"
)

// pamSamples is the number of timed transactions per module.
const pamSamples = 1000

var (
	peerOnce  sync.Once
	gaFile    string // pam_google_authenticator's secret file (user 0's secret)
	oathFile  string // pam_oath's users file (every login user)
	gaSecret  string
	gaDir     string // one google_authenticator file per user, DISALLOW_REUSE
	peerSetup error
)

// peerFiles writes the peers' secret files for the shared user set.
func peerFiles() error {
	peerOnce.Do(func() {
		dir := filepath.Join(work, "peers")
		if peerSetup = os.MkdirAll(dir, 0o700); peerSetup != nil {
			return
		}
		// Codes may be reused (no DISALLOW_REUSE) and there is no
		// RATE_LIMIT, so the same code can be given over and over.
		gaSecret = secretB32(userName(0))
		gaFile = filepath.Join(dir, "google_authenticator")
		if peerSetup = os.WriteFile(gaFile, []byte(gaSecret+"\n\" TOTP_AUTH\n"), 0o400); peerSetup != nil {
			return
		}
		var b strings.Builder
		for i := range loginUsers {
			fmt.Fprintf(&b, "HOTP/T30/6\t%s\t-\t%s\n", userName(i), secretHex(userName(i)))
		}
		// The same module with its replay protection on: one file per
		// user (secret=.../${USER}), each code usable once.
		gaDir = filepath.Join(dir, "ga-users")
		if peerSetup = os.MkdirAll(gaDir, 0o700); peerSetup != nil {
			return
		}
		for i := range loginUsers {
			n := userName(i)
			body := secretB32(n) + "\n\" TOTP_AUTH\n\" DISALLOW_REUSE\n"
			if peerSetup = os.WriteFile(filepath.Join(gaDir, n), []byte(body), 0o600); peerSetup != nil {
				return
			}
		}
		oathFile = filepath.Join(dir, "users.oath")
		peerSetup = os.WriteFile(oathFile, []byte(b.String()), 0o600)
	})
	return peerSetup
}

// stackFor is the auth line of each compared module.
func stackFor(module string) string {
	switch module {
	case "pam_permit":
		return "auth required pam_permit.so"
	case "google-authenticator":
		return fmt.Sprintf("auth required pam_google_authenticator.so secret=%s user=root", gaFile)
	case "google-authenticator, no reuse":
		return fmt.Sprintf("auth required pam_google_authenticator.so secret=%s/${USER} user=root", gaDir)
	case "pam_oath":
		return fmt.Sprintf("auth required pam_oath.so usersfile=%s window=1 digits=6", oathFile)
	}
	return fmt.Sprintf("auth required %s socket=%s", moduleSO, loginDaemon.sock)
}

var (
	allocMu sync.Mutex
	allocs  = map[string]*codes{}
)

// allocator hands out fresh codes for one module: each module keeps its
// own record of used steps (the daemon's store, pam_oath's users file,
// google-authenticator's files), so each has its own allocator, shared by
// the PAM and SSH benchmarks.
func allocator(module string) *codes {
	allocMu.Lock()
	defer allocMu.Unlock()
	if allocs[module] == nil {
		names := make([]string, loginUsers)
		for i := range names {
			names[i] = userName(i)
		}
		allocs[module] = newCodes(names)
	}
	return allocs[module]
}

// first is c restricted to its first n users, sharing their used steps.
func (c *codes) first(n int) *codes {
	return &codes{names: c.names[:n], secrets: c.secrets[:n], last: c.last[:n]}
}

// login is what one timed login needs: who, and what to answer.
type loginCase func() (user, answer string)

func caseFor(module string) loginCase {
	switch module {
	case "pam_permit":
		i := 0
		return func() (string, string) { i++; return userName(i % loginUsers), "" }
	case "google-authenticator":
		i := 0
		return func() (string, string) {
			i++
			cd, _ := totpNow(gaSecret)
			return userName(i % loginUsers), cd
		}
	case "pam_jcmfa wrong code":
		// Two wrong codes per user at most (the lockout is at 5), so the
		// same users still log in afterwards.
		i := 0
		return func() (string, string) {
			i++
			u := i % loginUsers
			return userName(u), wrongCode(secretB32(userName(u)))
		}
	}
	return allocator(module).fresh // pam_oath, pam_jcmfa and GA with DISALLOW_REUSE refuse a replay
}

// BenchmarkPAM: one PAM transaction per login, through a private config
// dir, for each module with the same users and clock. Every login of
// pam_oath and pam_jcmfa uses a code never used before by that user. The
// modules take turns, one transaction each, so that whatever else the
// machine does falls on all of them alike.
func BenchmarkPAM(b *testing.B) {
	need(b)
	loginSetup(b)
	if err := peerFiles(); err != nil {
		b.Fatal(err)
	}
	modules := []string{"pam_permit", "google-authenticator", "google-authenticator, no reuse", "pam_oath", "pam_jcmfa", "pam_jcmfa wrong code"}
	runs := map[string]func() time.Duration{}
	for _, module := range modules {
		dir := b.TempDir()
		stack := stackFor(strings.TrimSuffix(module, " wrong code")) + "\naccount required pam_permit.so\n"
		if err := os.WriteFile(filepath.Join(dir, "jcmfa-bench"), []byte(stack), 0o644); err != nil {
			b.Fatal(err)
		}
		// libpam reads "other" at every pam_start and logs its absence.
		if err := os.WriteFile(filepath.Join(dir, "other"), []byte("auth required pam_deny.so\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		next := caseFor(module)
		want := error(nil)
		if strings.HasSuffix(module, "wrong code") {
			want = pam.ErrAuth
		}
		runs[module] = func() time.Duration {
			user, answer := next()
			conv := pam.ConversationFunc(func(s pam.Style, msg string) (string, error) {
				if s == pam.PromptEchoOff || s == pam.PromptEchoOn {
					return answer, nil
				}
				return "", nil
			})
			t0 := time.Now()
			tx, err := pam.StartConfDir("jcmfa-bench", user, conv, dir)
			if err != nil {
				b.Fatalf("pam_start: %v", err)
			}
			tx.SetItem(pam.Rhost, "127.0.0.1")
			err = tx.Authenticate(0)
			tx.End()
			took := time.Since(t0)
			if !errors.Is(err, want) && !(err == nil && want == nil) {
				b.Fatalf("%s: pam_authenticate(%s) = %v, want %v", module, user, err, want)
			}
			return took
		}
	}
	for range 20 { // warm: page cache, dlopen paths, the daemon's first connections
		for _, m := range modules[:5] {
			runs[m]()
		}
	}
	lat := map[string]latencies{}
	b.ResetTimer()
	for range b.N {
		for range pamSamples {
			for _, m := range modules {
				lat[m] = append(lat[m], runs[m]())
			}
		}
	}
	b.StopTimer()
	for _, m := range modules {
		b.Run(strings.NewReplacer(" ", "_", ",", "").Replace(m), func(b *testing.B) { report(b, secPAM, m, lat[m]) })
	}
}

func totpNow(secret string) (string, error) {
	return totpCode(secret, time.Now())
}

//go:build !windows

package daemon_test

import (
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/jcmfa/jcmfa/internal/daemon"
	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/fleet"
	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/store"
	"github.com/jcmfa/jcmfa/internal/testenv"
	"github.com/jcmfa/jcmfa/internal/totp"
)

// fleetHost is a static HTTPS host on 127.0.0.1 that serves a repository
// directory, and that a test can turn hostile.
type fleetHost struct {
	srv      *httptest.Server
	dir      atomic.Value // string: the directory served
	mu       sync.Mutex
	mangle   func(path string, body []byte) []byte
	requests atomic.Int64
	notMod   atomic.Int64
	caFile   string
}

func newFleetHost(t *testing.T, dir string) *fleetHost {
	h := &fleetHost{}
	h.dir.Store(dir)
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		h.mu.Lock()
		mangle := h.mangle
		h.mu.Unlock()
		path := filepath.Join(h.dir.Load().(string), filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/")))
		if mangle == nil {
			rec := &statusRecorder{ResponseWriter: w}
			http.ServeFile(rec, r, path)
			if rec.code == http.StatusNotModified {
				h.notMod.Add(1)
			}
			return
		}
		body, err := os.ReadFile(path)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(mangle(r.URL.Path, body))
	}))
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	h.caFile = filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(h.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw}), 0o644)
	return h
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(c int) { r.code = c; r.ResponseWriter.WriteHeader(c) }

func (h *fleetHost) setMangle(f func(string, []byte) []byte) {
	h.mu.Lock()
	h.mangle = f
	h.mu.Unlock()
}

// device is one real daemon in a temp dir.
type device struct {
	name string
	cli  ipc.Client
	rcpt string
}

func startDevice(t *testing.T, name string) *device {
	t.Helper()
	sock := testenv.RunDaemon(t, filepath.Join(t.TempDir(), "state"))
	d := &device{name: name, cli: ipc.Client{Path: sock, Timeout: 30 * time.Second, Kind: "test"}}
	var id struct{ Recipient string }
	d.cmd(t, "device.id", nil, &id)
	d.rcpt = id.Recipient
	if !strings.HasPrefix(d.rcpt, "age1") {
		t.Fatalf("device id = %q", d.rcpt)
	}
	return d
}

func (d *device) cmd(t *testing.T, name string, f map[string]string, out any) []json.RawMessage {
	t.Helper()
	rows, err := d.cli.Command(name, f, func(string) {})
	if err != nil {
		t.Fatalf("%s: %s: %v", d.name, name, err)
	}
	if out != nil && len(rows) > 0 {
		if err := json.Unmarshal(rows[0], out); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

func (d *device) check(t *testing.T) daemon.PollRecord {
	t.Helper()
	var p daemon.PollRecord
	d.cmd(t, "fleet.check", nil, &p)
	return p
}

func (d *device) policies(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, row := range d.cmd(t, "policy.list", nil, nil) {
		var p store.Policy
		json.Unmarshal(row, &p)
		names = append(names, p.Name)
	}
	return names
}

func (d *device) settings(t *testing.T) store.Settings {
	var s store.Settings
	d.cmd(t, "settings.get", nil, &s)
	return s
}

// login answers a code from secret if asked.
func (d *device) login(t *testing.T, user, secret string) (engine.Verdict, bool) {
	t.Helper()
	return d.loginAt(t, user, secret, 0)
}

func (d *device) loginAt(t *testing.T, user, secret string, offset time.Duration) (engine.Verdict, bool) {
	t.Helper()
	c := &answerer{secret: secret, offset: offset}
	v, err := d.cli.Login(engine.LoginRequest{User: user, Surface: "ssh", Interactive: false}, c)
	if err != nil {
		t.Fatalf("%s: login %s: %v", d.name, user, err)
	}
	return v, c.asked
}

type answerer struct {
	secret string
	asked  bool
	shown  string // a key shown during enrollment
	offset time.Duration
}

func (a *answerer) Info(s string) error {
	if k, ok := strings.CutPrefix(s, "or enter this key by hand: "); ok {
		a.shown = strings.ReplaceAll(k, " ", "")
	}
	return nil
}
func (a *answerer) Error(string) error { return nil }
func (a *answerer) Ask(bool, string) (string, error) {
	a.asked = true
	s := a.secret
	if a.shown != "" {
		s = a.shown
	}
	c, err := totp.Code(s, time.Now().Add(a.offset), totp.Default)
	return c, err
}

// recoveryLogin answers the code prompt with a recovery code.
func (d *device) recoveryLogin(t *testing.T, user, code string) engine.Verdict {
	t.Helper()
	v, err := d.cli.Login(engine.LoginRequest{User: user, Surface: "ssh"}, fixedAnswer(code))
	if err != nil {
		t.Fatalf("%s: login %s: %v", d.name, user, err)
	}
	return v
}

type fixedAnswer string

func (fixedAnswer) Info(string) error                  { return nil }
func (fixedAnswer) Error(string) error                 { return nil }
func (a fixedAnswer) Ask(bool, string) (string, error) { return string(a), nil }

// lastEvent is the newest audit event.
func (d *device) lastEvent(t *testing.T) store.Event {
	t.Helper()
	var ev store.Event
	if rows := d.cmd(t, "audit", map[string]string{"n": "1"}, nil); len(rows) > 0 {
		json.Unmarshal(rows[len(rows)-1], &ev)
	}
	return ev
}

func (d *device) lastFleetEvent(t *testing.T) store.Event {
	t.Helper()
	var last store.Event
	for _, row := range d.cmd(t, "audit", map[string]string{"n": "200"}, nil) {
		var ev store.Event
		json.Unmarshal(row, &ev)
		if strings.HasPrefix(ev.Kind, "fleet-") {
			last = ev
		}
	}
	return last
}

const aliceSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func writeSpec(t *testing.T, path string, extra string) {
	t.Helper()
	spec := `version: 1
org:
  totp: true
settings:
  attempts: 5
device_groups:
  everywhere:
    mfa: true
    devices: ["*"]
users:
  alice:
    devices: [a]
  bob:
    devices: [a, b]
` + extra
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if ok() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, within)
	return 0
}

func TestFleetTwoDevicesOverHTTPS(t *testing.T) {
	adminDir := filepath.Join(t.TempDir(), "fleet")
	ws, err := fleet.Init(adminDir, fleet.InitOptions{BinBits: 4})
	if err != nil {
		t.Fatal(err)
	}
	a, b := startDevice(t, "a"), startDevice(t, "b")
	for _, d := range []*device{a, b} {
		if err := ws.AddDevice(d.name, d.rcpt, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.AddSecret("", "alice", store.Secret{Key: aliceSecret, Algorithm: "SHA1", Digits: 6, Period: 30, EnrolledAt: time.Now()}, false); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(adminDir, "fleet.yaml")
	writeSpec(t, spec, "")
	publish := func(opts fleet.PublishOptions) {
		t.Helper()
		if _, err := ws.Publish(spec, opts); err != nil {
			t.Fatal(err)
		}
	}
	publish(fleet.PublishOptions{})
	host := newFleetHost(t, ws.RepositoryDir())
	const poll = 300 * time.Millisecond
	for _, d := range []*device{a, b} {
		var p daemon.PollRecord
		d.cmd(t, "fleet.join", map[string]string{"url": host.srv.URL, "root": filepath.Join(ws.RepositoryDir(), "1.root.json"),
			"ca": host.caFile, "interval": poll.String()}, &p)
		if p.Reason != "ok" {
			t.Fatalf("%s: join: %+v", d.name, p)
		}
	}

	t.Run("UserBoundToAIsPromptedOnAAndUnknownOnB", func(t *testing.T) {
		if v, asked := a.login(t, "alice", aliceSecret); !asked || v.Word != engine.Allow {
			t.Fatalf("a: alice: asked=%v verdict=%+v", asked, v)
		}
		// B holds no record of alice, and no OS account of that name
		// exists there: not asked for a code, denied as unknown (P24).
		if v, asked := b.login(t, "alice", aliceSecret); asked || v.Reason != "unknown-account" {
			t.Fatalf("b: alice: asked=%v verdict=%+v, want deny unknown-account", asked, v)
		}
	})

	t.Run("LocalEditsAreRefusedUnlessOverridden", func(t *testing.T) {
		if _, err := a.cli.Command("user.require", map[string]string{"user": "carol"}, nil); err == nil || !strings.Contains(err.Error(), "managed by a fleet") {
			t.Fatalf("require on a managed device: %v", err)
		}
		a.cmd(t, "user.require", map[string]string{"user": "carol", "local_override": "1"}, nil)
		var st daemon.FleetStatus
		a.cmd(t, "fleet.status", nil, &st)
		if len(st.Overrides) != 1 || st.Overrides[0].User != "carol" {
			t.Fatalf("status does not show the override: %+v", st.Overrides)
		}
	})

	rollbackCopy := filepath.Join(t.TempDir(), "repo-v1")
	if err := fleet.CopyTree(rollbackCopy, ws.RepositoryDir()); err != nil {
		t.Fatal(err)
	}

	t.Run("PolicyChangeReachesBothWithinOnePoll", func(t *testing.T) {
		writeSpec(t, spec, "policies:\n  - name: everyone\n    all: true\n")
		publish(fleet.PublishOptions{})
		took := waitFor(t, 2*poll+time.Second, "policy on both devices", func() bool {
			pa, pb := a.policies(t), b.policies(t)
			return len(pa) == 1 && pa[0] == "everyone" && len(pb) == 1 && pb[0] == "everyone"
		})
		t.Logf("policy change reached both devices in %s (poll interval %s)", took, poll)
		if host.notMod.Load() == 0 {
			t.Error("no conditional request was answered 304: devices download timestamp.json at every poll")
		}
	})

	// attack turns the host hostile, checks that a device keeps what it had
	// and records why, then lets the host recover.
	attack := func(t *testing.T, d *device, want string, start, stop func()) {
		t.Helper()
		before, pol := d.settings(t), d.policies(t)
		start()
		p := d.check(t)
		if p.Reason != want {
			t.Fatalf("%s: check under attack: reason %q (%s), want %q", d.name, p.Reason, p.Error, want)
		}
		if got := d.settings(t); !reflect.DeepEqual(got, before) || strings.Join(d.policies(t), ",") != strings.Join(pol, ",") {
			t.Fatalf("%s: configuration changed under attack: %+v -> %+v", d.name, before, got)
		}
		if ev := d.lastFleetEvent(t); ev.Kind != "fleet-check" || ev.Reason != want {
			t.Fatalf("%s: no audit event for %s: last fleet event %+v", d.name, want, ev)
		}
		stop()
		if p := d.check(t); p.Reason != "ok" {
			t.Fatalf("%s: after the attack: %+v", d.name, p)
		}
	}
	// A hostile host ignores conditional requests: it serves what it likes.
	serve := func(dir string) func() {
		return func() {
			host.dir.Store(dir)
			if dir == ws.RepositoryDir() {
				host.setMangle(nil)
			} else {
				host.setMangle(func(_ string, b []byte) []byte { return b })
			}
		}
	}

	t.Run("WrongKey", func(t *testing.T) {
		forged := filepath.Join(t.TempDir(), "repo")
		fleet.CopyTree(forged, ws.RepositoryDir())
		ts, err := metadata.Timestamp().FromFile(filepath.Join(forged, "timestamp.json"))
		if err != nil {
			t.Fatal(err)
		}
		_, k, _ := ed25519.GenerateKey(nil)
		s, _ := signature.LoadSigner(k, crypto.Hash(0))
		ts.Signed.Version += 10
		ts.ClearSignatures()
		ts.Sign(s)
		ts.ToFile(filepath.Join(forged, "timestamp.json"), true)
		attack(t, a, "bad-signature", serve(forged), serve(ws.RepositoryDir()))
	})

	t.Run("Rollback", func(t *testing.T) {
		attack(t, b, "rollback", serve(rollbackCopy), serve(ws.RepositoryDir()))
	})

	t.Run("FreezeWithExpiredMetadata", func(t *testing.T) {
		writeSpec(t, spec, "policies:\n  - name: everyone\n    all: true\n  - name: frozen\n    groups: [x]\n")
		attack(t, a, "expired-metadata",
			func() { publish(fleet.PublishOptions{TimestampLifetime: -time.Minute}) },
			func() { publish(fleet.PublishOptions{}) })
	})

	t.Run("TruncatedDownload", func(t *testing.T) {
		writeSpec(t, spec, "policies:\n  - name: everyone\n    all: true\n  - name: truncated\n    groups: [y]\n")
		attack(t, b, "bad-download",
			func() {
				host.setMangle(func(p string, body []byte) []byte {
					if strings.HasPrefix(p, "/targets/") {
						return body[:len(body)/2]
					}
					return body
				})
				publish(fleet.PublishOptions{})
			},
			func() { host.setMangle(nil) })
		if p := b.policies(t); len(p) != 2 || p[1] != "truncated" {
			t.Fatalf("after the attack the new bundle should apply: %v", p)
		}
	})

	t.Run("BundleForAServedToB", func(t *testing.T) {
		writeSpec(t, spec, "policies:\n  - name: everyone\n    all: true\n  - name: swapped\n    groups: [z]\n")
		attack(t, b, "bad-download",
			func() {
				publish(fleet.PublishOptions{})
				aPath := "/targets/" + fleet.TargetPath(a.rcpt)
				host.setMangle(func(p string, body []byte) []byte {
					dir, base := filepath.Split(strings.TrimPrefix(p, "/"))
					if strings.HasPrefix(p, "/targets/devices/") && strings.HasSuffix(fleet.TargetPath(b.rcpt), base[strings.IndexByte(base, '.')+1:]) {
						// Serve A's current bundle in place of B's.
						ents, _ := os.ReadDir(filepath.Join(ws.RepositoryDir(), dir))
						for _, e := range ents {
							if strings.HasSuffix("/targets/"+"devices/"+e.Name(), aPath[len("/targets/devices/"):]) {
								if raw, err := os.ReadFile(filepath.Join(ws.RepositoryDir(), dir, e.Name())); err == nil {
									return raw
								}
							}
						}
					}
					return body
				})
			},
			func() { host.setMangle(nil) })
	})

	t.Run("InBandEnrollmentReachesTheOtherDevice", func(t *testing.T) {
		c := &answerer{}
		v, err := a.cli.Enroll("bob", c)
		if err != nil || v.Word != engine.Allow || c.shown == "" {
			t.Fatalf("enroll bob on a: %+v %v", v, err)
		}
		var st daemon.FleetStatus
		a.check(t)
		a.cmd(t, "fleet.status", nil, &st)
		if len(st.Outbox) != 1 {
			t.Fatalf("outbox = %v", st.Outbox)
		}
		res, err := ws.Collect(spec, "", st.Outbox, false)
		if err != nil || len(res.Added) != 1 {
			t.Fatalf("collect: %+v %v", res, err)
		}
		publish(fleet.PublishOptions{})
		b.check(t)
		if v, asked := b.login(t, "bob", c.shown); !asked || v.Word != engine.Allow {
			t.Fatalf("b: bob with the secret enrolled on a: asked=%v %+v", asked, v)
		}
		// Delivered back to a: the outbox empties.
		a.check(t)
		var after daemon.FleetStatus
		a.cmd(t, "fleet.status", nil, &after)
		if len(after.Outbox) != 0 {
			t.Fatalf("outbox after delivery = %v", after.Outbox)
		}
	})

	// Fleet recovery codes over the real path: issued on the admin side,
	// published, fetched and verified by two real daemons, typed at a
	// login (docs/fleet.md, "Recovery codes"; R13–R15).
	t.Run("FleetRecoveryCodeIsSpentPerDevice", func(t *testing.T) {
		first, err := ws.IssueRecovery("", "bob", 3, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		publish(fleet.PublishOptions{})
		for _, d := range []*device{a, b} {
			if p := d.check(t); p.Reason != "ok" {
				t.Fatalf("%s: check: %+v", d.name, p)
			}
		}
		code := first.Codes[0]
		if v := a.recoveryLogin(t, "bob", code); v.Word != engine.Allow || v.Reason != "recovery-code" {
			t.Fatalf("a: bob with a fleet code: %+v", v)
		}
		if ev := a.lastEvent(t); !strings.Contains(ev.Detail, "fleet set "+first.Set+": 2 recovery codes left") {
			t.Fatalf("a: audit %+v does not name the set and the codes left", ev)
		}
		if v := a.recoveryLogin(t, "bob", code); v.Word != engine.Deny || v.Reason != "wrong-code" {
			t.Fatalf("a: the same fleet code again: %+v, want deny wrong-code", v)
		}
		// Per device (R13): b never saw it used.
		if v := b.recoveryLogin(t, "bob", code); v.Word != engine.Allow {
			t.Fatalf("b: bob with the code used on a: %+v", v)
		}
		// A new bundle with the same set (a policy changed) does not
		// revive the spent code on a (R14).
		writeSpec(t, spec, "policies:\n  - name: everyone\n    all: true\n  - name: recovery\n    groups: [r]\n")
		publish(fleet.PublishOptions{})
		a.check(t)
		if p := a.policies(t); len(p) != 2 || p[1] != "recovery" {
			t.Fatalf("a: the new bundle did not apply: %v", p)
		}
		if v := a.recoveryLogin(t, "bob", code); v.Word != engine.Deny {
			t.Fatalf("a: a spent fleet code after the same set came again: %+v", v)
		}
		var row engine.UserRow
		a.cmd(t, "user.status", map[string]string{"user": "bob"}, &row)
		if row.FleetRecoverySet != first.Set || row.FleetRecoveryCodes != 2 {
			t.Fatalf("a: user status %+v: want 2 codes of set %s", row, first.Set)
		}
		// Re-issued: the old set stops working on b at its next bundle (R15).
		second, err := ws.IssueRecovery("", "bob", 3, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		publish(fleet.PublishOptions{})
		b.check(t)
		if v := b.recoveryLogin(t, "bob", first.Codes[1]); v.Word != engine.Deny {
			t.Fatalf("b: a code of the revoked set: %+v", v)
		}
		if v := b.recoveryLogin(t, "bob", second.Codes[1]); v.Word != engine.Allow {
			t.Fatalf("b: a code of the new set: %+v", v)
		}
	})

	t.Run("LoginWorksWithTheServerStopped", func(t *testing.T) {
		host.srv.Close()
		if p := a.check(t); p.Reason != "unreachable" {
			t.Fatalf("check with the host down: %+v", p)
		}
		// The next time step: alice already used this one on a.
		if v, asked := a.loginAt(t, "alice", aliceSecret, 30*time.Second); !asked || v.Word != engine.Allow {
			t.Fatalf("a: alice with the host down: asked=%v %+v", asked, v)
		}
		if ev := a.lastFleetEvent(t); ev.Reason != "unreachable" {
			t.Fatalf("no audit event for the unreachable host: %+v", ev)
		}
	})
}

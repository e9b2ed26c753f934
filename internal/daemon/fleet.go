package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/jcmfa/jcmfa/internal/fleet"
	"github.com/jcmfa/jcmfa/internal/fleetclient"
	"github.com/jcmfa/jcmfa/internal/store"
)

// Records the fleet agent keeps in the store's meta bucket (sealed under
// the device key like everything else there).
const (
	metaIdentity = "device_identity" // the device's age X25519 identity
	metaJoin     = "fleet_join"      // where the fleet is and the pinned root
	metaPoll     = "fleet_poll"      // how the last check went
)

// DefaultPollInterval is how often a joined device checks its fleet.
const DefaultPollInterval = 60 * time.Second

// JoinRecord is what `fleet join` pins.
type JoinRecord struct {
	URL      string        `json:"url"`
	Root     []byte        `json:"root"` // root.json given at join
	CA       []byte        `json:"ca,omitempty"`
	Interval time.Duration `json:"interval,omitempty"`
	Joined   time.Time     `json:"joined"`
}

// PollRecord is how the last check went.
type PollRecord struct {
	LastCheck   time.Time `json:"last_check"`
	LastSuccess time.Time `json:"last_success,omitempty"`
	Reason      string    `json:"reason"` // ok, unreachable, bad-signature, rollback, expired-metadata, ...
	Error       string    `json:"error,omitempty"`
	Snapshot    int64     `json:"snapshot,omitempty"`
}

// FleetAgent follows the fleet this device joined: it owns the device's age
// identity, polls the repository and applies new bundles. Whatever goes
// wrong with a check, the bundle in force stays in force.
type FleetAgent struct {
	st  *store.Store
	log *slog.Logger
	dir string // state/fleet: trusted TUF metadata, outbox
	id  *age.X25519Identity
	now func() time.Time

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	ctx    context.Context

	mu     sync.Mutex // one check at a time
	client *fleetclient.Client
	joinAt time.Time // the join the client was built for

	// accountKey resolves a bundle's user name to the key of the
	// account's records on this device (engine.AccountKey).
	accountKey func(string) (string, error)
}

func startFleet(ctx context.Context, st *store.Store, log *slog.Logger, accountKey func(string) (string, error)) (*FleetAgent, error) {
	a := &FleetAgent{st: st, log: log, dir: filepath.Join(filepath.Dir(st.Path()), "fleet"), now: time.Now, kick: make(chan struct{}, 1),
		accountKey: accountKey}
	err := st.Update(func(tx *store.Tx) error {
		var s string
		found, err := tx.Meta(metaIdentity, &s)
		if err != nil {
			return fmt.Errorf("device identity: %w", err)
		}
		if !found {
			id, err := fleet.NewIdentity()
			if err != nil {
				return err
			}
			s = id.String()
			if err := tx.PutMeta(metaIdentity, s); err != nil {
				return err
			}
		}
		a.id, err = age.ParseX25519Identity(s)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.ctx, a.cancel = context.WithCancel(ctx)
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		a.loop(a.ctx)
	}()
	return a, nil
}

// stop ends the poller and waits for a check in progress, so the store is
// not closed under it.
func (a *FleetAgent) stop() {
	a.cancel()
	<-a.done
}

// Recipient is this device's age recipient, what the admin registers.
func (a *FleetAgent) Recipient() string { return a.id.Recipient().String() }

func (a *FleetAgent) join() (JoinRecord, bool, error) {
	var j JoinRecord
	var found bool
	err := a.st.View(func(tx *store.Tx) (err error) { found, err = tx.Meta(metaJoin, &j); return })
	return j, found && j.URL != "", err
}

func (a *FleetAgent) loop(ctx context.Context) {
	for {
		wait := time.Duration(0)
		j, joined, err := a.join()
		if err != nil {
			a.log.Error("fleet: read join record", "error", err.Error())
		}
		if joined {
			a.Check()
			wait = j.Interval
			if wait <= 0 {
				wait = DefaultPollInterval
			}
			// ±10% so a fleet restarted at once does not poll in step.
			wait = time.Duration(float64(wait) * (0.9 + 0.2*rand.Float64()))
		}
		var tick <-chan time.Time
		var t *time.Timer
		if wait > 0 {
			t = time.NewTimer(wait)
			tick = t.C
		}
		select {
		case <-ctx.Done():
		case <-a.kick:
		case <-tick:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// Check runs one poll now and records its outcome.
func (a *FleetAgent) Check() PollRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	var prev PollRecord
	var rec store.FleetRecord
	a.st.View(func(tx *store.Tx) error {
		tx.Meta(metaPoll, &prev)
		rec, _, _ = tx.Fleet()
		return nil
	})
	p := PollRecord{LastCheck: now, LastSuccess: prev.LastSuccess}
	applied, err := a.check(rec)
	p.Reason = fleetclient.Reason(err)
	if errors.Is(err, store.ErrBundleRollback) {
		p.Reason = "rollback"
	}
	if err != nil {
		p.Error = err.Error()
		a.log.Warn("fleet: check failed; the bundle in force stays in force", "reason", p.Reason, "error", p.Error)
	} else {
		p.LastSuccess = now
		p.Snapshot = applied
	}
	a.st.Update(func(tx *store.Tx) error {
		if err := tx.PutMeta(metaPoll, p); err != nil {
			return err
		}
		// One audit event per change of outcome, not per poll: a host that
		// is down for a week must not push the logins out of the ring.
		if p.Reason != prev.Reason {
			ev := store.Event{Time: now, Kind: "fleet-check", Verdict: p.Reason, Reason: p.Reason, Detail: p.Error}
			if p.Reason == "ok" {
				ev.Detail = "fleet reachable and verified"
			}
			return tx.AppendEvent(&ev)
		}
		return nil
	})
	a.writeOutbox()
	return p
}

func (a *FleetAgent) check(rec store.FleetRecord) (int64, error) {
	j, joined, err := a.join()
	if err != nil || !joined {
		return 0, err
	}
	if a.client == nil || !a.joinAt.Equal(j.Joined) {
		a.client, err = fleetclient.New(fleetclient.Config{URL: j.URL, Dir: a.dir, PinnedRoot: j.Root, CACertPEM: j.CA, Identity: a.id, Context: a.ctx})
		if err != nil {
			return 0, err
		}
		a.joinAt = j.Joined
	}
	res, err := a.client.Check(rec.Hash)
	if err != nil || !res.Changed {
		return res.Snapshot, err
	}
	b, ev, err := a.bundleOf(res)
	if err != nil {
		return res.Snapshot, err
	}
	p := res.Payload
	if err := a.st.ApplyBundle(b, ev); err != nil {
		return res.Snapshot, err
	}
	a.log.Info("fleet: bundle applied", "device", p.Device, "serial", p.Serial, "snapshot", res.Snapshot, "users", len(p.Users))
	return res.Snapshot, nil
}

// bundleOf turns a verified payload into the bundle to apply and its
// audit event. Users are keyed by account (keyByAccount); a bad fleet
// recovery set costs its user the fleet codes here, not the rest of the
// bundle (store.Bundle.CheckRecovery; docs/policy.md R17). Both kinds of
// problem are named in the event and logged.
func (a *FleetAgent) bundleOf(res fleetclient.Result) (store.Bundle, *store.Event, error) {
	p := res.Payload
	b := store.Bundle{
		Record: store.FleetRecord{Managed: true, Device: p.Device, Serial: p.Serial, Hash: res.Hash, Version: res.Snapshot,
			Published: p.Published, AppliedAt: a.now(), AdminRecipients: p.AdminRecipients},
		Settings: p.Settings, Users: p.Users, Policies: p.Policies, ResetBefore: p.ResetBefore,
	}
	conflicts, err := a.keyByAccount(&b)
	if err != nil {
		return b, nil, err
	}
	bad := b.CheckRecovery()
	ev := &store.Event{Time: a.now(), Kind: "fleet-apply", Verdict: "ok",
		Detail: fmt.Sprintf("device %s serial %d snapshot %d: %d users, %d policies", p.Device, p.Serial, res.Snapshot, len(p.Users), len(p.Policies))}
	if len(conflicts) > 0 {
		ev.Detail += "; " + strings.Join(conflicts, "; ")
		a.log.Error("fleet: one account named twice in the bundle", "conflicts", strings.Join(conflicts, "; "))
	}
	if len(bad) > 0 {
		ev.Detail += "; " + strings.Join(bad, "; ")
		a.log.Error("fleet: recovery codes refused; the rest of the bundle applies", "problems", strings.Join(bad, "; "))
	}
	return b, ev, nil
}

// keyByAccount resolves every user the bundle names to the account on this
// device, as admin commands and logins are (docs/policy.md, one account,
// one record). Two names for one account are a mistake in fleet.yaml: the
// first is kept, and the others are reported.
func (a *FleetAgent) keyByAccount(b *store.Bundle) (conflicts []string, err error) {
	if a.accountKey == nil {
		return nil, nil
	}
	seen := map[string]string{}
	users := b.Users[:0:0]
	for _, u := range b.Users {
		key, err := a.accountKey(u.Name)
		if err != nil {
			return nil, fmt.Errorf("bundle user %q: %w", u.Name, err)
		}
		if first, dup := seen[key]; dup {
			conflicts = append(conflicts, fmt.Sprintf("%q and %q are one account (%s) here: %q's entry is used", first, u.Name, key, first))
			continue
		}
		seen[key] = u.Name
		if key != u.Name {
			if b.Record.Spelled == nil {
				b.Record.Spelled = map[string]string{}
			}
			b.Record.Spelled[key] = u.Name
			if t, ok := b.ResetBefore[u.Name]; ok {
				b.ResetBefore[key] = t
			}
			u.Name = key
		}
		users = append(users, u)
	}
	b.Users = users
	return conflicts, nil
}

func (a *FleetAgent) outboxDir() string { return filepath.Join(a.dir, "outbox") }

// writeOutbox seals every secret enrolled here that no bundle delivered to
// the admin's key, and removes files the fleet has since delivered.
func (a *FleetAgent) writeOutbox() {
	var rec store.FleetRecord
	var local []store.User
	err := a.st.View(func(tx *store.Tx) error {
		var err error
		if rec, _, err = tx.Fleet(); err != nil || !rec.Managed {
			return err
		}
		return tx.ForEachUser(func(u store.User) error {
			if rec.LocalEnrollment(u) {
				local = append(local, u)
			}
			return nil
		})
	})
	if err != nil || !rec.Managed {
		return
	}
	want := map[string]bool{}
	for _, u := range local {
		user := rec.BundleName(u.Name) // as the admin's fleet.yaml names it
		name := user + "." + store.SecretFingerprint(u.TOTP) + ".age"
		want[name] = true
		path := filepath.Join(a.outboxDir(), name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		sealed, err := fleet.SealEnrollment(fleet.Enrollment{User: user, Secret: *u.TOTP, Created: a.now().UTC()}, a.id, rec.AdminRecipients)
		if err == nil {
			err = os.MkdirAll(a.outboxDir(), 0o700)
		}
		if err == nil {
			err = os.WriteFile(path, sealed, 0o600)
		}
		if err != nil {
			a.log.Error("fleet: outbox", "user", u.Name, "error", err.Error())
		}
	}
	ents, _ := os.ReadDir(a.outboxDir())
	for _, e := range ents {
		if !want[e.Name()] {
			os.Remove(filepath.Join(a.outboxDir(), e.Name()))
		}
	}
}

// Outbox lists the sealed enrollments waiting for `fleet collect`.
func (a *FleetAgent) Outbox() []string {
	var out []string
	ents, _ := os.ReadDir(a.outboxDir())
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".age") {
			out = append(out, filepath.Join(a.outboxDir(), e.Name()))
		}
	}
	return out
}

// Join pins the fleet's root and checks it at once.
func (a *FleetAgent) Join(url string, root, ca []byte, interval time.Duration) (PollRecord, error) {
	if !strings.HasPrefix(url, "https://") {
		return PollRecord{}, fmt.Errorf("fleet URL %q: use https:// (the host need not be trusted, but what devices ask for should stay private)", url)
	}
	md, err := metadata.Root().FromBytes(root)
	if err != nil {
		return PollRecord{}, fmt.Errorf("root.json: %w", err)
	}
	if err := md.VerifyDelegate(metadata.ROOT, md); err != nil {
		return PollRecord{}, fmt.Errorf("root.json is not signed by its own root key: %w", err)
	}
	a.mu.Lock()
	// A new join starts from the new root, not from an old fleet's metadata.
	os.RemoveAll(filepath.Join(a.dir, "metadata"))
	err = a.st.Update(func(tx *store.Tx) error {
		if err := tx.PutMeta(metaPoll, PollRecord{}); err != nil {
			return err
		}
		ev := store.Event{Time: a.now(), Kind: "fleet-join", Detail: url}
		if err := tx.AppendEvent(&ev); err != nil {
			return err
		}
		return tx.PutMeta(metaJoin, JoinRecord{URL: strings.TrimRight(url, "/"), Root: root, CA: ca, Interval: interval, Joined: a.now()})
	})
	a.mu.Unlock()
	if err != nil {
		return PollRecord{}, err
	}
	p := a.Check()
	a.Kick() // the poller was idle, waiting for a join
	return p, nil
}

// Leave stops following the fleet; the configuration stays as the last
// bundle left it, and local edits are allowed again.
func (a *FleetAgent) Leave() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.st.Update(func(tx *store.Tx) error {
		ev := store.Event{Time: a.now(), Kind: "fleet-leave"}
		if err := tx.AppendEvent(&ev); err != nil {
			return err
		}
		return tx.PutMeta(metaJoin, JoinRecord{})
	}); err != nil {
		return err
	}
	a.client = nil
	os.RemoveAll(filepath.Join(a.dir, "metadata"))
	return a.st.LeaveFleet()
}

// FleetStatus is what `jcmfa-agent fleet status` shows on a device.
type FleetStatus struct {
	Recipient string            `json:"recipient"`
	Joined    bool              `json:"joined"`
	URL       string            `json:"url,omitempty"`
	Interval  string            `json:"interval,omitempty"`
	Bundle    store.FleetRecord `json:"bundle"`
	Poll      PollRecord        `json:"poll"`
	Overrides []store.Event     `json:"overrides,omitempty"` // local-override edits since the bundle was applied
	Outbox    []string          `json:"outbox,omitempty"`
}

// Status reports the fleet state of this device.
func (a *FleetAgent) Status() (FleetStatus, error) {
	s := FleetStatus{Recipient: a.Recipient()}
	j, joined, err := a.join()
	if err != nil {
		return s, err
	}
	s.Joined, s.URL = joined, j.URL
	if joined {
		iv := j.Interval
		if iv <= 0 {
			iv = DefaultPollInterval
		}
		s.Interval = iv.String()
	}
	err = a.st.View(func(tx *store.Tx) error {
		var err error
		if s.Bundle, _, err = tx.Fleet(); err != nil {
			return err
		}
		if _, err := tx.Meta(metaPoll, &s.Poll); err != nil {
			return err
		}
		evs, err := tx.Events(1000)
		for _, ev := range evs {
			if strings.HasSuffix(ev.Actor, "(local-override)") && ev.Time.After(s.Bundle.AppliedAt) {
				s.Overrides = append(s.Overrides, ev)
			}
		}
		return err
	})
	s.Outbox = a.Outbox()
	return s, err
}

// Kick makes the poller check now (tests, and after join).
func (a *FleetAgent) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

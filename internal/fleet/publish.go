package fleet

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"sort"
	"time"

	"filippo.io/age"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// publishState is what the last publish wrote, so the next one re-seals only
// devices whose configuration changed: a publish that changes one device
// makes only that device download a bundle.
type publishState struct {
	Serial    int64                  `json:"serial"`
	Published time.Time              `json:"published"`
	Devices   map[string]deviceState `json:"devices"`
	ResetAt   map[string]time.Time   `json:"reset_at,omitempty"` // user -> when enrolled: false was first published
}

type deviceState struct {
	Content string `json:"content"` // hash of the payload without serial and time
	Serial  int64  `json:"serial"`
	Target  string `json:"target"` // TUF target path
	Length  int64  `json:"length"`
	Users   int    `json:"users"`
}

func (w Workspace) loadState() (publishState, error) {
	var st publishState
	raw, err := os.ReadFile(w.path(stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("%s: %w", w.path(stateFile), err)
	}
	if st.Devices == nil {
		st.Devices = map[string]deviceState{}
	}
	if st.ResetAt == nil {
		st.ResetAt = map[string]time.Time{}
	}
	return st, nil
}

// PublishOptions tune a publish; the zero value is the default.
type PublishOptions struct {
	Identity string // admin identity file; default keys/admin.age
	Now      time.Time
	// Lifetimes override the defaults (tests make expired metadata).
	SnapshotLifetime  time.Duration
	TimestampLifetime time.Duration
}

// PublishResult says what a publish did.
type PublishResult struct {
	Serial         int64
	Devices        int
	Resealed       []string // devices whose bundle changed
	BundleBytes    int64    // sum of the changed bundles' sizes
	SnapshotVer    int64
	TimestampUntil time.Time
}

// desired is the admin's desired state, opened: the identity that opens
// secrets.age, the registered devices, the secrets and the validated spec.
type desired struct {
	id      *age.X25519Identity
	devices map[string]Device
	doc     secretsDoc // the secrets and the recovery sets
	spec    *Spec
}

func (w Workspace) loadDesired(specPath, identity string) (desired, error) {
	var d desired
	var err error
	if d.id, err = w.LoadIdentity(identity); err != nil {
		return d, err
	}
	if d.devices, err = w.Devices(); err != nil {
		return d, err
	}
	if d.doc, err = w.openSecrets(d.id); err != nil {
		return d, err
	}
	d.spec, err = LoadSpec(specPath, d.devices, d.doc.Users)
	return d, err
}

// Publish validates specPath, writes one bundle per registered device (only
// the users bound to it, sealed to its key), signs the metadata and writes
// it into the repository.
func (w Workspace) Publish(specPath string, opts PublishOptions) (PublishResult, error) {
	var res PublishResult
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	d, err := w.loadDesired(specPath, opts.Identity)
	if err != nil {
		return res, err
	}
	return w.publish(d.spec, d.devices, d.doc, opts)
}

func (w Workspace) publish(spec *Spec, devices map[string]Device, doc secretsDoc, opts PublishOptions) (PublishResult, error) {
	var res PublishResult
	r, err := loadRepo(w)
	if err != nil {
		return res, err
	}
	st, err := w.loadState()
	if err != nil {
		return res, err
	}
	admins, err := w.AdminRecipients()
	if err != nil {
		return res, err
	}
	for name, u := range spec.Users {
		if u.Enrolled != nil && !*u.Enrolled {
			if _, ok := st.ResetAt[name]; !ok {
				st.ResetAt[name] = opts.Now.UTC()
			}
		} else {
			delete(st.ResetAt, name)
		}
	}
	serial := st.Serial + 1
	changedBins := map[string]bool{}
	binTargets := map[string]map[string]*metadata.TargetFiles{}
	for name, md := range r.bins {
		binTargets[name] = maps.Clone(md.Signed.Targets)
	}
	sr := r.targets.Signed.Delegations.SuccinctRoles
	binOf := func(target string) string { return sr.GetRolesForTarget(target)[0].Name }
	names := sortedKeys(devices)
	next := map[string]deviceState{}
	for _, name := range names {
		d := devices[name]
		p, err := spec.ForDevice(name, doc.Users, doc.Recovery, st.ResetAt)
		if err != nil {
			return res, err
		}
		p.Recipient, p.AdminRecipients = d.Recipient, admins
		content := p.contentHash()
		target := TargetPath(d.Recipient)
		bin := binOf(target)
		if old, ok := st.Devices[name]; ok && old.Content == content && old.Target == target && binTargets[bin][target] != nil {
			next[name] = old
			continue
		}
		p.Serial, p.Published = serial, opts.Now.UTC()
		sealed, err := p.Seal()
		if err != nil {
			return res, fmt.Errorf("device %s: %w", name, err)
		}
		tf, err := metadata.TargetFile().FromBytes(target, sealed, "sha256")
		if err != nil {
			return res, err
		}
		// Consistent snapshots: the file is named by its hash, so a CDN may
		// cache it forever and a device never gets a mix of two publishes.
		h := sha256.Sum256(sealed)
		dir, base := path.Split(target)
		if err := writeFile(r.file(path.Join("targets", dir, fmt.Sprintf("%x.%s", h, base))), sealed); err != nil {
			return res, err
		}
		binTargets[bin][target] = tf
		changedBins[bin] = true
		next[name] = deviceState{Content: content, Serial: serial, Target: target, Length: tf.Length, Users: len(p.Users)}
		res.Resealed = append(res.Resealed, name)
		res.BundleBytes += tf.Length
	}
	// Devices no longer registered lose their bundle.
	for name, old := range st.Devices {
		if _, ok := devices[name]; !ok {
			bin := binOf(old.Target)
			delete(binTargets[bin], old.Target)
			changedBins[bin] = true
		}
	}
	for bin := range changedBins {
		r.bins[bin].Signed.Targets = binTargets[bin]
	}
	if err := r.commit(changedBins, opts.Now, opts); err != nil {
		return res, err
	}
	st.Serial, st.Published, st.Devices = serial, opts.Now.UTC(), next
	raw, _ := json.MarshalIndent(st, "", "  ")
	if err := writeFile(w.path(stateFile), append(raw, '\n')); err != nil {
		return res, err
	}
	sort.Strings(res.Resealed)
	res.Serial, res.Devices = serial, len(devices)
	res.SnapshotVer, res.TimestampUntil = r.snapshot.Signed.Version, r.timestamp.Signed.Expires
	return res, nil
}

// Status is what `fleet status DIR` shows.
type Status struct {
	Serial    int64
	Published time.Time
	Roles     []RoleStatus
	Devices   []DeviceStatus
	BinBits   int
}

// RoleStatus is one signed metadata file.
type RoleStatus struct {
	Role    string
	Version int64
	Expires time.Time
}

// DeviceStatus is one registered device and its published bundle.
type DeviceStatus struct {
	Name      string
	Recipient string
	Serial    int64 // 0: never published
	Users     int
	Bytes     int64
}

// Status reads what is published.
func (w Workspace) Status() (Status, error) {
	var s Status
	r, err := loadRepo(w)
	if err != nil {
		return s, err
	}
	st, err := w.loadState()
	if err != nil {
		return s, err
	}
	devices, err := w.Devices()
	if err != nil {
		return s, err
	}
	s.Serial, s.Published = st.Serial, st.Published
	s.BinBits = r.targets.Signed.Delegations.SuccinctRoles.BitLength
	s.Roles = []RoleStatus{
		{"root", r.root.Signed.Version, r.root.Signed.Expires},
		{"targets", r.targets.Signed.Version, r.targets.Signed.Expires},
		{"snapshot", r.snapshot.Signed.Version, r.snapshot.Signed.Expires},
		{"timestamp", r.timestamp.Signed.Version, r.timestamp.Signed.Expires},
	}
	for _, name := range sortedKeys(devices) {
		d := st.Devices[name]
		s.Devices = append(s.Devices, DeviceStatus{Name: name, Recipient: devices[name].Recipient, Serial: d.Serial, Users: d.Users, Bytes: d.Length})
	}
	return s, nil
}

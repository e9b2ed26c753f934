package fleet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/jcmfa/jcmfa/internal/store"
)

// A workspace is the admin's directory:
//
//	fleet.yaml        desired state (version control)       any name; given to publish
//	secrets.age       TOTP secrets and recovery code hashes  version control is fine
//	                  sealed to admin.pub
//	admin.pub         the admin's age recipient(s)           public
//	devices.json      device name -> age recipient           public
//	state.json        what the last publish wrote            working data
//	keys/             signing keys and the admin identity    NEVER in version control;
//	                  root.key belongs offline after init
//	repository/       the TUF repository: serve this directory over HTTPS
const (
	keysDir     = "keys"
	repoDir     = "repository"
	devicesFile = "devices.json"
	secretsFile = "secrets.age"
	adminPub    = "admin.pub"
	stateFile   = "state.json"
	binPrefix   = "bins"
)

// Lifetimes of the signed metadata. The timestamp is the freshness proof:
// an admin (or cron) runs `fleet publish` well within a day, and a device
// that sees nothing newer than an expired timestamp keeps its last good
// bundle and says so.
var (
	RootLifetime      = 365 * 24 * time.Hour
	TargetsLifetime   = 365 * 24 * time.Hour
	SnapshotLifetime  = 7 * 24 * time.Hour
	TimestampLifetime = 24 * time.Hour
)

// Workspace is an admin's fleet directory.
type Workspace struct{ Dir string }

// Device is one registered device.
type Device struct {
	Recipient string    `json:"recipient"`
	Added     time.Time `json:"added"`
}

func (w Workspace) path(p ...string) string { return filepath.Join(append([]string{w.Dir}, p...)...) }

// RepositoryDir is the directory to serve.
func (w Workspace) RepositoryDir() string { return w.path(repoDir) }

// IdentityPath is where init leaves the admin's age identity.
func (w Workspace) IdentityPath() string { return w.path(keysDir, "admin.age") }

// InitOptions tune a new repository.
type InitOptions struct {
	// BinBits splits the devices' bundle list into 2^BinBits signed bins
	// (TUF succinct hash-bin delegation), so a device downloads the few
	// entries of its own bin rather than every device's: 8 (256 bins) suits
	// up to some 50,000 devices, 10 beyond.
	BinBits int
	Now     time.Time
}

// Init creates a workspace and its TUF repository with fresh keys.
func Init(dir string, opts InitOptions) (Workspace, error) {
	w := Workspace{Dir: dir}
	if opts.BinBits == 0 {
		opts.BinBits = 8
	}
	if opts.BinBits < 1 || opts.BinBits > 14 {
		return w, fmt.Errorf("bin bits must be 1 to 14, not %d", opts.BinBits)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if _, err := os.Stat(w.path(repoDir, "root.json")); err == nil {
		return w, fmt.Errorf("%s already holds a fleet repository; use another directory", dir)
	}
	for _, d := range []struct {
		p    string
		mode os.FileMode
	}{{dir, 0o755}, {w.path(keysDir), 0o700}, {w.path(repoDir), 0o755}, {w.path(repoDir, "targets", "devices"), 0o755}} {
		if err := os.MkdirAll(d.p, d.mode); err != nil {
			return w, err
		}
	}
	keys := map[string]ed25519.PrivateKey{}
	root := metadata.Root(opts.Now.Add(RootLifetime).UTC())
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		k, err := newSigningKey(w.path(keysDir, role+".key"))
		if err != nil {
			return w, fmt.Errorf("%s key: %w", role, err)
		}
		keys[role] = k
		pub, err := metadata.KeyFromPublicKey(k.Public())
		if err != nil {
			return w, err
		}
		if err := root.Signed.AddKey(pub, role); err != nil {
			return w, err
		}
	}
	id, err := NewIdentity()
	if err != nil {
		return w, err
	}
	if err := writeNew(w.IdentityPath(), []byte("# jcmfa fleet admin identity: opens secrets.age and device outboxes\n"+id.String()+"\n")); err != nil {
		return w, err
	}
	if err := writeNew(w.path(adminPub), []byte(id.Recipient().String()+"\n")); err != nil {
		return w, err
	}
	if err := writeNew(w.path(devicesFile), []byte("{}\n")); err != nil {
		return w, err
	}
	if err := w.saveSecrets(secretsDoc{Users: map[string]store.Secret{}}); err != nil {
		return w, err
	}
	r := &repo{w: w, root: root, keys: keys}
	targetsKey, _ := metadata.KeyFromPublicKey(keys[metadata.TARGETS].Public())
	kid, _ := targetsKey.ID()
	r.targets = metadata.Targets(opts.Now.Add(TargetsLifetime).UTC())
	r.targets.Signed.Delegations = &metadata.Delegations{
		Keys:          map[string]*metadata.Key{kid: targetsKey},
		SuccinctRoles: &metadata.SuccinctRoles{KeyIDs: []string{kid}, Threshold: 1, BitLength: opts.BinBits, NamePrefix: binPrefix},
	}
	// Every version starts at 0 here so that commit's first signature
	// makes it 1.
	r.targets.Signed.Version = 0
	r.bins = map[string]*metadata.Metadata[metadata.TargetsType]{}
	for _, name := range r.targets.Signed.Delegations.SuccinctRoles.GetRoles() {
		r.bins[name] = metadata.Targets(opts.Now.Add(TargetsLifetime).UTC())
		r.bins[name].Signed.Version = 0
	}
	r.snapshot = metadata.Snapshot()
	r.timestamp = metadata.Timestamp()
	r.snapshot.Signed.Version, r.timestamp.Signed.Version = 0, 0
	if err := r.signRoot(); err != nil {
		return w, err
	}
	changed := map[string]bool{metadata.TARGETS: true}
	for name := range r.bins {
		changed[name] = true
	}
	if err := r.commit(changed, opts.Now, PublishOptions{}); err != nil {
		return w, err
	}
	return w, os.WriteFile(w.path(stateFile), []byte("{}\n"), 0o644)
}

// repo is the repository's current metadata, loaded to be changed.
type repo struct {
	w         Workspace
	keys      map[string]ed25519.PrivateKey
	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	bins      map[string]*metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
	snapBytes []byte // the signed snapshot the timestamp points at
}

func (r *repo) file(name string) string { return r.w.path(repoDir, name) }

func loadRepo(w Workspace) (*repo, error) {
	r := &repo{w: w, keys: map[string]ed25519.PrivateKey{}, bins: map[string]*metadata.Metadata[metadata.TargetsType]{}}
	var err error
	if r.root, err = metadata.Root().FromFile(r.file("root.json")); err != nil {
		return nil, fmt.Errorf("%s is not a fleet workspace (run `jcmfa-agent fleet init %s`): %w", w.Dir, w.Dir, err)
	}
	if r.timestamp, err = metadata.Timestamp().FromFile(r.file("timestamp.json")); err != nil {
		return nil, err
	}
	sv := r.timestamp.Signed.Meta["snapshot.json"].Version
	if r.snapshot, err = metadata.Snapshot().FromFile(r.file(fmt.Sprintf("%d.snapshot.json", sv))); err != nil {
		return nil, err
	}
	for name, mf := range r.snapshot.Signed.Meta {
		md, err := metadata.Targets().FromFile(r.file(fmt.Sprintf("%d.%s", mf.Version, name)))
		if err != nil {
			return nil, err
		}
		role := strings.TrimSuffix(name, ".json")
		if role == metadata.TARGETS {
			r.targets = md
		} else {
			r.bins[role] = md
		}
	}
	if r.targets == nil {
		return nil, errors.New("snapshot lists no targets.json")
	}
	return r, nil
}

func (r *repo) key(role string) (signature.Signer, error) {
	k, ok := r.keys[role]
	if !ok {
		var err error
		if k, err = loadSigningKey(r.w.path(keysDir, role+".key")); err != nil {
			return nil, fmt.Errorf("%w (the %s key signs every publish; keys/ must be on this machine)", err, role)
		}
		r.keys[role] = k
	}
	return signerOf(k)
}

func (r *repo) signRoot() error {
	s, err := r.key(metadata.ROOT)
	if err != nil {
		return err
	}
	r.root.ClearSignatures()
	if _, err := r.root.Sign(s); err != nil {
		return err
	}
	raw, err := r.root.ToBytes(true)
	if err != nil {
		return err
	}
	if err := writeFile(r.file(fmt.Sprintf("%d.root.json", r.root.Signed.Version)), raw); err != nil {
		return err
	}
	return writeFile(r.file("root.json"), raw)
}

// commit signs the changed targets and bins (bumping their versions), then a
// new snapshot and timestamp, and writes them; timestamp.json goes last, so a
// device never sees a timestamp naming files that are not there yet.
func (r *repo) commit(changed map[string]bool, now time.Time, opts PublishOptions) error {
	ts, err := r.key(metadata.TARGETS)
	if err != nil {
		return err
	}
	sign := func(role string, md *metadata.Metadata[metadata.TargetsType]) error {
		md.Signed.Version++
		md.Signed.Expires = now.Add(TargetsLifetime).UTC()
		md.ClearSignatures()
		if _, err := md.Sign(ts); err != nil {
			return err
		}
		raw, err := md.ToBytes(false)
		if err != nil {
			return err
		}
		r.snapshot.Signed.Meta[role+".json"] = metadata.MetaFile(md.Signed.Version)
		return writeFile(r.file(fmt.Sprintf("%d.%s.json", md.Signed.Version, role)), raw)
	}
	for role, md := range r.bins {
		if changed[role] {
			if err := sign(role, md); err != nil {
				return err
			}
		}
	}
	if changed[metadata.TARGETS] || r.targets.Signed.Expires.Before(now.Add(TargetsLifetime/2)) {
		if err := sign(metadata.TARGETS, r.targets); err != nil {
			return err
		}
	}
	// An unchanged snapshot is re-signed only when half its life is gone:
	// a publish that changes nothing (the daily refresh) then costs each
	// device one timestamp.json, not a snapshot as well.
	if !r.needSnapshot(changed, now, opts) {
		return r.signTimestamp(now, opts)
	}
	ss, err := r.key(metadata.SNAPSHOT)
	if err != nil {
		return err
	}
	r.snapshot.Signed.Version++
	r.snapshot.Signed.Expires = now.Add(pick(opts.SnapshotLifetime, SnapshotLifetime)).UTC()
	r.snapshot.ClearSignatures()
	if _, err := r.snapshot.Sign(ss); err != nil {
		return err
	}
	snap, err := r.snapshot.ToBytes(false)
	if err != nil {
		return err
	}
	if err := writeFile(r.file(fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version)), snap); err != nil {
		return err
	}
	r.snapBytes = snap
	return r.signTimestamp(now, opts)
}

func (r *repo) needSnapshot(changed map[string]bool, now time.Time, opts PublishOptions) bool {
	if len(changed) > 0 || r.snapshot.Signed.Version == 0 {
		return true
	}
	return r.snapshot.Signed.Expires.Before(now.Add(pick(opts.SnapshotLifetime, SnapshotLifetime) / 2))
}

func (r *repo) signTimestamp(now time.Time, opts PublishOptions) error {
	tss, err := r.key(metadata.TIMESTAMP)
	if err != nil {
		return err
	}
	if r.snapBytes == nil {
		raw, err := os.ReadFile(r.file(fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version)))
		if err != nil {
			return err
		}
		r.snapBytes = raw
	}
	snap := r.snapBytes
	r.timestamp.Signed.Version++
	r.timestamp.Signed.Expires = now.Add(pick(opts.TimestampLifetime, TimestampLifetime)).UTC()
	h := sha256.Sum256(snap)
	r.timestamp.Signed.Meta["snapshot.json"] = &metadata.MetaFiles{Version: r.snapshot.Signed.Version,
		Length: int64(len(snap)), Hashes: metadata.Hashes{"sha256": h[:]}}
	r.timestamp.ClearSignatures()
	if _, err := r.timestamp.Sign(tss); err != nil {
		return err
	}
	raw, err := r.timestamp.ToBytes(true)
	if err != nil {
		return err
	}
	var prev time.Time
	if fi, err := os.Stat(r.file("timestamp.json")); err == nil {
		prev = fi.ModTime()
	}
	if err := writeFile(r.file("timestamp.json"), raw); err != nil {
		return err
	}
	// Hosts answer conditional requests from the file's mtime, in whole
	// seconds (Last-Modified, and nginx's ETag): two publishes in one second
	// must still give timestamp.json a newer one, or devices are told 304.
	if mt := prev.Truncate(time.Second).Add(time.Second); !prev.IsZero() && !time.Now().After(mt) {
		return os.Chtimes(r.file("timestamp.json"), mt, mt)
	}
	return nil
}

func pick(v, def time.Duration) time.Duration {
	if v != 0 {
		return v
	}
	return def
}

// writeFile replaces path atomically (temp file, fsync, rename), so a web
// server never serves half a file and a crash never leaves one.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Devices returns the registered devices.
func (w Workspace) Devices() (map[string]Device, error) {
	raw, err := os.ReadFile(w.path(devicesFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a fleet workspace: %w", w.Dir, err)
	}
	ds := map[string]Device{}
	if err := json.Unmarshal(raw, &ds); err != nil {
		return nil, fmt.Errorf("%s: %w", w.path(devicesFile), err)
	}
	return ds, nil
}

var deviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// AddDevice registers a device under name with its age recipient.
func (w Workspace) AddDevice(name, recipient string, now time.Time) error {
	if !deviceName.MatchString(name) {
		return fmt.Errorf("device name %q: use letters, digits, '.', '_' and '-' (at most 63)", name)
	}
	r, err := ParseRecipient(recipient)
	if err != nil {
		return err
	}
	ds, err := w.Devices()
	if err != nil {
		return err
	}
	if _, ok := ds[name]; ok {
		return fmt.Errorf("device %q is already registered", name)
	}
	for other, d := range ds {
		if d.Recipient == r.String() {
			return fmt.Errorf("that key is already registered as device %q", other)
		}
	}
	ds[name] = Device{Recipient: r.String(), Added: now.UTC()}
	raw, _ := json.MarshalIndent(ds, "", "  ")
	return writeFile(w.path(devicesFile), append(raw, '\n'))
}

// AdminRecipients are the keys that secrets.age and outboxes are sealed to.
func (w Workspace) AdminRecipients() ([]string, error) {
	raw, err := os.ReadFile(w.path(adminPub))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if _, err := ParseRecipient(l); err != nil {
				return nil, fmt.Errorf("%s: %w", w.path(adminPub), err)
			}
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no recipient", w.path(adminPub))
	}
	return out, nil
}

// secretsDoc is the plaintext of secrets.age.
type secretsDoc struct {
	Version int                     `json:"version"`
	Users   map[string]store.Secret `json:"users"`
	// Recovery are the fleet's recovery code sets, by user: only salted
	// hashes and a set id (recovery.go); the codes were shown once.
	Recovery map[string]store.FleetRecovery `json:"recovery,omitempty"`
}

// Secrets opens secrets.age with the admin's identity.
func (w Workspace) Secrets(id *age.X25519Identity) (map[string]store.Secret, error) {
	doc, err := w.openSecrets(id)
	return doc.Users, err
}

// openSecrets opens the whole of secrets.age.
func (w Workspace) openSecrets(id *age.X25519Identity) (secretsDoc, error) {
	var doc secretsDoc
	raw, err := os.ReadFile(w.path(secretsFile))
	if err != nil {
		return doc, err
	}
	rd, err := age.Decrypt(bytes.NewReader(raw), id)
	if err != nil {
		return doc, fmt.Errorf("%s does not open with this identity: %w", w.path(secretsFile), err)
	}
	if err := json.NewDecoder(rd).Decode(&doc); err != nil {
		return doc, fmt.Errorf("%s: %w", w.path(secretsFile), err)
	}
	if doc.Users == nil {
		doc.Users = map[string]store.Secret{}
	}
	if doc.Recovery == nil {
		doc.Recovery = map[string]store.FleetRecovery{}
	}
	return doc, nil
}

// saveSecrets seals doc to the admin recipients as secrets.age.
func (w Workspace) saveSecrets(doc secretsDoc) error {
	var rs []age.Recipient
	recips, err := w.AdminRecipients()
	if err != nil {
		return err
	}
	for _, s := range recips {
		r, _ := ParseRecipient(s)
		rs = append(rs, r)
	}
	var buf bytes.Buffer
	wr, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return err
	}
	doc.Version = 1
	if len(doc.Recovery) == 0 {
		doc.Recovery = nil
	}
	if err := json.NewEncoder(wr).Encode(doc); err != nil {
		return err
	}
	if err := wr.Close(); err != nil {
		return err
	}
	return writeFile(w.path(secretsFile), buf.Bytes())
}

// LoadIdentity reads the admin identity from path, or from the workspace.
func (w Workspace) LoadIdentity(path string) (*age.X25519Identity, error) {
	if path == "" {
		path = w.IdentityPath()
	}
	return loadIdentity(path)
}

// copyFile is used to keep old repository copies in tests and tools.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// CopyTree copies a directory (a repository snapshot, for tests and for
// uploading to a host by hand).
func CopyTree(dst, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(filepath.Join(dst, rel), p)
	})
}

func hexSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

package fleet

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/curve25519"

	"github.com/jcmfa/jcmfa/internal/store"
)

// Enrollment is a secret a person set up on a device (in-band at a login,
// or with `jcmfa-agent enroll`), on its way to the admin's secrets file so
// that the fleet can deliver it to the user's other devices.
//
// It is sealed to the admin's age key, so only the admin reads it, and
// authenticated by the device: the MAC key is the X25519 agreement between
// the device's identity and the admin's key, which only those two can
// compute. A device never signs fleet metadata; the admin decides what to
// publish.
type Enrollment struct {
	Format  int               `json:"format"`
	Device  string            `json:"device"` // the device's age recipient
	User    string            `json:"user"`
	Secret  store.Secret      `json:"secret"`
	Created time.Time         `json:"created"`
	MACs    map[string]string `json:"macs,omitempty"` // admin recipient -> MAC
}

func (e Enrollment) body() []byte {
	e.MACs = nil
	raw, _ := json.Marshal(e)
	return raw
}

// macKey derives the key both ends can compute: X25519(own secret, other's
// public key), bound to both public keys.
func macKey(own *age.X25519Identity, other string) ([]byte, error) {
	scalar, err := bech32Data(own.String())
	if err != nil || len(scalar) != 32 {
		return nil, errors.New("identity is not an X25519 key")
	}
	pub, err := bech32Data(other)
	if err != nil || len(pub) != 32 {
		return nil, fmt.Errorf("%q is not an X25519 recipient", other)
	}
	shared, err := curve25519.X25519(scalar, pub)
	if err != nil {
		return nil, err
	}
	a, b := own.Recipient().String(), other
	if a > b {
		a, b = b, a
	}
	h := sha256.New()
	h.Write([]byte("jcmfa outbox mac v1\x00"))
	h.Write(shared)
	h.Write([]byte(a + "\x00" + b))
	return h.Sum(nil), nil
}

func mac(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SealEnrollment authenticates e with the device identity and encrypts it
// to the admin recipients.
func SealEnrollment(e Enrollment, device *age.X25519Identity, admins []string) ([]byte, error) {
	if len(admins) == 0 {
		return nil, errors.New("the bundle in force names no admin key to seal enrollments to")
	}
	e.Format, e.Device, e.MACs = 1, device.Recipient().String(), map[string]string{}
	var rs []age.Recipient
	for _, a := range admins {
		r, err := ParseRecipient(a)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
		k, err := macKey(device, a)
		if err != nil {
			return nil, err
		}
		e.MACs[a] = mac(k, e.body())
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(w).Encode(e); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// openEnrollment decrypts and authenticates one outbox file.
func openEnrollment(data []byte, admin *age.X25519Identity) (Enrollment, error) {
	var e Enrollment
	r, err := age.Decrypt(bytes.NewReader(data), admin)
	if err != nil {
		return e, fmt.Errorf("does not open with the admin identity: %w", err)
	}
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&e); err != nil {
		return e, err
	}
	k, err := macKey(admin, e.Device)
	if err != nil {
		return e, err
	}
	want := mac(k, e.body())
	if got := e.MACs[admin.Recipient().String()]; !hmac.Equal([]byte(got), []byte(want)) {
		return e, errors.New("not authenticated by the device it names (forged, or altered)")
	}
	return e, nil
}

// CollectResult says what collect did with each file.
type CollectResult struct {
	Added   []string // "user from device"
	Skipped []string // reason for each file not taken
}

// Collect reads outbox files from devices and adds their secrets to
// secrets.age. A secret is taken only from a registered device, for a user
// fleet.yaml binds to that device, and only if the secrets file holds none
// for that user yet (replace overrides the last rule): so a compromised
// device cannot plant a secret for someone who never logs in there.
func (w Workspace) Collect(specPath, identity string, files []string, replace bool) (CollectResult, error) {
	var res CollectResult
	want, err := w.loadDesired(specPath, identity)
	if err != nil {
		return res, err
	}
	id, devices, secrets, spec := want.id, want.devices, want.doc.Users, want.spec
	byKey := map[string]string{}
	for name, d := range devices {
		byKey[d.Recipient] = name
	}
	changed := false
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return res, err
		}
		e, err := openEnrollment(raw, id)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		dev, ok := byKey[e.Device]
		if !ok {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: from an unregistered device %s", f, e.Device))
			continue
		}
		u, ok := spec.Users[e.User]
		if !ok || !u.bound(dev, spec.groupsOf(dev)) {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s is not bound to device %s in %s (add it to users.%s.devices to accept)", f, e.User, dev, specPath, e.User))
			continue
		}
		if old, ok := secrets[e.User]; ok && !replace {
			if old.Key != e.Secret.Key {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s already has a secret (enrolled %s); --replace takes this one from %s", f, e.User, old.EnrolledAt.Format(time.DateOnly), dev))
			}
			continue
		}
		secrets[e.User] = e.Secret
		changed = true
		res.Added = append(res.Added, e.User+" from "+dev)
	}
	if changed {
		return res, w.saveSecrets(want.doc)
	}
	return res, nil
}

// AddSecret makes a new secret for user in secrets.age (admin-side
// enrollment: the admin hands the QR code to the person).
func (w Workspace) AddSecret(identity, user string, sec store.Secret, replace bool) error {
	id, err := w.LoadIdentity(identity)
	if err != nil {
		return err
	}
	doc, err := w.openSecrets(id)
	if err != nil {
		return err
	}
	if _, ok := doc.Users[user]; ok && !replace {
		return fmt.Errorf("%s already has a secret; --replace makes a new one", user)
	}
	doc.Users[user] = sec
	return w.saveSecrets(doc)
}

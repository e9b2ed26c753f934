package fleet

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/jcmfa/jcmfa/internal/store"
)

// BundleFormat is the payload layout this code writes and reads.
const BundleFormat = 1

// maxBundle bounds what a device decompresses: a hostile or broken bundle
// must not exhaust its memory. 10,000 users take about 2 MB.
const maxBundle = 256 << 20

// Payload is one device's configuration as the admin publishes it. The
// whole payload (not only the secrets) is sealed to the device's age key, so
// the host, the CDN and other devices learn neither secrets nor user names.
type Payload struct {
	Format    int    `json:"format"`
	Device    string `json:"device"`
	Recipient string `json:"recipient"` // the device it is for
	// Serial grows with every change of this device's content; a device
	// refuses a lower one than it has in force.
	Serial    int64     `json:"serial"`
	Published time.Time `json:"published"`
	// AdminRecipients seal the device's outbox (in-band enrollments).
	AdminRecipients []string `json:"admin_recipients"`

	Settings    store.Settings       `json:"settings"`
	Users       []store.User         `json:"users"`
	Policies    []store.Policy       `json:"policies"`
	ResetBefore map[string]time.Time `json:"reset_before,omitempty"`
}

// contentHash identifies what a payload configures, ignoring when it was
// published, so an unchanged device keeps its bundle (and its devices do not
// download anything) across publishes.
func (p Payload) contentHash() string {
	p.Serial, p.Published = 0, time.Time{}
	raw, _ := json.Marshal(p)
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// TargetPath is where a device's bundle sits in the repository. It is named
// after the device's key, not its name, so a device needs nothing but its
// own key to find it and the host does not learn device names.
func TargetPath(recipient string) string {
	h := sha256.Sum256([]byte(recipient))
	return "devices/" + hex.EncodeToString(h[:16]) + ".bundle"
}

// Seal compresses and encrypts p to the device's recipient.
func (p Payload) Seal() ([]byte, error) {
	r, err := ParseRecipient(p.Recipient)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, err
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err := json.NewEncoder(zw).Encode(p); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ErrNotForThisDevice means a bundle is sealed to, or names, another device.
var ErrNotForThisDevice = errors.New("bundle is not for this device")

// OpenBundle decrypts a bundle with the device's identity and checks that
// it is addressed to this device.
func OpenBundle(data []byte, id *age.X25519Identity) (Payload, error) {
	var p Payload
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return p, fmt.Errorf("%w: it is sealed to another device's key", ErrNotForThisDevice)
		}
		return p, fmt.Errorf("bundle does not decrypt: %w", err)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return p, fmt.Errorf("bundle: %w", err)
	}
	dec := json.NewDecoder(io.LimitReader(zr, maxBundle))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("bundle does not decode: %w", err)
	}
	if p.Format != BundleFormat {
		return p, fmt.Errorf("bundle format %d; this jcmfa reads %d: upgrade jcmfa-agent on this device", p.Format, BundleFormat)
	}
	if p.Recipient != id.Recipient().String() {
		return p, fmt.Errorf("%w: it names %s", ErrNotForThisDevice, p.Recipient)
	}
	return p, nil
}

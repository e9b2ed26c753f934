package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of the device key: AES-256.
const KeySize = 32

// sealVersion prefixes every sealed value so the format can change later
// without guessing.
const sealVersion = 1

// ErrTampered means a record failed authentication: it was altered, copied
// from another bucket or key, or sealed under another device key. Callers
// must treat it as an error (fail closed), never as "no such record".
var ErrTampered = errors.New("store record failed authentication")

// sealer seals values with AES-256-GCM. The additional data binds a value to
// its bucket and key, so a record copied from user A's slot to user B's slot
// no longer opens.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("device key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func additionalData(bucket, key []byte) []byte {
	ad := make([]byte, 0, len("jcmfa/v1")+2+len(bucket)+len(key))
	ad = append(ad, "jcmfa/v1"...)
	ad = append(ad, 0)
	ad = append(ad, bucket...)
	ad = append(ad, 0)
	return append(ad, key...)
}

func (s *sealer) seal(bucket, key, plaintext []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1 : 1+ns]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:1+ns], plaintext, additionalData(bucket, key)), nil
}

func (s *sealer) open(bucket, key, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: %s/%q is malformed", ErrTampered, bucket, key)
	}
	pt, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], additionalData(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("%w: %s/%q (altered, moved between records, or sealed under another device key)", ErrTampered, bucket, key)
	}
	return pt, nil
}

package fleet

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/sigstore/sigstore/pkg/signature"
)

// writeNew creates path with data, mode 0600, and refuses to replace an
// existing file: a second `init` must never overwrite a signing key.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// newSigningKey makes an ed25519 key and writes it as PKCS#8 PEM.
func newSigningKey(path string) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return priv, writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func loadSigningKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		return nil, fmt.Errorf("signing key %s is not PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not ed25519", path)
	}
	return priv, nil
}

func signerOf(k ed25519.PrivateKey) (signature.Signer, error) {
	return signature.LoadSigner(k, crypto.Hash(0))
}

// NewIdentity makes an age X25519 identity (a device's or the admin's).
func NewIdentity() (*age.X25519Identity, error) { return age.GenerateX25519Identity() }

// loadIdentity reads an age identity file (one AGE-SECRET-KEY-1 line; blank
// lines and # comments allowed, as age-keygen writes them).
func loadIdentity(path string) (*age.X25519Identity, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("admin identity: %w (give --identity FILE, or set JCMFA_FLEET_IDENTITY)", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return age.ParseX25519Identity(line)
	}
	return nil, fmt.Errorf("admin identity %s holds no AGE-SECRET-KEY line", path)
}

// ParseRecipient checks a device's age recipient (age1...).
func ParseRecipient(s string) (*age.X25519Recipient, error) {
	r, err := age.ParseX25519Recipient(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not an age X25519 recipient (age1...): print it on the device with `jcmfa-agent device id`", s)
	}
	return r, nil
}

// bech32Data decodes the payload of a bech32 string (age keys) without
// its checksum; age has already checked the string when parsing the key.
func bech32Data(s string) ([]byte, error) {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	s = strings.ToLower(s)
	i := strings.LastIndexByte(s, '1')
	if i < 1 || len(s)-i-1 < 6 {
		return nil, errors.New("not bech32")
	}
	data := s[i+1 : len(s)-6]
	var out []byte
	var acc, bits uint
	for _, c := range data {
		v := strings.IndexRune(charset, c)
		if v < 0 {
			return nil, errors.New("not bech32")
		}
		acc = acc<<5 | uint(v)
		bits += 5
		for bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out, nil
}

// Package devicekey provides the 256-bit key that seals the store, from
// wherever the platform keeps machine secrets: a root-only key file on Linux
// and macOS, DPAPI machine scope on Windows. Losing the key means re-enrolling
// (or re-syncing), never a silent bypass.
package devicekey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Size is the key length in bytes.
const Size = 32

// Provider yields the device key, creating it on first use.
type Provider interface {
	Key() ([]byte, error)
	// Location names where the key lives, for messages and doctor.
	Location() string
}

// loadOrCreate reads the key blob at path or makes a new key, stores it via
// wrap, and returns the plain key. unwrap/wrap are the platform's protection.
func loadOrCreate(path string, wrap, unwrap func([]byte) ([]byte, error)) ([]byte, error) {
	blob, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, Size)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		blob, err := wrap(key)
		if err != nil {
			return nil, fmt.Errorf("protect new device key: %w", err)
		}
		// O_EXCL: two daemons starting at once must not each write a key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create device key %s: %w", path, err)
		}
		if _, err := f.Write(blob); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("write device key %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("read device key: %w", err)
	}
	key, err := unwrap(blob)
	if err != nil {
		return nil, fmt.Errorf("device key %s: %w", path, err)
	}
	if len(key) != Size {
		return nil, fmt.Errorf("device key %s holds %d bytes, want %d: restore it from backup or move the store and key aside to start afresh", path, len(key), Size)
	}
	return key, nil
}

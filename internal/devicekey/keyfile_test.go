//go:build !windows

package devicekey

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyIsCreatedOnceOwnerOnly(t *testing.T) {
	p := File{Path: filepath.Join(t.TempDir(), "store.key")}
	k1, err := p.Key()
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != Size {
		t.Fatalf("key is %d bytes", len(k1))
	}
	fi, _ := os.Stat(p.Path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", fi.Mode().Perm())
	}
	k2, err := p.Key()
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second read: %v, same=%v", err, bytes.Equal(k1, k2))
	}
}

func TestReadableKeyIsRefused(t *testing.T) {
	p := File{Path: filepath.Join(t.TempDir(), "store.key")}
	if _, err := p.Key(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p.Path, 0o644)
	_, err := p.Key()
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want a chmod 600 hint", err)
	}
}

func TestShortKeyIsRefused(t *testing.T) {
	p := File{Path: filepath.Join(t.TempDir(), "store.key")}
	os.WriteFile(p.Path, []byte("short"), 0o600)
	if _, err := p.Key(); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

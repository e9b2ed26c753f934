//go:build !windows

package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLooseDirectoryIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o755)
	_, err := Open(filepath.Join(dir, "jcmfa.db"), testKey(t), Options{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("chmod 700")) {
		t.Fatalf("err = %v, want a chmod 700 hint", err)
	}
}

func TestStoreFileIsOwnerOnly(t *testing.T) {
	_, path, _ := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("store mode %o, want 600", fi.Mode().Perm())
	}
}

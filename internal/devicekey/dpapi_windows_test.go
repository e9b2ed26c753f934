package devicekey

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestDPAPIKeyIsStableAndNotStoredInClear(t *testing.T) {
	p := DPAPI{Path: filepath.Join(t.TempDir(), "store.key.dpapi")}
	k1, err := p.Key()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := p.Key()
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != Size || !bytes.Equal(k1, k2) {
		t.Fatalf("second Key() = %x, first %x: the store would not open again", k2, k1)
	}
	blob, err := os.ReadFile(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, k1) {
		t.Fatal("the key file holds the key in clear: DPAPI did not wrap it")
	}
}

func TestDPAPIBlobFromElsewhereIsRefused(t *testing.T) {
	p := DPAPI{Path: filepath.Join(t.TempDir(), "store.key.dpapi")}
	if err := os.WriteFile(p.Path, bytes.Repeat([]byte{0x42}, 200), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Key(); err == nil {
		t.Fatal("a blob DPAPI cannot open was accepted as a key")
	}
}

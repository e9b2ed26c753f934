package devicekey

import (
	"fmt"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// DPAPI is a key protected with the Data Protection API in machine scope:
// the blob on disk opens only on this machine.
type DPAPI struct{ Path string }

// Default is the platform's key provider for a state directory.
func Default(stateDir string) Provider {
	return DPAPI{Path: filepath.Join(stateDir, "store.key.dpapi")}
}

// Location implements Provider.
func (d DPAPI) Location() string { return d.Path + " (DPAPI, machine scope)" }

// Key implements Provider.
func (d DPAPI) Key() ([]byte, error) { return loadOrCreate(d.Path, protect, unprotect) }

var entropy = []byte("jcmfa device key v1")

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

func takeBlob(out *windows.DataBlob) []byte {
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
}

func protect(key []byte) ([]byte, error) {
	var out windows.DataBlob
	err := windows.CryptProtectData(blob(key), nil, blob(entropy), 0, nil,
		windows.CRYPTPROTECT_LOCAL_MACHINE|windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, fmt.Errorf("CryptProtectData: %w", err)
	}
	return takeBlob(&out), nil
}

func unprotect(b []byte) ([]byte, error) {
	var out windows.DataBlob
	err := windows.CryptUnprotectData(blob(b), nil, blob(entropy), 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, fmt.Errorf("CryptUnprotectData (was the key made on another machine?): %w", err)
	}
	return takeBlob(&out), nil
}

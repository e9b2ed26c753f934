// Package paths says where jcmfa keeps its state and its socket on each OS.
package paths

import "path/filepath"

// StoreFile is the store's file name inside the state directory.
const StoreFile = "jcmfa.db"

// Store is the store file inside stateDir.
func Store(stateDir string) string { return filepath.Join(stateDir, StoreFile) }

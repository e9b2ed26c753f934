package engine

import "strings"

// canonical folds case: Windows account names are case-insensitive, and
// the credential provider sends them lower-cased.
func canonical(name string) string { return strings.ToLower(name) }

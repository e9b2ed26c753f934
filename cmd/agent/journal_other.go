//go:build !linux

package main

import "log/slog"

// journalHandler: there is no journal; the daemon logs JSON lines.
func journalHandler() slog.Handler { return nil }

//go:build linux

package main

import (
	"log/slog"
	"os"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/jcmfa/jcmfa/internal/slogjournal"
)

// The cost per audit event of the daemon's two log paths, each with the
// attributes a denied login logs (engine.logEvent). Under a real journald
// (a booted system) run as:
//
//	go test -c -o agent.test ./cmd/agent
//	./agent.test -test.run='^$' -test.bench=AuditLog -test.benchmem 2>/dev/null
//
// with stderr the journal's stream (systemd-run --pty, or a unit) for the
// JSON path to reach journald as it does in production.

func logAudit(log *slog.Logger) {
	log.Info("audit", "kind", "login", "user", "alice", "account_id", "1000", "surface", "ssh", "service", "sshd",
		"rhost", "10.0.0.5", "tty", "ssh", "verdict", "deny", "reason", "wrong_code", "actor", "pam", "peer_uid", 0)
}

// BenchmarkAuditLogJSON: JSON lines through the batching writer to
// stderr, today's path (and the path off systemd).
func BenchmarkAuditLogJSON(b *testing.B) {
	out := newLogWriter(os.Stderr)
	log := slog.New(slog.NewJSONHandler(out, nil))
	b.ReportAllocs()
	for b.Loop() {
		logAudit(log)
	}
	out.Flush()
}

// BenchmarkAuditLogJournal: one native entry per event to journald's
// socket (skipped where there is no journald).
func BenchmarkAuditLogJournal(b *testing.B) {
	if !journal.Enabled() {
		b.Skip("no journald socket here (/run/systemd/journal/socket)")
	}
	log := slog.New(slogjournal.New(slogjournal.Options{Identifier: "jcmfa-bench"}))
	b.ReportAllocs()
	for b.Loop() {
		logAudit(log)
	}
}

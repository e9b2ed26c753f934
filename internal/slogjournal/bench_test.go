package slogjournal

import (
	"log/slog"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
)

// BenchmarkHandle is the handler's own cost per audit event (field
// names, the map journal.Send takes), without the send; cmd/agent's
// BenchmarkAuditLogJournal adds the real send to journald.
func BenchmarkHandle(b *testing.B) {
	h := &Handler{opts: Options{Identifier: "jcmfa-agent"}, names: &names{}, send: func(string, journal.Priority, map[string]string) error { return nil }}
	log := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		log.Info("audit", "kind", "login", "user", "alice", "account_id", "1000", "surface", "ssh", "service", "sshd",
			"rhost", "10.0.0.5", "tty", "ssh", "verdict", "deny", "reason", "wrong_code", "actor", "pam", "peer_uid", 0)
	}
}

package main

import (
	"log/slog"
	"os"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/jcmfa/jcmfa/internal/slogjournal"
)

// journalHandler is the daemon's log handler when its stderr is the
// journal (systemd sets JOURNAL_STREAM to stderr's device:inode,
// systemd.exec(5)): native entries whose fields journalctl can match
// (USER=, VERDICT=, PRIORITY=...), sent over journald's own socket. Nil
// when stderr is anything else (a terminal, a file, launchd), or when
// the socket is out of reach: then the daemon logs JSON lines as before.
func journalHandler() slog.Handler {
	if ok, err := journal.StderrIsJournalStream(); err != nil || !ok || !journal.Enabled() {
		return nil
	}
	return slogjournal.New(slogjournal.Options{
		Identifier: "jcmfa-agent",
		// An entry journald's socket refuses still reaches the journal
		// through stderr, as a JSON line.
		Fallback: slog.NewJSONHandler(os.Stderr, nil),
	})
}

package slogjournal

import (
	"bytes"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

// entry is what one Handle sent.
type sent struct {
	msg    string
	pri    journal.Priority
	fields map[string]string
}

func recorder() (*Handler, *[]sent) {
	var got []sent
	h := &Handler{opts: Options{Identifier: "jcmfa-agent"}, names: &names{}, send: func(m string, p journal.Priority, f map[string]string) error {
		got = append(got, sent{m, p, maps.Clone(f)})
		return nil
	}}
	return h, &got
}

// TestAuditEventBecomesJournalFields: the attributes the engine logs for
// every audit event (engine.logEvent) arrive as the fields an admin
// matches with journalctl, and nothing else rides along.
func TestAuditEventBecomesJournalFields(t *testing.T) {
	h, got := recorder()
	slog.New(h).Warn("audit", "kind", "login", "user", "alice", "typed", "ALICE", "account_id", "1000",
		"surface", "ssh", "service", "sshd", "rhost", "10.0.0.5", "tty", "ssh", "verdict", "deny", "reason", "wrong_code",
		"actor", "pam", "peer_uid", 0)
	want := map[string]string{"SYSLOG_IDENTIFIER": "jcmfa-agent", "KIND": "login", "USER": "alice", "TYPED": "ALICE",
		"ACCOUNT_ID": "1000", "SURFACE": "ssh", "SERVICE": "sshd", "RHOST": "10.0.0.5", "TTY": "ssh", "VERDICT": "deny",
		"REASON": "wrong_code", "ACTOR": "pam", "PEER_UID": "0"}
	if len(*got) != 1 {
		t.Fatalf("sent %d entries, want 1", len(*got))
	}
	e := (*got)[0]
	// MESSAGE keeps the plain journalctl view readable.
	msg := "audit kind=login user=alice typed=ALICE account_id=1000 surface=ssh service=sshd rhost=10.0.0.5 tty=ssh " +
		"verdict=deny reason=wrong_code actor=pam peer_uid=0"
	if e.msg != msg || e.pri != journal.PriWarning || !maps.Equal(e.fields, want) {
		t.Fatalf("sent %q pri %d %v\nwant %q pri %d %v", e.msg, e.pri, e.fields, msg, journal.PriWarning, want)
	}
}

func TestPriorityFromLevel(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		want  journal.Priority
	}{
		{slog.LevelDebug, 7}, {slog.LevelDebug - 4, 7}, {slog.LevelInfo, 6}, {slog.LevelInfo + 2, 6},
		{slog.LevelWarn, 4}, {slog.LevelError, 3}, {slog.LevelError + 8, 3},
	} {
		if got := Priority(tc.level); got != tc.want {
			t.Errorf("Priority(%v) = %d, want %d", tc.level, got, tc.want)
		}
	}
	h, got := recorder()
	h.opts.Level = slog.LevelDebug
	log := slog.New(h)
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	var pris []journal.Priority
	for _, e := range *got {
		pris = append(pris, e.pri)
	}
	if want := []journal.Priority{7, 6, 4, 3}; !slicesEqual(pris, want) {
		t.Fatalf("priorities sent %v, want %v", pris, want)
	}
	h2, got2 := recorder() // default level: Info
	slog.New(h2).Debug("hidden")
	if len(*got2) != 0 {
		t.Fatal("Debug logged at the default level")
	}
}

func slicesEqual(a, b []journal.Priority) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFieldNamesFollowJournaldRules(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"user", "USER"}, {"peer_uid", "PEER_UID"}, {"RHost", "RHOST"}, {"x-forwarded.for", "X_FORWARDED_FOR"},
		{"_uid", "UID"}, {"__pid", "PID"}, {"_", "ATTR"}, {"", "ATTR"}, {"2fa", "F2FA"}, {"ünïcode", "N__CODE"},
		{strings.Repeat("a", 80), strings.Repeat("A", 64)},
	} {
		got := fieldName(tc.key)
		if got != tc.want {
			t.Errorf("fieldName(%q) = %q, want %q", tc.key, got, tc.want)
		}
		if !validField(got) {
			t.Errorf("fieldName(%q) = %q, which journald would reject", tc.key, got)
		}
	}
}

// validField is journald's rule, written out independently of fieldName.
func validField(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '_' || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func TestAttributesCannotForgeTheEntrysOwnFields(t *testing.T) {
	h, got := recorder()
	slog.New(h).Info("real", "priority", "0", "message", "forged", "syslog_identifier", "sshd", "_uid", "0")
	e := (*got)[0]
	if !strings.HasPrefix(e.msg, "real ") || e.pri != journal.PriInfo || e.fields["SYSLOG_IDENTIFIER"] != "jcmfa-agent" {
		t.Fatalf("entry forged: %q %d %v", e.msg, e.pri, e.fields)
	}
	for k, v := range map[string]string{"ATTR_PRIORITY": "0", "ATTR_MESSAGE": "forged", "ATTR_SYSLOG_IDENTIFIER": "sshd", "UID": "0"} {
		if e.fields[k] != v {
			t.Errorf("%s = %q, want %q (fields %v)", k, e.fields[k], v, e.fields)
		}
	}
}

func TestGroupsAndWithAttrs(t *testing.T) {
	h, got := recorder()
	log := slog.New(h).With("device", "web1").WithGroup("fleet").With("url", "https://x")
	log.Info("poll", "status", 200, slog.Group("bundle", "version", 7, slog.Group("", "inline", true)),
		slog.Group("empty"), "at", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "err", errors.New("boom"))
	slog.New(h).Info("plain") // the parent is unchanged
	want := map[string]string{"SYSLOG_IDENTIFIER": "jcmfa-agent", "DEVICE": "web1", "FLEET_URL": "https://x",
		"FLEET_STATUS": "200", "FLEET_BUNDLE_VERSION": "7", "FLEET_BUNDLE_INLINE": "true",
		"FLEET_AT": "2026-01-02T03:04:05Z", "FLEET_ERR": "boom"}
	if e := (*got)[0]; !maps.Equal(e.fields, want) {
		t.Fatalf("fields %v\nwant   %v", e.fields, want)
	}
	msg := `poll device=web1 fleet.url=https://x fleet.status=200 fleet.bundle.version=7 fleet.bundle.inline=true ` +
		`fleet.at=2026-01-02T03:04:05Z fleet.err=boom`
	if e := (*got)[0]; e.msg != msg {
		t.Fatalf("message %q\nwant    %q", e.msg, msg)
	}
	if e := (*got)[1]; len(e.fields) != 1 {
		t.Fatalf("parent logger carries %v", e.fields)
	}
}

func TestRefusedEntryGoesToTheFallback(t *testing.T) {
	var buf bytes.Buffer
	h := &Handler{opts: Options{Identifier: "jcmfa-agent", Fallback: slog.NewJSONHandler(&buf, nil)},
		send: func(string, journal.Priority, map[string]string) error { return errors.New("journald gone") }}
	slog.New(h).With("user", "alice").Warn("audit", "verdict", "deny")
	out := buf.String()
	for _, want := range []string{`"msg":"audit"`, `"user":"alice"`, `"verdict":"deny"`, `"journal_error":"journald gone"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("fallback wrote %q, missing %s", out, want)
		}
	}
}

// TestSlogHandlerContract runs log/slog's own conformance test against
// the handler, reading each entry's fields back as slogtest expects.
func TestSlogHandlerContract(t *testing.T) {
	var entries []map[string]any
	h := &Handler{names: &names{}, send: func(m string, p journal.Priority, f map[string]string) error {
		m, _, _ = strings.Cut(m, " ") // the message, without the attributes' text
		e := map[string]any{slog.MessageKey: m, slog.LevelKey: p}
		for k, v := range f {
			// Rebuild nesting from the NAME_ prefixes slogtest's groups use.
			e = nest(e, strings.Split(k, "_"), v)
		}
		entries = append(entries, e)
		return nil
	}}
	err := slogtest.TestHandler(h, func() []map[string]any {
		// slogtest's keys are lower case except its groups "G" and "H"; fields
		// are upper case.
		out := make([]map[string]any, len(entries))
		for i, e := range entries {
			out[i] = lower(e)
		}
		return out
	})
	if err != nil {
		// The journal keeps no time of ours (it stamps each entry itself),
		// so slogtest's checks of a "time" key do not apply.
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.Contains(line, "time") {
				t.Error(line)
			}
		}
	}
}

func nest(m map[string]any, path []string, v string) map[string]any {
	cur := m
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
	return m
}

func lower(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = lower(sub)
		}
		if k != "G" && k != "H" {
			k = strings.ToLower(k)
		}
		out[k] = v
	}
	return out
}

func TestMessageTextQuotesAmbiguousValues(t *testing.T) {
	h, got := recorder()
	slog.New(h).Info("m", "detail", "two words", "empty", "", "eq", "a=b", "nl", "x\ny", "plain", "ok")
	want := `m detail="two words" empty="" eq="a=b" nl="x\ny" plain=ok`
	if e := (*got)[0]; e.msg != want || e.fields["NL"] != "x\ny" {
		t.Fatalf("message %q, NL %q\nwant    %q", e.msg, e.fields["NL"], want)
	}
}

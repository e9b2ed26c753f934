// Package slogjournal is a log/slog Handler that writes native journald
// entries through github.com/coreos/go-systemd/v22/journal, so that each
// attribute of a log record is a field an admin can match on:
//
//	journalctl -u jcmfa-agent VERDICT=deny USER=alice
//
// rather than text inside MESSAGE. The daemon uses it when its stderr is
// the journal (journal.StderrIsJournalStream: started by systemd with
// StandardError=journal, the default); elsewhere it logs JSON lines.
package slogjournal

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

// Options configures a Handler.
type Options struct {
	// Identifier is SYSLOG_IDENTIFIER (what journalctl shows before the
	// message, and what journalctl -t matches).
	Identifier string
	// Level is the minimum level logged; nil means Info (slog's default).
	Level slog.Leveler
	// Fallback, if set, gets a record the journal refused (journald
	// restarting, say), so that it is not lost without a trace.
	Fallback slog.Handler
}

// sendFunc is journal.Send's shape; tests replace it.
type sendFunc func(message string, priority journal.Priority, fields map[string]string) error

// Handler writes each record as one journal entry: MESSAGE, PRIORITY from
// the level, SYSLOG_IDENTIFIER, and one field per attribute (fieldName
// says how attribute keys become field names; a group's name prefixes the
// fields inside it).
//
// MESSAGE is the record's message followed by its attributes as
// key=value (as slog's TextHandler writes them), so that the plain
// `journalctl -u jcmfa-agent` view still says who was denied and why.
type Handler struct {
	opts   Options
	send   sendFunc
	groups groups            // the open groups (WithGroup)
	fields map[string]string // from WithAttrs, already named; shared, never written after creation
	text   string            // from WithAttrs, as MESSAGE carries them
	names  *names            // shared with the handlers derived from this one
}

// groups is where WithGroup has put the handler: its names as field
// prefix ("FLEET_") and as text prefix ("fleet.").
type groups struct{ field, text string }

func (g groups) in(c *names, name string) groups {
	f := g.field + c.get(name) + "_"
	if len(f) > maxField {
		f = f[:maxField]
	}
	return groups{f, g.text + name + "."}
}

// entry collects one record's fields and text.
type entry struct {
	fields map[string]string
	text   []byte
}

// New returns a Handler that sends to the local journal.
func New(opts Options) *Handler { return &Handler{opts: opts, send: journal.Send, names: &names{}} }

// names caches fieldName: the daemon logs the same dozen keys for every
// login, and working each out again was a seventh of the handler's time.
type names struct {
	m  sync.Map // attribute key → field name
	n  int      // entries, under mu
	mu sync.Mutex
}

// maxNames bounds the cache; keys come from the code, so a few dozen.
const maxNames = 256

func (c *names) get(key string) string {
	if c == nil {
		return fieldName(key)
	}
	if v, ok := c.m.Load(key); ok {
		return v.(string)
	}
	name := fieldName(key)
	c.mu.Lock()
	if c.n < maxNames {
		c.n++
		c.m.Store(key, name)
	}
	c.mu.Unlock()
	return name
}

// Enabled reports whether level is logged.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	min := slog.LevelInfo
	if h.opts.Level != nil {
		min = h.opts.Level.Level()
	}
	return level >= min
}

// Handle sends r as one entry.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	e := entry{fields: make(map[string]string, len(h.fields)+r.NumAttrs()+1), text: make([]byte, 0, 256)}
	for k, v := range h.fields {
		e.fields[k] = v
	}
	e.text = append(append(e.text, r.Message...), h.text...)
	r.Attrs(func(a slog.Attr) bool {
		h.names.addAttr(&e, h.groups, a)
		return true
	})
	if h.opts.Identifier != "" {
		e.fields["SYSLOG_IDENTIFIER"] = h.opts.Identifier
	}
	err := h.send(string(e.text), Priority(r.Level), e.fields)
	if err != nil && h.opts.Fallback != nil {
		r = r.Clone()
		r.AddAttrs(slog.String("journal_error", err.Error()))
		return h.opts.Fallback.Handle(ctx, r)
	}
	return err
}

// WithAttrs returns a Handler whose entries also carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	e := entry{fields: make(map[string]string, len(h.fields)+len(attrs)), text: []byte(h.text)}
	for k, v := range h.fields {
		e.fields[k] = v
	}
	for _, a := range attrs {
		h.names.addAttr(&e, h.groups, a)
	}
	h2.fields, h2.text = e.fields, string(e.text)
	if h.opts.Fallback != nil {
		h2.opts.Fallback = h.opts.Fallback.WithAttrs(attrs)
	}
	return &h2
}

// WithGroup returns a Handler whose later attributes are inside group
// name: their fields are prefixed NAME_.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = h.groups.in(h.names, name)
	if h.opts.Fallback != nil {
		h2.opts.Fallback = h.opts.Fallback.WithGroup(name)
	}
	return &h2
}

// Priority maps a slog level to a syslog priority (syslog(3), as
// journald's PRIORITY= takes it): Debug 7, Info 6, Warn 4, Error 3.
// Levels between slog's four round down to the nearer less severe one.
func Priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	default:
		return journal.PriDebug
	}
}

// addAttr adds a, inside groups g, to e, following slog's rules for
// handlers: an empty attribute is dropped, a group's attributes are
// flattened under its name, a group with an empty key is inlined, and
// LogValuers are resolved.
func (c *names) addAttr(e *entry, g groups, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			g = g.in(c, a.Key)
		}
		for _, ga := range a.Value.Group() {
			c.addAttr(e, g, ga)
		}
		return
	}
	name := c.get(a.Key)
	if g.field != "" {
		name = g.field + name
	}
	if len(name) > maxField {
		name = name[:maxField]
	}
	if reserved[name] {
		// An attribute must not forge the entry's own fields (its
		// priority, its identifier, its message).
		name = "ATTR_" + name
	}
	v := value(a.Value)
	e.fields[name] = v
	e.text = append(append(append(append(e.text, ' '), g.text...), a.Key...), '=')
	if needsQuote(v) {
		e.text = strconv.AppendQuote(e.text, v)
	} else {
		e.text = append(e.text, v...)
	}
}

// needsQuote is slog's TextHandler rule, near enough: a value that is
// empty or holds a space, '=', '"' or a control character is quoted, so
// the text reads back unambiguously.
func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '=' || c == '"' || c == 0x7f {
			return true
		}
	}
	return false
}

func value(v slog.Value) string {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	default:
		return v.String()
	}
}

// reserved are the fields this handler sets itself and those journald
// and journalctl give a meaning to for the entry (systemd.journal-fields(7),
// "User Journal Fields"): an attribute of the same name is renamed ATTR_….
var reserved = map[string]bool{
	"MESSAGE": true, "MESSAGE_ID": true, "PRIORITY": true, "CODE_FILE": true, "CODE_LINE": true, "CODE_FUNC": true,
	"ERRNO": true, "INVOCATION_ID": true, "USER_INVOCATION_ID": true, "SYSLOG_FACILITY": true, "SYSLOG_IDENTIFIER": true,
	"SYSLOG_PID": true, "SYSLOG_TIMESTAMP": true, "SYSLOG_RAW": true, "DOCUMENTATION": true, "TID": true,
	"UNIT": true, "USER_UNIT": true,
}

// maxField is the longest field name journald accepts (64 bytes, systemd's
// journal_field_valid; sd_journal_print(3): names are upper-case letters,
// digits and underscores and may not begin with an underscore, and
// journald also rejects a leading digit).
const maxField = 64

// fieldName turns an attribute key into a journal field name journald
// accepts: ASCII letters upper-cased, anything but A–Z, 0–9 and _ made _,
// leading underscores (reserved for journald's trusted fields, such as
// _UID and _PID, which a process cannot set) dropped, a leading digit
// prefixed with F, and cut to 64 bytes. "peer_uid" is PEER_UID, "rhost"
// RHOST, "x-forwarded.for" X_FORWARDED_FOR.
func fieldName(key string) string {
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), "_")
	if s == "" {
		s = "ATTR"
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "F" + s
	}
	if len(s) > maxField {
		s = s[:maxField]
	}
	return s
}

/*
 * jcmfa_wire.c: see jcmfa_wire.h. The codec and the dialogue use only C99;
 * the POSIX transport at the end is the only part that touches the OS.
 */
#if !defined(JCMFA_NO_POSIX) && !defined(_WIN32)
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE /* SO_NOSIGPIPE, and MSG_NOSIGNAL (__DARWIN_C_LEVEL >= 200809L) */
#elif !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#endif

#include "jcmfa_wire.h"

#include <string.h>

const char *jcmfa_strerror(int err)
{
	switch (err) {
	case JCMFA_OK: return "ok";
	case JCMFA_E_TOOLONG: return "line too long";
	case JCMFA_E_SYNTAX: return "malformed line";
	case JCMFA_E_ESCAPE: return "bad percent escape";
	case JCMFA_E_TEXT: return "value is not UTF-8 text";
	case JCMFA_E_DUPKEY: return "repeated key";
	case JCMFA_E_FIELDS: return "too many fields";
	case JCMFA_E_PROTOCOL: return "unexpected message";
	case JCMFA_E_VERSION: return "daemon speaks another protocol version";
	case JCMFA_E_CLOSED: return "daemon closed the connection";
	case JCMFA_E_TIMEOUT: return "daemon did not answer in time";
	case JCMFA_E_IO: return "i/o error";
	case JCMFA_E_CONNECT: return "cannot connect to the daemon";
	case JCMFA_E_REQUEST: return "invalid login request";
	case JCMFA_E_CONV: return "conversation with the user failed";
	case JCMFA_E_CANCELLED: return "cancelled by the user";
	case JCMFA_E_CHATTY: return "daemon sent too many messages";
	}
	return "unknown error";
}

void jcmfa_wipe(void *p, size_t n)
{
	/* A plain memset of a buffer that is about to die is a dead store the
	 * optimiser may drop; writes through a volatile pointer are not. */
	volatile unsigned char *v = (volatile unsigned char *)p;
	while (n--)
		*v++ = 0;
}

/* ---- codec ---------------------------------------------------------------- */

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int must_encode(unsigned char c)
{
	return c < 0x21 || c > 0x7e || c == '%' || c == '=';
}

long jcmfa_encode(char *dst, size_t cap, const char *src, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0, i;

	if (cap == 0)
		return JCMFA_E_TOOLONG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		size_t need = must_encode(c) ? 3 : 1;
		if (cap - n <= need) { /* keep one byte for the NUL */
			dst[0] = '\0';
			return JCMFA_E_TOOLONG;
		}
		if (need == 3) {
			dst[n++] = '%';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		} else {
			dst[n++] = (char)c;
		}
	}
	dst[n] = '\0';
	return (long)n;
}

int jcmfa_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t k, need;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return 0; /* continuation byte, 0xc0/0xc1 overlong, or > 0xf4 */
		}
		if (len - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000))
			return 0; /* overlong */
		if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += need + 1;
	}
	return 1;
}

int jcmfa_login_value_ok(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len == 0 || len > JCMFA_VALUE_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return jcmfa_utf8_valid(s, len);
}

int jcmfa_decode(char *dst, size_t cap, const char *src, size_t len, size_t *out_len)
{
	size_t i = 0, n = 0;

	if (cap == 0)
		return JCMFA_E_TOOLONG;
	while (i < len) {
		unsigned char c = (unsigned char)src[i];
		if (c < 0x21 || c > 0x7e) {
			dst[0] = '\0';
			return JCMFA_E_SYNTAX;
		}
		if (c == '%') {
			int hi, lo;
			if (len - i < 3) {
				dst[0] = '\0';
				return JCMFA_E_ESCAPE;
			}
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0) {
				dst[0] = '\0';
				return JCMFA_E_ESCAPE;
			}
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0) { /* would silently cut a C string short */
				dst[0] = '\0';
				return JCMFA_E_TEXT;
			}
			i += 3;
		} else {
			i++;
		}
		if (n + 1 >= cap) {
			dst[0] = '\0';
			return JCMFA_E_TOOLONG;
		}
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	if (!jcmfa_utf8_valid(dst, n)) {
		dst[0] = '\0';
		return JCMFA_E_TEXT;
	}
	if (out_len)
		*out_len = n;
	return JCMFA_OK;
}

static int is_verb_char(unsigned char c) { return c >= 'A' && c <= 'Z'; }

static int is_key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int jcmfa_parse(struct jcmfa_msg *m, const char *line, size_t len)
{
	size_t body, i, v, out = 0;
	int seen_key = 0;

	m->verb[0] = '\0';
	m->nfields = 0;
	if (len > JCMFA_LINE_MAX)
		return JCMFA_E_TOOLONG;
	if (len == 0 || line[len - 1] != '\n')
		return JCMFA_E_SYNTAX;
	body = len - 1;
	for (i = 0; i < body; i++) {
		unsigned char c = (unsigned char)line[i];
		/* Only printable ASCII and the separating space travel raw. */
		if (c < 0x20 || c > 0x7e)
			return JCMFA_E_SYNTAX;
	}

	for (v = 0; v < body && line[v] != ' '; v++)
		if (!is_verb_char((unsigned char)line[v]))
			return JCMFA_E_SYNTAX;
	if (v == 0 || v > JCMFA_VERB_MAX)
		return JCMFA_E_SYNTAX;
	memcpy(m->verb, line, v);
	m->verb[v] = '\0';

	i = v;
	while (i < body) {
		size_t start, end, eq, j;
		struct jcmfa_field *f;
		size_t vlen;
		int rc;

		/* line[i] is a space: one, followed by a non-empty token. */
		start = i + 1;
		for (end = start; end < body && line[end] != ' '; end++)
			;
		if (end == start)
			return JCMFA_E_SYNTAX; /* doubled or trailing space */
		if (m->nfields == JCMFA_FIELDS_MAX)
			return JCMFA_E_FIELDS;
		f = &m->f[m->nfields];

		for (eq = start; eq < end && line[eq] != '='; eq++)
			;
		if (eq < end) {
			size_t klen = eq - start;
			if (klen == 0 || klen > JCMFA_KEY_MAX)
				return JCMFA_E_SYNTAX;
			for (j = start; j < eq; j++)
				if (!is_key_char((unsigned char)line[j]))
					return JCMFA_E_SYNTAX;
			/* Keys and decoded values together never outgrow the raw
			 * line (each '=' or space pays for a NUL); checked anyway. */
			if (sizeof m->buf - out < klen + 1)
				return JCMFA_E_TOOLONG;
			memcpy(m->buf + out, line + start, klen);
			m->buf[out + klen] = '\0';
			f->key = m->buf + out;
			out += klen + 1;
			for (j = 0; j < m->nfields; j++)
				if (m->f[j].key && strcmp(m->f[j].key, f->key) == 0)
					return JCMFA_E_DUPKEY;
			eq++; /* value starts after the first '=' */
			seen_key = 1;
		} else {
			/* Positional words lead, as the daemon writes and requires:
			 * "VERDICT x=1 allow" is not a verdict anyone meant. */
			if (seen_key)
				return JCMFA_E_SYNTAX;
			f->key = NULL;
			eq = start;
		}
		rc = jcmfa_decode(m->buf + out, sizeof m->buf - out, line + eq, end - eq, &vlen);
		if (rc != JCMFA_OK)
			return rc;
		f->val = m->buf + out;
		f->val_len = vlen;
		out += vlen + 1;
		m->nfields++;
		i = end;
	}
	return JCMFA_OK;
}

const char *jcmfa_msg_get(const struct jcmfa_msg *m, const char *key, size_t *len)
{
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		if (m->f[i].key && strcmp(m->f[i].key, key) == 0) {
			if (len)
				*len = m->f[i].val_len;
			return m->f[i].val;
		}
	}
	return NULL;
}

size_t jcmfa_msg_npos(const struct jcmfa_msg *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->nfields; i++)
		if (m->f[i].key == NULL)
			n++;
	return n;
}

const char *jcmfa_msg_pos(const struct jcmfa_msg *m, size_t k)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (m->f[i].key == NULL && k-- == 0)
			return m->f[i].val;
	return NULL;
}

void jcmfa_line_begin(struct jcmfa_line *l, const char *verb)
{
	size_t n = strlen(verb), i;

	l->n = 0;
	l->err = JCMFA_OK;
	l->b[0] = '\0';
	if (n == 0 || n > JCMFA_VERB_MAX) {
		l->err = JCMFA_E_SYNTAX;
		return;
	}
	for (i = 0; i < n; i++)
		if (!is_verb_char((unsigned char)verb[i])) {
			l->err = JCMFA_E_SYNTAX;
			return;
		}
	memcpy(l->b, verb, n);
	l->n = n;
	l->b[n] = '\0';
}

/* Room left for content: the line's last byte is reserved for the '\n'. */
static size_t line_room(const struct jcmfa_line *l)
{
	return JCMFA_LINE_MAX - 1 - l->n;
}

static void line_raw(struct jcmfa_line *l, const char *s, size_t n)
{
	if (l->err)
		return;
	if (line_room(l) < n) {
		l->err = JCMFA_E_TOOLONG;
		return;
	}
	memcpy(l->b + l->n, s, n);
	l->n += n;
	l->b[l->n] = '\0';
}

static void line_encoded(struct jcmfa_line *l, const char *val, size_t len)
{
	long r;

	if (l->err)
		return;
	/* +1: jcmfa_encode counts the NUL in its cap; b has a spare byte. */
	r = jcmfa_encode(l->b + l->n, line_room(l) + 1, val, len);
	if (r < 0) {
		l->err = (int)r;
		l->b[l->n] = '\0';
		return;
	}
	l->n += (size_t)r;
}

void jcmfa_line_word(struct jcmfa_line *l, const char *word, size_t len)
{
	if (len == 0 && !l->err)
		l->err = JCMFA_E_SYNTAX; /* an empty word would be a doubled space */
	line_raw(l, " ", 1);
	line_encoded(l, word, len);
}

void jcmfa_line_field(struct jcmfa_line *l, const char *key, const char *val, size_t len)
{
	size_t k = strlen(key), i;

	if (!l->err && (k == 0 || k > JCMFA_KEY_MAX))
		l->err = JCMFA_E_SYNTAX;
	for (i = 0; i < k && !l->err; i++)
		if (!is_key_char((unsigned char)key[i]))
			l->err = JCMFA_E_SYNTAX;
	line_raw(l, " ", 1);
	line_raw(l, key, k);
	line_raw(l, "=", 1);
	line_encoded(l, val, len);
}

int jcmfa_line_end(struct jcmfa_line *l)
{
	if (l->err)
		return l->err;
	l->b[l->n++] = '\n'; /* line_room() kept this byte free */
	l->b[l->n] = '\0';
	return JCMFA_OK;
}

/* ---- dialogue ------------------------------------------------------------- */

struct reader {
	char buf[JCMFA_LINE_MAX];
	size_t len;
};

/* Reads the next complete line into m. Bytes after it stay buffered. */
static int read_msg(const struct jcmfa_io *io, struct reader *r, struct jcmfa_msg *m)
{
	if (io->arm)
		io->arm(io->ctx);
	for (;;) {
		char *nl = (char *)memchr(r->buf, '\n', r->len);
		long n;

		if (nl) {
			size_t linelen = (size_t)(nl - r->buf) + 1;
			int rc = jcmfa_parse(m, r->buf, linelen);
			memmove(r->buf, r->buf + linelen, r->len - linelen);
			r->len -= linelen;
			return rc;
		}
		if (r->len == sizeof r->buf)
			return JCMFA_E_TOOLONG;
		n = io->read(io->ctx, r->buf + r->len, sizeof r->buf - r->len);
		if (n == 0)
			return JCMFA_E_CLOSED;
		if (n < 0)
			return (int)n;
		if ((size_t)n > sizeof r->buf - r->len)
			return JCMFA_E_IO; /* a transport that overran our buffer */
		r->len += (size_t)n;
	}
}

static int send_line(const struct jcmfa_io *io, const struct jcmfa_ui *ui, struct jcmfa_line *l,
                     const char *verb)
{
	int rc = jcmfa_line_end(l);

	if (rc != JCMFA_OK)
		return rc;
	if (ui->trace)
		ui->trace(ui->ctx, 0, verb);
	return io->write_all(io->ctx, l->b, l->n);
}

static void set_reason(struct jcmfa_result *res, const char *reason)
{
	size_t i;

	for (i = 0; reason && reason[i] && i < sizeof res->reason - 1; i++) {
		unsigned char c = (unsigned char)reason[i];
		res->reason[i] = (c >= 0x21 && c <= 0x7e) ? (char)c : '?';
	}
	res->reason[i] = '\0';
}

static int opt_value(const char *s)
{
	return s != NULL && s[0] != '\0' && jcmfa_login_value_ok(s, strlen(s));
}

/* The opening: HELLO and LOGIN in one write. The daemon's HELLO carries
 * nothing the request depends on, so waiting for it would only cost a
 * round trip between processes (tens of microseconds on a VM, where waking
 * the other side's CPU dominates); a version refusal still arrives as
 * ERROR + VERDICT deny, read below. */
static int send_opening(const struct jcmfa_io *io, const struct jcmfa_ui *ui,
                        const struct jcmfa_request *req, struct jcmfa_line *hello,
                        struct jcmfa_line *l)
{
	const char *client = (req->client && req->client[0]) ? req->client : "unknown";
	int rc;

	jcmfa_line_begin(hello, "HELLO");
	jcmfa_line_word(hello, JCMFA_PROTOCOL_VERSION, 1);
	jcmfa_line_word(hello, client, strlen(client));
	if ((rc = jcmfa_line_end(hello)) != JCMFA_OK)
		return rc;
	jcmfa_line_begin(l, "LOGIN");
	jcmfa_line_field(l, "user", req->user, strlen(req->user));
	if (opt_value(req->service))
		jcmfa_line_field(l, "service", req->service, strlen(req->service));
	if (opt_value(req->surface))
		jcmfa_line_field(l, "surface", req->surface, strlen(req->surface));
	if (opt_value(req->rhost))
		jcmfa_line_field(l, "rhost", req->rhost, strlen(req->rhost));
	if (opt_value(req->tty))
		jcmfa_line_field(l, "tty", req->tty, strlen(req->tty));
	jcmfa_line_field(l, "interactive", req->interactive ? "1" : "0", 1);
	if ((rc = jcmfa_line_end(l)) != JCMFA_OK)
		return rc;
	/* HELLO is short: it fits in front of LOGIN in hello's buffer. */
	if (hello->n + l->n > JCMFA_LINE_MAX)
		return JCMFA_E_TOOLONG;
	memcpy(hello->b + hello->n, l->b, l->n);
	hello->n += l->n;
	if (ui->trace) {
		ui->trace(ui->ctx, 0, "HELLO");
		ui->trace(ui->ctx, 0, "LOGIN");
	}
	return io->write_all(io->ctx, hello->b, hello->n);
}

/* Everything jcmfa_login keeps, in one place so it can be wiped at once:
 * INFO lines carry the TOTP secret during enrollment, ANSWER lines a code. */
struct dialogue {
	struct reader rd;
	struct jcmfa_msg msg;
	struct jcmfa_line out, hello;
	char answer[JCMFA_ANSWER_MAX];
};

static enum jcmfa_verdict run(const struct jcmfa_io *io, const struct jcmfa_ui *ui,
                              const struct jcmfa_request *req, struct jcmfa_result *res,
                              struct dialogue *d)
{
	int hello_done = 0, rc;
	unsigned count;

	if ((rc = send_opening(io, ui, req, &d->hello, &d->out)) != JCMFA_OK)
		goto broken;

	for (count = 0;; count++) {
		struct jcmfa_msg *m = &d->msg;
		const char *text;

		if (count == JCMFA_MESSAGES_MAX) {
			rc = JCMFA_E_CHATTY;
			goto broken;
		}
		if ((rc = read_msg(io, &d->rd, m)) != JCMFA_OK)
			goto broken;
		if (ui->trace)
			ui->trace(ui->ctx, 1, m->verb);
		text = jcmfa_msg_get(m, "text", NULL);
		if (text == NULL)
			text = "";

		if (strcmp(m->verb, "HELLO") == 0) {
			const char *ver = jcmfa_msg_pos(m, 0);
			if (hello_done || jcmfa_msg_npos(m) != 1) {
				rc = JCMFA_E_PROTOCOL;
				goto broken;
			}
			if (strcmp(ver, JCMFA_PROTOCOL_VERSION) != 0) {
				rc = JCMFA_E_VERSION;
				goto broken;
			}
			hello_done = 1;
		} else if (strcmp(m->verb, "INFO") == 0 || strcmp(m->verb, "ERROR") == 0) {
			/* Allowed before HELLO too: a version refusal is ERROR+VERDICT. */
			if (jcmfa_msg_npos(m) != 0) {
				rc = JCMFA_E_PROTOCOL;
				goto broken;
			}
			if (m->verb[0] == 'I')
				(void)ui->info(ui->ctx, text);
			else
				(void)ui->error(ui->ctx, text);
		} else if (strcmp(m->verb, "ASK") == 0) {
			const char *echo = jcmfa_msg_get(m, "echo", NULL);
			int on;
			if (!hello_done || jcmfa_msg_npos(m) != 0 || echo == NULL) {
				rc = JCMFA_E_PROTOCOL;
				goto broken;
			}
			if (strcmp(echo, "on") == 0)
				on = 1;
			else if (strcmp(echo, "off") == 0)
				on = 0;
			else {
				rc = JCMFA_E_PROTOCOL;
				goto broken;
			}
			res->challenged = 1;
			d->answer[0] = '\0';
			switch (ui->ask(ui->ctx, on, text, d->answer, sizeof d->answer)) {
			case JCMFA_ASK_OK:
				break;
			case JCMFA_ASK_CANCEL:
				res->verdict = JCMFA_DENY;
				res->err = JCMFA_E_CANCELLED;
				return res->verdict;
			default:
				res->verdict = JCMFA_DENY;
				res->err = JCMFA_E_CONV;
				return res->verdict;
			}
			d->answer[sizeof d->answer - 1] = '\0';
			jcmfa_line_begin(&d->out, "ANSWER");
			jcmfa_line_field(&d->out, "text", d->answer, strlen(d->answer));
			rc = send_line(io, ui, &d->out, "ANSWER");
			jcmfa_wipe(d->answer, sizeof d->answer);
			jcmfa_wipe(&d->out, sizeof d->out);
			if (rc != JCMFA_OK)
				goto broken;
		} else if (strcmp(m->verb, "VERDICT") == 0) {
			const char *word = jcmfa_msg_pos(m, 0);
			if (jcmfa_msg_npos(m) != 1) {
				rc = JCMFA_E_PROTOCOL;
				goto broken;
			}
			/* Before our LOGIN only a refusal makes sense. */
			if (strcmp(word, "deny") == 0)
				res->verdict = JCMFA_DENY;
			else if (hello_done && strcmp(word, "allow") == 0)
				res->verdict = JCMFA_ALLOW;
			else if (hello_done && strcmp(word, "skip") == 0)
				res->verdict = JCMFA_SKIP;
			else {
				rc = JCMFA_E_PROTOCOL;
				goto broken;
			}
			set_reason(res, jcmfa_msg_get(m, "reason", NULL));
			res->err = JCMFA_OK;
			return res->verdict;
		} else {
			rc = JCMFA_E_PROTOCOL;
			goto broken;
		}
	}

broken:
	res->verdict = JCMFA_BROKEN;
	res->err = rc;
	return res->verdict;
}

int jcmfa_fail_open(int failmode_safe, const struct jcmfa_result *res)
{
	return failmode_safe && res->absent && !res->challenged;
}

enum jcmfa_verdict jcmfa_login(const struct jcmfa_io *io, const struct jcmfa_ui *ui,
                               const struct jcmfa_request *req, struct jcmfa_result *res)
{
	struct dialogue d;
	enum jcmfa_verdict v;

	memset(res, 0, sizeof *res);
	if (req->user == NULL || !jcmfa_login_value_ok(req->user, strlen(req->user))) {
		res->verdict = JCMFA_DENY;
		res->err = JCMFA_E_REQUEST;
		return res->verdict;
	}
	d.rd.len = 0;
	v = run(io, ui, req, res, &d);
	jcmfa_wipe(&d, sizeof d);
	return v;
}

/* ---- POSIX transport ------------------------------------------------------ */

#if !defined(JCMFA_NO_POSIX) && !defined(_WIN32)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Darwin's connect() on a Unix socket whose backlog is full fails with
 * ECONNREFUSED (xnu bsd/kern/uipc_usrreq.c, unp_connect: when sonewconn()
 * finds the listen queue full it returns ECONNREFUSED, as every BSD does),
 * so there it cannot mean "no daemon": retry it like Linux's EAGAIN, and
 * only a missing socket counts as absent. */
#ifndef JCMFA_CONNREFUSED_MAY_BE_FULL /* test_wire builds Darwin's rule on Linux too */
#ifdef __APPLE__
#define JCMFA_CONNREFUSED_MAY_BE_FULL 1
#else
#define JCMFA_CONNREFUSED_MAY_BE_FULL 0
#endif
#endif
#define CONNREFUSED_MAY_BE_FULL JCMFA_CONNREFUSED_MAY_BE_FULL

/* errno of a failed connect that means no daemon is there at all. */
static int daemon_absent(int e)
{
	return e == ENOENT || (!CONNREFUSED_MAY_BE_FULL && e == ECONNREFUSED);
}

/* Linux, and macOS 11+ (xnu bsd/sys/socket.h): MSG_NOSIGNAL. Where the
 * platform also has SO_NOSIGPIPE (macOS), set_flags sets it too, which
 * covers a system or SDK without the flag. */
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0
#endif

static long long mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline. 1 ready, or a negative jcmfa_err. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p;
		long long left = deadline - mono_ms();
		int r;

		if (left <= 0)
			return JCMFA_E_TIMEOUT;
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return JCMFA_E_TIMEOUT;
		if (errno != EINTR)
			return JCMFA_E_IO;
	}
}

static void unix_arm(void *ctx)
{
	struct jcmfa_unix *u = (struct jcmfa_unix *)ctx;

	u->deadline_ms = mono_ms() + u->timeout_ms;
}

static long unix_read(void *ctx, char *buf, size_t cap)
{
	struct jcmfa_unix *u = (struct jcmfa_unix *)ctx;

	for (;;) {
		ssize_t n;
		int rc = wait_fd(u->fd, POLLIN, u->deadline_ms);

		if (rc < 0)
			return rc;
		n = recv(u->fd, buf, cap, 0);
		if (n >= 0)
			return (long)n;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return JCMFA_E_IO;
	}
}

static int unix_write_all(void *ctx, const char *buf, size_t len)
{
	struct jcmfa_unix *u = (struct jcmfa_unix *)ctx;
	long long deadline = mono_ms() + u->timeout_ms;

	while (len > 0) {
		ssize_t n = send(u->fd, buf, len, SEND_FLAGS);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(u->fd, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		return JCMFA_E_IO;
	}
	return JCMFA_OK;
}

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
#ifndef SOCK_CLOEXEC
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
#endif
#ifdef SO_NOSIGPIPE
	{
		int one = 1;
		if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) < 0)
			return -1;
	}
#endif
	return 0;
}

int jcmfa_unix_connect(struct jcmfa_unix *u, struct jcmfa_io *io, const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	size_t plen = strlen(path);
	long long deadline;
	int type = SOCK_STREAM;

	u->fd = -1;
	u->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	u->deadline_ms = 0;
	if (plen == 0 || plen >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return JCMFA_E_TOOLONG;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen + 1);

#ifdef SOCK_CLOEXEC
	/* Atomically: a host that forks and execs on another thread between
	 * socket() and fcntl() would otherwise leak the fd into the child. */
	type |= SOCK_CLOEXEC;
#endif
	u->fd = socket(AF_UNIX, type, 0);
	if (u->fd < 0)
		return JCMFA_E_CONNECT;
	if (set_flags(u->fd) < 0)
		goto fail;

	deadline = mono_ms() + u->timeout_ms;
	for (;;) {
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		int rc;

		if (connect(u->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			break;
		if (errno == EAGAIN || (CONNREFUSED_MAY_BE_FULL && errno == ECONNREFUSED)) {
			/* The listener's backlog is full (Linux: EAGAIN; Darwin:
			 * ECONNREFUSED, the same errno as nothing listening). A Unix
			 * socket does not queue us, so wait a little and try again. */
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			if (mono_ms() >= deadline) {
				errno = ETIMEDOUT;
				goto fail_timeout;
			}
			nanosleep(&ts, NULL);
			continue;
		}
		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		rc = wait_fd(u->fd, POLLOUT, deadline);
		if (rc == JCMFA_E_TIMEOUT) {
			errno = ETIMEDOUT;
			goto fail_timeout;
		}
		if (rc < 0)
			goto fail;
		if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
		break;
	}

	io->ctx = u;
	io->arm = unix_arm;
	io->read = unix_read;
	io->write_all = unix_write_all;
	unix_arm(u);
	return JCMFA_OK;

fail_timeout:
	jcmfa_unix_close(u);
	errno = ETIMEDOUT;
	return JCMFA_E_TIMEOUT;
fail: {
	int e = errno;
	jcmfa_unix_close(u);
	errno = e;
	return JCMFA_E_CONNECT;
}
}

void jcmfa_unix_close(struct jcmfa_unix *u)
{
	if (u->fd >= 0) {
		int e = errno;
		close(u->fd);
		errno = e;
		u->fd = -1;
	}
}

enum jcmfa_verdict jcmfa_unix_login(const char *path, int timeout_ms, const struct jcmfa_ui *ui,
                                    const struct jcmfa_request *req, struct jcmfa_result *res,
                                    int *saved_errno)
{
	struct jcmfa_unix conn;
	struct jcmfa_io io;
	int rc;

	*saved_errno = 0;
	rc = jcmfa_unix_connect(&conn, &io, path, timeout_ms);
	if (rc != JCMFA_OK) {
		*saved_errno = errno;
		memset(res, 0, sizeof *res);
		res->verdict = JCMFA_BROKEN;
		res->err = rc;
		res->absent = rc == JCMFA_E_CONNECT && daemon_absent(*saved_errno);
		return res->verdict;
	}
	jcmfa_login(&io, ui, req, res);
	if (res->verdict == JCMFA_BROKEN && res->err == JCMFA_E_IO)
		*saved_errno = errno;
	jcmfa_unix_close(&conn); /* keeps errno */
	return res->verdict;
}
#endif

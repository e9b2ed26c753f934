/*
 * libFuzzer harness for jcmfa_wire: the input is whatever a hostile or
 * broken daemon could send. Three properties are checked on every input:
 *   1. jcmfa_parse and jcmfa_decode never read or write out of bounds
 *      (ASan, with the input in an exactly-sized heap block);
 *   2. a line that parses can be rebuilt with the line builder and parses
 *      back to the same verb, keys and values (codec round trip);
 *   3. jcmfa_login over the input as the daemon's byte stream always ends
 *      with a valid verdict, a printable reason and no runaway output.
 * Build and run: make -C internal/cshim fuzz FUZZ_SECONDS=60
 */
#include "jcmfa_wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

static void roundtrip(const struct jcmfa_msg *m)
{
	struct jcmfa_line l;
	struct jcmfa_msg *back;
	size_t i;

	jcmfa_line_begin(&l, m->verb);
	for (i = 0; i < m->nfields; i++) {
		if (m->f[i].key)
			jcmfa_line_field(&l, m->f[i].key, m->f[i].val, m->f[i].val_len);
		else
			jcmfa_line_word(&l, m->f[i].val, m->f[i].val_len);
	}
	/* Our encoder also escapes '=', so a re-encoded line can outgrow the
	 * 4096-byte limit; that must be reported, never overflow. */
	if (jcmfa_line_end(&l) != JCMFA_OK)
		return;
	check(l.n <= JCMFA_LINE_MAX && l.b[l.n - 1] == '\n');
	back = malloc(sizeof *back);
	check(back != NULL);
	check(jcmfa_parse(back, l.b, l.n) == JCMFA_OK);
	check(strcmp(back->verb, m->verb) == 0 && back->nfields == m->nfields);
	for (i = 0; i < m->nfields; i++) {
		check((back->f[i].key == NULL) == (m->f[i].key == NULL));
		check(m->f[i].key == NULL || strcmp(back->f[i].key, m->f[i].key) == 0);
		check(back->f[i].val_len == m->f[i].val_len);
		check(memcmp(back->f[i].val, m->f[i].val, m->f[i].val_len) == 0);
		check(back->f[i].val[back->f[i].val_len] == '\0');
	}
	free(back);
}

struct stream {
	const uint8_t *data;
	size_t size, pos, chunk;
	size_t written;
	unsigned asks, writes;
};

static long s_read(void *ctx, char *buf, size_t cap)
{
	struct stream *s = ctx;
	size_t n = s->size - s->pos;

	if (n > cap)
		n = cap;
	if (n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (long)n;
}

static int s_write(void *ctx, const char *buf, size_t len)
{
	struct stream *s = ctx;

	const char *nl;

	check(len > 0 && len <= JCMFA_LINE_MAX && buf[len - 1] == '\n');
	/* The first write is the opening, HELLO and LOGIN together; every
	 * later one is a single ANSWER line. No line is empty. */
	nl = memchr(buf, '\n', len);
	check(nl != NULL && nl != buf);
	if (nl != buf + len - 1) {
		check(s->writes == 0 && memcmp(buf, "HELLO ", 6) == 0);
		check(memchr(nl + 1, '\n', len - (size_t)(nl + 1 - buf)) == buf + len - 1);
		check(nl + 1 != buf + len - 1 && memcmp(nl + 1, "LOGIN ", 6) == 0);
	}
	s->writes++;
	s->written += len;
	return JCMFA_OK;
}

static int ui_show(void *ctx, const char *text)
{
	(void)ctx;
	check(text != NULL);
	(void)strlen(text);
	return 0;
}

static int ui_ask(void *ctx, int echo, const char *text, char *answer, size_t cap)
{
	struct stream *s = ctx;

	(void)strlen(text);
	check(cap == JCMFA_ANSWER_MAX);
	/* Vary the answer so both a code and the longest answer get encoded. */
	if (++s->asks % 2) {
		memcpy(answer, "123456", 7);
	} else {
		memset(answer, echo ? '%' : ' ', cap - 1);
		answer[cap - 1] = '\0';
	}
	return s->asks % 7 == 0 ? JCMFA_ASK_CANCEL : JCMFA_ASK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jcmfa_msg *m = malloc(sizeof *m);
	char *copy = malloc(size ? size : 1);
	char *dec = malloc(size + 1);

	check(m && copy && dec);
	memcpy(copy, data, size);

	if (jcmfa_parse(m, copy, size) == JCMFA_OK) {
		check(size > 0 && size <= JCMFA_LINE_MAX && m->verb[0] != '\0');
		roundtrip(m);
	}
	{
		size_t n = 0;
		if (jcmfa_decode(dec, size + 1, copy, size, &n) == JCMFA_OK)
			check(n <= size && dec[n] == '\0' && jcmfa_utf8_valid(dec, n));
	}

	if (size > 0) {
		struct stream s = { data + 1, size - 1, 0, (size_t)(data[0] % 64) + 1, 0, 0, 0 };
		struct jcmfa_io io = { &s, NULL, s_read, s_write };
		struct jcmfa_ui ui = { &s, ui_show, ui_show, ui_ask, NULL };
		struct jcmfa_request req = { "fuzz", "alice", "sshd", "ssh", "192.0.2.1", "ssh", 1 };
		struct jcmfa_result res;
		enum jcmfa_verdict v = jcmfa_login(&io, &ui, &req, &res);

		check(v == res.verdict && v >= JCMFA_ALLOW && v <= JCMFA_BROKEN);
		check(memchr(res.reason, '\0', sizeof res.reason) != NULL);
		check(v == JCMFA_BROKEN ? res.err != JCMFA_OK : 1);
		check((v == JCMFA_ALLOW || v == JCMFA_SKIP) ? res.err == JCMFA_OK : 1);
		/* The opening (HELLO + LOGIN, one line's room) + one ANSWER per ASK. */
		check(s.written <= (size_t)(1 + s.asks) * JCMFA_LINE_MAX);
	}

	free(dec);
	free(copy);
	free(m);
	return 0;
}

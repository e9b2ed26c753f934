#include "relay.h"
#include "helpers.h"

extern "C" {
#include "jcmfa_pipe_win.h"
}

#include <stdio.h>
#include <string.h>
#include <wchar.h>

namespace {

struct Conv {
	RelayResult *res;
	const char *code; /* UTF-8, or NULL */
};

void Append(RelayResult *r, const char *text, bool error)
{
	wchar_t w[1024];
	if (!FromUtf8(text, w, sizeof w / sizeof(wchar_t)))
		return;
	/* An ERROR replaces earlier notes: it is what the person must read. */
	if (error || r->isError) {
		if (error) {
			r->isError = true;
			r->message[0] = L'\0';
		} else {
			return;
		}
	}
	size_t have = wcslen(r->message), cap = sizeof r->message / sizeof(wchar_t);
	if (have && have + 1 < cap)
		wcscat(r->message, L"\n");
	have = wcslen(r->message);
	if (have + wcslen(w) < cap)
		wcscat(r->message, w);
}

int OnInfo(void *ctx, const char *text)
{
	Append(static_cast<Conv *>(ctx)->res, text, false);
	return 0;
}

int OnError(void *ctx, const char *text)
{
	Append(static_cast<Conv *>(ctx)->res, text, true);
	return 0;
}

int OnAsk(void *ctx, int, const char *text, char *answer, size_t cap)
{
	Conv *c = static_cast<Conv *>(ctx);
	FromUtf8(text, c->res->prompt, sizeof c->res->prompt / sizeof(wchar_t));
	/* One code per dialogue: a second ASK would mean the daemon wants
	 * something we never showed the person. */
	if (c->code == NULL || c->res->answered)
		return JCMFA_ASK_CANCEL;
	size_t n = strlen(c->code);
	if (n + 1 > cap)
		return JCMFA_ASK_CANCEL;
	memcpy(answer, c->code, n + 1);
	c->res->answered = true;
	return JCMFA_ASK_OK;
}

} // namespace

void RelayLogin(const Settings &s, const wchar_t *login, const char *surface, const char *service,
                const wchar_t *code, RelayResult *res)
{
	memset(res, 0, sizeof *res);
	char user[4 * JCMFA_NAME_MAX + 8], code8[64];
	if (!ToUtf8(login, user, sizeof user)) {
		res->verdict = JCMFA_DENY;
		res->err = JCMFA_E_REQUEST;
		return;
	}
	Conv conv = {res, NULL};
	if (code != NULL) {
		if (!ToUtf8(code, code8, sizeof code8)) {
			res->verdict = JCMFA_DENY;
			res->err = JCMFA_E_REQUEST;
			return;
		}
		conv.code = code8;
	}
	struct jcmfa_pipe pipe;
	struct jcmfa_io io;
	int rc = jcmfa_pipe_open(&pipe, &io, s.pipe, s.pipeTimeoutMs);
	if (rc != JCMFA_OK) {
		res->verdict = JCMFA_BROKEN;
		res->err = rc;
		res->winerr = pipe.last_error;
		res->absent = pipe.absent != 0;
		Wipe(code8, sizeof code8);
		return;
	}
	struct jcmfa_ui ui = {&conv, OnInfo, OnError, OnAsk, NULL};
	struct jcmfa_request req = {"credprovider", user, service, surface, NULL, NULL, 0};
	struct jcmfa_result r;
	jcmfa_login(&io, &ui, &req, &r);
	res->winerr = pipe.last_error;
	jcmfa_pipe_close(&pipe);
	Wipe(code8, sizeof code8);
	res->verdict = r.verdict;
	res->err = r.err;
	res->challenged = r.challenged != 0;
	memcpy(res->reason, r.reason, sizeof res->reason);
}

namespace {

/* Reads one line into m with the transport's deadline. */
int ReadLine(const struct jcmfa_io *io, char *buf, size_t *have, struct jcmfa_msg *m)
{
	io->arm(io->ctx);
	for (;;) {
		char *nl = (char *)memchr(buf, '\n', *have);
		if (nl) {
			size_t n = (size_t)(nl - buf) + 1;
			int rc = jcmfa_parse(m, buf, n);
			memmove(buf, buf + n, *have - n);
			*have -= n;
			return rc;
		}
		if (*have == JCMFA_LINE_MAX)
			return JCMFA_E_TOOLONG;
		long got = io->read(io->ctx, buf + *have, JCMFA_LINE_MAX - *have);
		if (got == 0)
			return JCMFA_E_CLOSED;
		if (got < 0)
			return (int)got;
		*have += (size_t)got;
	}
}

bool JsonTrue(const char *json, const char *key)
{
	/* The daemon writes compact encoding/json output, so "key":true is a
	 * literal byte sequence; anything else (absent, false) reads as off. */
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":true", key);
	pat[sizeof pat - 1] = '\0';
	return strstr(json, pat) != NULL;
}

} // namespace

int RelayMfaOn(const Settings &s, bool *absent)
{
	struct jcmfa_pipe pipe;
	struct jcmfa_io io;
	*absent = false;
	if (jcmfa_pipe_open(&pipe, &io, s.pipe, s.pipeTimeoutMs) != JCMFA_OK) {
		*absent = pipe.absent != 0;
		return -1;
	}
	static const char hello[] = "HELLO 1 credprovider\n", cmd[] = "CMD settings.get\n";
	char *buf = new char[JCMFA_LINE_MAX];
	struct jcmfa_msg *m = new struct jcmfa_msg;
	size_t have = 0;
	int on = -1, orgTotp = -1, deviceMfa = -1;
	if (io.write_all(io.ctx, hello, sizeof hello - 1) != JCMFA_OK)
		goto out;
	if (ReadLine(&io, buf, &have, m) != JCMFA_OK || strcmp(m->verb, "HELLO") != 0 || jcmfa_msg_npos(m) != 1 ||
	    strcmp(jcmfa_msg_pos(m, 0), JCMFA_PROTOCOL_VERSION) != 0)
		goto out;
	if (io.write_all(io.ctx, cmd, sizeof cmd - 1) != JCMFA_OK)
		goto out;
	for (int i = 0; i < 16; i++) {
		if (ReadLine(&io, buf, &have, m) != JCMFA_OK)
			goto out;
		if (strcmp(m->verb, "DATA") == 0) {
			const char *json = jcmfa_msg_get(m, "json", NULL);
			if (json) {
				orgTotp = JsonTrue(json, "org_totp");
				deviceMfa = JsonTrue(json, "device_mfa");
			}
		} else if (strcmp(m->verb, "OK") == 0) {
			if (orgTotp >= 0)
				on = orgTotp && deviceMfa;
			goto out;
		} else if (strcmp(m->verb, "INFO") != 0) {
			goto out; /* FAIL, ERROR or junk: not an answer */
		}
	}
out:
	jcmfa_pipe_close(&pipe);
	delete m;
	delete[] buf;
	return on;
}

/*
 * flow.c: one login-window dialogue with the daemon (see flow.h). It decides
 * nothing: the daemon says whether a code is needed and whether it is right;
 * this file relays prompts and answers and maps the verdict to an
 * AuthorizationResult. Plain C99, no globals, no threads, no heap.
 */
#include <errno.h>
#include <string.h>

#include "flow.h"
#include "jcmfa_wire.h"

void jcmfa_ap_config_defaults(struct jcmfa_ap_config *c)
{
	memset(c, 0, sizeof *c);
	memcpy(c->socket, JCMFA_AP_DEFAULT_SOCKET, sizeof JCMFA_AP_DEFAULT_SOCKET);
	c->timeout_s = JCMFA_AP_DEFAULT_TIMEOUT_S;
	c->failmode_safe = 0;
	c->debug = 0;
}

int jcmfa_ap_config_socket(struct jcmfa_ap_config *c, const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || v[0] != '/' || n >= sizeof c->socket) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR,
		                  "Socket is not an absolute path shorter than %d bytes; using %s",
		                  JCMFA_AP_SOCKET_MAX, c->socket);
		return -1;
	}
	memcpy(c->socket, v, n + 1);
	return 0;
}

int jcmfa_ap_config_timeout(struct jcmfa_ap_config *c, long v)
{
	if (v < 1 || v > JCMFA_AP_MAX_TIMEOUT_S) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "TimeoutSeconds %ld is not 1..%d; using %d", v,
		                  JCMFA_AP_MAX_TIMEOUT_S, c->timeout_s);
		return -1;
	}
	c->timeout_s = (int)v;
	return 0;
}

int jcmfa_ap_config_failmode(struct jcmfa_ap_config *c, const char *v)
{
	if (v && strcmp(v, "secure") == 0) {
		c->failmode_safe = 0;
		return 0;
	}
	if (v && strcmp(v, "safe") == 0) {
		c->failmode_safe = 1;
		return 0;
	}
	jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "FailMode is not secure or safe; using %s",
	                  c->failmode_safe ? "safe" : "secure");
	return -1;
}

/* ---- the person's side of the dialogue ---------------------------------------- */

/*
 * The login window has no scrolling transcript: the daemon's INFO and ERROR
 * lines are gathered here and shown with the next prompt, or on their own
 * once the dialogue is over.
 */
struct notes {
	char text[JCMFA_AP_NOTES_MAX];
	size_t n;
	int dropped;
	int timed_out; /* a prompt was closed because nobody answered */
	const struct jcmfa_ap_config *cfg;
};

static int notes_add(void *ctx, const char *text)
{
	struct notes *nt = ctx;
	size_t len = strlen(text);
	size_t sep = nt->n ? 1 : 0;

	/* A message that does not fit is left out whole: cutting it could
	 * split a UTF-8 sequence or change its meaning. */
	if (nt->n + sep + len >= sizeof nt->text) {
		nt->dropped = 1;
		return 1;
	}
	if (sep)
		nt->text[nt->n++] = '\n';
	memcpy(nt->text + nt->n, text, len);
	nt->n += len;
	nt->text[nt->n] = '\0';
	return 0;
}

static void notes_clear(struct notes *nt)
{
	nt->n = 0;
	nt->text[0] = '\0';
	if (nt->dropped)
		jcmfa_ap_host_log(JCMFA_AP_LOG_NOTICE, "some daemon messages did not fit the dialog");
	nt->dropped = 0;
}

static int ui_ask(void *ctx, int echo, const char *text, char *answer, size_t cap)
{
	struct notes *nt = ctx;
	int rc = jcmfa_ap_host_prompt(echo, text, nt->text, JCMFA_AP_PROMPT_TIMEOUT_S, answer, cap);

	notes_clear(nt);
	if (rc == JCMFA_AP_PROMPT_TIMEOUT) {
		/* To the dialogue this is a conversation that broke: it sends
		 * nothing more and closes the channel. */
		nt->timed_out = 1;
		return JCMFA_ASK_FAIL;
	}
	return rc;
}

static void ui_trace(void *ctx, int from_daemon, const char *verb)
{
	struct notes *nt = ctx;

	if (nt->cfg->debug)
		jcmfa_ap_host_log(JCMFA_AP_LOG_DEBUG, "%s %s", from_daemon ? "daemon:" : "plugin:", verb);
}

/* ---- one login ------------------------------------------------------------------ */

static AuthorizationResult fail_mode(const struct jcmfa_ap_config *cfg, const char *user,
                                     const struct jcmfa_result *res, int saved_errno)
{
	const char *outcome;
	AuthorizationResult r;

	if (jcmfa_fail_open(cfg->failmode_safe, res)) {
		outcome = "FailMode safe: letting the login through without a second factor";
		r = kAuthorizationResultAllow;
	} else if (cfg->failmode_safe) {
		/* The daemon had decided a code is needed: failing open now
		 * would reward whoever broke the dialogue. */
		outcome = "denied (the daemon had already asked for a code, so FailMode safe does not apply)";
		r = kAuthorizationResultDeny;
	} else {
		outcome = "denied (FailMode secure)";
		r = kAuthorizationResultDeny;
	}
	jcmfa_ap_host_log(r == kAuthorizationResultAllow ? JCMFA_AP_LOG_NOTICE : JCMFA_AP_LOG_ERR,
	                  "daemon at %s gave no decision for %s (%s%s%s); %s", cfg->socket, user,
	                  jcmfa_strerror(res->err), saved_errno ? ": " : "",
	                  saved_errno ? strerror(saved_errno) : "", outcome);
	return r;
}

AuthorizationResult jcmfa_ap_verify(const struct jcmfa_ap_config *cfg, const char *user)
{
	struct notes nt;
	struct jcmfa_ui ui;
	struct jcmfa_request req;
	struct jcmfa_result res;
	AuthorizationResult r;
	int saved_errno = 0;

	memset(&nt, 0, sizeof nt);
	nt.cfg = cfg;
	memset(&ui, 0, sizeof ui);
	ui.ctx = &nt;
	ui.info = notes_add;
	ui.error = notes_add;
	ui.ask = ui_ask;
	ui.trace = ui_trace;

	memset(&req, 0, sizeof req);
	req.client = "authplugin";
	req.user = user;
	req.service = "loginwindow";
	req.surface = "gui";
	/* No in-band enrollment at the login window: a QR code in a modal
	 * dialog before anyone is logged in is not a place to set up an
	 * authenticator. The daemon then treats enrollment as out of band. */
	req.interactive = 0;

	jcmfa_unix_login(cfg->socket, cfg->timeout_s * 1000, &ui, &req, &res, &saved_errno);

	switch (res.verdict) {
	case JCMFA_ALLOW:
		jcmfa_ap_host_log(JCMFA_AP_LOG_NOTICE, "%s allowed (%s)", user, res.reason);
		r = kAuthorizationResultAllow;
		break;
	case JCMFA_SKIP:
		if (cfg->debug)
			jcmfa_ap_host_log(JCMFA_AP_LOG_DEBUG, "%s needs no second factor (%s)", user,
			                  res.reason);
		r = kAuthorizationResultAllow;
		break;
	case JCMFA_DENY:
		if (nt.timed_out) {
			/* The prompt was left unanswered until just before the
			 * daemon's own limit. That is no decision from the
			 * daemon, so the fail mode rules: after an ASK it
			 * denies in every mode (protocol.md, jcmfa_fail_open). */
			r = jcmfa_fail_open(cfg->failmode_safe, &res) ? kAuthorizationResultAllow
			                                                : kAuthorizationResultDeny;
			jcmfa_ap_host_log(JCMFA_AP_LOG_ERR,
			                  "%s left the code prompt unanswered for %d s; closed it before the "
			                  "daemon's %d s limit: %s (FailMode %s)",
			                  user, JCMFA_AP_PROMPT_TIMEOUT_S, JCMFA_AP_DAEMON_ANSWER_TIMEOUT_S,
			                  r == kAuthorizationResultAllow ? "allowed" : "denied",
			                  cfg->failmode_safe ? "safe" : "secure");
		} else if (res.err == JCMFA_E_CANCELLED) {
			jcmfa_ap_host_log(JCMFA_AP_LOG_NOTICE, "%s cancelled the code prompt", user);
			r = kAuthorizationResultUserCanceled;
		} else if (res.err != JCMFA_OK) {
			jcmfa_ap_host_log(JCMFA_AP_LOG_NOTICE, "%s denied: %s", user, jcmfa_strerror(res.err));
			r = kAuthorizationResultDeny;
		} else {
			jcmfa_ap_host_log(JCMFA_AP_LOG_NOTICE, "%s denied by the daemon (%s)", user,
			                  res.reason);
			r = kAuthorizationResultDeny;
		}
		break;
	case JCMFA_BROKEN:
	default:
		r = fail_mode(cfg, user, &res, saved_errno);
		break;
	}
	/* e.g. why a code was refused, or when the enrollment period ends */
	if (nt.n > 0)
		jcmfa_ap_host_notice(nt.text);
	notes_clear(&nt);
	return r;
}

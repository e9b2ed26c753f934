/*
 * pam_jcmfa: the Linux PAM face of jcmfa. It decides nothing. It tells the
 * local daemon who is logging in, relays the daemon's messages and prompts
 * through the application's conversation function, sends the answers back
 * and turns the daemon's VERDICT into a PAM return code (docs/pam.md).
 *
 * Plain C on purpose: a Go c-shared module hangs sshd's forked PAM child
 * (DESIGN.md). No threads, no global mutable state, no heap of our own
 * (only the conversation's responses, which libpam's contract makes us
 * free), every buffer bounded, and the socket is close-on-exec.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "jcmfa_wire.h"

#define JCMFA_EXPORT __attribute__((visibility("default")))

#define DEFAULT_SOCKET "/run/jcmfa/agent.sock"
#define DEFAULT_TIMEOUT_S 10
#define MAX_TIMEOUT_S 300

struct config {
	const char *socket;
	int timeout_s;
	int failmode_safe;
	int skip_success;
	const char *surface; /* NULL: derive from the login */
	int debug;
};

/* Matches "name=" at the start of arg and returns the value after it. */
static const char *arg_value(const char *arg, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) == 0 && arg[n] == '=')
		return arg + n + 1;
	return NULL;
}

/*
 * The one place module arguments are read. A bad or unknown argument is
 * logged and otherwise ignored: refusing every login because of a typo in
 * /etc/pam.d would lock the administrator out along with everyone else, and
 * each default is the secure choice.
 */
static void parse_args(pam_handle_t *pamh, int argc, const char **argv, struct config *c)
{
	int i;

	c->socket = DEFAULT_SOCKET;
	c->timeout_s = DEFAULT_TIMEOUT_S;
	c->failmode_safe = 0;
	c->skip_success = 0;
	c->surface = NULL;
	c->debug = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v;

		if (strcmp(a, "debug") == 0) {
			c->debug = 1;
		} else if ((v = arg_value(a, "socket")) != NULL) {
			if (v[0] == '/' && strlen(v) < 108)
				c->socket = v;
			else
				pam_syslog(pamh, LOG_ERR,
				           "socket=%s is not an absolute path shorter than 108 bytes; using %s",
				           v, c->socket);
		} else if ((v = arg_value(a, "failmode")) != NULL) {
			if (strcmp(v, "secure") == 0)
				c->failmode_safe = 0;
			else if (strcmp(v, "safe") == 0)
				c->failmode_safe = 1;
			else
				pam_syslog(pamh, LOG_ERR, "failmode=%s is not secure or safe; using secure", v);
		} else if ((v = arg_value(a, "timeout")) != NULL) {
			char *end;
			long t;
			errno = 0;
			t = strtol(v, &end, 10);
			if (errno == 0 && end != v && *end == '\0' && t >= 1 && t <= MAX_TIMEOUT_S)
				c->timeout_s = (int)t;
			else
				pam_syslog(pamh, LOG_ERR, "timeout=%s is not 1..%d seconds; using %d", v,
				           MAX_TIMEOUT_S, c->timeout_s);
		} else if ((v = arg_value(a, "skip")) != NULL) {
			if (strcmp(v, "ignore") == 0)
				c->skip_success = 0;
			else if (strcmp(v, "success") == 0)
				c->skip_success = 1;
			else
				pam_syslog(pamh, LOG_ERR, "skip=%s is not ignore or success; using ignore", v);
		} else if ((v = arg_value(a, "surface")) != NULL) {
			if (jcmfa_login_value_ok(v, strlen(v)))
				c->surface = v;
			else
				pam_syslog(pamh, LOG_ERR, "surface= needs a word; deriving it instead");
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown argument %s ignored", a);
		}
	}
}

/* ---- conversation ----------------------------------------------------------- */

struct ui_ctx {
	pam_handle_t *pamh;
	const struct config *cfg;
};

static void free_response(struct pam_response *r)
{
	if (r == NULL)
		return;
	if (r->resp) {
		explicit_bzero(r->resp, strlen(r->resp));
		free(r->resp);
	}
	free(r);
}

/*
 * One message through the application's conversation function. With resp
 * non-NULL the caller takes the response string (and must wipe and free it).
 */
static int converse(pam_handle_t *pamh, int style, const char *text, char **resp)
{
	const struct pam_conv *conv = NULL;
	struct pam_message msg;
	const struct pam_message *msgp = &msg;
	struct pam_response *r = NULL;
	int rc;

	if (resp)
		*resp = NULL;
	rc = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
	if (rc != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
		return PAM_CONV_ERR;
	msg.msg_style = style;
	msg.msg = text;
	rc = conv->conv(1, &msgp, &r, conv->appdata_ptr);
	if (rc != PAM_SUCCESS) {
		free_response(r);
		return rc;
	}
	if (resp && r) {
		*resp = r->resp;
		r->resp = NULL;
	}
	free_response(r);
	return PAM_SUCCESS;
}

static int ui_info(void *ctx, const char *text)
{
	struct ui_ctx *u = ctx;
	int rc = converse(u->pamh, PAM_TEXT_INFO, text, NULL);

	if (rc != PAM_SUCCESS && u->cfg->debug)
		pam_syslog(u->pamh, LOG_DEBUG, "conversation could not show an info message: %s",
		           pam_strerror(u->pamh, rc));
	return rc != PAM_SUCCESS;
}

static int ui_error(void *ctx, const char *text)
{
	struct ui_ctx *u = ctx;
	int rc = converse(u->pamh, PAM_ERROR_MSG, text, NULL);

	if (rc != PAM_SUCCESS && u->cfg->debug)
		pam_syslog(u->pamh, LOG_DEBUG, "conversation could not show an error message: %s",
		           pam_strerror(u->pamh, rc));
	return rc != PAM_SUCCESS;
}

static int ui_ask(void *ctx, int echo, const char *text, char *answer, size_t cap)
{
	struct ui_ctx *u = ctx;
	char *resp = NULL;
	size_t n;
	int rc = converse(u->pamh, echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, text, &resp);

	if (rc != PAM_SUCCESS) {
		pam_syslog(u->pamh, LOG_ERR, "conversation failed at the prompt: %s",
		           pam_strerror(u->pamh, rc));
		return JCMFA_ASK_FAIL;
	}
	if (resp == NULL)
		return JCMFA_ASK_CANCEL; /* e.g. end of input at a terminal */
	n = strlen(resp);
	if (n >= cap) {
		/* Truncating could turn pasted junk into something else; a code
		 * is never this long, so this is the person giving up. */
		pam_syslog(u->pamh, LOG_NOTICE, "answer of %zu bytes is longer than %zu; treated as cancel",
		           n, cap - 1);
		explicit_bzero(resp, n);
		free(resp);
		return JCMFA_ASK_CANCEL;
	}
	memcpy(answer, resp, n + 1);
	explicit_bzero(resp, n);
	free(resp);
	return JCMFA_ASK_OK;
}

static void ui_trace(void *ctx, int from_daemon, const char *verb)
{
	struct ui_ctx *u = ctx;

	if (u->cfg->debug)
		pam_syslog(u->pamh, LOG_DEBUG, "%s %s", from_daemon ? "daemon:" : "module:", verb);
}

/* ---- the module --------------------------------------------------------------- */

static const char *get_str_item(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/* Optional audit fields that would break the line protocol are not sent. */
static const char *audit_value(pam_handle_t *pamh, const char *name, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return NULL;
	if (jcmfa_login_value_ok(v, strlen(v)))
		return v;
	pam_syslog(pamh, LOG_NOTICE, "%s is not printable UTF-8 of at most %d bytes; not sent to the daemon",
	           name, JCMFA_VALUE_MAX);
	return NULL;
}

/* PAM services that change privilege inside a session: sudo's (sudo, and
 * sudo-i for `sudo -i`), su's (su, and su-l for `su -l` on Debian/Fedora),
 * and pkexec's: pkexec and polkit-agent-helper-1 both call
 * pam_start("polkit-1", ...) (polkit: src/programs/pkexec.c,
 * src/polkitagent/polkitagenthelper-pam.c); "pkexec" for stacks named so. */
static int privilege_service(const char *service)
{
	static const char *const names[] = {"sudo", "sudo-i", "su", "su-l", "pkexec", "polkit-1"};
	size_t i;

	if (service == NULL)
		return 0;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(service, names[i]) == 0)
			return 1;
	return 0;
}

static const char *derive_surface(const char *service, const char *rhost, const char *tty)
{
	/* Before ssh: sudo inside an SSH session is still a privilege change
	 * (sudo leaves PAM_RHOST unset, but a caller could set it). */
	if (privilege_service(service))
		return "sudo";
	if ((rhost && rhost[0]) || (service && strcmp(service, "sshd") == 0) ||
	    (tty && strcmp(tty, "ssh") == 0))
		return "ssh";
	return "console";
}

/* What to do when there is no decision from the daemon. */
static int fail_mode(pam_handle_t *pamh, const struct config *c, const char *user,
                     const struct jcmfa_result *res, int saved_errno)
{
	const char *outcome;
	int pamrc;

	if (jcmfa_fail_open(c->failmode_safe, res)) {
		outcome = "failmode=safe: letting the login through without a second factor";
		pamrc = PAM_SUCCESS;
	} else if (c->failmode_safe) {
		/* The daemon was reachable and had decided a code is needed:
		 * failing open now would reward whoever broke the dialogue. */
		outcome = "denied (the daemon had already asked for a code, so failmode=safe does not apply)";
		pamrc = PAM_AUTH_ERR;
	} else {
		outcome = "denied (failmode=secure)";
		pamrc = PAM_AUTH_ERR;
	}
	errno = saved_errno;
	if (saved_errno)
		pam_syslog(pamh, pamrc == PAM_SUCCESS ? LOG_WARNING : LOG_ERR,
		           "daemon at %s gave no decision for %s (%s: %m); %s", c->socket, user,
		           jcmfa_strerror(res->err), outcome);
	else
		pam_syslog(pamh, pamrc == PAM_SUCCESS ? LOG_WARNING : LOG_ERR,
		           "daemon at %s gave no decision for %s (%s); %s", c->socket, user,
		           jcmfa_strerror(res->err), outcome);
	return pamrc;
}

JCMFA_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct config cfg;
	struct ui_ctx uctx;
	struct jcmfa_ui ui;
	struct jcmfa_request req;
	struct jcmfa_result res;
	const char *user = NULL, *service, *rhost, *tty;
	int rc, saved_errno = 0;

	(void)flags; /* PAM_SILENT: the daemon's messages belong to its prompts */
	parse_args(pamh, argc, argv, &cfg);

	rc = pam_get_user(pamh, &user, NULL);
	if (rc != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s", pam_strerror(pamh, rc));
		return rc;
	}
	if (user == NULL || !jcmfa_login_value_ok(user, strlen(user))) {
		pam_syslog(pamh, LOG_NOTICE, "refused a user name that is not printable UTF-8 of 1..%d bytes",
		           JCMFA_VALUE_MAX);
		return PAM_AUTH_ERR;
	}
	service = audit_value(pamh, "PAM_SERVICE", get_str_item(pamh, PAM_SERVICE));
	rhost = audit_value(pamh, "PAM_RHOST", get_str_item(pamh, PAM_RHOST));
	tty = audit_value(pamh, "PAM_TTY", get_str_item(pamh, PAM_TTY));

	memset(&req, 0, sizeof req);
	req.client = "pam";
	req.user = user;
	req.service = service;
	req.rhost = rhost;
	req.tty = tty;
	req.surface = cfg.surface ? cfg.surface : derive_surface(service, rhost, tty);
	req.interactive = 1;

	uctx.pamh = pamh;
	uctx.cfg = &cfg;
	ui.ctx = &uctx;
	ui.info = ui_info;
	ui.error = ui_error;
	ui.ask = ui_ask;
	ui.trace = ui_trace;

	if (cfg.debug)
		pam_syslog(pamh, LOG_DEBUG, "asking the daemon at %s about %s (surface %s)", cfg.socket, user,
		           req.surface);
	jcmfa_unix_login(cfg.socket, cfg.timeout_s * 1000, &ui, &req, &res, &saved_errno);

	switch (res.verdict) {
	case JCMFA_ALLOW:
		if (cfg.debug)
			pam_syslog(pamh, LOG_DEBUG, "%s allowed (%s)", user, res.reason);
		return PAM_SUCCESS;
	case JCMFA_SKIP:
		if (cfg.debug)
			pam_syslog(pamh, LOG_DEBUG, "%s needs no second factor (%s): %s", user, res.reason,
			           cfg.skip_success ? "success" : "ignore");
		return cfg.skip_success ? PAM_SUCCESS : PAM_IGNORE;
	case JCMFA_DENY:
		if (res.err == JCMFA_E_CONV) {
			pam_syslog(pamh, LOG_NOTICE, "%s denied: the conversation failed", user);
			return PAM_CONV_ERR;
		}
		if (res.err != JCMFA_OK) {
			pam_syslog(pamh, LOG_NOTICE, "%s denied: %s", user, jcmfa_strerror(res.err));
			return PAM_AUTH_ERR;
		}
		pam_syslog(pamh, LOG_NOTICE, "%s denied by the daemon (%s)", user, res.reason);
		return strcmp(res.reason, "locked-out") == 0 ? PAM_MAXTRIES : PAM_AUTH_ERR;
	case JCMFA_BROKEN:
	default:
		return fail_mode(pamh, &cfg, user, &res, saved_errno);
	}
}

JCMFA_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	/* A second factor grants no credentials of its own. */
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

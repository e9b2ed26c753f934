/*
 * plugin.c: the AuthorizationPlugin entry points of jcmfa.bundle.
 *
 * One mechanism, "verify", placed in system.login.console after
 * builtin:authenticate (docs/macos.md says where and why). It runs in
 * SecurityAgent, the non-privileged plugin host, because it shows a prompt.
 * Invoke works synchronously: it asks the daemon, relays any prompt, and
 * calls SetResult before returning, so Deactivate only has to acknowledge.
 *
 * Nothing here is macOS-specific: the Linux harness plays the engine and
 * calls these same functions.
 */
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "jcmfa_wire.h"

#define JCMFA_EXPORT __attribute__((visibility("default")))

#define PLUGIN_MAGIC 0x6a636d70u    /* "jcmp" */
#define MECHANISM_MAGIC 0x6a636d6du /* "jcmm" */
#define MECHANISM_VERIFY "verify"

struct plugin {
	uint32_t magic;
	const AuthorizationCallbacks *cb;
};

struct mechanism {
	uint32_t magic;
	struct plugin *plugin;
	AuthorizationEngineRef engine;
};

/*
 * Copies an engine string value into dst. The engine's strings may or may
 * not count a trailing NUL in their length; any other NUL, or a value that
 * does not fit, is refused rather than cut.
 */
static int value_string(const AuthorizationValue *v, char *dst, size_t cap)
{
	size_t n;

	if (v == NULL || v->data == NULL)
		return -1;
	n = v->length;
	if (n > 0 && ((const char *)v->data)[n - 1] == '\0')
		n--;
	if (n == 0 || n >= cap || memchr(v->data, '\0', n) != NULL)
		return -1;
	memcpy(dst, v->data, n);
	dst[n] = '\0';
	return 0;
}

/*
 * A decimal uid as text: 1..10 digits, no sign, space or leading zero
 * (except "0"), at most UINT32_MAX, optionally followed by one NUL that
 * ends the value. Returns 0 and the uid, or -1.
 */
static int uid_from_text(const unsigned char *p, size_t n, uint32_t *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n > 0 && p[n - 1] == '\0')
		n--;
	if (n == 0 || n > 10 || (p[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > 0xffffffffu)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * The uid context value. builtin:authenticate stores it as a binary
 * uid_t (4 bytes), but another mechanism before ours may store it as
 * decimal text, and authd accepts that: auth_items_get_uint() reads a
 * string item with atoi() (apple-oss-distributions/Security,
 * OSX/authd/authitems.c), whose strings are stored without the NUL in
 * their length (auth_items_set_string). So both are accepted, the text
 * strictly (atoi's "junk reads as 0", i.e. root, is not).
 *
 * Four bytes can be both: "501" with its NUL, or "1000", is also some
 * large binary uid. Then the two readings are looked up, and only if
 * exactly one names an account is it used: an account is never guessed.
 * 0 and the account name in name, or -1 (logged).
 */
static int uid_account(const AuthorizationValue *v, char *name, size_t cap)
{
	const unsigned char *p = v->data;
	uint32_t bin = 0, text = 0;
	int have_bin = v->length == sizeof bin, have_text = uid_from_text(p, v->length, &text) == 0;
	int bin_ok, text_ok;
	char other[JCMFA_VALUE_MAX + 1];

	if (have_bin)
		memcpy(&bin, p, sizeof bin);
	if (!have_bin && !have_text) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR,
		                  "context uid (%zu bytes) is neither a %zu-byte uid_t nor a decimal uid",
		                  (size_t)v->length, sizeof bin);
		return -1;
	}
	if (have_bin && have_text && bin != text) {
		bin_ok = jcmfa_ap_host_user_for_uid(bin, name, cap) == 0;
		text_ok = jcmfa_ap_host_user_for_uid(text, other, sizeof other) == 0;
		if (bin_ok == text_ok) {
			jcmfa_ap_host_log(JCMFA_AP_LOG_ERR,
			                  "context uid reads as uid %u (binary) or %u (text), and %s: "
			                  "not guessing which account logs in",
			                  (unsigned)bin, (unsigned)text,
			                  bin_ok ? "both are accounts" : "neither is an account");
			return -1;
		}
		if (text_ok) {
			if (strlen(other) >= cap)
				return -1;
			memcpy(name, other, strlen(other) + 1);
		}
		return 0;
	}
	if (!have_bin)
		bin = text;
	if (jcmfa_ap_host_user_for_uid(bin, name, cap) != 0) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "no account name for uid %u", (unsigned)bin);
		return -1;
	}
	return 0;
}

/*
 * The account being logged in to. builtin:authenticate leaves the account's
 * uid in the context once the password has checked out; its name from the
 * directory is the one the daemon knows. The typed "username" may be a full
 * name or an alias, which the daemon would not find (and would answer with
 * "not-required"), so it is used only when no uid is there at all.
 */
static int login_user(const struct mechanism *m, char *name, size_t cap)
{
	const AuthorizationCallbacks *cb = m->plugin->cb;
	const AuthorizationValue *v = NULL;
	AuthorizationContextFlags flags = 0;

	if (cb->GetContextValue(m->engine, JCMFA_CONTEXT_UID, &flags, &v) == errAuthorizationSuccess &&
	    v != NULL && v->data != NULL)
		return uid_account(v, name, cap);
	v = NULL;
	if (cb->GetContextValue(m->engine, kAuthorizationEnvironmentUsername, &flags, &v) ==
	        errAuthorizationSuccess &&
	    value_string(v, name, cap) == 0)
		return 0;
	jcmfa_ap_host_log(JCMFA_AP_LOG_ERR,
	                  "no uid or username in the authorization context: is jcmfa:verify placed "
	                  "after builtin:authenticate in system.login.console?");
	return -1;
}

/* Login window only: a copy of this mechanism in another right (screen
 * saver, an app's admin prompt) does nothing rather than ask there. */
static int at_login_window(const struct mechanism *m)
{
	const AuthorizationValue *v = NULL;
	char right[128];

	if (m->plugin->cb->GetHintValue(m->engine, JCMFA_HINT_AUTHORIZE_RIGHT, &v) !=
	        errAuthorizationSuccess ||
	    v == NULL)
		return 1; /* no hint: trust the rule we were placed in */
	if (value_string(v, right, sizeof right) != 0)
		return 1;
	if (strcmp(right, JCMFA_AP_LOGIN_RIGHT) == 0)
		return 1;
	jcmfa_ap_host_log(JCMFA_AP_LOG_NOTICE, "invoked for %s, not %s: not asking for a code", right,
	                  JCMFA_AP_LOGIN_RIGHT);
	return 0;
}

static OSStatus mechanism_invoke(AuthorizationMechanismRef ref)
{
	struct mechanism *m = ref;
	struct jcmfa_ap_config cfg;
	char user[JCMFA_VALUE_MAX + 1];
	AuthorizationResult r;

	if (m == NULL || m->magic != MECHANISM_MAGIC)
		return errAuthorizationInternal;
	if (!at_login_window(m)) {
		r = kAuthorizationResultAllow;
	} else if (login_user(m, user, sizeof user) != 0) {
		r = kAuthorizationResultDeny;
	} else if (!jcmfa_login_value_ok(user, strlen(user))) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "account name is not printable UTF-8 of 1..%d bytes",
		                  JCMFA_VALUE_MAX);
		r = kAuthorizationResultDeny;
	} else {
		/* Read at each login, so a changed preference applies to the
		 * next login without restarting SecurityAgent. */
		jcmfa_ap_config_defaults(&cfg);
		jcmfa_ap_host_load_config(&cfg);
		r = jcmfa_ap_verify(&cfg, user);
	}
	return m->plugin->cb->SetResult(m->engine, r);
}

static OSStatus mechanism_deactivate(AuthorizationMechanismRef ref)
{
	struct mechanism *m = ref;

	if (m == NULL || m->magic != MECHANISM_MAGIC)
		return errAuthorizationInternal;
	return m->plugin->cb->DidDeactivate(m->engine);
}

static OSStatus mechanism_destroy(AuthorizationMechanismRef ref)
{
	struct mechanism *m = ref;

	if (m == NULL || m->magic != MECHANISM_MAGIC)
		return errAuthorizationInternal;
	m->magic = 0;
	free(m);
	return errAuthorizationSuccess;
}

static OSStatus mechanism_create(AuthorizationPluginRef ref, AuthorizationEngineRef engine,
                                 AuthorizationMechanismId id, AuthorizationMechanismRef *out)
{
	struct plugin *p = ref;
	struct mechanism *m;

	if (out == NULL)
		return errAuthorizationInternal;
	*out = NULL;
	if (p == NULL || p->magic != PLUGIN_MAGIC || engine == NULL || id == NULL)
		return errAuthorizationInternal;
	if (strcmp(id, MECHANISM_VERIFY) != 0) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "unknown mechanism jcmfa:%s (only jcmfa:%s exists)", id,
		                  MECHANISM_VERIFY);
		return errAuthorizationInternal;
	}
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return errAuthorizationInternal;
	m->magic = MECHANISM_MAGIC;
	m->plugin = p;
	m->engine = engine;
	*out = m;
	return errAuthorizationSuccess;
}

static OSStatus plugin_destroy(AuthorizationPluginRef ref)
{
	struct plugin *p = ref;

	if (p == NULL || p->magic != PLUGIN_MAGIC)
		return errAuthorizationInternal;
	p->magic = 0;
	free(p);
	return errAuthorizationSuccess;
}

static const AuthorizationPluginInterface interface = {
	kAuthorizationPluginInterfaceVersion,
	plugin_destroy,
	mechanism_create,
	mechanism_invoke,
	mechanism_deactivate,
	mechanism_destroy,
};

JCMFA_EXPORT OSStatus AuthorizationPluginCreate(const AuthorizationCallbacks *callbacks,
                                                AuthorizationPluginRef *outPlugin,
                                                const AuthorizationPluginInterface **outPluginInterface)
{
	struct plugin *p;

	if (outPlugin == NULL || outPluginInterface == NULL)
		return errAuthorizationInternal;
	*outPlugin = NULL;
	*outPluginInterface = NULL;
	/* Every member used here exists since callbacks version 0; check the
	 * pointers rather than trust the version alone. */
	if (callbacks == NULL || callbacks->SetResult == NULL || callbacks->DidDeactivate == NULL ||
	    callbacks->GetContextValue == NULL || callbacks->GetHintValue == NULL) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "authorization engine lacks the callbacks jcmfa needs");
		return errAuthorizationInternal;
	}
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return errAuthorizationInternal;
	p->magic = PLUGIN_MAGIC;
	p->cb = callbacks;
	*outPlugin = p;
	*outPluginInterface = &interface;
	return errAuthorizationSuccess;
}

/*
 * ap_harness: plays the macOS authorization engine and the person at the
 * login window, so that plugin.c and flow.c (the same sources as the
 * bundle) run on Linux against a real daemon. Driven by
 * authplugin/plugintest; usage:
 *
 *   ap_harness [--uid N | --uid-bytes HEX] [--uidmap N=NAME] [--username NAME]
 *              [--right RIGHT] [--set socket=PATH] [--set timeout=S]
 *              [--set failmode=M] [--answer TEXT]... [--cancel] [--ignore]
 *              [--no-ui] [--mechanism ID]
 *
 * ap_uiharness (the same file built with -DJCMFA_HARNESS_APPKIT) links the
 * bundle's ui_macos.c as well, over harness/fake_appkit.c: see there.
 *
 * It loads the plugin through AuthorizationPluginCreate, creates, invokes,
 * deactivates and destroys one mechanism, and prints what happened as
 * key=value lines (result=allow|deny|undefined|canceled, prompt=, detail=,
 * notice=, elapsed_ms=). Exit 0 when the engine contract was kept, 3 when
 * it was not (SetResult not called exactly once, no DidDeactivate), 2 on
 * bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../flow.h"
#include "harness.h"
#include "jcmfa_wire.h"

struct harness_script script;

static struct {
	int have_uid;
	uint32_t uid;
	unsigned char uid_bytes[64]; /* --uid-bytes: the context value as given */
	size_t uid_len;
	const char *username;
	const char *right;
	int setresult_calls;
	AuthorizationResult result;
	int deactivated;
	AuthorizationValue uid_val, user_val, right_val;
} engine;

/* Prints text on one line: newlines become \n so each key stays one line. */
void harness_put(const char *key, const char *text)
{
	printf("%s=", key);
	for (; *text; text++) {
		if (*text == '\n')
			fputs("\\n", stdout);
		else
			putchar(*text);
	}
	putchar('\n');
}

/* ---- the host functions the bundle gets from ui_macos.c ------------------------- */

/* Built with -DJCMFA_HARNESS_APPKIT, the harness links ui_macos.c itself
 * instead (harness/fake_appkit.c stands in for AppKit under it). */
#ifndef JCMFA_HARNESS_APPKIT
#define put harness_put

void jcmfa_ap_host_load_config(struct jcmfa_ap_config *c)
{
	int i;

	for (i = 0; i < script.nsets; i++) {
		const char *s = script.sets[i], *v = strchr(s, '=');
		if (v == NULL)
			continue;
		v++;
		if (strncmp(s, "socket=", 7) == 0)
			jcmfa_ap_config_socket(c, v);
		else if (strncmp(s, "timeout=", 8) == 0)
			jcmfa_ap_config_timeout(c, strtol(v, NULL, 10));
		else if (strncmp(s, "failmode=", 9) == 0)
			jcmfa_ap_config_failmode(c, v);
		else if (strncmp(s, "debug=", 6) == 0)
			c->debug = atoi(v);
	}
}

int jcmfa_ap_host_user_for_uid(uint32_t uid, char *name, size_t cap)
{
	int i;

	for (i = 0; i < script.nuidmap; i++) {
		char *end;
		unsigned long u = strtoul(script.uid_names[i], &end, 10);
		if (*end == '=' && u == uid && strlen(end + 1) < cap) {
			strcpy(name, end + 1);
			return 0;
		}
	}
	return -1;
}

int jcmfa_ap_host_prompt(int echo, const char *text, const char *detail, int timeout_s, char *answer,
                         size_t cap)
{
	const char *a;

	put("prompt", text);
	put("detail", detail);
	printf("echo=%d\n", echo);
	printf("prompt_timeout=%d\n", timeout_s);
	if (script.no_ui)
		return JCMFA_ASK_FAIL;
	if (script.ignore)
		return JCMFA_AP_PROMPT_TIMEOUT; /* as ui_macos.c after its abort */
	if (script.cancel || script.next_answer >= script.nanswers)
		return JCMFA_ASK_CANCEL;
	a = script.answers[script.next_answer++];
	if (strlen(a) >= cap)
		return JCMFA_ASK_CANCEL;
	strcpy(answer, a);
	return JCMFA_ASK_OK;
}

void jcmfa_ap_host_notice(const char *text)
{
	put("notice", text);
}

void jcmfa_ap_host_log(int level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "log<%d>: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
#undef put
#endif /* JCMFA_HARNESS_APPKIT */

/* ---- the engine's callbacks ------------------------------------------------------ */

#define ENGINE ((AuthorizationEngineRef)&engine)

static OSStatus set_result(AuthorizationEngineRef e, AuthorizationResult r)
{
	if (e != ENGINE)
		return errAuthorizationInternal;
	engine.setresult_calls++;
	engine.result = r;
	return errAuthorizationSuccess;
}

static OSStatus did_deactivate(AuthorizationEngineRef e)
{
	if (e != ENGINE)
		return errAuthorizationInternal;
	engine.deactivated++;
	return errAuthorizationSuccess;
}

static OSStatus get_context(AuthorizationEngineRef e, AuthorizationString key,
                            AuthorizationContextFlags *flags, const AuthorizationValue **out)
{
	if (e != ENGINE || out == NULL)
		return errAuthorizationInternal;
	*out = NULL;
	if (flags)
		*flags = 0;
	if (strcmp(key, JCMFA_CONTEXT_UID) == 0 && engine.uid_len > 0) {
		engine.uid_val.length = engine.uid_len;
		engine.uid_val.data = engine.uid_bytes;
		*out = &engine.uid_val;
	} else if (strcmp(key, JCMFA_CONTEXT_UID) == 0 && engine.have_uid) {
		engine.uid_val.length = sizeof engine.uid;
		engine.uid_val.data = &engine.uid;
		*out = &engine.uid_val;
	} else if (strcmp(key, kAuthorizationEnvironmentUsername) == 0 && engine.username) {
		/* as loginwindow stores it: the NUL counted in the length */
		engine.user_val.length = strlen(engine.username) + 1;
		engine.user_val.data = (void *)engine.username;
		*out = &engine.user_val;
	} else {
		return errAuthorizationInternal; /* the engine's "not found" */
	}
	return errAuthorizationSuccess;
}

static OSStatus get_hint(AuthorizationEngineRef e, AuthorizationString key,
                         const AuthorizationValue **out)
{
	if (e != ENGINE || out == NULL)
		return errAuthorizationInternal;
	*out = NULL;
	if (strcmp(key, JCMFA_HINT_AUTHORIZE_RIGHT) == 0 && engine.right) {
		engine.right_val.length = strlen(engine.right);
		engine.right_val.data = (void *)engine.right;
		*out = &engine.right_val;
		return errAuthorizationSuccess;
	}
	return errAuthorizationInternal;
}

static OSStatus unused(AuthorizationEngineRef e)
{
	(void)e;
	fprintf(stderr, "harness: plugin called a callback it should not need\n");
	return errAuthorizationInternal;
}

static const char *result_name(AuthorizationResult r)
{
	switch (r) {
	case kAuthorizationResultAllow: return "allow";
	case kAuthorizationResultDeny: return "deny";
	case kAuthorizationResultUndefined: return "undefined";
	case kAuthorizationResultUserCanceled: return "canceled";
	}
	return "?";
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(const char *why)
{
	fprintf(stderr, "ap_harness: %s\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	AuthorizationCallbacks cb;
	AuthorizationPluginRef plugin = NULL;
	const AuthorizationPluginInterface *iface = NULL;
	AuthorizationMechanismRef mech = NULL;
	const char *mechanism = "verify";
	long long start;
	OSStatus st;
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (strcmp(a, "--cancel") == 0) {
			script.cancel = 1;
			takes = 0;
		} else if (strcmp(a, "--no-ui") == 0) {
			script.no_ui = 1;
			takes = 0;
		} else if (strcmp(a, "--old-appkit") == 0) {
			script.old_appkit = 1;
			takes = 0;
		} else if (strcmp(a, "--ignore") == 0) {
			script.ignore = 1;
			takes = 0;
		} else if (v == NULL) {
			return usage("option needs a value");
		} else if (strcmp(a, "--uid") == 0) {
			engine.have_uid = 1;
			engine.uid = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(a, "--uid-bytes") == 0) {
			/* hex, e.g. 35303100 for the string "501" with its NUL */
			size_t n = strlen(v) / 2, k;
			if (strlen(v) % 2 || n == 0 || n > sizeof engine.uid_bytes)
				return usage("--uid-bytes wants 1..64 bytes in hex");
			for (k = 0; k < n; k++) {
				unsigned int byte;
				if (sscanf(v + 2 * k, "%2x", &byte) != 1)
					return usage("--uid-bytes wants hex");
				engine.uid_bytes[k] = (unsigned char)byte;
			}
			engine.uid_len = n;
		} else if (strcmp(a, "--uidmap") == 0 && script.nuidmap < MAX_ITEMS) {
			script.uid_names[script.nuidmap++] = v;
		} else if (strcmp(a, "--username") == 0) {
			engine.username = v;
		} else if (strcmp(a, "--right") == 0) {
			engine.right = v;
		} else if (strcmp(a, "--set") == 0 && script.nsets < MAX_ITEMS) {
			script.sets[script.nsets++] = v;
		} else if (strcmp(a, "--answer") == 0 && script.nanswers < MAX_ITEMS) {
			script.answers[script.nanswers++] = v;
		} else if (strcmp(a, "--mechanism") == 0) {
			mechanism = v;
		} else {
			return usage("unknown option");
		}
		i += takes;
	}

#ifdef JCMFA_HARNESS_APPKIT
	fake_appkit_begin(script.no_ui, script.old_appkit);
#endif
	memset(&cb, 0, sizeof cb);
	cb.version = kAuthorizationCallbacksVersion;
	cb.SetResult = set_result;
	cb.RequestInterrupt = unused;
	cb.DidDeactivate = did_deactivate;
	cb.GetContextValue = get_context;
	cb.GetHintValue = get_hint;

	st = AuthorizationPluginCreate(&cb, &plugin, &iface);
	if (st != errAuthorizationSuccess || plugin == NULL || iface == NULL ||
	    iface->version != kAuthorizationPluginInterfaceVersion) {
		printf("create=%d\n", (int)st);
		return 3;
	}
	st = iface->MechanismCreate(plugin, ENGINE, mechanism, &mech);
	printf("mechanism_create=%d\n", (int)st);
	if (st != errAuthorizationSuccess) {
		iface->PluginDestroy(plugin);
		return mech == NULL ? 0 : 3;
	}
	start = now_ms();
	st = iface->MechanismInvoke(mech);
	printf("elapsed_ms=%lld\n", now_ms() - start);
	printf("invoke=%d\n", (int)st);
	printf("setresult_calls=%d\n", engine.setresult_calls);
	if (engine.setresult_calls == 1)
		printf("result=%s\n", result_name(engine.result));
	else
		bad = 1;
	iface->MechanismDeactivate(mech);
	if (engine.deactivated != 1)
		bad = 1;
	printf("deactivated=%d\n", engine.deactivated);
	if (iface->MechanismDestroy(mech) != errAuthorizationSuccess ||
	    iface->PluginDestroy(plugin) != errAuthorizationSuccess)
		bad = 1;
#ifdef JCMFA_HARNESS_APPKIT
	/* 6: the UI left something behind (a pending abort, a CF object) or
	 * sent a message fake_appkit.c does not know */
	if (!bad && fake_appkit_end() != 0)
		return 6;
#endif
	fflush(stdout);
	return bad ? 3 : 0;
}

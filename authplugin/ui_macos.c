/*
 * ui_macos.c: what the bundle needs from macOS itself (see flow.h): the
 * code prompt at the login window, the preferences, the account name of a
 * uid, and the log.
 *
 * The prompt is an NSAlert with a secure text field, driven from C through
 * the Objective-C runtime's objc_msgSend: this keeps the whole bundle in
 * one language, buildable with clang and lld alone (no SDK, no Objective-C
 * frontend features, no nib). It runs in SecurityAgent, which already has
 * an NSApplication; run_alert says what it takes for the alert to show,
 * and take the keyboard, above the login window, and how long it waits.
 *
 * Configuration is the preference domain com.jcmfa.authplugin, read with
 * CFPreferences so that both /Library/Preferences/com.jcmfa.authplugin.plist
 * and a configuration profile (managed preferences) work:
 *   Socket          string   default /var/run/jcmfa/agent.sock
 *   TimeoutSeconds  integer  default 10 (1..120), per daemon line
 *   FailMode        string   "secure" (default) or "safe"
 *   Debug           boolean  log each protocol verb (never values)
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "darwin/macos_api.h"
#include "flow.h"
#include "jcmfa_wire.h"

#define PREF_DOMAIN "com.jcmfa.authplugin"

/* ---- log ----------------------------------------------------------------------- */

void jcmfa_ap_host_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* syslog lands in the unified log: log show --predicate 'eventMessage CONTAINS "jcmfa"' */
	syslog(LOG_AUTH | level, "jcmfa authplugin: %s", line);
}

/* ---- preferences ------------------------------------------------------------------ */

static CFStringRef cfstr(const char *s)
{
	return CFStringCreateWithCString(NULL, s, kCFStringEncodingUTF8);
}

/* The value of key in the preference domain, or NULL; the caller releases it. */
static CFTypeRef pref(const char *key)
{
	CFStringRef k = cfstr(key), d = cfstr(PREF_DOMAIN);
	CFTypeRef v = NULL;

	if (k && d)
		v = CFPreferencesCopyAppValue(k, d);
	if (k)
		CFRelease(k);
	if (d)
		CFRelease(d);
	return v;
}

static int pref_string(const char *key, char *buf, long cap)
{
	CFTypeRef v = pref(key);
	int ok = 0;

	if (v == NULL)
		return 0;
	if (CFGetTypeID(v) == CFStringGetTypeID() &&
	    CFStringGetCString((CFStringRef)v, buf, cap, kCFStringEncodingUTF8))
		ok = 1;
	else
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "preference %s is not a string (or too long); ignored",
		                  key);
	CFRelease(v);
	return ok;
}

void jcmfa_ap_host_load_config(struct jcmfa_ap_config *c)
{
	char s[256];
	CFTypeRef v;

	if (pref_string("Socket", s, sizeof s))
		jcmfa_ap_config_socket(c, s);
	if (pref_string("FailMode", s, sizeof s))
		jcmfa_ap_config_failmode(c, s);
	if ((v = pref("TimeoutSeconds")) != NULL) {
		int64_t n = 0;
		if (CFGetTypeID(v) == CFNumberGetTypeID() &&
		    CFNumberGetValue((CFNumberRef)v, kCFNumberSInt64Type, &n))
			jcmfa_ap_config_timeout(c, n > 100000 ? 100000 : (long)n);
		else
			jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "preference TimeoutSeconds is not a number; ignored");
		CFRelease(v);
	}
	if ((v = pref("Debug")) != NULL) {
		if (CFGetTypeID(v) == CFBooleanGetTypeID())
			c->debug = CFBooleanGetValue((CFBooleanRef)v) ? 1 : 0;
		CFRelease(v);
	}
}

/* ---- accounts --------------------------------------------------------------------- */

int jcmfa_ap_host_user_for_uid(uint32_t uid, char *name, size_t cap)
{
	/* Room for the SDK's struct passwd whatever its exact size, and for
	 * the strings getpwuid_r copies out of the directory record. */
	union {
		struct passwd pw;
		char room[256];
	} u;
	char buf[4096];
	struct passwd *res = NULL;
	size_t n;

	if (getpwuid_r(uid, &u.pw, buf, sizeof buf, &res) != 0 || res == NULL || res->pw_name == NULL)
		return -1;
	n = strlen(res->pw_name);
	if (n == 0 || n >= cap)
		return -1;
	memcpy(name, res->pw_name, n + 1);
	return 0;
}

/* ---- the prompt ------------------------------------------------------------------- */

static SEL sel(const char *name)
{
	return sel_registerName(name);
}

static id msg(id o, const char *s)
{
	return ((id(*)(id, SEL))objc_msgSend)(o, sel(s));
}

static id msg_id(id o, const char *s, id a)
{
	return ((id(*)(id, SEL, id))objc_msgSend)(o, sel(s), a);
}

static void msg_long(id o, const char *s, NSInteger a)
{
	((void (*)(id, SEL, NSInteger))objc_msgSend)(o, sel(s), a);
}

static void msg_bool(id o, const char *s, BOOL a)
{
	((void (*)(id, SEL, BOOL))objc_msgSend)(o, sel(s), a);
}

static NSInteger msg_ret_long(id o, const char *s)
{
	return ((NSInteger(*)(id, SEL))objc_msgSend)(o, sel(s));
}

static const char *msg_ret_cstr(id o, const char *s)
{
	return ((const char *(*)(id, SEL))objc_msgSend)(o, sel(s));
}

/* An autoreleased NSString, or nil (the daemon's text is checked UTF-8). */
static id nsstring(const char *utf8)
{
	return ((id(*)(id, SEL, const char *))objc_msgSend)(objc_getClass("NSString"),
	                                                     sel("stringWithUTF8String:"), utf8);
}

static id new_object(const char *cls)
{
	return msg(msg(objc_getClass(cls), "alloc"), "init");
}

static BOOL msg_ret_bool_id(id o, const char *s, id a)
{
	return ((BOOL(*)(id, SEL, id))objc_msgSend)(o, sel(s), a);
}

static BOOL msg_ret_bool_sel(id o, const char *s, SEL a)
{
	return ((BOOL(*)(id, SEL, SEL))objc_msgSend)(o, sel(s), a);
}

/*
 * The app must be active for its key window to get the keyboard. macOS 14
 * deprecated -activateIgnoringOtherApps: (its argument is ignored there) in
 * favour of -activate, which older systems lack; XCreds does the same before
 * its windows at the login window (twocanoes/xcreds,
 * XCreds/Window+ForceToFront.swift: NSApp.activate(ignoringOtherApps: true)
 * then makeKeyAndOrderFront).
 */
static void activate_app(void)
{
	if (msg_ret_bool_sel(NSApp, "respondsToSelector:", sel("activate")))
		msg(NSApp, "activate");
	else
		msg_bool(NSApp, "activateIgnoringOtherApps:", YES);
}

/*
 * Closes the running modal after seconds, from the run loop mode the modal
 * loop runs in. -[NSObject performSelector:withObject:afterDelay:inModes:]
 * takes "a single argument of type id, or no arguments" (Apple's
 * documentation), so NSApp's -abortModal (which Crypt also sends to end its
 * login-window modal: grahamgilbert/crypt, Crypt/Views/PromptWindowController.m,
 * windowWillClose:) is called with no timer object of ours to keep alive.
 * Apple's documentation of abortModal(): it "must be used instead of
 * stopModal() ... when you need to stop a modal event loop from anywhere
 * other than a callout from that event loop"; runModal then returns
 * NSModalResponseAbort.
 */
static void schedule_abort(NSTimeInterval seconds)
{
	id modes = msg_id(objc_getClass("NSArray"), "arrayWithObject:", NSModalPanelRunLoopMode);

	((void (*)(id, SEL, SEL, id, NSTimeInterval, id))objc_msgSend)(
		NSApp, sel("performSelector:withObject:afterDelay:inModes:"), sel("abortModal"), NULL,
		seconds, modes);
}

/* A pending abort left behind would end the next modal (the next prompt). */
static void cancel_abort(void)
{
	((void (*)(id, SEL, id, SEL, id))objc_msgSend)(
		objc_getClass("NSObject"), sel("cancelPreviousPerformRequestsWithTarget:selector:object:"),
		NSApp, sel("abortModal"), NULL);
}

/*
 * Shows one modal alert: title, the daemon's messages as its informative
 * text, and, when field is non-nil, that field as its accessory view, for
 * at most timeout_s seconds. Returns the button pressed
 * (NSAlertFirstButtonReturn for the first), NSModalResponseAbort when the
 * time ran out, or -1 when there is no AppKit to show it with.
 *
 * SecurityAgent shows it over the login window, where nobody is logged in
 * yet, so before runModal the alert's window is:
 *   - allowed to show there: NSWindow's canBecomeVisibleWithoutLogin
 *     defaults to NO, and such a window simply does not appear. XCreds sets
 *     it on every alert it runs at the login window (twocanoes/xcreds,
 *     XCredsLoginPlugIn/LoginWindow/SignInWindowController.swift,
 *     LoginWebViewController.swift, ControlsViewController.swift:
 *     alert.window.canBecomeVisibleWithoutLogin=true), Crypt on its prompt
 *     (grahamgilbert/crypt, Crypt/Views/PromptWindowController.m,
 *     awakeFromNib: setCanBecomeVisibleWithoutLogin:TRUE);
 *   - raised above the login window's own windows: Crypt uses
 *     NSScreenSaverWindowLevel + 1 (same file: "on top of the
 *     BackdropWindow"), XCreds .screenSaver+10 for its modal at the login
 *     window (XCredsLoginPlugIn/WifiWindowController.swift). We take
 *     Crypt's: the lowest level both have shipped on real Macs;
 *   - given the keyboard: the code field is the window's first responder
 *     and the app is active, so the person can type at once;
 *   - bounded: authd waits for a mechanism's result with no timeout
 *     (apple-oss-distributions/Security, OSX/authd/agent.c, agent_run:
 *     dispatch_semaphore_wait(replyWaiter, DISPATCH_TIME_FOREVER)), so a modal
 *     nobody answers would hold the login window for good. It is aborted
 *     after timeout_s.
 */
static NSInteger run_alert(const char *title, const char *detail, id field, int with_cancel,
                           int timeout_s)
{
	id alert, win;
	NSInteger resp;

	if (NSApp == NULL) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "no NSApplication in this process: no prompt");
		return -1;
	}
	alert = new_object("NSAlert");
	if (alert == NULL)
		return -1;
	msg_id(alert, "setMessageText:", nsstring(title));
	if (detail && detail[0])
		msg_id(alert, "setInformativeText:", nsstring(detail));
	msg_id(alert, "addButtonWithTitle:", nsstring(field ? "Verify" : "OK"));
	if (with_cancel)
		msg_id(alert, "addButtonWithTitle:", nsstring("Cancel"));
	if (field)
		msg_id(alert, "setAccessoryView:", field);
	/* layout builds the window and places the accessory view in it, so
	 * the settings below reach the window runModal shows. */
	msg(alert, "layout");
	win = msg(alert, "window");
	msg_bool(win, "setCanBecomeVisibleWithoutLogin:", YES);
	msg_long(win, "setLevel:", (NSInteger)CGWindowLevelForKey(kCGScreenSaverWindowLevelKey) + 1);
	if (field) {
		/* NSAlert makes its first button the first responder unless
		 * told otherwise: initialFirstResponder is what it restores
		 * when the window becomes key, makeFirstResponder: the state
		 * now (XCreds: makeFirstResponder(passwordTextField)). */
		msg_id(win, "setInitialFirstResponder:", field);
		msg_ret_bool_id(win, "makeFirstResponder:", field);
	}
	activate_app();
	schedule_abort((NSTimeInterval)timeout_s);
	resp = msg_ret_long(alert, "runModal");
	cancel_abort();
	/* runModal orders the window out when a button ends it; after an
	 * abort, make sure nothing is left on the screen. */
	msg_id(win, "orderOut:", NULL);
	msg(alert, "release");
	return resp;
}

int jcmfa_ap_host_prompt(int echo, const char *text, const char *detail, int timeout_s, char *answer,
                         size_t cap)
{
	void *pool = objc_autoreleasePoolPush();
	NSRect frame = { { 0, 0 }, { 240, 24 } };
	id field, value;
	const char *utf8;
	NSInteger resp;
	int rc = JCMFA_ASK_FAIL;
	size_t n;

	field = ((id(*)(id, SEL, NSRect))objc_msgSend)(
		msg(objc_getClass(echo ? "NSTextField" : "NSSecureTextField"), "alloc"),
		sel("initWithFrame:"), frame);
	if (field == NULL) {
		jcmfa_ap_host_log(JCMFA_AP_LOG_ERR, "AppKit is not available in this process: no prompt");
		goto out;
	}
	resp = run_alert(text, detail, field, 1, timeout_s);
	if (resp == -1) {
		rc = JCMFA_ASK_FAIL;
	} else if (resp == NSModalResponseAbort) {
		rc = JCMFA_AP_PROMPT_TIMEOUT;
	} else if (resp != NSAlertFirstButtonReturn) {
		rc = JCMFA_ASK_CANCEL;
	} else {
		value = msg(field, "stringValue");
		utf8 = value ? msg_ret_cstr(value, "UTF8String") : NULL;
		n = utf8 ? strlen(utf8) : 0;
		if (utf8 == NULL || n >= cap) {
			rc = JCMFA_ASK_CANCEL;
		} else {
			memcpy(answer, utf8, n + 1);
			rc = JCMFA_ASK_OK;
		}
	}
	/* The code should not outlive the dialogue in the field's storage. */
	msg_id(field, "setStringValue:", nsstring(""));
	msg(field, "release");
out:
	objc_autoreleasePoolPop(pool);
	return rc;
}

void jcmfa_ap_host_notice(const char *text)
{
	void *pool = objc_autoreleasePoolPush();

	run_alert("Two-factor verification", text, NULL, 0, JCMFA_AP_NOTICE_TIMEOUT_S);
	objc_autoreleasePoolPop(pool);
}

/*
 * fake_appkit.c: the macOS side of ui_macos.c, on Linux, for ap_uiharness.
 *
 * ui_macos.c (the bundle's own file, unchanged) drives AppKit through
 * objc_msgSend, each call cast to its method's signature. Here objc_msgSend
 * is objc_msgsend_<arch>.S: like the real one it leaves every argument
 * register alone, and it hands them all to fake_dispatch below, which
 * records the message ("msg=RECEIVER SELECTOR ARGS" on stdout, in order)
 * and plays the part of AppKit: NSAlert, its window, the text field,
 * NSApp, delayed performs in run loop modes, and a person at the login
 * window who answers, cancels or walks away (harness.h).
 *
 * The person can only answer what they can see and type into, as at a real
 * login window: a window not allowed to show without a login
 * (canBecomeVisibleWithoutLogin NO, AppKit's default), or not above the
 * login window's own level, is never seen, so nobody answers it; keystrokes
 * reach the code field only when the app is active and the field is the
 * window's first responder. A modal nobody answers ends only by a pending
 * -abortModal in NSModalPanelRunLoopMode (time is virtual: the harness
 * jumps to it); without one the login window would hang for good, and the
 * harness exits 4 saying so (modal_never_closed=1).
 *
 * CoreFoundation preferences come from the harness's --set options, the
 * account database from --uidmap (getpwuid_r is wrapped, -Wl,--wrap), and
 * syslog goes to stderr. Nothing here is linked into the bundle.
 */
#define _POSIX_C_SOURCE 200809L

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../darwin/macos_api.h"
#include "harness.h"

/* kCGScreenSaverWindowLevel (CGWindowLevel.h: kCGScreenSaverWindowLevelKey
 * maps to 1000, NSScreenSaverWindowLevel). The login window's own UI is
 * taken to sit at this level: Crypt puts its prompt at + 1 "on top of the
 * BackdropWindow" (grahamgilbert/crypt, Crypt/Views/PromptWindowController.m). */
#define SCREENSAVER_LEVEL 1000

enum kind { K_CLASS = 1, K_OBJ, K_STR, K_CFSTR, K_CFNUM, K_CFBOOL, K_ARRAY };

struct objc_object {
	int kind;
	int seq;
	const char *cls;
	char str[4096];      /* NSString, CFString, a text field's value, an alert's title */
	char detail[4096];   /* an alert's informative text */
	long long num;       /* CFNumber, CFBoolean */
	struct objc_object *window, *accessory, *item;
	/* a window */
	int visible_without_login;
	long level;
	struct objc_object *first_responder, *initial_first_responder;
	int ordered_out;
};

struct objc_selector {
	char name[80];
};

#define POOL 96
static struct objc_object pool[POOL];
static int npool;
static struct objc_selector sels[64];
static int nsels;

static struct objc_object app_obj = { .kind = K_OBJ, .seq = 1, .cls = "NSApplication" };
static struct objc_object mode_obj = { .kind = K_STR, .seq = 2, .cls = "NSString",
	                               .str = "NSModalPanelRunLoopMode" };
id NSApp = &app_obj;
id NSModalPanelRunLoopMode = &mode_obj;

static struct {
	int active;             /* NSApp was activated */
	int old_appkit;         /* answer NO to respondsToSelector:@selector(activate) */
	int unhandled;          /* messages this stand-in does not know */
	int cf_live;            /* CF objects created and not yet released */
	int pools;              /* autorelease pools pushed and not popped */
	int modals;
	struct perform {
		id target;
		const char *sel;
		id obj;
		double delay;
		id modes;
		int live;
	} performs[8];
} st;

static id new_obj(int kind, const char *cls)
{
	id o;

	if (npool >= POOL) {
		fprintf(stderr, "fake_appkit: object pool exhausted\n");
		_exit(5);
	}
	o = &pool[npool++];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->cls = cls;
	o->seq = npool + 2;
	return o;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- the Objective-C runtime ------------------------------------------------- */

static const char *known_classes[] = { "NSAlert", "NSTextField", "NSSecureTextField", "NSString",
	                               "NSArray", "NSObject", "NSButton", "NSPanel" };
static struct objc_object classes[sizeof known_classes / sizeof known_classes[0]];

id objc_getClass(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof known_classes / sizeof known_classes[0]; i++) {
		if (strcmp(name, known_classes[i]) == 0) {
			classes[i].kind = K_CLASS;
			classes[i].cls = known_classes[i];
			return &classes[i];
		}
	}
	printf("msg=objc_getClass %s (unknown class)\n", name);
	st.unhandled++;
	return NULL;
}

SEL sel_registerName(const char *name)
{
	int i;

	for (i = 0; i < nsels; i++)
		if (strcmp(sels[i].name, name) == 0)
			return &sels[i];
	if (nsels >= (int)(sizeof sels / sizeof sels[0]) || strlen(name) >= sizeof sels[0].name) {
		fprintf(stderr, "fake_appkit: selector table full\n");
		_exit(5);
	}
	copy_str(sels[nsels].name, sizeof sels[nsels].name, name);
	return &sels[nsels++];
}

void *objc_autoreleasePoolPush(void)
{
	st.pools++;
	return &st.pools;
}

void objc_autoreleasePoolPop(void *p)
{
	(void)p;
	st.pools--;
}

/* How a receiver or argument appears in the transcript. */
static const char *desc(id o, char *buf, size_t cap)
{
	if (o == NULL)
		return "nil";
	if (o == NSApp)
		return "NSApp";
	if (o == NSModalPanelRunLoopMode)
		return "NSModalPanelRunLoopMode";
	if (o->kind == K_CLASS)
		return o->cls;
	snprintf(buf, cap, "%s#%d", o->cls, o->seq);
	return buf;
}

/* Text on one line: newlines as \n. */
static void put_escaped(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

/* The registers objc_msgsend_<arch>.S saved: integer/pointer arguments in
 * order (self, _cmd, then the method's own), floating-point ones apart. */
#if defined(__x86_64__)
#define NGPR 6
#elif defined(__aarch64__)
#define NGPR 8
#else
#error "ap_uiharness has an objc_msgSend stand-in for x86_64 and aarch64 only"
#endif
struct fake_regs {
	long gpr[NGPR];
	double fpr[8];
	long *stack;
};
struct fake_ret {
	long i;
	double d;
};
struct fake_ret fake_dispatch(struct fake_regs *r);

static struct perform *pending_abort(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		struct perform *p = &st.performs[i];
		if (p->live && p->target == NSApp && strcmp(p->sel, "abortModal") == 0 && p->modes &&
		    p->modes->kind == K_ARRAY && p->modes->item == NSModalPanelRunLoopMode)
			return p;
	}
	return NULL;
}

/* -[NSAlert runModal]: what the person at the login window does. */
static long run_modal(id alert)
{
	id win = alert->window, field = alert->accessory;
	int seen, focused;
	struct perform *abort_p;
	char b1[64];

	st.modals++;
	if (win == NULL) {
		printf("modal_error=runModal before the alert's window was set up\n");
		win = alert->window = new_obj(K_OBJ, "NSPanel");
	}
	seen = win->visible_without_login && win->level > SCREENSAVER_LEVEL;
	focused = field && st.active &&
	          (win->first_responder == field || win->initial_first_responder == field);
	abort_p = pending_abort();
	printf("modal=%s window=%s visible_without_login=%d level=%ld active=%d focus=%s "
	       "abort_after=%g\n",
	       field ? "prompt" : "notice", desc(win, b1, sizeof b1), win->visible_without_login,
	       win->level, st.active, focused ? "field" : "none", abort_p ? abort_p->delay : -1.0);
	if (field) {
		harness_put("prompt", alert->str);
		harness_put("detail", alert->detail);
		printf("echo=%d\n", strcmp(field->cls, "NSSecureTextField") == 0 ? 0 : 1);
	} else {
		harness_put("notice", alert->detail);
	}

	if (!seen || script.ignore) {
		if (!seen)
			printf("modal_unseen=1\n");
		if (abort_p == NULL) {
			printf("modal_never_closed=1\n");
			fflush(stdout);
			fprintf(stderr, "fake_appkit: a modal nobody answers and nothing closes: "
			                "the login window would hang here\n");
			_exit(4);
		}
		/* Virtual time: the run loop reaches the delayed perform. */
		abort_p->live = 0;
		printf("modal_closed_after=%g\n", abort_p->delay);
		printf("msg=NSApp abortModal (delayed perform fired)\n");
		return NSModalResponseAbort;
	}
	if (field == NULL)
		return NSAlertFirstButtonReturn; /* OK */
	if (script.cancel || script.next_answer >= script.nanswers)
		return NSAlertFirstButtonReturn + 1; /* Cancel */
	if (focused)
		copy_str(field->str, sizeof field->str, script.answers[script.next_answer]);
	else
		printf("typed_into=nowhere\n"); /* the keystrokes went to no field */
	script.next_answer++;
	return NSAlertFirstButtonReturn; /* Verify */
}

struct fake_ret fake_dispatch(struct fake_regs *r)
{
	id self = (id)r->gpr[0];
	const char *s = ((SEL)r->gpr[1])->name;
	id a1 = (id)r->gpr[2], a2 = (id)r->gpr[3], a3 = (id)r->gpr[4];
	struct fake_ret ret = { 0, 0 };
	char b1[64], b2[64], b3[64];

#define IS(name) (strcmp(s, name) == 0)
	if (self == NULL) {
		printf("msg=nil %s\n", s); /* as in Objective-C: nil answers 0 */
		return ret;
	}
	printf("msg=%s %s", desc(self, b1, sizeof b1), s);
	if (IS("setCanBecomeVisibleWithoutLogin:") || IS("activateIgnoringOtherApps:"))
		printf(" %s", (r->gpr[2] & 0xff) ? "YES" : "NO");
	else if (IS("setLevel:"))
		printf(" %ld", r->gpr[2]);
	else if (IS("respondsToSelector:"))
		printf(" @selector(%s)", ((SEL)r->gpr[2])->name);
	else if (IS("performSelector:withObject:afterDelay:inModes:"))
		printf(" @selector(%s) %s %g %s", ((SEL)r->gpr[2])->name, desc(a2, b2, sizeof b2),
		       r->fpr[0], a3 && a3->kind == K_ARRAY ? "[array]" : desc(a3, b3, sizeof b3));
	else if (IS("cancelPreviousPerformRequestsWithTarget:selector:object:"))
		printf(" %s @selector(%s) %s", desc(a1, b2, sizeof b2), ((SEL)r->gpr[3])->name,
		       desc(a3, b3, sizeof b3));
	else if (IS("stringWithUTF8String:")) {
		fputs(" \"", stdout);
		put_escaped((const char *)r->gpr[2]);
		fputs("\"", stdout);
	} else if (strchr(s, ':') && !IS("initWithFrame:"))
		printf(" %s", desc(a1, b2, sizeof b2));
	putchar('\n');

	if (IS("alloc") && self->kind == K_CLASS) {
		ret.i = (long)new_obj(K_OBJ, self->cls);
	} else if (IS("init") || IS("initWithFrame:")) {
		ret.i = (long)self;
	} else if (IS("stringWithUTF8String:")) {
		id o = new_obj(K_STR, "NSString");
		copy_str(o->str, sizeof o->str, (const char *)r->gpr[2]);
		ret.i = (long)o;
	} else if (IS("arrayWithObject:")) {
		id o = new_obj(K_ARRAY, "NSArray");
		o->item = a1;
		ret.i = (long)o;
	} else if (IS("setMessageText:")) {
		copy_str(self->str, sizeof self->str, a1 ? a1->str : "");
	} else if (IS("setInformativeText:")) {
		copy_str(self->detail, sizeof self->detail, a1 ? a1->str : "");
	} else if (IS("addButtonWithTitle:")) {
		ret.i = (long)new_obj(K_OBJ, "NSButton");
	} else if (IS("setAccessoryView:")) {
		self->accessory = a1;
	} else if (IS("layout")) {
		if (self->window == NULL)
			self->window = new_obj(K_OBJ, "NSPanel");
	} else if (IS("window")) {
		if (self->window == NULL)
			self->window = new_obj(K_OBJ, "NSPanel");
		ret.i = (long)self->window;
	} else if (IS("setCanBecomeVisibleWithoutLogin:")) {
		self->visible_without_login = (r->gpr[2] & 0xff) != 0;
	} else if (IS("setLevel:")) {
		self->level = r->gpr[2];
	} else if (IS("setInitialFirstResponder:")) {
		self->initial_first_responder = a1;
	} else if (IS("makeFirstResponder:")) {
		self->first_responder = a1;
		ret.i = 1;
	} else if (IS("respondsToSelector:")) {
		ret.i = strcmp(((SEL)r->gpr[2])->name, "activate") == 0 ? !st.old_appkit : 0;
	} else if (IS("activate") || IS("activateIgnoringOtherApps:")) {
		if (self == NSApp)
			st.active = 1;
	} else if (IS("performSelector:withObject:afterDelay:inModes:")) {
		int i;
		for (i = 0; i < 8 && st.performs[i].live; i++)
			;
		if (i == 8) {
			fprintf(stderr, "fake_appkit: too many pending performs\n");
			_exit(5);
		}
		st.performs[i].live = 1;
		st.performs[i].target = self;
		st.performs[i].sel = ((SEL)r->gpr[2])->name;
		st.performs[i].obj = a2;
		st.performs[i].delay = r->fpr[0];
		st.performs[i].modes = a3;
	} else if (IS("cancelPreviousPerformRequestsWithTarget:selector:object:")) {
		int i;
		for (i = 0; i < 8; i++) {
			struct perform *p = &st.performs[i];
			if (p->live && p->target == a1 && strcmp(p->sel, ((SEL)r->gpr[3])->name) == 0 &&
			    p->obj == a3)
				p->live = 0;
		}
	} else if (IS("runModal")) {
		ret.i = run_modal(self);
	} else if (IS("stringValue")) {
		id o = new_obj(K_STR, "NSString");
		copy_str(o->str, sizeof o->str, self->str);
		ret.i = (long)o;
	} else if (IS("UTF8String")) {
		ret.i = (long)self->str;
	} else if (IS("setStringValue:")) {
		copy_str(self->str, sizeof self->str, a1 ? a1->str : "");
	} else if (IS("orderOut:")) {
		self->ordered_out = 1;
	} else if (IS("release")) {
		/* objects live in a static pool */
	} else {
		printf("unhandled=%s\n", s);
		st.unhandled++;
	}
#undef IS
	return ret;
}

/* ---- CoreGraphics -------------------------------------------------------------- */

CGWindowLevel CGWindowLevelForKey(CGWindowLevelKey key)
{
	if (key == kCGScreenSaverWindowLevelKey)
		return SCREENSAVER_LEVEL;
	printf("unhandled=CGWindowLevelForKey(%d)\n", (int)key);
	st.unhandled++;
	return 0;
}

/* ---- CoreFoundation: the preference domain from --set --------------------------- */

#define CF(o) ((struct objc_object *)(o))

CFStringRef CFStringCreateWithCString(CFAllocatorRef alloc, const char *s, CFStringEncoding enc)
{
	id o;

	(void)alloc;
	if (enc != kCFStringEncodingUTF8)
		return NULL;
	o = new_obj(K_CFSTR, "CFString");
	copy_str(o->str, sizeof o->str, s);
	st.cf_live++;
	return (CFStringRef)o;
}

/* The --set name of each preference key ui_macos.c reads. */
static const struct {
	const char *key, *set;
	int kind;
} prefs[] = {
	{ "Socket", "socket=", K_CFSTR },
	{ "FailMode", "failmode=", K_CFSTR },
	{ "TimeoutSeconds", "timeout=", K_CFNUM },
	{ "Debug", "debug=", K_CFBOOL },
};

CFTypeRef CFPreferencesCopyAppValue(CFStringRef key, CFStringRef app)
{
	size_t i;
	int j;

	if (strcmp(CF(app)->str, "com.jcmfa.authplugin") != 0) {
		printf("unhandled=CFPreferencesCopyAppValue in domain %s\n", CF(app)->str);
		st.unhandled++;
		return NULL;
	}
	for (i = 0; i < sizeof prefs / sizeof prefs[0]; i++) {
		if (strcmp(CF(key)->str, prefs[i].key) != 0)
			continue;
		for (j = script.nsets - 1; j >= 0; j--) {
			const char *v = script.sets[j];
			size_t n = strlen(prefs[i].set);
			id o;
			char *end;
			if (strncmp(v, prefs[i].set, n) != 0)
				continue;
			v += n;
			o = new_obj(prefs[i].kind, "CFType");
			copy_str(o->str, sizeof o->str, v);
			if (prefs[i].kind != K_CFSTR) {
				o->num = strtoll(v, &end, 10);
				if (*v == '\0' || *end != '\0')
					o->kind = K_CFSTR; /* not a number: a string, as a typo'd plist has */
			}
			st.cf_live++;
			return o;
		}
	}
	return NULL;
}

CFTypeID CFGetTypeID(CFTypeRef cf) { return (CFTypeID)CF(cf)->kind; }
CFTypeID CFStringGetTypeID(void) { return K_CFSTR; }
CFTypeID CFNumberGetTypeID(void) { return K_CFNUM; }
CFTypeID CFBooleanGetTypeID(void) { return K_CFBOOL; }

Boolean CFStringGetCString(CFStringRef s, char *buf, CFIndex cap, CFStringEncoding enc)
{
	size_t n = strlen(CF(s)->str);

	if (enc != kCFStringEncodingUTF8 || cap <= 0 || n >= (size_t)cap)
		return 0;
	memcpy(buf, CF(s)->str, n + 1);
	return 1;
}

Boolean CFNumberGetValue(CFNumberRef n, CFIndex type, void *out)
{
	int64_t v = CF(n)->num;

	if (type != kCFNumberSInt64Type)
		return 0;
	memcpy(out, &v, sizeof v);
	return 1;
}

Boolean CFBooleanGetValue(CFBooleanRef b) { return CF(b)->num != 0; }

void CFRelease(CFTypeRef cf)
{
	if (cf != NULL)
		st.cf_live--;
}

/* ---- libc, wrapped (-Wl,--wrap=getpwuid_r,--wrap=syslog) -------------------------- */

int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t cap, struct passwd **res)
{
	int i;

	*res = NULL;
	for (i = 0; i < script.nuidmap; i++) {
		char *end;
		unsigned long u = strtoul(script.uid_names[i], &end, 10);
		if (*end == '=' && u == uid && strlen(end + 1) < cap) {
			memset(pw, 0, sizeof *pw);
			strcpy(buf, end + 1);
			pw->pw_name = buf;
			pw->pw_uid = uid;
			*res = pw;
			return 0;
		}
	}
	return 0; /* no such account: *res stays NULL */
}

void __wrap_syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "log<%d>: ", pri & 7);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the harness's hooks --------------------------------------------------------- */

void fake_appkit_begin(int no_app, int old_appkit)
{
	if (no_app)
		NSApp = NULL;
	st.old_appkit = old_appkit;
}

int fake_appkit_end(void)
{
	int i, pending = 0, bad = 0;

	for (i = 0; i < 8; i++)
		pending += st.performs[i].live;
	printf("pending_performs=%d\n", pending);
	printf("unhandled_messages=%d\n", st.unhandled);
	printf("cf_unreleased=%d\n", st.cf_live);
	printf("autorelease_pools_open=%d\n", st.pools);
	/* A perform left pending would abort the next modal; a CF object not
	 * released leaks in SecurityAgent at every login. */
	if (pending || st.unhandled || st.cf_live || st.pools)
		bad = 1;
	fflush(stdout);
	return bad;
}

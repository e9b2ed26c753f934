/*
 * What ap_harness.c (the engine, the options) shares with fake_appkit.c
 * (the AppKit, CoreFoundation and libc stand-ins under ui_macos.c in the
 * ap_uiharness build).
 */
#ifndef JCMFA_HARNESS_H
#define JCMFA_HARNESS_H

#define MAX_ITEMS 16

/* The person at the login window, and the host's settings. */
struct harness_script {
	const char *uid_names[MAX_ITEMS]; /* "N=NAME" */
	int nuidmap;
	const char *sets[MAX_ITEMS]; /* socket=, timeout=, failmode=, debug= */
	int nsets;
	const char *answers[MAX_ITEMS];
	int nanswers, next_answer;
	int cancel;  /* presses Cancel */
	int ignore;  /* never answers: the prompt must close itself */
	int no_ui;   /* no UI at all (ap_uiharness: no NSApplication) */
	int old_appkit; /* ap_uiharness: NSApp has no -activate (before macOS 14) */
};
extern struct harness_script script;

/* Prints key=text on one line of stdout (newlines as \n). */
void harness_put(const char *key, const char *text);

/* ap_uiharness: sets up NSApp (none with no_ui) before the plugin runs. */
void fake_appkit_begin(int no_app, int old_appkit);
/* ap_uiharness: reports what was left behind once the mechanism is gone;
 * non-zero if the UI broke a rule (a modal never closed, a pending abort). */
int fake_appkit_end(void);

#endif

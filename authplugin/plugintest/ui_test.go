package plugintest

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/ipc"
	"github.com/jcmfa/jcmfa/internal/testenv"
)

// ap_uiharness runs the bundle's ui_macos.c with objc_msgSend replaced by a
// recording stand-in (authplugin/harness/fake_appkit.c): every message the
// prompt sends is a "msg=RECEIVER SELECTOR ARGS" line, in order, and a
// scripted person answers, cancels or walks away. The person only sees a
// window allowed to show at the login window and raised above it, and only
// types into a focused field, as on a real Mac; a modal nobody answers ends
// only if the plugin scheduled its own abort, or the harness exits 4.

func needUI(t *testing.T) {
	t.Helper()
	needBuild(t)
	testenv.Need(t, uiBuildErr)
}

// uiRun runs bin (ap_uiharness or a mutant of it) and reports what it did,
// with its exit status: 0 fine, 3 engine contract broken, 4 a modal that
// nothing closes, 6 something left behind (a pending abort, a CF object)
// or a message the stand-in does not know.
func uiRun(bin string, args ...string) (run, int) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{out: map[string][]string{}, log: stderr.String(), elapsed: time.Since(start)}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.out[k] = append(r.out[k], v)
		}
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return r, code
}

func invokeUI(t *testing.T, args ...string) run {
	t.Helper()
	needUI(t)
	r, code := uiRun(uiBin, args...)
	if code != 0 {
		t.Fatalf("ap_uiharness exited %d:\n%s", code, r)
	}
	return r
}

// screenSaverLevel is NSScreenSaverWindowLevel (kCGScreenSaverWindowLevel,
// CGWindowLevel.h: 1000), where the login window's own UI is. Crypt raises
// its login-window prompt to this + 1 (grahamgilbert/crypt,
// Crypt/Views/PromptWindowController.m), XCreds to + 10.
const screenSaverLevel = 1000

// daemonAnswerTimeout is how long the daemon waits for an ANSWER: the
// prompt must be closed by the plugin before that.
var daemonAnswerTimeout = ipc.NewServer(nil, nil, 0).AnswerTimeout

var (
	msgRE   = regexp.MustCompile(`^(\S+) (\S+)(?: (.*))?$`)
	levelRE = regexp.MustCompile(`^-?\d+$`)
)

// modalViolations checks every runModal in r's transcript: before it, the
// alert's window must have been allowed to show at the login window,
// raised above it, and (for a prompt) given the keyboard with the app
// active, and an abort scheduled in the modal's run loop mode before the
// daemon's own answer timeout; after it, that abort cancelled.
func modalViolations(r run) []string {
	var bad []string
	type state struct {
		visible, focused bool
		level            int
		field            string
		abortAfter       float64
	}
	cur := map[string]*state{} // alert -> what its window got
	windowOf := map[string]string{}
	active := false
	modals := 0
	var pending []string // alerts whose abort is not yet cancelled
	for _, m := range r.out["msg"] {
		p := msgRE.FindStringSubmatch(m)
		if p == nil {
			continue
		}
		recv, sel, args := p[1], p[2], p[3]
		alertOf := func(win string) *state {
			for a, w := range windowOf {
				if w == win {
					return cur[a]
				}
			}
			return nil
		}
		switch {
		case strings.HasPrefix(recv, "NSAlert#") && sel == "init":
			cur[recv] = &state{abortAfter: -1}
		case strings.HasPrefix(recv, "NSAlert#") && sel == "setAccessoryView:":
			if s := cur[recv]; s != nil {
				s.field = args
			}
		case strings.HasPrefix(recv, "NSAlert#") && sel == "window":
			// the window is the next message's receiver; learn it below
			windowOf[recv] = ""
		case sel == "setCanBecomeVisibleWithoutLogin:" && args == "YES":
			bindWindow(windowOf, recv)
			if s := alertOf(recv); s != nil {
				s.visible = true
			}
		case sel == "setLevel:":
			bindWindow(windowOf, recv)
			if s := alertOf(recv); s != nil && levelRE.MatchString(args) {
				s.level, _ = strconv.Atoi(args)
			}
		case sel == "setInitialFirstResponder:" || sel == "makeFirstResponder:":
			bindWindow(windowOf, recv)
			if s := alertOf(recv); s != nil && s.field != "" && args == s.field {
				s.focused = true
			}
		case recv == "NSApp" && (sel == "activate" || (sel == "activateIgnoringOtherApps:" && args == "YES")):
			active = true
		case recv == "NSApp" && sel == "performSelector:withObject:afterDelay:inModes:":
			f := strings.Fields(args)
			if len(f) == 4 && f[0] == "@selector(abortModal)" && f[3] == "[array]" {
				d, _ := strconv.ParseFloat(f[2], 64)
				for a, s := range cur {
					if s.abortAfter < 0 {
						s.abortAfter = d
						pending = append(pending, a)
					}
				}
			}
		case strings.HasPrefix(recv, "NSAlert#") && sel == "runModal":
			modals++
			s := cur[recv]
			if s == nil {
				bad = append(bad, recv+": runModal on an alert never initialised")
				continue
			}
			if !s.visible {
				bad = append(bad, recv+": runModal before setCanBecomeVisibleWithoutLogin:YES on its window (invisible at the login window)")
			}
			if s.level <= screenSaverLevel {
				bad = append(bad, recv+": runModal with window level "+strconv.Itoa(s.level)+", not above the login window ("+strconv.Itoa(screenSaverLevel)+")")
			}
			if s.field != "" && !s.focused {
				bad = append(bad, recv+": runModal with the code field not the window's first responder")
			}
			if s.field != "" && !active {
				bad = append(bad, recv+": runModal before NSApp was activated (keystrokes go elsewhere)")
			}
			switch {
			case s.abortAfter < 0:
				bad = append(bad, recv+": runModal with no abortModal scheduled in NSModalPanelRunLoopMode: nothing bounds it")
			case s.abortAfter <= 0 || s.abortAfter >= daemonAnswerTimeout.Seconds():
				bad = append(bad, recv+": abort after "+strconv.FormatFloat(s.abortAfter, 'g', -1, 64)+" s, not within the daemon's "+daemonAnswerTimeout.String())
			}
		case recv == "NSObject" && sel == "cancelPreviousPerformRequestsWithTarget:selector:object:" && strings.Contains(args, "@selector(abortModal)"):
			pending = nil
		}
	}
	if modals == 0 {
		bad = append(bad, "no runModal at all")
	}
	if len(pending) > 0 {
		bad = append(bad, "an abortModal perform was left pending after the modal ended (it would abort the next one)")
	}
	if r.get("pending_performs") != "0" {
		bad = append(bad, "pending_performs="+r.get("pending_performs"))
	}
	return bad
}

// bindWindow records that win is the window of the alert that last sent
// -window (the transcript has no return values).
func bindWindow(windowOf map[string]string, win string) {
	for a, w := range windowOf {
		if w == "" {
			windowOf[a] = win
		}
	}
}

func wantNoViolations(t *testing.T, r run) {
	t.Helper()
	for _, v := range modalViolations(r) {
		t.Errorf("%s", v)
	}
	if t.Failed() {
		t.Logf("%s", r)
	}
}

// The code prompt at the login window: made visible without a login,
// raised above the login window, the code field focused and the app active,
// and bounded, all before runModal; then the right code gets in.
func TestPromptIsVisibleRaisedAndFocusedBeforeRunModal(t *testing.T) {
	sock := startDaemon(t)
	needUI(t)
	secret := enroll(t, sock, "alice")
	r := invokeUI(t, at(sock, "alice", "--answer", code(t, secret))...)
	wantResult(t, r, "allow")
	wantNoViolations(t, r)
	if r.get("echo") != "0" || len(r.out["modal"]) != 1 || !strings.HasPrefix(r.get("modal"), "prompt ") {
		t.Errorf("not one secure prompt:\n%s", r)
	}
	if v, reason, surface := lastLogin(t, sock, "alice"); v != "allow" || reason != "totp" || surface != "gui" {
		t.Errorf("audited as %s/%s on %q, want allow/totp on gui", v, reason, surface)
	}
	if !strings.Contains(strings.Join(r.out["msg"], "\n"), "NSApp activate") {
		t.Errorf("NSApp not sent -activate where it has it (macOS 14+)")
	}
}

// Before macOS 14 NSApplication has no -activate: the app is activated
// with -activateIgnoringOtherApps:YES instead.
func TestPromptActivatesOnOlderAppKit(t *testing.T) {
	sock := fakeDaemon(t, askThenVerdict)
	r := invokeUI(t, at(sock, "alice", "--answer", "123456", "--old-appkit")...)
	wantResult(t, r, "allow")
	wantNoViolations(t, r)
	if !strings.Contains(strings.Join(r.out["msg"], "\n"), "NSApp activateIgnoringOtherApps: YES") {
		t.Errorf("NSApp not activated with -activateIgnoringOtherApps:YES:\n%s", r)
	}
}

// The message after a refused code is a modal too: visible, raised and
// bounded (nobody may be there to press OK).
func TestNoticeIsVisibleRaisedAndBounded(t *testing.T) {
	sock := startDaemon(t)
	needUI(t)
	enroll(t, sock, "alice")
	r := invokeUI(t, at(sock, "alice", "--answer", "000000")...)
	wantResult(t, r, "deny")
	wantNoViolations(t, r)
	if got := r.out["modal"]; len(got) != 2 || !strings.HasPrefix(got[1], "notice ") || r.get("notice") == "" {
		t.Errorf("want a prompt then a notice, got %v\n%s", got, r)
	}
}

// A prompt nobody answers is closed by the plugin before the daemon's own
// answer timeout, and the login is denied in both fail modes (after an ASK
// the fail mode never lets a login through).
func TestUnansweredPromptIsClosedAndDenied(t *testing.T) {
	sock := startDaemon(t)
	needUI(t)
	enroll(t, sock, "alice")
	for _, mode := range []string{"secure", "safe"} {
		t.Run(mode, func(t *testing.T) {
			r := invokeUI(t, at(sock, "alice", "--ignore", "--set", "failmode="+mode)...)
			wantResult(t, r, "deny")
			wantNoViolations(t, r)
			if r.get("modal_closed_after") == "" {
				t.Fatalf("the prompt was not closed by its abort:\n%s", r)
			}
			if !strings.Contains(r.log, "unanswered") || !strings.Contains(r.log, "FailMode "+mode) {
				t.Errorf("log does not say the prompt went unanswered and which fail mode applied:\n%s", r.log)
			}
		})
	}
}

// The plugin's bound (flow.h JCMFA_AP_PROMPT_TIMEOUT_S) is held to the
// daemon's: closing after the daemon gave up would leave a dead prompt on
// the screen; the margin lets the plugin, not a dead channel, end it.
func TestPromptBoundIsBelowDaemonAnswerTimeout(t *testing.T) {
	sock := fakeDaemon(t, askThenVerdict)
	r := invokeUI(t, at(sock, "alice", "--ignore")...)
	d, err := strconv.ParseFloat(r.get("modal_closed_after"), 64)
	if err != nil {
		t.Fatalf("no modal_closed_after:\n%s", r)
	}
	limit := daemonAnswerTimeout.Seconds()
	if d >= limit || d < limit-60 {
		t.Errorf("prompt closes after %g s; the daemon waits %g s for an ANSWER: want a little less", d, limit)
	}
	if ra := r.out["modal"]; len(ra) != 1 {
		t.Errorf("want one prompt and no notice after a timeout, got %v", ra)
	}
}

// No NSApplication in the process: no prompt that nothing could bound or
// show; the login is denied, not hung.
func TestNoApplicationDeniesWithoutModal(t *testing.T) {
	sock := fakeDaemon(t, askThenVerdict)
	r := invokeUI(t, at(sock, "alice", "--no-ui", "--answer", "123456")...)
	wantResult(t, r, "deny")
	if len(r.out["modal"]) != 0 {
		t.Errorf("a modal ran without an NSApplication:\n%s", r)
	}
}

// The preferences reach the flow through CFPreferences as ui_macos.c reads
// them (stand-in values from --set): FailMode, Socket and a TimeoutSeconds
// that is not a number.
func TestPreferencesAreReadThroughCFPreferences(t *testing.T) {
	needUI(t)
	absent := shortSocket(t)
	r := invokeUI(t, at(absent, "alice", "--set", "failmode=safe")...)
	wantResult(t, r, "allow")
	r = invokeUI(t, at(absent, "alice", "--set", "timeout=soon")...)
	wantResult(t, r, "deny")
	if !strings.Contains(r.log, "TimeoutSeconds is not a number") {
		t.Errorf("a non-number TimeoutSeconds is not reported:\n%s", r.log)
	}
}

// askThenVerdict is a daemon that asks for a code and accepts 123456.
func askThenVerdict(r *bufio.Reader, c net.Conn) {
	r.ReadString('\n')
	c.Write([]byte("HELLO 1\n"))
	r.ReadString('\n')
	c.Write([]byte("ASK echo=off text=Verification%20code%3A%20\n"))
	l, err := r.ReadString('\n')
	if err != nil {
		return
	}
	if strings.TrimSpace(l) == "ANSWER text=123456" {
		c.Write([]byte("VERDICT allow reason=totp\n"))
		return
	}
	c.Write([]byte("ERROR text=That%20code%20is%20not%20right.\nVERDICT deny reason=wrong-code\n"))
}

// Each call run_alert makes before runModal is needed: ui_macos.c without
// it (a mutant, built like ap_uiharness) fails these same checks. This is
// what keeps the checks above from passing by accident.
func TestUIMutantsFail(t *testing.T) {
	needUI(t)
	src, err := os.ReadFile(filepath.Join(repoRoot, "authplugin", "ui_macos.c"))
	if err != nil {
		t.Fatal(err)
	}
	sock := fakeDaemon(t, askThenVerdict)
	for _, m := range []struct {
		name   string
		remove []string // lines (trimmed) deleted from ui_macos.c
	}{
		{"no setCanBecomeVisibleWithoutLogin", []string{`msg_bool(win, "setCanBecomeVisibleWithoutLogin:", YES);`}},
		{"no setLevel", []string{`msg_long(win, "setLevel:", (NSInteger)CGWindowLevelForKey(kCGScreenSaverWindowLevelKey) + 1);`}},
		{"no first responder", []string{`msg_id(win, "setInitialFirstResponder:", field);`, `msg_ret_bool_id(win, "makeFirstResponder:", field);`}},
		{"no activation", []string{`activate_app();`}},
		{"no abort scheduled", []string{`schedule_abort((NSTimeInterval)timeout_s);`}},
		{"abort not cancelled", []string{`cancel_abort();`}},
	} {
		t.Run(m.name, func(t *testing.T) {
			mutant := string(src)
			for _, line := range m.remove {
				if !strings.Contains(mutant, line) {
					t.Fatalf("ui_macos.c no longer has %q: update this test", line)
				}
				mutant = strings.Replace(mutant, line, "/* removed by TestUIMutantsFail */", 1)
			}
			dir := t.TempDir()
			srcPath := filepath.Join(dir, "ui_macos.c")
			if err := os.WriteFile(srcPath, []byte(mutant), 0o644); err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(dir, "ap_uiharness")
			// Without -Werror (a helper the mutant no longer calls is unused)
			// and without the sanitizers (the real build has them): fast.
			cmd := exec.Command("make", "-C", filepath.Join(repoRoot, "authplugin"), bin,
				"UI_SRC="+srcPath, "UIHARNESS="+bin, "OUT="+dir,
				"WARN=-std=c99 -Wall -Wextra -pedantic -Wno-unused-function", "SAN=")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("building the mutant: %v\n%s", err, out)
			}
			caught := []string{}
			for _, scenario := range [][]string{{"--answer", "123456"}, {"--ignore"}} {
				r, code := uiRun(bin, at(sock, "alice", scenario...)...)
				v := modalViolations(r)
				if code != 0 {
					v = append(v, "exit "+strconv.Itoa(code))
				}
				if scenario[0] == "--answer" && r.get("result") != "allow" {
					v = append(v, "right code not let in: "+r.get("result"))
				}
				caught = append(caught, v...)
			}
			if len(caught) == 0 {
				t.Errorf("ui_macos.c without %v passes every check", m.remove)
			} else {
				t.Logf("caught: %s", strings.Join(caught, "; "))
			}
		})
	}
	// The unchanged source passes the same checks (else the mutants prove nothing).
	for _, scenario := range [][]string{{"--answer", "123456"}, {"--ignore"}} {
		r, code := uiRun(uiBin, at(sock, "alice", scenario...)...)
		if v := modalViolations(r); code != 0 || len(v) > 0 {
			t.Errorf("the real ui_macos.c fails %v: exit %d, %v\n%s", scenario, code, v, r)
		}
	}
}

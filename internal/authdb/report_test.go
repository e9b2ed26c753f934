package authdb_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcmfa/jcmfa/internal/authdb"
)

func TestParseReport(t *testing.T) {
	good := "right system.login.console\nversion 11\ninstalled yes\nanchor yes\nstate missing\n" +
		"mechanism builtin:authenticate,privileged\nother Crypt:Check,privileged\nother X:y\nallowed X:y\n"
	r, err := authdb.Parse(good)
	if err != nil || r.Version != 11 || !r.Installed || !r.Drifted() || len(r.Others) != 2 ||
		len(r.Unaccepted()) != 1 || r.Unaccepted()[0] != "Crypt:Check,privileged" {
		t.Fatalf("%+v %v", r, err)
	}
	for name, bad := range map[string]string{
		"no state":      "right system.login.console\nversion 11\ninstalled yes\nanchor yes\n",
		"other right":   strings.Replace(good, "system.login.console", "system.login.screensaver", 1),
		"bad version":   strings.Replace(good, "version 11", "version eleven", 1),
		"unknown state": strings.Replace(good, "state missing", "state fine", 1),
		"twice":         good + "state ok\n",
		"unknown key":   good + "surprise 1\n",
		"bad yes/no":    strings.Replace(good, "installed yes", "installed maybe", 1),
		"too long":      good + strings.Repeat("mechanism x\n", 8000),
	} {
		if _, err := authdb.Parse(bad); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]authdb.Mode{"": authdb.Repair, "repair": authdb.Repair, "report": authdb.ReportOnly} {
		if m, err := authdb.ParseMode(in); err != nil || m != want {
			t.Errorf("%q: %v %v", in, m, err)
		}
	}
	if _, err := authdb.ParseMode("off"); err == nil {
		t.Error("off accepted")
	}
}

// ProductBuildVersion from a SystemVersion.plist as macOS 14 ships it.
func TestProductBuild(t *testing.T) {
	const sv = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>ProductBuildVersion</key>
	<string>23A344</string>
	<key>ProductVersion</key>
	<string>14.0</string>
</dict>
</plist>`
	if b := authdb.ProductBuild(sv); b != "23A344" {
		t.Fatalf("%q", b)
	}
	if b := authdb.ProductBuild("<plist/>"); b != "" {
		t.Fatalf("%q", b)
	}
}

// The daemon runs the script as root only if nobody else can change it or
// a directory above it.
func TestTrustedRefusesWritablePaths(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs files owned by root (run as root)")
	}
	dir := t.TempDir() // under /tmp: world-writable (sticky) above it
	script := filepath.Join(dir, "authdb.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if err := authdb.Trusted(script); err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("a script under /tmp trusted: %v", err)
	}
	if err := authdb.Trusted("/bin/sh"); err != nil {
		t.Fatalf("/bin/sh: %v", err)
	}
	os.Chown(script, 1, 1)
	if err := authdb.Trusted(script); err == nil {
		t.Fatal("a script owned by uid 1 trusted")
	}
}

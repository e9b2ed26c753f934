package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodSSHD = `usepam yes
kbdinteractiveauthentication yes
pubkeyauthentication yes
passwordauthentication no
authenticationmethods publickey,keyboard-interactive keyboard-interactive
`

func TestSSHD(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(string) string
		fail    bool
		problem string
	}{
		{"recommended", func(s string) string { return s }, false, ""},
		{"UsePAM off", func(s string) string { return strings.Replace(s, "usepam yes", "usepam no", 1) }, true, "UsePAM is off"},
		{"keyboard-interactive off", func(s string) string {
			return strings.Replace(s, "kbdinteractiveauthentication yes", "kbdinteractiveauthentication no", 1)
		}, true, "keyboard-interactive authentication is off"},
		{"public key alone (Debian default)", func(s string) string {
			return strings.Replace(s, "authenticationmethods publickey,keyboard-interactive keyboard-interactive", "authenticationmethods any", 1)
		}, true, "logins by publickey skip PAM"},
		{"explicit publickey list", func(s string) string {
			return strings.Replace(s, "publickey,keyboard-interactive keyboard-interactive", "publickey keyboard-interactive", 1)
		}, true, "logins by publickey skip PAM"},
		{"publickey then password", func(s string) string {
			return strings.Replace(s, "publickey,keyboard-interactive keyboard-interactive", "publickey,password", 1)
		}, true, "publickey then password"},
		{"keyboard-interactive:pam submethod", func(s string) string {
			return strings.Replace(s, "publickey,keyboard-interactive keyboard-interactive", "publickey,keyboard-interactive:pam", 1)
		}, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := SSHD(tc.edit(goodSSHD))
			if r.Failed() != tc.fail {
				t.Fatalf("Failed() = %v\n%s", r.Failed(), r)
			}
			if tc.problem != "" && !strings.Contains(r.String(), tc.problem) {
				t.Fatalf("report lacks %q:\n%s", tc.problem, r)
			}
			if tc.fail && !strings.Contains(r.String(), "fix: ") {
				t.Fatalf("a failure without a fix:\n%s", r)
			}
		})
	}
}

func TestPasswordOnlyIsAWarningNotABypass(t *testing.T) {
	r := SSHD("usepam yes\nkbdinteractiveauthentication yes\npasswordauthentication yes\npubkeyauthentication no\nauthenticationmethods any\n")
	if r.Failed() || !strings.Contains(r.String(), "WARN  sshd: password logins") {
		t.Fatalf("%s", r)
	}
}

func writePAM(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for n, c := range files {
		os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
	}
	return dir
}

func TestPAM(t *testing.T) {
	commonAuth := "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n"
	cases := []struct {
		name    string
		sshd    string
		fail    bool
		problem string
	}{
		{"after common-auth", "@include common-auth\nauth required pam_jcmfa.so\n@include common-account\n", false, "pam_jcmfa is in the sshd auth stack"},
		{"absolute path", "@include common-auth\nauth requisite /usr/lib/security/pam_jcmfa.so timeout=5\n", false, ""},
		{"missing", "@include common-auth\n", true, "pam_jcmfa is not in the sshd auth stack"},
		{"commented out", "@include common-auth\n# auth required pam_jcmfa.so\n", true, "not in the sshd auth stack"},
		{"optional", "@include common-auth\nauth optional pam_jcmfa.so\n", true, "a wrong code does not refuse"},
		{"sufficient before", "auth sufficient pam_permit.so\n@include common-auth\nauth required pam_jcmfa.so\n", true, "before pam_jcmfa"},
		{"through substack", "auth substack jcmfa-auth\n", false, ""},
		{"account line only", "@include common-auth\naccount required pam_jcmfa.so\n", true, "not in the sshd auth stack"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writePAM(t, map[string]string{"sshd": tc.sshd, "common-auth": commonAuth, "common-account": "account required pam_unix.so\n",
				"jcmfa-auth": "auth required pam_unix.so\nauth required pam_jcmfa.so\n"})
			r := PAM(dir, "sshd")
			if r.Failed() != tc.fail {
				t.Fatalf("Failed() = %v\n%s", r.Failed(), r)
			}
			if tc.problem != "" && !strings.Contains(r.String(), tc.problem) {
				t.Fatalf("report lacks %q:\n%s", tc.problem, r)
			}
		})
	}
}

func TestFailmodeSafeIsWarned(t *testing.T) {
	dir := writePAM(t, map[string]string{"sshd": "auth required pam_jcmfa.so failmode=safe\n"})
	if r := PAM(dir, "sshd"); r.Failed() || !strings.Contains(r.String(), "failmode=safe") {
		t.Fatalf("%s", r)
	}
}

package doctor

import (
	"strings"
	"testing"
)

func TestSudoState(t *testing.T) {
	commonAuth := "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n"
	cases := []struct {
		name, sudo string
		fail       bool
		problem    string
	}{
		{"not installed", "", false, "sudo is not installed"},
		{"not protected", "@include common-auth\n@include common-account\n", false, "not protected"},
		{"protected", "@include common-auth\n# jcmfa: marker\nauth required pam_jcmfa.so surface=sudo\n", false, "protected: sudo asks"},
		{"sufficient before", "auth sufficient pam_fprintd.so\n@include common-auth\nauth required pam_jcmfa.so\n", true, "pam_fprintd.so is \"sufficient\" before pam_jcmfa"},
		{"rootok before", "auth sufficient pam_rootok.so\n@include common-auth\nauth required pam_jcmfa.so\n", false, "protected"},
		{"optional", "@include common-auth\nauth optional pam_jcmfa.so\n", true, "does not refuse sudo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"common-auth": commonAuth, "common-account": "account required pam_unix.so\n"}
			if tc.sudo != "" {
				files["sudo"] = tc.sudo
			}
			r := Sudo(writePAM(t, files))
			if r.Failed() != tc.fail || !strings.Contains(r.String(), tc.problem) {
				t.Fatalf("Failed() = %v, want %v; want %q in:\n%s", r.Failed(), tc.fail, tc.problem, r)
			}
		})
	}
}

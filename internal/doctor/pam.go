package doctor

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// pamLine is one rule of a PAM stack, with where it came from.
type pamLine struct {
	file    string
	typ     string
	control string
	module  string
	args    []string
}

// readStack reads service's stack in dir, expanding @include and
// include/substack so the order is the order libpam runs.
func readStack(dir, service string, depth int) ([]pamLine, error) {
	if depth > 10 {
		return nil, fmt.Errorf("PAM includes nest deeper than 10 levels at %s", service)
	}
	path := filepath.Join(dir, service)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []pamLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if inc, ok := strings.CutPrefix(line, "@include "); ok {
			sub, err := readStack(dir, strings.TrimSpace(inc), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		fields := pamFields(line)
		if len(fields) < 3 {
			continue
		}
		l := pamLine{file: path, typ: strings.TrimPrefix(fields[0], "-"), control: fields[1], module: fields[2], args: fields[3:]}
		if l.control == "include" || l.control == "substack" {
			sub, err := readStack(dir, l.module, depth+1)
			if err != nil {
				return nil, err
			}
			for _, s := range sub {
				if s.typ == l.typ {
					out = append(out, s)
				}
			}
			continue
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// pamFields splits a rule, keeping a bracketed control ([a=b c=d]) whole.
func pamFields(line string) []string {
	if i := strings.IndexByte(line, '['); i >= 0 {
		if j := strings.IndexByte(line[i:], ']'); j > 0 {
			head := strings.Fields(line[:i])
			ctl := line[i : i+j+1]
			return append(append(head, ctl), strings.Fields(line[i+j+1:])...)
		}
	}
	return strings.Fields(line)
}

// PAM checks that pam_jcmfa is in service's auth stack in a way that its
// refusal refuses the login.
func PAM(dir, service string) Report {
	const setup = "run `jcmfa-agent setup ssh`, which adds `auth required pam_jcmfa.so` after the password modules"
	stack, err := readStack(dir, service, 0)
	if err != nil {
		return Report{{Fail, "pam", fmt.Sprintf("cannot read the %s PAM stack: %v", service, err), "check " + filepath.Join(dir, service)}}
	}
	var r Report
	for i, l := range stack {
		if l.typ != "auth" || !strings.Contains(filepath.Base(l.module), "pam_jcmfa") {
			continue
		}
		switch {
		case l.control == "optional" || l.control == "sufficient":
			r = append(r, Finding{Fail, "pam", fmt.Sprintf("pam_jcmfa is %q in %s: a wrong code does not refuse the login", l.control, l.file),
				"make it `auth required pam_jcmfa.so` (or requisite)"})
		default:
			r = append(r, ok("pam", fmt.Sprintf("pam_jcmfa is in the %s auth stack (%s %s, %s)", service, l.control, l.module, l.file)))
		}
		for _, a := range l.args {
			if a == "failmode=safe" {
				r = append(r, Finding{Warn, "pam", "failmode=safe: while the daemon is down, logins pass without a code",
					"use failmode=secure (the default) unless you keep another way in"})
			}
		}
		for _, before := range stack[:i] {
			if before.typ == "auth" && (before.control == "sufficient" || strings.Contains(before.control, "success=done")) {
				r = append(r, Finding{Fail, "pam", fmt.Sprintf("%s is %q before pam_jcmfa (%s): when it succeeds the stack ends and no code is asked", before.module, before.control, before.file),
					"move pam_jcmfa above it, or change its control"})
			}
		}
		return r
	}
	return Report{{Fail, "pam", fmt.Sprintf("pam_jcmfa is not in the %s auth stack (%s): nobody is asked for a code", service, filepath.Join(dir, service)), setup}}
}

// Command standin plays macOS's `security authorizationdb read|write` and
// `/usr/libexec/PlistBuddy` on Linux, for the tests of
// packaging/macos/authdb.sh and the drift watch (internal/authdb). It is
// installed twice under those two names (symlinks) and acts on its name.
//
// Both keep real plist files: the authorization database is a directory
// ($JCMFA_FAKE_AUTHDB) with one XML plist per right, as `security
// authorizationdb read` prints it; PlistBuddy edits the file it is given.
// Only what authdb.sh uses is implemented, with the semantics it relies on:
//
//	security authorizationdb read RIGHT    the rule on stdout, "YES (0)" on stderr;
//	                                       an unknown right: "NO (-60005)", exit 1
//	security authorizationdb write RIGHT   a plist dict on stdin replaces the rule
//	                                       (authd keeps the "version" it is given:
//	                                       rule_create_with_plist, OSX/authd/rule.c)
//	PlistBuddy -c "Print :k[:i...]" FILE   a string or integer alone; an array as
//	                                       "Array {" then one entry a line, "}"
//	PlistBuddy -c "Add :k:i string V" FILE  an array entry inserted at index i
//	                                       (the entries from i on move up one)
//	PlistBuddy -c "Delete :k:i" FILE       that entry removed
//
// A missing entry is "Print: Entry, ":k:i", Does Not Exist" and exit 1, as
// PlistBuddy says it. Every call is appended to $JCMFA_FAKE_AUTHDB/calls.log
// so a test can tell which rights were written.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"howett.net/plist"
)

func main() {
	var err error
	switch filepath.Base(os.Args[0]) {
	case "security":
		err = security(os.Args[1:])
	case "PlistBuddy":
		err = plistBuddy(os.Args[1:])
	default:
		err = fmt.Errorf("standin: run me as security or PlistBuddy, not %s", os.Args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var rightName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func security(args []string) error {
	db := os.Getenv("JCMFA_FAKE_AUTHDB")
	if db == "" {
		return errors.New("security standin: JCMFA_FAKE_AUTHDB is not set")
	}
	if len(args) != 3 || args[0] != "authorizationdb" || !rightName.MatchString(args[2]) {
		return fmt.Errorf("security standin: only 'authorizationdb read|write RIGHT', not %q", args)
	}
	logCall(db, "security "+strings.Join(args, " "))
	file := filepath.Join(db, args[2]+".plist")
	switch args[1] {
	case "read":
		b, err := os.ReadFile(file)
		if err != nil {
			return errors.New("NO (-60005)") // errAuthorizationDenied, as for an unknown right
		}
		os.Stdout.Write(b)
		fmt.Fprintln(os.Stderr, "YES (0)")
		return nil
	case "write":
		in, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		var rule map[string]any
		if _, err := plist.Unmarshal(in, &rule); err != nil {
			return fmt.Errorf("NO (-60008): %v", err) // errAuthorizationInvalidSet
		}
		if err := writePlist(file, rule); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "YES (0)")
		return nil
	}
	return fmt.Errorf("security standin: no authorizationdb %s", args[1])
}

func logCall(db, line string) {
	f, err := os.OpenFile(filepath.Join(db, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}

func writePlist(file string, v any) error {
	b, err := plist.MarshalIndent(v, plist.XMLFormat, "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o600)
}

func plistBuddy(args []string) error {
	if len(args) != 3 || args[0] != "-c" {
		return fmt.Errorf("PlistBuddy standin: only -c COMMAND FILE, not %q", args)
	}
	if db := os.Getenv("JCMFA_FAKE_AUTHDB"); db != "" {
		logCall(db, "PlistBuddy -c "+args[1])
	}
	cmd, file := strings.Fields(args[1]), args[2]
	if len(cmd) < 2 || !strings.HasPrefix(cmd[1], ":") {
		return fmt.Errorf("PlistBuddy standin: unsupported command %q", args[1])
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var root any
	if _, err := plist.Unmarshal(raw, &root); err != nil {
		return err
	}
	path := strings.Split(strings.TrimPrefix(cmd[1], ":"), ":")
	notFound := fmt.Errorf("%s: Entry, %q, Does Not Exist", cmd[0], cmd[1])
	switch cmd[0] {
	case "Print":
		if len(cmd) != 2 {
			return fmt.Errorf("PlistBuddy standin: Print takes one entry")
		}
		v, ok := lookup(root, path)
		if !ok {
			return notFound
		}
		fmt.Print(render(v))
		return nil
	case "Add", "Delete":
		parent, ok := lookup(root, path[:len(path)-1])
		arr, isArr := parent.([]any)
		if !ok || !isArr {
			return notFound
		}
		i, err := strconv.Atoi(path[len(path)-1])
		if err != nil || i < 0 {
			return notFound
		}
		if cmd[0] == "Add" {
			if len(cmd) != 4 || cmd[2] != "string" || i > len(arr) {
				return fmt.Errorf("PlistBuddy standin: only 'Add :array:i string VALUE' within the array, not %q", args[1])
			}
			arr = append(arr[:i], append([]any{cmd[3]}, arr[i:]...)...)
		} else {
			if len(cmd) != 2 || i >= len(arr) {
				return notFound
			}
			arr = append(arr[:i], arr[i+1:]...)
		}
		if err := set(root, path[:len(path)-1], arr); err != nil {
			return err
		}
		return writePlist(file, root)
	}
	return fmt.Errorf("PlistBuddy standin: unsupported command %q", args[1])
}

func lookup(v any, path []string) (any, bool) {
	for _, k := range path {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[k]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func set(root any, path []string, val any) error {
	if len(path) == 0 {
		return errors.New("PlistBuddy standin: cannot replace the root")
	}
	parent, ok := lookup(root, path[:len(path)-1])
	if !ok {
		return errors.New("PlistBuddy standin: no parent")
	}
	switch c := parent.(type) {
	case map[string]any:
		c[path[len(path)-1]] = val
	case []any:
		i, _ := strconv.Atoi(path[len(path)-1])
		c[i] = val
	default:
		return errors.New("PlistBuddy standin: parent is not a container")
	}
	return nil
}

// render prints a value as PlistBuddy does: scalars alone on a line,
// containers as "Array {" / "Dict {" with their entries indented.
func render(v any) string {
	var b bytes.Buffer
	var walk func(v any, indent string)
	walk = func(v any, indent string) {
		switch c := v.(type) {
		case []any:
			b.WriteString("Array {\n")
			for _, e := range c {
				b.WriteString(indent + "    ")
				walk(e, indent+"    ")
			}
			b.WriteString(indent + "}\n")
		case map[string]any:
			b.WriteString("Dict {\n")
			for k, e := range c {
				b.WriteString(indent + "    " + k + " = ")
				walk(e, indent+"    ")
			}
			b.WriteString(indent + "}\n")
		default:
			fmt.Fprintf(&b, "%v\n", c)
		}
	}
	walk(v, "")
	return b.String()
}

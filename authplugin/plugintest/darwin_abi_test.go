package plugintest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The bundle is compiled against authplugin/darwin/include, a hand-written
// stand-in for the macOS SDK's headers. A wrong value there (a Linux errno,
// Linux's O_NONBLOCK) would compile cleanly and fail only on a Mac, at the
// login window. golang.org/x/sys/unix's darwin tables are generated from the
// real SDK, so they are the reference.
func TestDarwinHeadersMatchMacOS(t *testing.T) {
	root, _ := filepath.Abs("../..")
	ours := map[string]int64{}
	define := regexp.MustCompile(`(?m)^#define ([A-Z_0-9]+) (0x[0-9a-fA-F]+|[0-9]+)\s*$`)
	err := filepath.Walk(filepath.Join(root, "authplugin/darwin/include"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasSuffix(p, ".h") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range define.FindAllStringSubmatch(string(b), -1) {
			v, err := strconv.ParseInt(m[2], 0, 64)
			if err != nil {
				t.Fatal(err)
			}
			ours[m[1]] = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	dir := xsysDir(t, root)
	for _, arch := range []string{"arm64", "amd64"} {
		ref := map[string]int64{}
		constRE := regexp.MustCompile(`(?m)^\s+([A-Z_0-9]+)\s+= (?:syscall\.Errno\()?(0x[0-9a-f]+|[0-9]+)\)?\s*$`)
		b, err := os.ReadFile(filepath.Join(dir, "unix", "zerrors_darwin_"+arch+".go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range constRE.FindAllStringSubmatch(string(b), -1) {
			v, _ := strconv.ParseInt(m[2], 0, 64)
			ref[m[1]] = v
		}
		checked := 0
		for name, v := range ours {
			want, ok := ref[name]
			if !ok {
				continue // e.g. LOG_*, which x/sys does not carry
			}
			checked++
			if v != want {
				t.Errorf("darwin/%s: %s is %#x in authplugin/darwin/include, macOS has %#x", arch, name, v, want)
			}
		}
		if checked < 20 {
			t.Errorf("darwin/%s: only %d constants compared; is the reference table readable?", arch, checked)
		}

		// Layouts the headers spell out: sockaddr_un (length byte, one-byte
		// family, 104-byte path), pollfd and timespec.
		types, err := os.ReadFile(filepath.Join(dir, "unix", "ztypes_darwin_"+arch+".go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"type RawSockaddrUnix struct {\n\tLen    uint8\n\tFamily uint8\n\tPath   [104]int8\n}",
			"type PollFd struct {\n\tFd      int32\n\tEvents  int16\n\tRevents int16\n}",
			"type Timespec struct {\n\tSec  int64\n\tNsec int64\n}",
		} {
			if !strings.Contains(string(types), want) {
				t.Errorf("darwin/%s: x/sys/unix no longer has %q; check authplugin/darwin/include", arch, strings.SplitN(want, "\n", 2)[0])
			}
		}
	}
}

// xsysDir is where the module cache holds the golang.org/x/sys this
// repository requires.
func xsysDir(t *testing.T, root string) string {
	t.Helper()
	list := func() string {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys")
		cmd.Dir = root
		b, _ := cmd.Output()
		return strings.TrimSpace(string(b))
	}
	dir := list()
	if dir == "" {
		dl := exec.Command("go", "mod", "download", "golang.org/x/sys")
		dl.Dir = root
		dl.Run()
		dir = list()
	}
	if dir == "" {
		if inCI {
			t.Fatal("golang.org/x/sys is not in the module cache and could not be downloaded")
		}
		t.Skip("golang.org/x/sys is not in the module cache")
	}
	return dir
}

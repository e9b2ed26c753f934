package ipc

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"

	"github.com/jcmfa/jcmfa/internal/paths"
)

// These run under wine (make test-wine-go). Wine runs every process as an
// administrator and enforces neither pipe nor registry DACLs, so what is
// checked here is the naming, publishing and process-identity logic; the
// DACLs themselves need a real Windows (docs/windows.md).

func serveAndClose(l net.Listener) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func cleanAgentKey(t *testing.T) {
	t.Helper()
	registry.DeleteKey(registry.LOCAL_MACHINE, AgentKey)
	t.Cleanup(func() { registry.DeleteKey(registry.LOCAL_MACHINE, AgentKey) })
}

func TestAutoPipeIsRandomPublishedAndRemovedOnClose(t *testing.T) {
	cleanAgentKey(t)
	if _, err := ReadPublished(); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("before the service ran: %v, want ErrNotPublished", err)
	}
	if _, err := Dial(paths.Socket, time.Second); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("Dial(auto) with nothing published: %v, want ErrNotPublished", err)
	}
	l, err := Listen(paths.Socket)
	if err != nil {
		t.Fatal(err)
	}
	serveAndClose(l)
	p, err := ReadPublished()
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != l.Addr().String() || !strings.HasPrefix(p.Name, `\\.\pipe\jcmfa-agent-`) || len(p.Name) != len(`\\.\pipe\jcmfa-agent-`)+32 {
		t.Fatalf("published %q, listening on %q: want the same random name", p.Name, l.Addr())
	}
	c, err := Dial(paths.Socket, 2*time.Second)
	if err != nil {
		t.Fatalf("Dial(auto) to our own published pipe: %v", err)
	}
	c.Close()

	l2, err := Listen(paths.Socket)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := ReadPublished()
	if p2.Name == p.Name {
		t.Fatalf("two starts published the same name %q", p.Name)
	}
	// Closing the first listener must not unpublish the second one's name.
	l.Close()
	if p3, err := ReadPublished(); err != nil || p3.Name != p2.Name {
		t.Fatalf("after the old listener closed: %+v %v, want %q", p3, err, p2.Name)
	}
	l2.Close()
	if _, err := ReadPublished(); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("after a clean close: %v, want ErrNotPublished (the daemon is absent)", err)
	}
}

func TestFixedPipeNameTakenSaysWhoAndWhatToDo(t *testing.T) {
	name, _ := randomPipeName()
	squatter, err := listenPipe(name) // stands for another process that got there first
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	serveAndClose(squatter)
	l, err := Listen(name)
	var taken *PipeTakenError
	if !errors.As(err, &taken) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Listen on a taken fixed name: %v, want *PipeTakenError", err)
	}
	msg := err.Error()
	for _, want := range []string{name, "already exists", "Fix:", "without --socket", "retries"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	t.Logf("holder pid %d; message: %s", taken.HolderPID, msg)
}

func TestStalePublishedNameServedByAnotherProcessIsRefused(t *testing.T) {
	cleanAgentKey(t)
	name, _ := randomPipeName()
	other, err := listenPipe(name) // the pipe behind a stale name
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	serveAndClose(other)
	me, err := self()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		what    string
		pid     uint32
		start   uint64
		refused bool
	}{
		{"another process id", me.PID + 4, me.Start, true},
		{"same id, another creation time (a reused id)", me.PID, me.Start + 1, true},
		{"the publishing process itself", me.PID, me.Start, false},
	} {
		k, err := openAgentKey()
		if err != nil {
			t.Fatal(err)
		}
		k.SetDWordValue(valueServerPID, tt.pid)
		k.SetQWordValue(valueServerStart, tt.start)
		k.SetStringValue(valuePipeName, name)
		k.Close()
		c, err := Dial(paths.Socket, 2*time.Second)
		if tt.refused {
			if !errors.Is(err, ErrUntrustedServer) {
				t.Errorf("%s: Dial = %v, want ErrUntrustedServer", tt.what, err)
			}
		} else if err != nil {
			t.Errorf("%s: Dial = %v, want it accepted", tt.what, err)
		}
		if c != nil {
			c.Close()
		}
	}
}

func TestRecordListenProblemIsReadBackAndCleared(t *testing.T) {
	cleanAgentKey(t)
	if err := RecordListenProblem("the named pipe x already exists"); err != nil {
		t.Fatal(err)
	}
	if got := ReadListenProblem(); got != "the named pipe x already exists" {
		t.Fatalf("read back %q", got)
	}
	if err := RecordListenProblem(""); err != nil {
		t.Fatal(err)
	}
	if got := ReadListenProblem(); got != "" {
		t.Fatalf("after clearing: %q", got)
	}
}

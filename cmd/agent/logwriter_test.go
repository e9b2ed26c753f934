package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jcmfa/jcmfa/internal/testenv"
)

// Lines are held back and written together, but never for long: each
// reaches the output within logFlush without anyone flushing, and Flush
// (the daemon stopping) writes the rest at once.
func TestLogWriterBatchesAndFlushesByItself(t *testing.T) {
	var out testenv.SyncBuffer
	w := newLogWriter(&out)
	w.Write([]byte("one\n"))
	w.Write([]byte("two\n"))
	if got := out.String(); got != "" {
		t.Fatalf("written at once: %q", got)
	}
	deadline := time.Now().Add(2 * time.Second)
	for out.String() != "one\ntwo\n" {
		if time.Now().After(deadline) {
			t.Fatalf("after 2 s the output is %q", out.String())
		}
		time.Sleep(logFlush / 2)
	}
	w.Write([]byte("three\n"))
	w.Flush()
	if got := out.String(); !strings.HasSuffix(got, "three\n") {
		t.Fatalf("after Flush: %q", got)
	}
}

package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logFlush is how long a log line may wait in the daemon before it is
// written: the same window as the store's rolling transaction (a crash
// loses at most that much of either; store/fence.go).
const logFlush = 10 * time.Millisecond

// logWriter batches the daemon's log lines into one write every logFlush.
// Every login logs its audit event as a JSON line; at 15,000 logins/s a
// write per line was a system call, and under systemd a journald wake-up,
// per login.
type logWriter struct {
	mu    sync.Mutex
	w     *bufio.Writer
	armed bool
}

func newLogWriter(w io.Writer) *logWriter {
	return &logWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if !l.armed {
		l.armed = true
		time.AfterFunc(logFlush, func() { l.Flush() })
	}
	return n, err
}

// Flush writes what is buffered.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = false
	return l.w.Flush()
}

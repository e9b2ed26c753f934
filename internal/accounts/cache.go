package accounts

import (
	"sync"
	"time"
)

// Cache remembers Lookup answers for a short while. The daemon resolves
// every login's name, and an answer from NSS costs tens of microseconds for
// a local account and over 100 µs for an unknown name (nss-systemd asks
// systemd-userdb first) — more than the rest of a login. Entries live TTL
// (the OS's own caches keep names far longer: nscd's default is 600 s,
// sssd's 5400 s); Flush drops them all, and the daemon flushes on every
// admin command, so a change an admin makes and then tests is seen at once.
// Errors are never cached: a directory that could not be asked is asked
// again.
type Cache struct {
	Dir Directory
	TTL time.Duration
	// Max bounds the entries; when full the cache starts again empty, so
	// hostile names (sshd hands PAM whatever a client typed) cost memory
	// only up to Max. Kept small (about 2 MB): the daemon runs with a soft
	// memory limit (cmd/agent run), and a cache of every user of a
	// 100,000-user store pushed its heap towards it, so the collector ran
	// all the time (measured: throughput at 1,024 clients fell by half).
	Max int
	Now func() time.Time

	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	a       Account
	found   bool
	expires time.Time
}

// NewCache wraps dir with the daemon's defaults.
func NewCache(dir Directory) *Cache {
	return &Cache{Dir: dir, TTL: 30 * time.Second, Max: 1 << 14, Now: time.Now}
}

// Lookup implements Directory.
func (c *Cache) Lookup(name string) (Account, bool, error) {
	now := c.Now()
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.a, e.found, nil
	}
	a, found, err := c.Dir.Lookup(name)
	if err != nil {
		return a, found, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= c.Max {
		c.m = make(map[string]cached)
	}
	c.m[name] = cached{a: a, found: found, expires: now.Add(c.TTL)}
	c.mu.Unlock()
	return a, found, nil
}

// Groups implements Directory; groups are read afresh at every decision.
func (c *Cache) Groups(name string) ([]string, error) { return c.Dir.Groups(name) }

// Flush forgets every answer.
func (c *Cache) Flush() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

package store

import (
	"bytes"
	"sync"
)

// configCache keeps the last decoded settings and policies with the sealed
// bytes they came from. Every login reads both (twice: to decide, and again
// in its write transaction), and they change rarely. A hit needs the stored
// bytes to be identical to what was opened and authenticated before; every
// rewrite seals with a fresh nonce, so any change, tampering included,
// misses and is opened (and checked) again. The cache therefore never
// answers differently from reading the file.
type configCache struct {
	mu       sync.Mutex
	settings cachedSettings
	policies map[string]cachedPolicy
	users    map[string]cachedUser
}

// userCacheMax bounds the cached user records. A login reads its user
// record twice (to decide, then in the rolling transaction), so a small
// cache of recent logins saves the second open and decode; it is emptied
// when full rather than kept in LRU order.
const userCacheMax = 4096

type cachedUser struct {
	raw []byte
	val User
}

type cachedSettings struct {
	raw []byte
	val Settings
}

type cachedPolicy struct {
	raw []byte
	val Policy
}

func (c *configCache) getSettings(raw []byte) (Settings, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.settings.raw != nil && bytes.Equal(c.settings.raw, raw) {
		return c.settings.val, true
	}
	return Settings{}, false
}

func (c *configCache) putSettings(raw []byte, s Settings) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// raw points into bbolt's map, valid only during the transaction.
	c.settings = cachedSettings{raw: bytes.Clone(raw), val: s}
}

func (c *configCache) getPolicy(key, raw []byte) (Policy, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.policies[string(key)]; ok && bytes.Equal(e.raw, raw) {
		return e.val, true
	}
	return Policy{}, false
}

func (c *configCache) putPolicy(key, raw []byte, p Policy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policies == nil {
		c.policies = map[string]cachedPolicy{}
	}
	// Policies are few; a removed one's entry is dropped when it would grow
	// past a bound, so deleted ids cannot pile up.
	if len(c.policies) > 1024 {
		clear(c.policies)
	}
	c.policies[string(key)] = cachedPolicy{raw: bytes.Clone(raw), val: p}
}

func (c *configCache) getUser(key, raw []byte) (User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.users[string(key)]
	if !ok || !bytes.Equal(e.raw, raw) {
		return User{}, false
	}
	return ownSecret(e.val), true
}

func (c *configCache) putUser(key, raw []byte, u User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users == nil || len(c.users) >= userCacheMax {
		c.users = make(map[string]cachedUser, 64)
	}
	c.users[string(key)] = cachedUser{raw: bytes.Clone(raw), val: ownSecret(u)}
}

// ownSecret gives u a copy of its secret, so that the cache and its
// callers never share one a caller may change.
func ownSecret(u User) User {
	if u.TOTP != nil {
		sec := *u.TOTP
		u.TOTP = &sec
	}
	return u
}

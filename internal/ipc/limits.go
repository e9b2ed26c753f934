package ipc

import (
	"log/slog"
	"sync"
	"time"
)

// unprivileged counts what peers other than root, the daemon's own uid and
// the platform's login identity hold: connections per uid and in all, and
// open ENROLL dialogues. Any local user can connect to the socket, so
// everything an unprivileged peer can hold is bounded here, and none of it
// comes out of the privileged peers' capacity (Server.MaxConns).
//
// Only unprivileged connections touch it: a login from root never takes
// this mutex. A uid's entry is deleted when its count drops to zero, so
// the maps hold at most the uids connected right now.
type unprivileged struct {
	mu        sync.Mutex
	conns     map[int]int // uid → open connections
	total     int
	enrolling map[int]bool // uid → has an ENROLL open
	enrolls   int
	refused   map[refusalKey]*refusals // refusals not yet logged
}

// refusals is the rate limit on warnings about unprivileged peers (over
// their caps, asking for what they may not): a flood must not flood the
// log too. One warning per uid and kind per refusalLogEvery, carrying the
// count since the previous one.
type refusalKey struct {
	uid  int
	what string
}

type refusals struct {
	logged time.Time
	n      int
}

const refusalLogEvery = time.Minute

// admit takes a connection slot for uid, or says why there is none.
func (u *unprivileged) admit(uid, perUID, total int) (ok bool, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.conns[uid] >= perUID:
		return false, "per-uid"
	case u.total >= total:
		return false, "total"
	}
	if u.conns == nil {
		u.conns = map[int]int{}
	}
	u.conns[uid]++
	u.total++
	return true, ""
}

func (u *unprivileged) release(uid int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if n := u.conns[uid]; n > 1 {
		u.conns[uid] = n - 1
	} else {
		delete(u.conns, uid)
	}
	u.total--
}

// startEnroll takes uid's one ENROLL dialogue, or says why it cannot.
func (u *unprivileged) startEnroll(uid, total int) (ok bool, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.enrolling[uid]:
		return false, "you already have an enrollment open; finish or cancel it first"
	case u.enrolls >= total:
		return false, "too many enrollments are open on this machine; try again in a few minutes"
	}
	if u.enrolling == nil {
		u.enrolling = map[int]bool{}
	}
	u.enrolling[uid] = true
	u.enrolls++
	return true, ""
}

func (u *unprivileged) endEnroll(uid int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.enrolling, uid)
	u.enrolls--
}

// noteRefusal counts a refusal of what (a constant message) to uid and
// logs a warning with attrs if none of that kind was logged for uid in the
// last refusalLogEvery.
func (u *unprivileged) noteRefusal(log *slog.Logger, uid int, what string, now time.Time, attrs ...any) {
	k := refusalKey{uid, what}
	u.mu.Lock()
	r := u.refused[k]
	if r == nil {
		if u.refused == nil {
			u.refused = map[refusalKey]*refusals{}
		}
		if len(u.refused) >= 1024 { // bound the map: forget quiet uids
			for k, v := range u.refused {
				if now.Sub(v.logged) >= refusalLogEvery {
					delete(u.refused, k)
				}
			}
		}
		r = &refusals{}
		u.refused[k] = r
	}
	r.n++
	n := 0
	if now.Sub(r.logged) >= refusalLogEvery {
		n, r.n, r.logged = r.n, 0, now
	}
	u.mu.Unlock()
	if n > 0 {
		log.Warn(what+" (one warning per uid a minute at most)", append([]any{"uid", uid, "refused", n}, attrs...)...)
	}
}

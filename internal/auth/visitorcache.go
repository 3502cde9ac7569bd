package auth

import (
	"strings"
	"sync"
	"time"
)

// visitorCacheGeneration is how many verified visitor tokens one generation of
// the cache holds; the cache keeps two, so at most twice this many (a few MB
// at the worst, with tokens of ~250 bytes).
const visitorCacheGeneration = 4096

// visitorCache remembers visitor tokens that verified, so a visitor's next
// request skips the signature and claims check (~11% of the server's CPU per
// message sent). Visitor tokens cannot be revoked: once a raw token verified,
// the only thing that can change its answer is the clock, so each entry keeps
// the window in which it is valid and is checked against the clock on every
// hit. Entries are keyed by the whole raw token, so a token that differs in
// any byte (a tampered one) is never answered from here.
//
// It is bounded with two generations: inserts go to cur; when cur is full it
// becomes old and a new cur starts, dropping the previous old. A hit in old
// is copied into cur, so tokens in use survive.
type visitorCache struct {
	mu  sync.RWMutex
	cur map[string]visitorEntry
	old map[string]visitorEntry
	max int // entries per generation
}

type visitorEntry struct {
	roomID string
	from   time.Time // the token is valid from from (inclusive)…
	until  time.Time // …until until (exclusive), leeway included
}

func newVisitorCache(perGeneration int) *visitorCache {
	return &visitorCache{cur: make(map[string]visitorEntry), max: perGeneration}
}

// get returns the room of raw when raw verified before and now is within its
// validity window.
func (c *visitorCache) get(raw string, now time.Time) (string, bool) {
	c.mu.RLock()
	e, ok := c.cur[raw]
	promote := false
	if !ok {
		e, ok = c.old[raw]
		promote = ok
	}
	c.mu.RUnlock()
	if !ok || now.Before(e.from) || !now.Before(e.until) {
		return "", false
	}
	if promote {
		c.put(raw, e)
	}
	return e.roomID, true
}

// put remembers a verified token. The key is copied: raw may share memory
// with a whole request.
func (c *visitorCache) put(raw string, e visitorEntry) {
	raw = strings.Clone(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[raw]; !ok && len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[string]visitorEntry, c.max)
	}
	c.cur[raw] = e
}

// len is how many tokens the cache holds (both generations, a token in both
// counted twice).
func (c *visitorCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.old)
}

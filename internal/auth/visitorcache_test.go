package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-chat/parley/internal/chat"
)

// clock is a settable time for the tokens under test.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }

// uncached is the answer VerifyVisitor would give without the cache.
func uncached(tk *Tokens, raw string) (string, error) {
	room, _, err := tk.verifyVisitor(raw)
	return room, err
}

// The cache never changes an answer: for each token, verifying it again (from
// the cache) gives what the full check gives, at every point of its life.
func TestVisitorCacheSameAnswers(t *testing.T) {
	t0 := time.Now().Truncate(time.Second)
	clk := newClock(t0)
	tk, err := NewTokens(secret, newMemWithSam(), time.Hour, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	room := chat.NewRoomID()
	good, _, _ := tk.IssueVisitor(room)
	parts := strings.Split(good, ".")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	admin, _, _ := tk.IssueAdmin(chat.Admin{Username: "sam"})
	future := jwt.RegisteredClaims{Issuer: Issuer, Subject: chat.NewRoomID(), Audience: jwt.ClaimStrings{AudienceVisitor},
		IssuedAt: jwt.NewNumericDate(t0.Add(time.Minute)), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour))}
	futureTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, future).SignedString(secret)
	notYet := jwt.RegisteredClaims{Issuer: Issuer, Subject: chat.NewRoomID(), Audience: jwt.ClaimStrings{AudienceVisitor},
		IssuedAt: jwt.NewNumericDate(t0), NotBefore: jwt.NewNumericDate(t0.Add(2 * time.Minute)), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour))}
	notYetTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, notYet).SignedString(secret)

	tokens := map[string]string{
		"good":             good,
		"tampered payload": parts[0] + "." + b64(`{"sub":"`+chat.NewRoomID()+`","aud":["parley-visitor"],"iss":"parley","exp":9999999999}`) + "." + parts[2],
		"tampered sig":     parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2] + "AA",
		"trailing byte":    good + "A",
		"admin token":      admin,
		"issued in future": futureTok,
		"not before later": notYetTok,
		"empty":            "",
	}
	// Walk the clock over the tokens' lives, including the exact edges of
	// the leeway, verifying each token twice at each instant.
	steps := []time.Time{
		t0, t0.Add(-leeway - time.Nanosecond), t0.Add(-leeway), t0.Add(time.Minute - leeway - time.Nanosecond),
		t0.Add(time.Minute - leeway), t0.Add(2*time.Minute - leeway), t0.Add(30 * time.Minute),
		t0.Add(time.Hour + leeway - time.Nanosecond), t0.Add(time.Hour + leeway), t0.Add(2 * time.Hour), t0,
	}
	for _, at := range steps {
		clk.set(at)
		for name, raw := range tokens {
			wantRoom, wantErr := uncached(tk, raw)
			for i := range 2 {
				got, err := tk.VerifyVisitor(raw)
				if got != wantRoom || (err == nil) != (wantErr == nil) || (err != nil && !errors.Is(err, chat.ErrUnauthorized)) {
					t.Fatalf("%s at %v, call %d: got %q %v, want %q %v", name, at.Sub(t0), i+1, got, err, wantRoom, wantErr)
				}
			}
		}
	}
	// And the good token's own edges, against what the token says.
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{t0.Add(time.Hour + leeway - time.Nanosecond), true},
		{t0.Add(time.Hour + leeway), false},
		{t0.Add(-leeway), true},
		{t0.Add(-leeway - time.Nanosecond), false},
	} {
		clk.set(c.at)
		if _, err := tk.VerifyVisitor(good); (err == nil) != c.want {
			t.Errorf("good token at %v: got %v, want valid=%v", c.at.Sub(t0), err, c.want)
		}
	}
}

// A token that expires while cached is refused exactly when it expires.
func TestVisitorCacheHonoursExpiry(t *testing.T) {
	t0 := time.Now().Truncate(time.Second)
	clk := newClock(t0)
	tk, _ := NewTokens(secret, newMemWithSam(), time.Minute, clk.now)
	room := chat.NewRoomID()
	raw, exp, _ := tk.IssueVisitor(room)
	if got, err := tk.VerifyVisitor(raw); err != nil || got != room {
		t.Fatalf("fresh: got %q %v, want %q", got, err, room)
	}
	if n := tk.visitors.len(); n != 1 {
		t.Fatalf("got %d cached tokens, want 1", n)
	}
	clk.set(exp.Add(leeway - time.Millisecond))
	if got, err := tk.VerifyVisitor(raw); err != nil || got != room {
		t.Fatalf("just before expiry: got %q %v, want %q", got, err, room)
	}
	clk.set(exp.Add(leeway))
	if _, err := tk.VerifyVisitor(raw); !errors.Is(err, chat.ErrUnauthorized) {
		t.Fatalf("at expiry: got %v, want unauthorized", err)
	}
}

func TestVisitorCacheBounded(t *testing.T) {
	c := newVisitorCache(8)
	e := visitorEntry{roomID: "r", until: time.Now().Add(time.Hour)}
	for i := range 100 {
		c.put(strings.Repeat("x", i+1), e)
		if n := c.len(); n > 16 {
			t.Fatalf("after %d inserts: got %d entries, want at most 16", i+1, n)
		}
	}
	// A token in use survives generations: it is copied forward on a hit.
	c.put("kept", e)
	for i := range 100 {
		c.put(strings.Repeat("y", i+1), e)
		if _, ok := c.get("kept", time.Now()); !ok {
			t.Fatalf("after %d more inserts: a token read every time was evicted", i+1)
		}
	}
}

func TestVisitorCacheConcurrent(t *testing.T) {
	tk, _ := NewTokens(secret, newMemWithSam(), time.Hour, nil)
	tk.visitors = newVisitorCache(16) // small, so generations turn over under the race detector
	rooms := make([]string, 64)
	raws := make([]string, 64)
	for i := range raws {
		rooms[i] = chat.NewRoomID()
		raws[i], _, _ = tk.IssueVisitor(rooms[i])
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := (g*31 + i) % len(raws)
				if got, err := tk.VerifyVisitor(raws[k]); err != nil || got != rooms[k] {
					t.Errorf("got %q %v, want %q", got, err, rooms[k])
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := tk.visitors.len(); n > 32 {
		t.Fatalf("got %d entries, want at most 32", n)
	}
}

package stream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mustOpen(tb testing.TB, r *Registry, key string) *Stream {
	tb.Helper()
	st, err := r.Open(key, Info{})
	if err != nil {
		tb.Fatalf("open %s: %v", key, err)
	}
	return st
}

func wantOpenErr(tb testing.TB, r *Registry, key string, want error) {
	tb.Helper()
	if st, err := r.Open(key, Info{}); !errors.Is(err, want) {
		if st != nil {
			st.Release()
		}
		tb.Fatalf("open %s: got %v, want %v", key, err, want)
	}
}

// TestCaps checks the per-key and server-wide caps, and that a released
// place (once, however often Release runs) is free again.
func TestCaps(t *testing.T) {
	r := NewRegistry(Config{MaxStreams: 3, PerKey: 2})
	a1 := mustOpen(t, r, "room:a")
	mustOpen(t, r, "room:a")
	wantOpenErr(t, r, "room:a", ErrTooMany)
	b := mustOpen(t, r, "room:b")
	wantOpenErr(t, r, "room:c", ErrTooMany) // the server is full
	a1.Release()
	a1.Release()
	if got := r.Len(); got != 2 {
		t.Fatalf("got %d open after a release, want 2", got)
	}
	mustOpen(t, r, "room:a")
	b.Release()
	mustOpen(t, r, "room:c")
	wantOpenErr(t, r, "room:d", ErrTooMany)
}

// TestCapsConcurrent opens and releases from many goroutines: the caps hold
// and every place comes back.
func TestCapsConcurrent(t *testing.T) {
	r := NewRegistry(Config{MaxStreams: 10, PerKey: 3})
	var open, maxOpen atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				st, err := r.Open("room:x", Info{})
				if err != nil {
					if !errors.Is(err, ErrTooMany) {
						t.Errorf("open: %v", err)
					}
					continue
				}
				n := open.Add(1)
				for m := maxOpen.Load(); n > m && !maxOpen.CompareAndSwap(m, n); m = maxOpen.Load() {
				}
				open.Add(-1)
				st.Release()
			}
		}()
	}
	wg.Wait()
	if m := maxOpen.Load(); m > 3 {
		t.Fatalf("got %d streams of one key at once, want at most 3", m)
	}
	if n := r.Len(); n != 0 {
		t.Fatalf("got %d open at the end, want 0", n)
	}
}

// TestOpenRefusals checks the other errors of Open: a bridge down, a
// registry shut down.
func TestOpenRefusals(t *testing.T) {
	var up atomic.Bool
	r := NewRegistry(Config{MaxStreams: 5, PerKey: 5, Healthy: up.Load})
	wantOpenErr(t, r, "room:a", ErrBridgeDown)
	up.Store(true)
	mustOpen(t, r, "room:a").Release()
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown with no stream: %v", err)
	}
	wantOpenErr(t, r, "room:a", ErrClosing)
}

// TestBridgeChangeEndsEpoch checks that a new bridge generation ends the
// streams opened before it, and not those opened after.
func TestBridgeChangeEndsEpoch(t *testing.T) {
	var gen atomic.Uint64
	r := NewRegistry(Config{MaxStreams: 5, PerKey: 5, Generation: gen.Load})
	old := mustOpen(t, r, "room:a")
	defer old.Release()
	gen.Add(1)
	select {
	case <-old.epoch:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream opened before the resubscribe was not told to end")
	}
	fresh := mustOpen(t, r, "room:b")
	defer fresh.Release()
	select {
	case <-fresh.epoch:
		t.Fatal("a stream opened after the resubscribe was told to end")
	case <-time.After(2 * watchInterval):
	}
}

// TestAdminStreamsHaveTheirOwnCap checks that visitor streams filling their
// cap leave the admins' reserve alone, and the other way round.
func TestAdminStreamsHaveTheirOwnCap(t *testing.T) {
	r := NewRegistry(Config{MaxStreams: 2, MaxAdminStreams: 1, PerKey: 5})
	mustOpen(t, r, "room:a")
	mustOpen(t, r, "room:b")
	wantOpenErr(t, r, "room:c", ErrTooMany)
	adm, err := r.Open("admin:t1", Info{Kind: Admin})
	if err != nil {
		t.Fatalf("admin stream with the visitor cap full: got %v, want it opened", err)
	}
	if _, err := r.Open("admin:t2", Info{Kind: Admin}); !errors.Is(err, ErrTooMany) {
		t.Fatalf("second admin stream: got %v, want %v", err, ErrTooMany)
	}
	adm.Release()
	if _, err := r.Open("admin:t2", Info{Kind: Admin}); err != nil {
		t.Fatalf("admin stream after a release: %v", err)
	}
	wantOpenErr(t, r, "room:c", ErrTooMany)
}

// TestEndAdmin checks that EndAdmin ends the streams of one token or one
// account, and no other.
func TestEndAdmin(t *testing.T) {
	r := NewRegistry(Config{MaxStreams: 5, PerKey: 5})
	open := func(token, user string) *Stream {
		st, err := r.Open("admin:"+token, Info{Kind: Admin, TokenID: token, Username: user})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a1, a2, b := open("t1", "alice"), open("t2", "alice"), open("t3", "bob")
	visitor := mustOpen(t, r, "room:a")
	if n := r.EndAdmin("t1", ""); n != 1 || !a1.ended() || a2.ended() || b.ended() || visitor.ended() {
		t.Fatalf("EndAdmin(t1): got %d ended (t1 %v, t2 %v, t3 %v), want t1 alone", n, a1.ended(), a2.ended(), b.ended())
	}
	if n := r.EndAdmin("", "alice"); n != 1 || !a2.ended() || b.ended() {
		t.Fatalf("EndAdmin(alice): got %d ended, want t2 alone", n)
	}
	if n := r.EndAdmin("t1", "alice"); n != 0 {
		t.Fatalf("EndAdmin again: got %d, want 0", n)
	}
	b.Release()
	if n := r.EndAdmin("t3", ""); n != 0 {
		t.Fatalf("EndAdmin of a released stream: got %d, want 0", n)
	}
}

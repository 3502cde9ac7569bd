package redisstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// TestReserveBackoff: after Free attempts the waits grow as given, up to
// the last one, and are counted from the last attempt; a refused attempt is
// counted nowhere; a release clears the log.
func TestReserveBackoff(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		b := &chat.Backoff{Key: "login-user:sam", Per: time.Hour, Free: 3,
			Waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}}
		t0 := time.Now().Truncate(time.Second)
		try := func(at time.Duration, want bool) chat.Attempt {
			t.Helper()
			a, q, ok, err := s.Reserve(ctx, t0.Add(at), b)
			if err != nil {
				t.Fatal(err)
			}
			if ok != want {
				t.Fatalf("attempt at %v: got allowed %v, want %v (quota %+v)", at, ok, want, q)
			}
			return a
		}
		for i := 0; i < 3; i++ {
			try(0, true) // free ones, at once
		}
		try(900*time.Millisecond, false)
		if _, q, _, _ := s.Reserve(ctx, t0.Add(900*time.Millisecond), b); !q.Reset.Equal(t0.Add(time.Second)) || q.Limit != 3 {
			t.Fatalf("refused quota: got %+v, want reset %v and limit 3", q, t0.Add(time.Second))
		}
		try(time.Second, true)                       // 4th: waited 1 s
		try(2900*time.Millisecond, false)            // 5th must wait 2 s after the 4th
		try(3*time.Second, true)                     // 5th
		try(6900*time.Millisecond, false)            // 6th: 4 s
		try(7*time.Second, true)                     // 6th
		try(10900*time.Millisecond, false)           // 7th: the last wait repeats
		last := try(11*time.Second, true)            // 7th
		if err := s.Release(ctx, last); err != nil { // a success
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			try(11*time.Second, true) // free again
		}
		try(11*time.Second, false)
	})
}

// TestReserveConcurrent: attempts reserved at once never overrun a window,
// and a released one gives its place back.
func TestReserveConcurrent(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		w := chat.Window{Key: "login-ip:192.0.2.1", Limit: chat.Limit{N: 5, Per: time.Minute}}
		now := time.Now()
		var (
			mu       sync.Mutex
			accepted []chat.Attempt
			wg       sync.WaitGroup
		)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, _, ok, err := s.Reserve(ctx, now, nil, w)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					accepted = append(accepted, a)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(accepted) != 5 {
			t.Fatalf("got %d of 20 concurrent attempts accepted, want 5", len(accepted))
		}
		if err := s.Release(ctx, accepted[0]); err != nil {
			t.Fatal(err)
		}
		if _, _, ok, _ := s.Reserve(ctx, now, nil, w); !ok {
			t.Fatalf("after a release: got refused, want one place free")
		}
		if _, _, ok, _ := s.Reserve(ctx, now, nil, w); ok {
			t.Fatalf("window full again: got accepted, want refused")
		}
	})
}

// TestLimitsAllOrNothing: one call checks each window's log apart (one
// slot each on Cluster), and still a refused request is counted in no
// window nor backoff log, also when many race.
func TestLimitsAllOrNothing(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		s, _ := mustStore(t, addr, redisstore.Options{})
		checkAllOrNothing(t, s)
	})
}

func checkAllOrNothing(t *testing.T, s *redisstore.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	tag := chat.NewRoomID() // the keys' own, so a shared server's runs stay apart
	win := func(key string, n int) chat.Window {
		return chat.Window{Key: key + ":" + tag, Limit: chat.Limit{N: n, Per: time.Minute}}
	}

	// 20 requests at once through a wide window and a narrow one: at most
	// 3 pass (fewer when a request another window refused is still
	// counted for a moment where it passed: the take-back errs toward
	// refusing), and once they are answered both windows count exactly
	// those that passed, the refused in none.
	wide, narrow := win("wide", 10), win("narrow", 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.Allow(ctx, now, wide, narrow)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed > 3 {
		t.Fatalf("%d of 20 requests passed a window of 3", passed)
	}
	q, ok, err := s.Allow(ctx, now, wide)
	if err != nil || !ok || q.Remaining != 10-passed-1 {
		t.Fatalf("the wide window after the race (%d passed): %+v ok=%v err=%v, want %d left", passed, q, ok, err, 10-passed-1)
	}
	for i := passed; i < 3; i++ {
		if _, ok, err := s.Allow(ctx, now, narrow); err != nil || !ok {
			t.Fatalf("the narrow window after the race (%d passed): request %d refused (%v), want room for 3", passed, i+1, err)
		}
	}
	if _, ok, err := s.Allow(ctx, now, narrow); err != nil || ok {
		t.Fatalf("the narrow window full: ok=%v err=%v, want refused", ok, err)
	}

	// Reserve refused by a window: its backoff log counts nothing.
	b := &chat.Backoff{Key: "backoff:" + tag, Per: time.Hour, Free: 1, Waits: []time.Duration{time.Hour}}
	full := win("full", 1)
	if _, _, ok, err := s.Reserve(ctx, now, nil, full); err != nil || !ok {
		t.Fatalf("fill the window: ok=%v err=%v", ok, err)
	}
	if _, q, ok, err := s.Reserve(ctx, now, b, full); err != nil || ok || q.Limit != 1 || !q.Reset.Equal(now.Add(time.Minute)) {
		t.Fatalf("reserve into a full window: %+v ok=%v err=%v, want refused by it until %v", q, ok, err, now.Add(time.Minute))
	}
	if _, _, ok, err := s.Reserve(ctx, now, b); err != nil || !ok {
		t.Fatalf("the backoff alone: ok=%v err=%v, want accepted (the refused attempt was not logged)", ok, err)
	}
	// Reserve refused by its backoff: the window counts nothing.
	free := win("free", 1)
	if _, q, ok, err := s.Reserve(ctx, now, b, free); err != nil || ok || !q.Reset.Equal(now.Add(time.Hour)) {
		t.Fatalf("reserve during the backoff's wait: %+v ok=%v err=%v, want refused until %v", q, ok, err, now.Add(time.Hour))
	}
	a, _, ok, err := s.Reserve(ctx, now, nil, free)
	if err != nil || !ok {
		t.Fatalf("the window alone: ok=%v err=%v, want accepted (the refused attempt was not counted)", ok, err)
	}
	// A release gives the place back, in every log.
	if err := s.Release(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.Reserve(ctx, now, nil, free); err != nil || !ok {
		t.Fatalf("after a release: ok=%v err=%v, want accepted", ok, err)
	}
}

package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// BenchmarkAllowLogin: a login's three windows (address and user, address,
// user) in one Allow, on redis-server: accepted (each request its own
// user, so no window fills), and refused by the user window (the others
// counted, then taken back).
func BenchmarkAllowLogin(b *testing.B) {
	if !redistest.Installed() {
		b.Skip("redis-server not installed")
	}
	s := benchNewStore(b, redistest.StartReal(b).Addr())
	ctx := context.Background()
	wins := func(user string) []chat.Window {
		user = uniquePrefix() + user // each run its own users
		return []chat.Window{
			{Key: "login:192.0.2.1:" + user, Limit: chat.Limit{N: 1 << 30, Per: time.Minute}},
			{Key: "login-ip:192.0.2.1", Limit: chat.Limit{N: 1 << 30, Per: time.Minute}},
			{Key: "login-user:" + user, Limit: chat.Limit{N: 1, Per: time.Minute}},
		}
	}
	b.Run("accepted", func(b *testing.B) {
		now := time.Now()
		for i := 0; b.Loop(); i++ {
			if _, ok, err := s.Allow(ctx, now, wins("u"+strconv.Itoa(i))...); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("refused", func(b *testing.B) {
		now := time.Now()
		w := wins("full")
		if _, ok, err := s.Allow(ctx, now, w...); err != nil || !ok {
			b.Fatal(ok, err)
		}
		for b.Loop() {
			if _, ok, err := s.Allow(ctx, now, w...); err != nil || ok {
				b.Fatal(ok, err)
			}
		}
	})
}

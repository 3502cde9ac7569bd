package httpapi_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// deadHeartbeats is a store whose presence heartbeats fail once the
// instance is "killed": it neither renews its heartbeat nor removes it, as a
// process that died without a clean stop.
type deadHeartbeats struct {
	chat.Store
	dead atomic.Bool
}

func (d *deadHeartbeats) Heartbeat(ctx context.Context, instance string, n int, ttl time.Duration) (bool, error) {
	if d.dead.Load() {
		return false, chat.ErrUnavailable
	}
	return d.Store.Heartbeat(ctx, instance, n, ttl)
}

// TestPresenceHealsAfterKill: with the production presence interval, an
// instance killed while its admin stream is open stops counting within 15 s:
// a visitor on another instance is told that no admin is online.
func TestPresenceHealsAfterKill(t *testing.T) {
	t.Parallel()
	addr := redistest.StartReal(t).Addr()
	prefix, secret := uniquePrefix(), []byte("0123456789abcdef0123456789abcdef")
	a := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret, PresenceInterval: chat.PresenceInterval})
	kill := &deadHeartbeats{}
	b := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret, PresenceInterval: chat.PresenceInterval,
		WrapStore: func(s chat.Store) chat.Store { kill.Store = s; return kill }})
	room, tok := a.mustRoom(nil)
	visitor := a.visitorStream(room.ID, tok, nil)
	expectPresence(t, visitor, false)
	b.adminStream(b.adminToken())
	expectPresence(t, visitor, true) // B's admin, published on a change

	kill.dead.Store(true)
	start := time.Now()
	ev, ok := visitor.next(20 * time.Second)
	took := time.Since(start)
	if !ok || ev.Event != "presence" || ev.Data != `{"adminsOnline":false}` {
		t.Fatalf("got %q %s (open %v), want presence false", ev.Event, ev.Data, ok)
	}
	t.Logf("presence false %v after the kill", took.Round(100*time.Millisecond))
	if bound := 15 * time.Second; took > bound {
		t.Fatalf("presence false came %v after the kill, want within %v", took, bound)
	}
}

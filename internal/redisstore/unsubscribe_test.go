package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// TestUnsubscribe: a visitor's marker lives for its ttl; an agent's
// preference becomes never and the rest of the account is kept; a removed
// account is not brought back as a one-field hash.
func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		room := mustRoom(t, s, time.Now())
		if err := s.UnsubscribeVisitor(ctx, room.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
		ttl := c.TTL(ctx, prefix+"unsub:room:"+room.ID).Val()
		if ttl <= 59*time.Minute || ttl > time.Hour {
			t.Fatalf("visitor marker TTL: got %v, want about 1h", ttl)
		}

		if err := s.AddAdmin(ctx, chat.Admin{Username: "sam", DisplayName: "Sam", PasswordHash: []byte("h")}); err != nil {
			t.Fatal(err)
		}
		if err := s.UnsubscribeAgent(ctx, "sam"); err != nil {
			t.Fatal(err)
		}
		h := c.HGetAll(ctx, prefix+"{team}:admin:sam").Val()
		if h["notify"] != "never" || h["displayName"] != "Sam" || h["passwordHash"] != "h" {
			t.Fatalf("agent hash after unsubscribe: got %v, want notify=never and the account kept", h)
		}
		// What the notifier reads: the visitor's and the agent's markers.
		for who, user := range map[string]string{"visitor": "", "agent": "sam"} {
			if off, err := s.Unsubscribed(ctx, room.ID, user); err != nil || !off {
				t.Fatalf("%s: Unsubscribed got %v, %v; want true", who, off, err)
			}
		}
		if err := s.SetAdminProfile(ctx, "sam", chat.AdminProfile{Notify: "always"}); err != nil {
			t.Fatal(err)
		}
		if off, err := s.Unsubscribed(ctx, room.ID, "sam"); err != nil || off {
			t.Fatalf("after the agent chose a preference again: Unsubscribed got %v, %v; want false", off, err)
		}
		if err := s.UnsubscribeAgent(ctx, "ghost"); !errors.Is(err, chat.ErrAdminUnknown) {
			t.Fatalf("removed account: got %v, want ErrAdminUnknown", err)
		}
		if n := c.Exists(ctx, prefix+"{team}:admin:ghost").Val(); n != 0 {
			t.Fatalf("unsubscribing a removed account created its hash")
		}
	})
}

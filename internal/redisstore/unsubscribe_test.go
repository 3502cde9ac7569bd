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
		ttl := c.TTL(ctx, prefix+"room:{"+room.ID+"}:unsubscribed").Val()
		if ttl <= 59*time.Minute || ttl > time.Hour {
			t.Fatalf("visitor marker TTL: got %v, want about 1h", ttl)
		}

		if err := s.AddAdmin(ctx, chat.Admin{Username: "sam", DisplayName: "Sam", PasswordHash: []byte("h")}); err != nil {
			t.Fatal(err)
		}
		if err := s.UnsubscribeAgent(ctx, "sam"); err != nil {
			t.Fatal(err)
		}
		h := c.HGetAll(ctx, prefix+"admin:sam").Val()
		if h["notify"] != "never" || h["displayName"] != "Sam" || h["passwordHash"] != "h" {
			t.Fatalf("agent hash after unsubscribe: got %v, want notify=never and the account kept", h)
		}
		if err := s.UnsubscribeAgent(ctx, "ghost"); !errors.Is(err, chat.ErrAdminUnknown) {
			t.Fatalf("removed account: got %v, want ErrAdminUnknown", err)
		}
		if n := c.Exists(ctx, prefix+"admin:ghost").Val(); n != 0 {
			t.Fatalf("unsubscribing a removed account created its hash")
		}
	})
}

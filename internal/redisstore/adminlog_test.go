package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// TestAdminLog: the events admins see are logged with the id their publish
// carries, and read back after any id the log holds.
func TestAdminLog(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		hub := startBridge(t, s)
		sub := hub.SubscribeAdmin()
		defer sub.Close()
		if end, err := s.AdminLogEnd(ctx); err != nil || end != "" {
			t.Fatalf("empty log: got end %q, %v; want \"\"", end, err)
		}
		r := mustRoom(t, s, time.Now())
		mustSend(t, s, r.ID, chat.SenderVisitor, "hi")
		if _, err := s.SetBlocked(ctx, r.ID, true, time.Time{}); err != nil {
			t.Fatal(err)
		}
		var live []chat.Event
		for range 3 {
			ev := nextEvent(t, sub)
			if _, _, ok := chat.ParseLogID(ev.LogID); !ok {
				t.Fatalf("live %s: got LogID %q, want ms-n", ev.Type, ev.LogID)
			}
			live = append(live, ev)
		}
		evs, ok, err := s.AdminEventsAfter(ctx, live[0].LogID, 10)
		if err != nil || !ok || len(evs) != 2 {
			t.Fatalf("after the first: got %d events, ok %v, %v; want 2, true", len(evs), ok, err)
		}
		if evs[0].LogID != live[1].LogID || evs[0].Type != chat.EventMessage || evs[0].Message.Content != "hi" ||
			evs[0].Room == nil || evs[1].LogID != live[2].LogID || evs[1].Room == nil || !evs[1].Room.Blocked {
			t.Fatalf("got %+v, want the message (with its room) and the block, with the live ids", evs)
		}
		if end, _ := s.AdminLogEnd(ctx); end != live[2].LogID {
			t.Fatalf("got end %q, want %q", end, live[2].LogID)
		}
		for _, id := range []string{"1-0", "99999999999999-0"} {
			if _, ok, err := s.AdminEventsAfter(ctx, id, 10); err != nil || ok {
				t.Fatalf("after %s (not in the log): got ok %v, %v; want false", id, ok, err)
			}
		}
	})
}

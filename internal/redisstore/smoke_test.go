package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

func TestSmoke(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		r := mustRoom(t, s, time.Now())
		m := mustSend(t, s, r.ID, chat.SenderVisitor, `Hello "world" <b>`)
		if m.Seq != 1 {
			t.Fatalf("got seq %d, want 1", m.Seq)
		}
		msgs, more, err := s.Messages(ctx, r.ID, chat.MessageQuery{Limit: 10})
		if err != nil || len(msgs) != 1 || more || msgs[0] != m {
			t.Fatalf("messages: got %+v %v %v, want [%+v]", msgs, more, err, m)
		}
		got := mustGetRoom(t, s, r.ID)
		t.Logf("%+v %+v", got, got.LastMessage)
		page, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 10})
		if err != nil || len(page.Rooms) != 1 {
			t.Fatalf("list: %+v %v", page, err)
		}
		t.Logf("%+v", page)
	})
}

package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

func TestFillVisitor(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		r, err := s.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), VisitorName: "Jane",
			CreatedAt: chat.Time{Time: time.Now()}, UpdatedAt: chat.Time{Time: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.FillVisitor(ctx, r.ID, chat.NewRoom{Name: "Other", Email: "jane@example.com", Page: "https://example.com/"})
		if err != nil {
			t.Fatal(err)
		}
		if got.VisitorName != "Jane" || got.VisitorEmail != "jane@example.com" || got.Page != "https://example.com/" {
			t.Errorf("got %+v, want the name kept and email and page filled in", got)
		}
		got, _ = s.FillVisitor(ctx, r.ID, chat.NewRoom{Email: "changed@example.com"})
		if got.VisitorEmail != "jane@example.com" {
			t.Errorf("got email %q, want the first one kept", got.VisitorEmail)
		}
		if _, err := s.FillVisitor(ctx, chat.NewRoomID(), chat.NewRoom{Name: "x"}); !errors.Is(err, chat.ErrRoomNotFound) {
			t.Errorf("unknown room: got %v, want ErrRoomNotFound", err)
		}
	})
}

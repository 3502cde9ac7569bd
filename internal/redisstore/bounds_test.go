package redisstore_test

import (
	"context"
	"errors"
	"fmt"
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

// A client inventing paths cannot grow a day's path set without end: past
// 1000 distinct paths, new ones count under "(other)".
func TestVisitPathsAreBounded(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		now := time.Now()
		for i := 0; i < 1005; i++ {
			if _, err := s.RecordVisit(ctx, chat.NewVisit{Path: fmt.Sprintf("/p%d", i), VisitorID: "v"}, now); err != nil {
				t.Fatal(err)
			}
		}
		var n int64
		for _, k := range keysWithPrefix(t, c, prefix+"visits:{"+chat.DayKey(now)+"}:paths") {
			n = c.ZCard(ctx, k).Val()
		}
		if n != 1001 {
			t.Errorf("distinct paths stored: got %d, want 1000 and (other)", n)
		}
		rep, err := s.VisitReport(ctx, 1, now)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Days[0].Views != 1005 || rep.TopPages[0].Path != "(other)" || rep.TopPages[0].Views != 5 {
			t.Errorf("got %d views, top %+v; want 1005 views and (other) with 5 on top", rep.Days[0].Views, rep.TopPages[0])
		}
	})
}

// The clientId dedup hash is bounded like the message list: the ids of
// trimmed messages are forgotten, the recent ones still dedupe.
func TestDedupIsBounded(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, MaxMessages: 10})
		r := mustRoom(t, s, time.Now())
		for i := 1; i <= 25; i++ {
			if _, _, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, fmt.Sprint(i), time.Now()), chat.AppendOptions{ClientID: fmt.Sprintf("c%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.HLen(ctx, prefix+"room:{"+r.ID+"}:dedup").Val(); n > 20 {
			t.Errorf("dedup entries: got %d, want at most 2×10", n)
		}
		m, created, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "again", time.Now()), chat.AppendOptions{ClientID: "c25"})
		if err != nil || created || m.Seq != 25 {
			t.Errorf("retry of the last send: got seq %d created %v err %v, want 25 false", m.Seq, created, err)
		}
	})
}

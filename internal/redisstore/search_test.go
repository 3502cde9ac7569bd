package redisstore_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// TestSearchSweeper runs the sweeper as cmd/parley does: a room that
// expired leaves the search index by itself, a live one stays, and the
// sweeper stops with its context.
func TestSearchSweeper(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Second})
		gone, live := mustRoom(t, s, time.Now()), mustRoom(t, s, time.Now())
		mustSend(t, s, gone.ID, chat.SenderVisitor, "refund please")

		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.RunSearchSweeper(sctx, 50*time.Millisecond, slog.New(slog.DiscardHandler))
		}()
		defer func() { stop(); <-done }()

		// The live room is written to until the end; the other one expires.
		q := chat.SearchQuery{Terms: []string{"refund"}, Limit: 10}
		deadline := time.Now().Add(8 * time.Second)
		for {
			mustSend(t, s, live.ID, chat.SenderVisitor, "refund still wanted")
			n, _ := c.ZCard(ctx, prefix+"search:t:refund").Result()
			_, err := c.ZScore(ctx, prefix+"search:t:please", gone.ID).Result()
			if n == 1 && err != nil {
				break // the expired room left even the zsets no search touched
			}
			if time.Now().After(deadline) {
				t.Fatalf("the expired room is still in the index (%d rooms with refund)", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		p, err := s.Search(ctx, q)
		if err != nil || len(p.Results) != 1 || p.Results[0].Room.ID != live.ID {
			t.Fatalf("got %+v, %v; want only the live room", p, err)
		}
		stop()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("the sweeper did not stop with its context")
		}
	})
}

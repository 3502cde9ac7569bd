package redisstore_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
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
		s, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Second})
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
			if err := s.CatchUpSearch(ctx); err != nil {
				t.Fatal(err)
			}
			n := s.SearchTermCard(t, "refund")
			if n == 1 && !s.SearchTermHas(t, "please", gone.ID) {
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

// TestBackfillSearch: rooms stored before the search index existed are
// found once BackfillSearch has run, which then never runs again, and what
// was indexed since is kept.
func TestBackfillSearch(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
		var ids []string
		for i := range 250 { // more than a page of the walk
			r := mustRoom(t, s, time.Now())
			mustSend(t, s, r.ID, chat.SenderVisitor, "old words "+strconv.Itoa(i))
			ids = append(ids, r.ID)
		}
		// As before the index: only the rooms and their messages.
		if err := s.CatchUpSearch(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range keysWithPrefix(t, c, prefix) {
			if strings.HasPrefix(k, prefix+"search:") || strings.HasSuffix(k, "}:terms") {
				if err := c.Del(ctx, k).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
		q := func(words ...string) int {
			p, err := s.Search(ctx, chat.SearchQuery{Terms: words, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Results)
		}
		if n := q("old"); n != 0 {
			t.Fatalf("before the backfill: got %d rooms", n)
		}
		// One room gets a message in the meantime, indexed by send.lua.
		newest := mustSend(t, s, ids[0], chat.SenderAdmin, "fresh answer")
		n, err := s.BackfillSearch(ctx)
		if err != nil || n != 250 {
			t.Fatalf("backfill: got %d, %v, want 250 rooms", n, err)
		}
		if got := q("old", "words"); got != 50 {
			t.Errorf("got %d rooms with the old words, want a full page", got)
		}
		if got := q("249"); got != 1 {
			t.Errorf("got %d rooms for the last room's number, want 1", got)
		}
		if got := q("jane"); got != 50 {
			t.Errorf("got %d rooms by the visitor's name, want a full page", got)
		}
		p, err := s.Search(ctx, chat.SearchQuery{Terms: []string{"fresh"}, Limit: 5})
		if err != nil || len(p.Results) != 1 || p.Results[0].Match.Seq != newest.Seq {
			t.Errorf("the message sent meanwhile: got %+v, %v", p, err)
		}
		// Newest first: by the time of each room's message with the word.
		p, err = s.Search(ctx, chat.SearchQuery{Terms: []string{"old"}, Limit: 50})
		if err != nil || len(p.Results) != 50 {
			t.Fatalf("got %d results, %v", len(p.Results), err)
		}
		for i := 1; i < len(p.Results); i++ {
			if a, b := p.Results[i-1].Match.CreatedAt, p.Results[i].Match.CreatedAt; a == nil || b == nil || b.After(a.Time) {
				t.Fatalf("result %d matched at %v, after the one before it (%v): want newest first", i, b, a)
			}
		}
		if n, err := s.BackfillSearch(ctx); err != nil || n != 0 {
			t.Errorf("second backfill: got %d, %v, want nothing to do", n, err)
		}
	})
}

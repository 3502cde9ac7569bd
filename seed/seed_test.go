package seed_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
	"github.com/parley-chat/parley/seed"
)

// TestLoadIsIdempotent checks that loading the demo twice writes nothing the
// second time, and that loading it after the demo rooms were deleted brings
// them back without counting the month of visits again.
func TestLoadIsIdempotent(t *testing.T) {
	ctx := context.Background()
	client, err := redisstore.Connect("redis://" + redistest.StartEmbedded(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	store := redisstore.New(client, redisstore.Options{Prefix: "seedtest:", RoomTTL: 30 * 24 * time.Hour})
	now := time.Now()

	first, err := seed.Load(ctx, store, now)
	if err != nil {
		t.Fatal(err)
	}
	if first.Rooms == 0 || first.Messages == 0 || first.Visits == 0 {
		t.Fatalf("first load: got %+v, want rooms, messages and visits", first)
	}
	visits := func() int64 {
		r, err := store.VisitReport(ctx, 30, now)
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	total := visits()

	if again, err := seed.Load(ctx, store, now); err != nil || again != (seed.Result{}) {
		t.Fatalf("second load: got %+v, %v; want nothing written", again, err)
	}

	page, err := store.ListRooms(ctx, chat.RoomQuery{Limit: 50})
	if err != nil || len(page.Rooms) != first.Rooms {
		t.Fatalf("got %d rooms (%v), want %d", len(page.Rooms), err, first.Rooms)
	}
	// Someone tried the demo and deleted its conversations.
	for _, r := range page.Rooms {
		if err := store.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
	}
	third, err := seed.Load(ctx, store, now)
	if err != nil {
		t.Fatal(err)
	}
	if third.Rooms != first.Rooms || third.Visits != 0 {
		t.Fatalf("load after the deletions: got %+v, want the %d rooms back and no visits", third, first.Rooms)
	}
	if got := visits(); got != total {
		t.Fatalf("visits after a third load: got %d, want %d (counted once)", got, total)
	}
}

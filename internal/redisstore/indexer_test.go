package redisstore_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// searchIDs returns the ids of the rooms a search finds, newest first.
func searchIDs(t *testing.T, s *redisstore.Store, words ...string) []string {
	t.Helper()
	p, err := s.Search(context.Background(), chat.SearchQuery{Terms: words, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range p.Results {
		ids = append(ids, r.Room.ID)
	}
	return ids
}

// TestIndexerIndexesInTheBackground: with indexers running on two
// instances, a message reaches the index by itself, shortly after the send,
// and each message's entry of the admin log is acked by the group.
func TestIndexerIndexesInTheBackground(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx, stop := context.WithCancel(context.Background())
		prefix := uniquePrefix()
		a, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		b, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		var wg sync.WaitGroup
		for _, s := range []*redisstore.Store{a, b} {
			wg.Go(func() { s.RunSearchIndexer(ctx, slog.New(slog.DiscardHandler)) })
		}
		defer func() { stop(); wg.Wait() }()

		var rooms []chat.Room
		for i := range 20 {
			r := mustRoom(t, a, time.Now())
			rooms = append(rooms, r)
			mustSend(t, []*redisstore.Store{a, b}[i%2], r.ID, chat.SenderVisitor, "my parcel never arrived")
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := a.SearchTermCard(t, "parcel")
			// Every partition's log acked (a store's own logs, as every
			// prefix has them).
			pending := int64(0)
			for i := range redisstore.IndexPartitions {
				p, err := c.XPending(ctx, a.LogKey(i), redisstore.IndexGroup).Result()
				if err != nil {
					pending = -1
					break
				}
				pending += p.Count
			}
			if n == 20 && pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s: %d of 20 rooms indexed (pending %d)", n, pending)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The indexers stop with their context.
		stop()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("the indexers did not stop with their context")
		}
		got := searchIDs(t, a, "parcel", "arrived")
		for _, r := range rooms {
			if !slices.Contains(got, r.ID) {
				t.Fatalf("search found %v, want the 20 rooms", got)
			}
		}
	})
}

// TestIndexerCrashLosesNothing: an indexer that read a batch and died
// before indexing it loses none of it: a search finds those messages once
// another instance has claimed them.
func TestIndexerCrashLosesNothing(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		if err := s.CatchUpSearch(ctx); err != nil { // the group exists
			t.Fatal(err)
		}
		r := mustRoom(t, s, time.Now())
		mustSend(t, s, r.ID, chat.SenderVisitor, "the invoice is wrong")
		// A consumer takes the entries, then dies without acking them.
		res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: redisstore.IndexGroup, Consumer: "indexer-dead", Streams: []string{s.LogKey(redisstore.PartitionOf(r.ID)), ">"}, Count: 100, Block: -1,
		}).Result()
		if err != nil || len(res) != 1 || len(res[0].Messages) == 0 {
			t.Fatalf("the dead consumer read %v, %v", res, err)
		}
		time.Sleep(1100 * time.Millisecond) // past the claim delay of a search
		if got := searchIDs(t, s, "invoice"); len(got) != 1 || got[0] != r.ID {
			t.Fatalf("search found %v, want the room whose batch the dead indexer held", got)
		}
	})
}

// TestIndexerDoesNotResurrect: a room deleted before its messages were
// indexed leaves no trace in the index when they are.
func TestIndexerDoesNotResurrect(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		r := mustRoom(t, s, time.Now())
		mustSend(t, s, r.ID, chat.SenderVisitor, "please forget everything")
		if err := s.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		if err := s.CatchUpSearch(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range keysWithPrefix(t, c, prefix) {
			if strings.HasPrefix(k, prefix+"search:") || strings.HasSuffix(k, "}:terms") {
				t.Errorf("key %s is left after the room was deleted", k)
			}
		}
	})
}

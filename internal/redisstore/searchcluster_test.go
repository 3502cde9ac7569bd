package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// searchPage runs a search and returns the rooms found, in order, and more.
func searchPage(t *testing.T, s *redisstore.Store, limit int, words ...string) ([]string, bool) {
	t.Helper()
	p, err := s.Search(context.Background(), chat.SearchQuery{Terms: words, Limit: limit})
	if err != nil {
		t.Fatalf("search %v: %v", words, err)
	}
	ids := make([]string, len(p.Results))
	for i, r := range p.Results {
		ids[i] = r.Room.ID
	}
	return ids, p.More
}

// TestSearchPartitionsOnCluster: the search index's own steps on a real
// cluster. Rooms stored in their slots (as create.lua and send.lua leave
// them) spread over every primary are indexed by the backfill's two steps
// (the room's, then the partition's), found by a search that walks every
// partition and merges newest first, paged by limit and more; a room
// tombstoned in its partition is not found, and a late partition step is
// refused for it; an expired room is swept.
func TestSearchPartitionsOnCluster(t *testing.T) {
	cl := sharedCluster(t)
	ctx := context.Background()
	prefix := uniquePrefix()
	s, c := mustStore(t, cl.URL(), redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
	now := time.Now().UnixMilli()
	var rooms []string // oldest first
	nodes := map[string]bool{}
	for i := range 30 {
		id := chat.NewRoomID()
		rooms = append(rooms, id)
		key := prefix + "room:{" + id + "}"
		at := now + int64(i)*1000
		msg := `{"id":"m` + strconv.Itoa(i) + `","roomId":"` + id + `","sender":"visitor","content":"parcel number ` +
			strconv.Itoa(i) + ` lost","createdAt":"` + chat.TimeFromMillis(at).Format("2006-01-02T15:04:05.000Z") + `","seq":1}`
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, "name", "Priya "+strconv.Itoa(i), "email", "p"+strconv.Itoa(i)+"@example.com",
				"createdAt", at, "updatedAt", at, "seq", 1, "firstSeq", 1, "unread", 1, "status", "open", "ver", 1,
				"lastSeq", 1, "lastSender", "visitor", "lastContent", "parcel", "lastAt", at)
			p.PExpire(ctx, key, time.Hour)
			p.RPush(ctx, key+":msgs", msg)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexRoom(ctx, id); err != nil {
			t.Fatalf("index room %d on the cluster: %v", i, err)
		}
		addr, _ := cl.PrimaryFor(ctx, s.SearchTermKey(id, "parcel"))
		nodes[addr] = true
	}
	if len(nodes) != 3 {
		t.Errorf("30 rooms' search sets are on %d primaries, want 3", len(nodes))
	}
	newestFirst := slices.Clone(rooms)
	slices.Reverse(newestFirst)

	// Messages: every room, newest first, a page at a time.
	got, more := searchPage(t, s, 10, "parcel")
	if !slices.Equal(got, newestFirst[:10]) || !more {
		t.Fatalf("first page: got %v (more %v), want %v and more", got, more, newestFirst[:10])
	}
	got, more = searchPage(t, s, 50, "parcel", "lost")
	if !slices.Equal(got, newestFirst) || more {
		t.Fatalf("all: got %d rooms %v (more %v), want the 30 newest first", len(got), got, more)
	}
	// One room by its message's number, by the visitor's name prefix and email.
	if got, _ := searchPage(t, s, 10, "17", "parcel"); !slices.Equal(got, []string{rooms[17]}) {
		t.Errorf("number 17: got %v", got)
	}
	p, err := s.Search(ctx, chat.SearchQuery{Terms: []string{"pri", "p4"}, Limit: 5})
	if err != nil || len(p.Results) != 1 || p.Results[0].Room.ID != rooms[4] || p.Results[0].Match.Kind != chat.MatchVisitor {
		t.Errorf("name prefix and email: got %+v, %v", p, err)
	}
	p, err = s.Search(ctx, chat.SearchQuery{Terms: []string{"lost", "29"}, Limit: 5})
	if err != nil || len(p.Results) != 1 || p.Results[0].Match.Kind != chat.MatchMessage || p.Results[0].Match.Text != "parcel number 29 lost" {
		t.Errorf("the message's snippet: got %+v, %v", p, err)
	}

	// A room deleted (its partition's tombstone) is not found, even with
	// its entries left; a late step cannot index it again.
	gone := rooms[29]
	if n := s.ApplyPlacement(t, "del", gone, [8]string{}); n != 1 {
		t.Fatalf("tombstone: got %d", n)
	}
	if got, _ := searchPage(t, s, 50, "parcel"); slices.Contains(got, gone) || len(got) != 29 {
		t.Errorf("after the tombstone: got %d rooms, the deleted one among them: %v", len(got), slices.Contains(got, gone))
	}
	if n := s.SearchPut(t, gone, now+100000, "parcel", "late"); n != 0 {
		t.Errorf("a late step for the deleted room: got %d, want refused", n)
	}
	if s.SearchTermHas(t, "late", gone) || s.SearchTermHas(t, "parcel", gone) {
		t.Error("the deleted room is in a term's zset after the late step")
	}

	// Expiry: a room whose keys ran out leaves every set at the sweep.
	expired := rooms[0]
	if err := c.Del(ctx, prefix+"room:{"+expired+"}", prefix+"room:{"+expired+"}:msgs").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SweepSearch(ctx, time.Now().Add(2*time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("sweep on the cluster: got %d, %v, want 1 room (the expired one; the tombstoned one still has its hash)", n, err)
	}
	if s.SearchTermHas(t, "parcel", expired) || s.SearchTermCard(t, "parcel") != 28 {
		t.Errorf("after the sweep: %d rooms with parcel, the expired one among them: %v", s.SearchTermCard(t, "parcel"), s.SearchTermHas(t, "parcel", expired))
	}
}

// TestSearchOnCluster: search through the store's writes on a real cluster
// (rooms in several partitions on 3 primaries, messages, notes, visitor
// details filled in later, a delete, paging); TestSearchFlows runs the
// same flows on a single Redis.
func TestSearchOnCluster(t *testing.T) {
	cl := sharedCluster(t)
	s, _ := mustStore(t, cl.URL(), redisstore.Options{RoomTTL: time.Hour})
	nodes := map[string]bool{}
	searchFlows(t, s, func(key string) {
		addr, _ := cl.PrimaryFor(context.Background(), key)
		nodes[addr] = true
	})
	if len(nodes) != 3 {
		t.Errorf("24 rooms' search sets are on %d primaries, want 3", len(nodes))
	}
}

// TestSearchFlows is TestSearchOnCluster's flows on a single Redis.
func TestSearchFlows(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		searchFlows(t, s, func(string) {})
	})
}

// searchFlows writes 24 rooms through the store (each room's search key
// goes to where), messages, a note, an email filled in, and checks what
// searches find, before and after a delete.
func searchFlows(t *testing.T, s *redisstore.Store, where func(key string)) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	var rooms []chat.Room
	for i := range 24 {
		at := start.Add(time.Duration(i) * time.Millisecond)
		r, err := s.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), VisitorName: "Olga " + strconv.Itoa(i),
			CreatedAt: chat.Time{Time: at}, UpdatedAt: chat.Time{Time: at}})
		if err != nil {
			t.Fatal(err)
		}
		rooms = append(rooms, r)
		where(s.SearchTermKey(r.ID, "olga"))
	}
	for i, r := range rooms { // each later than the one before: newest first is known
		at := start.Add(time.Second + time.Duration(i)*10*time.Millisecond)
		if _, _, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "refund for order "+strconv.Itoa(i), at), chat.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddNote(ctx, chat.Note{ID: "n1", RoomID: rooms[3].ID, Author: "ana", Content: "escalate to billing",
		CreatedAt: chat.Time{Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FillVisitor(ctx, rooms[5].ID, chat.NewRoom{Email: "olga5@example.com"}); err != nil {
		t.Fatal(err)
	}
	newestFirst := make([]string, len(rooms))
	for i, r := range rooms {
		newestFirst[len(rooms)-1-i] = r.ID
	}
	got, more := searchPage(t, s, 10, "refund")
	if !slices.Equal(got, newestFirst[:10]) || !more {
		t.Fatalf("messages, first page: got %v (more %v), want %v", got, more, newestFirst[:10])
	}
	if got, more := searchPage(t, s, 50, "refund", "order"); len(got) != 24 || more {
		t.Fatalf("messages: got %d rooms (more %v), want 24", len(got), more)
	}
	if got, _ := searchPage(t, s, 10, "escalate", "billing"); !slices.Equal(got, []string{rooms[3].ID}) {
		t.Errorf("note: got %v", got)
	}
	if got, _ := searchPage(t, s, 10, "olga5"); !slices.Equal(got, []string{rooms[5].ID}) {
		t.Errorf("email filled in: got %v", got)
	}
	if got, _ := searchPage(t, s, 30, "olg"); len(got) != 24 {
		t.Errorf("name prefix: got %d rooms, want 24", len(got))
	}
	if err := s.DeleteRoom(ctx, rooms[3].ID, chat.SenderAdmin); err != nil {
		t.Fatal(err)
	}
	if got, _ := searchPage(t, s, 10, "escalate"); len(got) != 0 {
		t.Errorf("after the delete: got %v", got)
	}
	if got, _ := searchPage(t, s, 50, "refund"); len(got) != 23 || slices.Contains(got, rooms[3].ID) {
		t.Errorf("after the delete: got %d rooms", len(got))
	}
	if s.SearchTermHas(t, "refund", rooms[3].ID) || s.SearchTermHas(t, "olga", rooms[3].ID) {
		t.Error("the deleted room is still in its partition's term zsets")
	}
}

// TestDeletedRoomNotIndexedByLateStep: the partition's step of a write that
// raced a delete (the indexer's, a note's) comes after the delete's
// tombstone, and is refused: the deleted room is never found again, and
// leaves nothing in its partition's search sets.
func TestDeletedRoomNotIndexedByLateStep(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		r := mustRoom(t, s, time.Now())
		mustSend(t, s, r.ID, chat.SenderVisitor, "parcel lost")
		if got, _ := searchPage(t, s, 10, "parcel"); !slices.Equal(got, []string{r.ID}) {
			t.Fatalf("before the delete: got %v", got)
		}
		if err := s.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		if s.SearchTermHas(t, "parcel", r.ID) || s.SearchTermHas(t, "jane", r.ID) {
			t.Fatal("the deleted room is still in its partition's term zsets")
		}
		// The late step of a batch read before the delete.
		if n := s.SearchPut(t, r.ID, time.Now().UnixMilli(), "parcel", "resurrected"); n != 0 {
			t.Errorf("late step: got %d, want refused", n)
		}
		if got, _ := searchPage(t, s, 10, "parcel"); len(got) != 0 {
			t.Errorf("after the late step: got %v", got)
		}
		if s.SearchTermHas(t, "parcel", r.ID) || s.SearchTermHas(t, "resurrected", r.ID) {
			t.Error("the late step indexed the deleted room")
		}
	})
}

// TestAppendRefusesBlockedClient: a send from a blocked client key is
// refused and stores nothing, whatever the room; other keys, and the
// admins' sends (no key), are not; the unblock lifts it.
func TestAppendRefusesBlockedClient(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		r := mustRoom(t, s, time.Now())
		const key = "2001:db8:1:2::/64"
		if err := s.BlockClient(ctx, key, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		send := func(from chat.Sender, k, content string) error {
			_, _, err := s.Append(ctx, newMessage(r.ID, from, content, time.Now()), chat.AppendOptions{ClientID: content, ClientKey: k})
			return err
		}
		if err := send(chat.SenderVisitor, key, "blocked one"); !errors.Is(err, chat.ErrBlocked) {
			t.Fatalf("blocked key: got %v, want ErrBlocked", err)
		}
		if err := send(chat.SenderVisitor, "203.0.113.5", "other key"); err != nil {
			t.Fatalf("another key: %v", err)
		}
		if err := send(chat.SenderAdmin, "", "admin reply"); err != nil {
			t.Fatalf("admin: %v", err)
		}
		if got, _ := s.Room(ctx, r.ID); got.MessageCount != 2 {
			t.Fatalf("got %d messages, want 2 (the blocked one not stored)", got.MessageCount)
		}
		if err := s.UnblockClient(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := send(chat.SenderVisitor, key, "after the unblock"); err != nil {
			t.Fatalf("after the unblock: %v", err)
		}
	})
}

// TestMigrateSearchFromGlobalKeys: the global search keys of before the
// partitions (search:t:TERM, search:rooms, search:indexed) are moved into
// the rooms' partitions at start by two instances at once and deleted; a
// room deleted meanwhile (its partition's tombstone) is not copied; the
// marker makes later starts skip it.
func TestMigrateSearchFromGlobalKeys(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
		s2, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
		var rooms []chat.Room
		for i := range 3 {
			r := mustRoom(t, s, time.Now())
			mustSend(t, s, r.ID, chat.SenderVisitor, "invoice "+strconv.Itoa(10+i)+" missing")
			rooms = append(rooms, r)
		}
		if err := s.CatchUpSearch(ctx); err != nil {
			t.Fatal(err)
		}
		// The layout of before: every partition's search zset folded into
		// its global twin, the partitions' deleted, the backfill's marker.
		for _, k := range keysWithPrefix(t, c, prefix+"search:{") {
			rest := k[len(prefix+"search:{"):]
			_, name, _ := strings.Cut(rest, "}:")
			global := prefix + "search:" + name // t:TERM or rooms
			zs, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, z := range zs {
				c.ZAdd(ctx, global, z)
			}
			c.Del(ctx, k)
		}
		c.Del(ctx, prefix+"search:migrated")
		c.Set(ctx, prefix+"search:indexed", "1", 0)
		if got, _ := searchPage(t, s, 10, "invoice"); len(got) != 0 {
			t.Fatalf("before the migration: found %v; the test proves nothing", got)
		}
		// A room deleted by this version meanwhile: tombstoned, its terms
		// hash gone, its old global entries left.
		gone := rooms[2]
		if err := s.DeleteRoom(ctx, gone.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		if n, _ := c.ZCard(ctx, prefix+"search:t:invoice").Result(); n != 3 {
			t.Fatalf("old layout: %d rooms with invoice, want 3", n)
		}

		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, st := range []*redisstore.Store{s, s2} {
			wg.Go(func() { _, errs[i] = st.MigrateSearch(ctx) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		got, _ := searchPage(t, s, 10, "invoice", "missing")
		if len(got) != 2 || slices.Contains(got, gone.ID) {
			t.Errorf("after the migration: got %v, want the 2 live rooms", got)
		}
		if got, _ := searchPage(t, s, 10, "jan", "11"); !slices.Equal(got, []string{rooms[1].ID}) {
			t.Errorf("name prefix and a number: got %v", got)
		}
		if s.SearchTermHas(t, "invoice", gone.ID) {
			t.Error("the deleted room was copied into its partition")
		}
		for _, k := range keysWithPrefix(t, c, prefix+"search:") {
			if !strings.HasPrefix(k, prefix+"search:{") && k != prefix+"search:migrated" {
				t.Errorf("old key %s is left", k)
			}
		}
		if v, _ := c.Get(ctx, prefix+"search:migrated").Result(); v != "1" {
			t.Errorf("marker: got %q", v)
		}
		// Later starts do nothing, even with an old key back.
		c.ZAdd(ctx, prefix+"search:t:invoice", redis.Z{Score: 1, Member: gone.ID})
		if n, err := s.MigrateSearch(ctx); err != nil || n != 0 {
			t.Errorf("second run: %d, %v", n, err)
		}
		if n, _ := c.Exists(ctx, prefix+"search:t:invoice").Result(); n != 1 {
			t.Error("the second run touched the keys: the marker is not read")
		}
	})
}

// TestSearchMergesPartitions: when the newest hits all sit in one partition
// (more of them than the share each partition gives at first), the search
// asks that partition again until the page is exact, newest first, for one
// word and for a sparse intersection of two.
func TestSearchMergesPartitions(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		idIn := func(inZero bool) string {
			for {
				id := chat.NewRoomID()
				if (redisstore.PartitionOf(id) == 0) == inZero {
					return id
				}
			}
		}
		base := time.Now().Add(-time.Hour)
		type room struct {
			id   string
			rare bool
		}
		var all []room // oldest first
		for i := range 80 {
			// The 40 newest are all in partition 0.
			id := idIn(i >= 40)
			name := "Olga Common"
			if i%5 == 0 {
				name = "Olga Rarename"
			}
			at := base.Add(time.Duration(i) * time.Second)
			if _, err := s.CreateRoom(ctx, chat.Room{ID: id, VisitorName: name, CreatedAt: chat.Time{Time: at}, UpdatedAt: chat.Time{Time: at}}); err != nil {
				t.Fatal(err)
			}
			all = append(all, room{id, i%5 == 0})
		}
		var newest, newestRare []string
		for i := len(all) - 1; i >= 0; i-- {
			newest = append(newest, all[i].id)
			if all[i].rare {
				newestRare = append(newestRare, all[i].id)
			}
		}
		got, more := searchPage(t, s, 20, "olga")
		if !slices.Equal(got, newest[:20]) || !more {
			t.Errorf("one word: got %v (more %v), want the 20 newest %v", got, more, newest[:20])
		}
		got, more = searchPage(t, s, 50, "olga", "common")
		if len(got) != 50 || !more {
			t.Errorf("two words: got %d (more %v), want 50 and more", len(got), more)
		}
		got, more = searchPage(t, s, 12, "rarename", "olga")
		if !slices.Equal(got, newestRare[:12]) || !more {
			t.Errorf("sparse: got %v (more %v), want %v", got, more, newestRare[:12])
		}
		got, more = searchPage(t, s, 50, "olga", "rarename")
		if !slices.Equal(got, newestRare) || more {
			t.Errorf("sparse, all: got %d (more %v), want the 16", len(got), more)
		}
	})
}

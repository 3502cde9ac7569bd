package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// TestIndexPartitionsPinned: the partition of a room and the partitions'
// hash tags never change (a change would strand every room's entries), and
// tag i hashes to a slot in the i-th sixteenth of the slot range, so a
// default cluster spreads the partitions over its primaries.
func TestIndexPartitionsPinned(t *testing.T) {
	if redisstore.IndexPartitions != 16 {
		t.Fatalf("IndexPartitions = %d, want 16", redisstore.IndexPartitions)
	}
	want := []string{"p00aj", "p01ai", "p02h", "p03bj", "p04c", "p05dj", "p06fi", "p07fj",
		"p08fk", "p09k", "p10c", "p11dc", "p12fa", "p13fb", "p14ac", "p15ad"}
	for i, tag := range want {
		if got := redisstore.IndexTag(i); got != tag {
			t.Errorf("tag %d = %q, want %q", i, got, tag)
		}
		if slot := keySlot("{" + tag + "}"); slot < i*1024 || slot >= (i+1)*1024 {
			t.Errorf("tag %d (%s) hashes to slot %d, outside %d..%d", i, tag, slot, i*1024, (i+1)*1024-1)
		}
	}
	// CRC16 of the id (the spec's check value: 0x31C3) modulo 16.
	pinned := map[string]int{"123456789": 0x31C3 % 16, "r_aaaaaaaaaaaaaaaaaaaaaaaaaa": 14,
		"r_o6eta7ywfkqb6jqusaitk6i6vy": 2, "r_vkwchjqtwkuieysldcrucvn3ky": 9}
	for id, p := range pinned {
		if got := redisstore.PartitionOf(id); got != p {
			t.Errorf("PartitionOf(%q) = %d, want %d", id, got, p)
		}
	}
	// Rooms spread over the partitions.
	var n [16]int
	for range 1600 {
		n[redisstore.PartitionOf(chat.NewRoomID())]++
	}
	for p, c := range n {
		if c < 50 || c > 150 {
			t.Errorf("partition %d got %d of 1600 random rooms, want about 100", p, c)
		}
	}
}

// views lists every view of the inbox for agent, as room ids, and the
// counts.
func views(t *testing.T, s *redisstore.Store, agent string, label string) (map[string][]string, chat.RoomCounts) {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	var counts chat.RoomCounts
	filters := []chat.RoomFilter{chat.FilterAll, chat.FilterUnread, chat.FilterMine, chat.FilterUnassigned,
		chat.FilterOpen, chat.FilterPending, chat.FilterResolved}
	for _, f := range filters {
		page, err := s.ListRooms(ctx, chat.RoomQuery{Filter: f, Agent: agent, Limit: 50})
		if err != nil {
			t.Fatalf("list %q: %v", f, err)
		}
		ids := []string{}
		for _, r := range page.Rooms {
			ids = append(ids, r.ID)
		}
		sort.Strings(ids)
		out[string(f)] = ids
		counts = page.Counts
	}
	if label != "" {
		page, err := s.ListRooms(ctx, chat.RoomQuery{Label: label, Agent: agent, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, r := range page.Rooms {
			ids = append(ids, r.ID)
		}
		sort.Strings(ids)
		out["label"] = ids
	}
	c, err := s.RoomCounts(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	if c != counts {
		t.Errorf("RoomCounts %+v, the list's %+v", c, counts)
	}
	return out, counts
}

func ids(v ...string) []string {
	out := append([]string{}, v...)
	sort.Strings(out)
	return out
}

// TestFollowUpOrder: a follow-up that comes late, out of order or twice
// cannot drop an unread room nor resurrect a deleted one.
func TestFollowUpOrder(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		r := mustRoom(t, s, time.Now())
		mustSend(t, s, r.ID, chat.SenderVisitor, "hello")
		unread, ok := s.CurrentPlacement(t, r.ID)
		if !ok || unread[2] != "1" {
			t.Fatalf("placement after a visitor message: %v, want unread", unread)
		}
		if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderAdmin, 0); err != nil {
			t.Fatal(err)
		}
		read, _ := s.CurrentPlacement(t, r.ID)
		mustSend(t, s, r.ID, chat.SenderVisitor, "again")
		unreadAgain, _ := s.CurrentPlacement(t, r.ID)
		if unreadAgain[0] <= read[0] && len(unreadAgain[0]) <= len(read[0]) {
			t.Fatalf("versions: read %s, then unread %s: want a newer one", read[0], unreadAgain[0])
		}
		// The markread's follow-up, late: refused; the room stays unread.
		if n := s.ApplyPlacement(t, "put", r.ID, read); n != 0 {
			t.Errorf("a late follow-up of the read was applied (%d)", n)
		}
		v, c := views(t, s, "", "")
		if !slices.Equal(v["unread"], ids(r.ID)) || c.Unread != 1 {
			t.Errorf("after a late read follow-up: unread view %v (count %d), want the room", v["unread"], c.Unread)
		}
		// The latest one again: changes nothing.
		if n := s.ApplyPlacement(t, "put", r.ID, unreadAgain); n != 1 {
			t.Errorf("the same follow-up again: %d, want applied (idempotent)", n)
		}
		if v, c := views(t, s, "", ""); !slices.Equal(v["unread"], ids(r.ID)) || c.All != 1 || c.Open != 1 || c.Unassigned != 1 {
			t.Errorf("after a repeated follow-up: %v %+v", v, c)
		}

		if err := s.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		// Every follow-up of before the delete, late: refused.
		for _, p := range [][8]string{unread, read, unreadAgain} {
			if n := s.ApplyPlacement(t, "put", r.ID, p); n != 0 {
				t.Errorf("a late follow-up (ver %s) after the delete was applied", p[0])
			}
		}
		// Even one of a version beyond any the room had.
		future := unreadAgain
		future[0] = "1000000"
		if n := s.ApplyPlacement(t, "put", r.ID, future); n != 0 {
			t.Errorf("a follow-up of a higher version resurrected the deleted room")
		}
		if v, c := views(t, s, "", ""); len(v["all"]) != 0 || c != (chat.RoomCounts{}) {
			t.Errorf("after late follow-ups of a deleted room: %v %+v, want nothing", v, c)
		}
		if got := s.Placement(t, r.ID); !strings.HasPrefix(got, "D|") {
			t.Errorf("placement of the deleted room: %q, want its tombstone", got)
		}
	})
}

// TestReconcilerRepairsLostFollowUps: room writes whose follow-ups never
// ran (the instance died between the two steps) leave the views behind;
// one reconciler pass puts every view and count right, and a second finds
// nothing to do.
func TestReconcilerRepairsLostFollowUps(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		a, b, gone := mustRoom(t, s, time.Now()), mustRoom(t, s, time.Now()), mustRoom(t, s, time.Now())
		if _, err := s.SetRoomLabels(ctx, b.ID, []string{"l_aaaaaaaaaa"}); err != nil {
			t.Fatal(err)
		}

		s.DropFollowUps(true)
		mustSend(t, s, a.ID, chat.SenderVisitor, "unread now")
		if _, err := s.Assign(ctx, a.ID, &chat.AgentRef{Username: "ann", DisplayName: "Ann"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetStatus(ctx, b.ID, chat.StatusPending, time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetRoomLabels(ctx, b.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRoom(ctx, gone.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		s.DropFollowUps(false)

		// Behind: a not unread nor mine, b still open and labelled, gone
		// still counted.
		v, c := views(t, s, "ann", "l_aaaaaaaaaa")
		if len(v["unread"]) != 0 || len(v["mine"]) != 0 || c.All != 3 || !slices.Equal(v["label"], ids(b.ID)) {
			t.Fatalf("before the pass (follow-ups lost): %v %+v", v, c)
		}
		n, err := s.ReconcileOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("the pass repaired %d entries, want 3 (a, b, gone)", n)
		}
		v, c = views(t, s, "ann", "l_aaaaaaaaaa")
		want := map[string][]string{"all": ids(a.ID, b.ID), "unread": ids(a.ID), "mine": ids(a.ID), "unassigned": {},
			"open": ids(a.ID), "pending": ids(b.ID), "resolved": {}, "label": {}}
		for view, w := range want {
			if !slices.Equal(v[view], w) {
				t.Errorf("after the pass: view %q = %v, want %v", view, v[view], w)
			}
		}
		if c != (chat.RoomCounts{All: 2, Unread: 1, Mine: 1, Open: 1, Pending: 1}) {
			t.Errorf("after the pass: counts %+v", c)
		}
		// b's snooze ended: the waker finds it in its partition.
		due, err := s.DueSnoozes(ctx, time.Now(), 10)
		if err != nil || !slices.Equal(due, []string{b.ID}) {
			t.Errorf("due snoozes after the pass: %v, %v, want b", due, err)
		}
		if n, err := s.ReconcileOnce(ctx); err != nil || n != 0 {
			t.Errorf("a second pass: %d repairs, %v, want none", n, err)
		}
	})
}

// TestReconcilerFindsRoomNeverIndexed: a room created while its follow-up
// was lost is in no view until the reconciler's pass after the grace finds
// its registration; a registration whose room never came is forgotten.
func TestReconcilerFindsRoomNeverIndexed(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		s.DropFollowUps(true)
		r := mustRoom(t, s, time.Now())
		s.DropFollowUps(false)
		never := chat.NewRoomID()
		s.RegisterNew(t, never)

		if v, _ := views(t, s, "", ""); len(v["all"]) != 0 {
			t.Fatalf("a room never indexed is listed: %v", v)
		}
		// Within the grace, the create may still be on its way: left alone.
		if n, err := s.ReconcileOnce(ctx); err != nil || n != 0 {
			t.Fatalf("a pass within the grace: %d, %v, want nothing done", n, err)
		}
		s.AgeNew(t, r.ID, 2*time.Minute)
		s.AgeNew(t, never, 2*time.Minute)
		if n, err := s.ReconcileOnce(ctx); err != nil || n != 2 {
			t.Fatalf("a pass after the grace: %d, %v, want 2 (one placed, one forgotten)", n, err)
		}
		v, c := views(t, s, "", "")
		if !slices.Equal(v["all"], ids(r.ID)) || !slices.Equal(v["unassigned"], ids(r.ID)) || c.Open != 1 {
			t.Errorf("after the pass: %v %+v, want the room open and unassigned", v, c)
		}
		if s.IsNew(t, never) || s.IsNew(t, r.ID) {
			t.Errorf("registrations left after the pass")
		}
	})
}

// TestMigrateIndexFromGlobalKeys: a database of before the partitions (the
// global index, a room of before statuses, an attachment sweep entry) is
// moved into them by MigrateIndex, run by two instances at once: every
// view and count is kept, the global keys are gone, and later runs do
// nothing.
func TestMigrateIndexFromGlobalKeys(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
		now := time.Now().UnixMilli()
		room := func(id string, fields ...any) {
			base := []any{"name", "V", "createdAt", now - 5000, "updatedAt", now - 1000, "seq", 1, "firstSeq", 1}
			if err := c.HSet(ctx, prefix+"room:{"+id+"}", append(base, fields...)...).Err(); err != nil {
				t.Fatal(err)
			}
			c.PExpire(ctx, prefix+"room:{"+id+"}", time.Hour)
		}
		z := func(key, id string, score int64) {
			if err := c.ZAdd(ctx, prefix+key, redis.Z{Score: float64(score), Member: id}).Err(); err != nil {
				t.Fatal(err)
			}
		}
		old := []string{"r_old1", "r_old2", "r_old3", "r_old4"}
		// r_old1: open, unread, assigned to ann, labelled.
		room(old[0], "unread", 2, "status", "open", "assignee", "ann", "labels", "l_aaaaaaaaaa")
		z("rooms", old[0], now-1000)
		z("rooms:unread", old[0], now-1000)
		z("rooms:status:open", old[0], now-1000)
		z("rooms:agent:ann", old[0], now-1000)
		z("rooms:label:l_aaaaaaaaaa", old[0], now-1000)
		// r_old2: pending with a snooze that ended.
		room(old[1], "unread", 0, "status", "pending", "snoozedUntil", now-10)
		z("rooms", old[1], now-1000)
		z("rooms:status:pending", old[1], now-1000)
		z("rooms:snoozed", old[1], now-10)
		// r_old3: of before statuses, in the room index only, with files.
		room(old[2], "unread", 0)
		z("rooms", old[2], now-1000)
		z("attachments:sweep", old[2], now+5000)
		// r_old4: its hash expired, its entries left behind.
		z("rooms", old[3], now-1000)
		z("rooms:status:open", old[3], now-1000)
		z("rooms:unassigned", old[3], now-1000)

		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { _, errs[i] = s.MigrateIndex(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		v, counts := views(t, s, "ann", "l_aaaaaaaaaa")
		want := map[string][]string{"all": ids(old[0], old[1], old[2]), "unread": ids(old[0]), "mine": ids(old[0]),
			"unassigned": ids(old[2]), "open": ids(old[0], old[2]), "pending": ids(old[1]), "resolved": {}, "label": ids(old[0])}
		for view, w := range want {
			if !slices.Equal(v[view], w) {
				t.Errorf("after the migration: view %q = %v, want %v", view, v[view], w)
			}
		}
		if counts != (chat.RoomCounts{All: 3, Unread: 1, Mine: 1, Unassigned: 1, Open: 2, Pending: 1}) {
			t.Errorf("after the migration: counts %+v", counts)
		}
		if due, err := s.DueSnoozes(ctx, time.Now(), 10); err != nil || !slices.Equal(due, []string{old[1]}) {
			t.Errorf("due snoozes: %v, %v, want r_old2", due, err)
		}
		if got, err := s.ClaimAttachmentRooms(ctx, time.UnixMilli(now+6000), time.Minute, 10); err != nil || !slices.Equal(got, []string{old[2]}) {
			t.Errorf("attachment rooms due: %v, %v, want r_old3", got, err)
		}
		if st := c.HGet(ctx, prefix+"room:{"+old[2]+"}", "status").Val(); st != "open" {
			t.Errorf("the room of before statuses: status %q, want open", st)
		}
		for _, k := range keysWithPrefix(t, c, prefix) {
			rest := strings.TrimPrefix(k, prefix)
			if rest == "rooms" || strings.HasPrefix(rest, "rooms:") && !strings.HasPrefix(rest, "rooms:{") || rest == "attachments:sweep" {
				t.Errorf("global key %s left after the migration", k)
			}
		}
		if n, err := s.MigrateIndex(ctx); err != nil || n != 0 {
			t.Errorf("a second run: %d, %v, want nothing", n, err)
		}
	})
}

// TestIndexOnCluster: the index's flows on a real cluster, where the
// partitions live on three primaries: rooms written in their own slots are
// placed by the reconciler and by follow-ups, every view lists and counts
// them (the list pipeline is split per node), a status, an assignee, labels
// and a delete move them, and a late follow-up is refused. (The room
// scripts themselves still append to the global admin log, so the cluster
// refuses them until the events move: see docs/ARCHITECTURE.md.)
func TestIndexOnCluster(t *testing.T) {
	cl := sharedCluster(t)
	ctx := context.Background()
	prefix := uniquePrefix()
	s, c := mustStore(t, cl.URL(), redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
	now := time.Now().UnixMilli()
	// Rooms as create.lua leaves them, written in their own slots, each
	// registered as being created first (and aged past the grace).
	var rooms []string
	nodes := map[string]bool{}
	for i := range 40 {
		id := chat.NewRoomID()
		rooms = append(rooms, id)
		s.RegisterNew(t, id)
		s.AgeNew(t, id, 2*time.Minute)
		key := prefix + "room:{" + id + "}"
		if err := c.HSet(ctx, key, "name", "V", "createdAt", now, "updatedAt", now+int64(i), "seq", 0, "firstSeq", 1,
			"unread", 0, "status", "open", "ver", 1).Err(); err != nil {
			t.Fatal(err)
		}
		addr, _ := cl.PrimaryFor(ctx, prefix+"rooms:{"+redisstore.IndexTag(redisstore.PartitionOf(id))+"}")
		nodes[addr] = true
	}
	if len(nodes) != 3 {
		t.Errorf("40 rooms' partitions are on %d primaries, want 3", len(nodes))
	}
	if n, err := s.ReconcileOnce(ctx); err != nil || n != 40 {
		t.Fatalf("reconcile on the cluster: %d, %v, want 40 placed", n, err)
	}
	v, counts := views(t, s, "ann", "l_aaaaaaaaaa")
	if len(v["all"]) != 40 || len(v["unassigned"]) != 40 || counts.Open != 40 || counts.All != 40 {
		t.Fatalf("views on the cluster: %d listed, %+v", len(v["all"]), counts)
	}
	// Paging merges the partitions: 40 rooms in pages of 7, newest first.
	var paged []string
	for cursor := ""; ; {
		page, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rooms {
			paged = append(paged, r.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	wantOrder := slices.Clone(rooms)
	slices.Reverse(wantOrder) // updatedAt rises with i
	if !slices.Equal(paged, wantOrder) {
		t.Errorf("paging on the cluster: got %d rooms in order %v, want %v", len(paged), paged, wantOrder)
	}

	// Moves, as the room scripts return them, applied by follow-ups.
	move := func(id string, fields ...any) [8]string {
		t.Helper()
		key := prefix + "room:{" + id + "}"
		if err := c.HSet(ctx, key, fields...).Err(); err != nil {
			t.Fatal(err)
		}
		c.HIncrBy(ctx, key, "ver", 1)
		p, ok := s.CurrentPlacement(t, id)
		if !ok {
			t.Fatalf("room %s gone", id)
		}
		if n := s.ApplyPlacement(t, "put", id, p); n != 1 {
			t.Fatalf("follow-up of %s: %d, want applied", id, n)
		}
		return p
	}
	before, _ := s.CurrentPlacement(t, rooms[0])
	move(rooms[0], "assignee", "ann", "unread", 1)
	move(rooms[1], "status", "pending", "snoozedUntil", now-1)
	move(rooms[2], "status", "resolved", "labels", "l_aaaaaaaaaa")
	if n := s.ApplyPlacement(t, "put", rooms[0], before); n != 0 {
		t.Errorf("a late follow-up on the cluster was applied")
	}
	c.Del(ctx, prefix+"room:{"+rooms[3]+"}")
	if n := s.ApplyPlacement(t, "del", rooms[3], [8]string{}); n != 1 {
		t.Errorf("tombstone on the cluster: %d", n)
	}
	v, counts = views(t, s, "ann", "l_aaaaaaaaaa")
	if !slices.Equal(v["mine"], ids(rooms[0])) || !slices.Equal(v["unread"], ids(rooms[0])) ||
		!slices.Equal(v["pending"], ids(rooms[1])) || !slices.Equal(v["resolved"], ids(rooms[2])) ||
		!slices.Equal(v["label"], ids(rooms[2])) || counts.All != 39 || counts.Open != 37 || counts.Unassigned != 36 {
		t.Errorf("views after the moves: mine %v unread %v pending %v resolved %v label %v, counts %+v",
			v["mine"], v["unread"], v["pending"], v["resolved"], v["label"], counts)
	}
	if due, err := s.DueSnoozes(ctx, time.Now(), 10); err != nil || !slices.Equal(due, []string{rooms[1]}) {
		t.Errorf("due snoozes on the cluster: %v, %v", due, err)
	}
	// An expired room (its hash gone, no follow-up) is found by the pass.
	c.Del(ctx, prefix+"room:{"+rooms[4]+"}")
	if n, err := s.ReconcileOnce(ctx); err != nil || n != 1 {
		t.Errorf("reconcile after an expiry: %d, %v, want 1", n, err)
	}
	if _, counts := views(t, s, "ann", ""); counts.All != 38 {
		t.Errorf("after the expired room's pass: %+v", counts)
	}
	// Clean up the cluster's keys of this test.
	for _, id := range rooms {
		c.Del(ctx, prefix+"room:{"+id+"}")
	}
	for p := range redisstore.IndexPartitions {
		tag := redisstore.IndexTag(p)
		for _, k := range []string{"", ":unread", ":status:open", ":status:pending", ":status:resolved", ":unassigned",
			":agent:ann", ":label:l_aaaaaaaaaa", ":snoozed", ":place", ":new", ":attsweep"} {
			c.Del(ctx, fmt.Sprintf("%srooms:{%s}%s", prefix, tag, k))
		}
	}
}

// TestListMergesPartitions: pages merge the partitions exactly, newest
// first then by id, also when one partition holds most of a page (more
// than the share each is first asked for), and a cursor pages on across
// them without a gap or a repeat.
func TestListMergesPartitions(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		base := time.Now().Add(-time.Minute)
		var want []string
		for i := range 60 {
			id := chat.NewRoomID()
			if i < 40 { // crowd partition 3
				for redisstore.PartitionOf(id) != 3 {
					id = chat.NewRoomID()
				}
			}
			at := base.Add(time.Duration(i/2) * time.Millisecond) // pairs share a score
			if _, err := s.CreateRoom(ctx, chat.Room{ID: id, VisitorName: "V", CreatedAt: chat.Time{Time: at}, UpdatedAt: chat.Time{Time: at}}); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		// Newest first; of one score, the greater id first.
		at := map[string]int{}
		for i, id := range want {
			at[id] = i / 2
		}
		sort.Slice(want, func(i, j int) bool {
			ti, tj := at[want[i]], at[want[j]]
			return ti > tj || ti == tj && want[i] > want[j]
		})
		for _, limit := range []int{1, 7, 20, 50} {
			var got []string
			for cursor := ""; ; {
				page, err := s.ListRooms(ctx, chat.RoomQuery{Limit: limit, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				if page.Counts.All != 60 {
					t.Fatalf("count %d, want 60", page.Counts.All)
				}
				for _, r := range page.Rooms {
					got = append(got, r.ID)
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages of %d: got %v, want %v", limit, got, want)
			}
		}
	})
}

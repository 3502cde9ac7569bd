package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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

func TestAppendConcurrentSeqs(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		r := mustRoom(t, s, time.Now())
		const senders, each = 50, 4
		seqs := make(chan int64, senders*each)
		var wg sync.WaitGroup
		for i := range senders {
			wg.Go(func() {
				for j := range each {
					from := chat.SenderVisitor
					if (i+j)%3 == 0 {
						from = chat.SenderAdmin
					}
					m, _, err := s.Append(ctx, newMessage(r.ID, from, fmt.Sprintf("m %d %d", i, j), time.Now()), chat.AppendOptions{})
					if err != nil {
						t.Errorf("append: %v", err)
						return
					}
					seqs <- m.Seq
				}
			})
		}
		wg.Wait()
		close(seqs)
		var got []int64
		for q := range seqs {
			got = append(got, q)
		}
		slices.Sort(got)
		for i, q := range got {
			if q != int64(i+1) {
				t.Fatalf("got seqs %v, want 1..%d with no gap or duplicate", got, senders*each)
			}
		}
		msgs, more, err := s.Messages(ctx, r.ID, chat.MessageQuery{Limit: chat.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != senders*each || more {
			t.Fatalf("got %d stored messages (more=%v), want %d", len(msgs), more, senders*each)
		}
		var visitor, admin int64
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("stored message %d has seq %d, want %d", i, m.Seq, i+1)
			}
			if m.Sender == chat.SenderVisitor {
				visitor++
			} else {
				admin++
			}
		}
		room := mustGetRoom(t, s, r.ID)
		if room.MessageCount != senders*each || room.Unread != visitor || room.VisitorUnread != admin {
			t.Fatalf("got count %d unread %d visitorUnread %d, want %d %d %d",
				room.MessageCount, room.Unread, room.VisitorUnread, senders*each, visitor, admin)
		}
	})
}

func TestAppendDedupe(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		r := mustRoom(t, s, time.Now())
		first, created, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "hi", time.Now()), chat.AppendOptions{ClientID: "c-1"})
		if err != nil || !created {
			t.Fatalf("first send: created=%v err=%v", created, err)
		}
		again, created, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "hi", time.Now().Add(time.Second)), chat.AppendOptions{ClientID: "c-1"})
		if err != nil {
			t.Fatal(err)
		}
		if created {
			t.Fatalf("repeat send: got created=true, want false")
		}
		if !reflect.DeepEqual(withoutRaw(again), withoutRaw(first)) {
			t.Fatalf("repeat send: got %+v, want the original %+v", again, first)
		}
		other := mustRoom(t, s, time.Now())
		if _, created, err := s.Append(ctx, newMessage(other.ID, chat.SenderVisitor, "hi", time.Now()), chat.AppendOptions{ClientID: "c-1"}); err != nil || !created {
			t.Fatalf("same clientId in another room: created=%v err=%v, want a new message", created, err)
		}
		msgs, _, _ := s.Messages(ctx, r.ID, chat.MessageQuery{Limit: 10})
		if len(msgs) != 1 {
			t.Fatalf("got %d stored messages, want 1", len(msgs))
		}
		if room := mustGetRoom(t, s, r.ID); room.MessageCount != 1 || room.Unread != 1 {
			t.Fatalf("got count %d unread %d, want 1 1", room.MessageCount, room.Unread)
		}
		// Sent looks a clientId up without storing anything.
		if m, ok, err := s.Sent(ctx, r.ID, "c-1"); err != nil || !ok || !reflect.DeepEqual(withoutRaw(m), withoutRaw(first)) {
			t.Fatalf("Sent c-1: got %+v ok=%v err=%v, want the original", m, ok, err)
		}
		if _, ok, err := s.Sent(ctx, r.ID, "c-2"); err != nil || ok {
			t.Fatalf("Sent c-2: got ok=%v err=%v, want not found", ok, err)
		}
		if _, _, err := s.Sent(ctx, "r_nosuchroomaaaaaaaaaaaaaaaa", "c-1"); !errors.Is(err, chat.ErrRoomNotFound) {
			t.Fatalf("Sent in a missing room: got %v, want ErrRoomNotFound", err)
		}
		if room := mustGetRoom(t, s, r.ID); room.MessageCount != 1 {
			t.Fatalf("after Sent: got count %d, want 1", room.MessageCount)
		}
	})
}

func TestAppendTrims(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{MaxMessages: 5, Prefix: prefix})
		r := mustRoom(t, s, time.Now())
		first, _, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "first", time.Now()), chat.AppendOptions{ClientID: "old"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 2; i <= 12; i++ {
			mustSend(t, s, r.ID, chat.SenderVisitor, fmt.Sprint("m", i))
		}
		room := mustGetRoom(t, s, r.ID)
		if room.FirstSeq != 8 || room.MessageCount != 12 || room.LastMessage.Seq != 12 {
			t.Fatalf("got firstSeq %d count %d last %d, want 8 12 12", room.FirstSeq, room.MessageCount, room.LastMessage.Seq)
		}
		if n := c.LLen(ctx, prefix+"room:{"+r.ID+"}:msgs").Val(); n != 5 {
			t.Fatalf("got list length %d, want 5", n)
		}
		msgs, more, _ := s.Messages(ctx, r.ID, chat.MessageQuery{Limit: 50})
		if got := seqsOf(msgs); !slices.Equal(got, []int64{8, 9, 10, 11, 12}) || more {
			t.Fatalf("got %v more=%v, want [8..12] false", got, more)
		}
		msgs, more, _ = s.Messages(ctx, r.ID, chat.MessageQuery{Before: 10, Limit: 10})
		if got := seqsOf(msgs); !slices.Equal(got, []int64{8, 9}) || more {
			t.Fatalf("before 10: got %v more=%v, want [8 9] false", got, more)
		}
		// The original of a repeated clientId was trimmed: its seq remains.
		again, created, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "first", time.Now()), chat.AppendOptions{ClientID: "old"})
		if err != nil || created || again.Seq != first.Seq {
			t.Fatalf("repeat of a trimmed send: got seq %d created %v err %v, want seq %d false nil", again.Seq, created, err, first.Seq)
		}
	})
}

// The unread counters count only the other side's messages still stored
// after the mark, whichever way the sides interleave.
func TestReadCountsAfterTrim(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{MaxMessages: 4})
		r := mustRoom(t, s, time.Now())
		// seq:    1 2 3 4 | 5 6 7 8  (1-4 trimmed)
		// sender: v a a v | a v v a
		for _, from := range []chat.Sender{"visitor", "admin", "admin", "visitor", "admin", "visitor", "visitor", "admin"} {
			mustSend(t, s, r.ID, from, "x")
		}
		tests := []struct {
			reader     chat.Sender
			seq        int64
			wantUnread int64
		}{
			{chat.SenderVisitor, 1, 2}, // admin messages 5 and 8
			{chat.SenderAdmin, 2, 2},   // visitor messages 6 and 7
			{chat.SenderAdmin, 6, 1},   // 7
			{chat.SenderVisitor, 7, 1}, // 8
			{chat.SenderAdmin, 0, 0},   // everything
		}
		for _, tt := range tests {
			got, moved, err := s.MarkRead(ctx, r.ID, tt.reader, tt.seq)
			if err != nil || !moved {
				t.Fatalf("%s reads to %d: got moved=%v err=%v, want true nil", tt.reader, tt.seq, moved, err)
			}
			n := got.Unread
			if tt.reader == chat.SenderVisitor {
				n = got.VisitorUnread
			}
			if n != tt.wantUnread {
				t.Errorf("%s reads to %d: got unread %d, want %d", tt.reader, tt.seq, n, tt.wantUnread)
			}
		}
	})
}

func seqsOf(msgs []chat.Message) []int64 {
	out := []int64{}
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}

func TestMessagesPaging(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		r := mustRoom(t, s, time.Now())
		if msgs, more, err := s.Messages(ctx, r.ID, chat.MessageQuery{Limit: 5}); err != nil || len(msgs) != 0 || more {
			t.Fatalf("empty room: got %v %v %v, want no messages", msgs, more, err)
		}
		for i := 1; i <= 10; i++ {
			mustSend(t, s, r.ID, chat.SenderVisitor, fmt.Sprint("m", i))
		}
		tests := []struct {
			name     string
			q        chat.MessageQuery
			want     []int64
			wantMore bool
		}{
			{"first page", chat.MessageQuery{Limit: 3}, []int64{1, 2, 3}, true},
			{"all", chat.MessageQuery{Limit: 10}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false},
			{"after", chat.MessageQuery{After: 4, Limit: 3}, []int64{5, 6, 7}, true},
			{"after near the end", chat.MessageQuery{After: 8, Limit: 3}, []int64{9, 10}, false},
			{"after the end", chat.MessageQuery{After: 10, Limit: 3}, []int64{}, false},
			{"before", chat.MessageQuery{Before: 5, Limit: 2}, []int64{3, 4}, true},
			{"before near the start", chat.MessageQuery{Before: 3, Limit: 5}, []int64{1, 2}, false},
			{"before the start", chat.MessageQuery{Before: 1, Limit: 5}, []int64{}, false},
			{"before beyond the end", chat.MessageQuery{Before: 100, Limit: 3}, []int64{8, 9, 10}, true},
		}
		for _, tt := range tests {
			msgs, more, err := s.Messages(ctx, r.ID, tt.q)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := seqsOf(msgs); !slices.Equal(got, tt.want) || more != tt.wantMore {
				t.Errorf("%s: got %v more=%v, want %v more=%v", tt.name, got, more, tt.want, tt.wantMore)
			}
		}
		msgs, _, _ := s.Messages(ctx, r.ID, chat.MessageQuery{After: 6, Limit: 1})
		if msgs[0].Content != "m7" || msgs[0].RoomID != r.ID || msgs[0].ID == "" {
			t.Fatalf("got %+v, want message m7 of room %s", msgs[0], r.ID)
		}
		_, _, err := s.Messages(ctx, chat.NewRoomID(), chat.MessageQuery{Limit: 5})
		wantCode(t, err, chat.CodeRoomNotFound)
	})
}

func TestReadMarksAndCounters(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		r := mustRoom(t, s, time.Now())
		for range 3 {
			mustSend(t, s, r.ID, chat.SenderVisitor, "question") // 1, 2, 3
		}
		mustSend(t, s, r.ID, chat.SenderAdmin, "answer") // 4
		mustSend(t, s, r.ID, chat.SenderAdmin, "more")   // 5
		checkRoom := func(step string, unread, visitorUnread, adminRead, visitorRead int64) chat.Room {
			t.Helper()
			got := mustGetRoom(t, s, r.ID)
			if got.Unread != unread || got.VisitorUnread != visitorUnread || got.AdminReadSeq != adminRead || got.VisitorReadSeq != visitorRead {
				t.Fatalf("%s: got unread %d visitorUnread %d adminRead %d visitorRead %d, want %d %d %d %d", step,
					got.Unread, got.VisitorUnread, got.AdminReadSeq, got.VisitorReadSeq, unread, visitorUnread, adminRead, visitorRead)
			}
			return got
		}
		checkRoom("after sends", 3, 2, 0, 0)
		if page, _ := s.ListRooms(ctx, chat.RoomQuery{Filter: chat.FilterUnread, Limit: 10}); len(page.Rooms) != 1 || page.UnreadRooms != 1 {
			t.Fatalf("got %d unread rooms (count %d), want 1 1", len(page.Rooms), page.UnreadRooms)
		}

		got, moved, err := s.MarkRead(ctx, r.ID, chat.SenderAdmin, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got.Unread != 1 || got.AdminReadSeq != 2 || !moved {
			t.Fatalf("admin read to 2: got unread %d mark %d moved %v, want 1 2 true", got.Unread, got.AdminReadSeq, moved)
		}
		checkRoom("admin read to 2", 1, 2, 2, 0)
		if _, moved, err := s.MarkRead(ctx, r.ID, chat.SenderAdmin, 1); err != nil || moved {
			t.Fatalf("admin read down to 1: got moved %v, %v; want false", moved, err)
		}
		checkRoom("admin read down to 1 (ignored)", 1, 2, 2, 0)
		if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderAdmin, 0); err != nil {
			t.Fatal(err)
		}
		checkRoom("admin read all", 0, 2, 5, 0)
		if page, _ := s.ListRooms(ctx, chat.RoomQuery{Filter: chat.FilterUnread, Limit: 10}); len(page.Rooms) != 0 || page.UnreadRooms != 0 {
			t.Fatalf("got %d unread rooms (count %d), want 0 0", len(page.Rooms), page.UnreadRooms)
		}

		// The visitor's 0 is "nothing read yet", never "everything".
		if _, moved, err := s.MarkRead(ctx, r.ID, chat.SenderVisitor, 0); err != nil || moved {
			t.Fatalf("visitor read 0: got moved %v, %v; want false", moved, err)
		}
		checkRoom("visitor read 0 (nothing)", 0, 2, 5, 0)
		if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderVisitor, 4); err != nil {
			t.Fatal(err)
		}
		checkRoom("visitor read to 4", 0, 1, 5, 4)
		if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderVisitor, 100); err != nil {
			t.Fatal(err)
		}
		checkRoom("visitor read beyond the end", 0, 0, 5, 5)

		// The sender's own messages never count as unread for its side.
		mustSend(t, s, r.ID, chat.SenderAdmin, "reply") // 6
		checkRoom("admin reply", 0, 1, 5, 5)
		mustSend(t, s, r.ID, chat.SenderVisitor, "thanks") // 7
		checkRoom("visitor reply", 1, 1, 5, 5)
		if page, _ := s.ListRooms(ctx, chat.RoomQuery{Filter: chat.FilterUnread, Limit: 10}); len(page.Rooms) != 1 {
			t.Fatalf("got %d unread rooms, want 1", len(page.Rooms))
		}

		_, _, err = s.MarkRead(ctx, chat.NewRoomID(), chat.SenderAdmin, 0)
		wantCode(t, err, chat.CodeRoomNotFound)
	})
}

func TestBlocked(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		r := mustRoom(t, s, time.Now())
		got, err := s.SetBlocked(ctx, r.ID, true, time.Time{})
		if err != nil || !got.Blocked {
			t.Fatalf("block: got blocked=%v err=%v, want true nil", got.Blocked, err)
		}
		_, _, err = s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "let me in", time.Now()), chat.AppendOptions{})
		wantCode(t, err, chat.CodeForbidden)
		mustSend(t, s, r.ID, chat.SenderAdmin, "you are blocked")
		if room := mustGetRoom(t, s, r.ID); room.MessageCount != 1 || !room.Blocked {
			t.Fatalf("got count %d blocked %v, want 1 true", room.MessageCount, room.Blocked)
		}
		if _, err := s.SetBlocked(ctx, r.ID, false, time.Time{}); err != nil {
			t.Fatal(err)
		}
		mustSend(t, s, r.ID, chat.SenderVisitor, "sorry")

		// A retry looking up an earlier send is refused in a blocked room too.
		if _, _, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "kept", time.Now()), chat.AppendOptions{ClientID: "c-kept"}); err != nil {
			t.Fatal(err)
		}
		if m, ok, err := s.Sent(ctx, r.ID, "c-kept"); err != nil || !ok || m.Content != "kept" {
			t.Fatalf("sent, unblocked: got %q ok=%v err=%v, want kept true nil", m.Content, ok, err)
		}
		if _, err := s.SetBlocked(ctx, r.ID, true, time.Time{}); err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Sent(ctx, r.ID, "c-kept")
		wantCode(t, err, chat.CodeForbidden)

		_, err = s.SetBlocked(ctx, chat.NewRoomID(), true, time.Time{})
		wantCode(t, err, chat.CodeRoomNotFound)
		_, _, err = s.Append(ctx, newMessage(chat.NewRoomID(), chat.SenderVisitor, "hello?", time.Now()), chat.AppendOptions{})
		wantCode(t, err, chat.CodeRoomNotFound)
		_, err = s.Room(ctx, chat.NewRoomID())
		wantCode(t, err, chat.CodeRoomNotFound)
	})
}

// TestBlockedRefusesVisitorWrites checks each visitor write a block refuses
// in the scripts themselves (typing, details, deleting), that the admins'
// are not, and that the block's marker outlives the room until an unblock.
func TestBlockedRefusesVisitorWrites(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		now := chat.Time{Time: time.Now()}
		r, err := s.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), CreatedAt: now, UpdatedAt: now}) // no details yet
		if err != nil {
			t.Fatal(err)
		}
		if blocked, err := s.WasBlocked(ctx, r.ID); err != nil || blocked {
			t.Fatalf("before a block: got %v %v, want false nil", blocked, err)
		}
		until := time.Now().Add(time.Hour).Truncate(time.Millisecond)
		got, err := s.SetBlocked(ctx, r.ID, true, until)
		if err != nil || got.IPBlockedUntil == nil || !got.IPBlockedUntil.Equal(until) {
			t.Fatalf("block: got %+v %v, want ipBlockedUntil %v", got.IPBlockedUntil, err, until)
		}
		_, err = s.Typing(ctx, r.ID, chat.SenderVisitor, time.Millisecond)
		wantCode(t, err, chat.CodeForbidden)
		if _, err := s.Typing(ctx, r.ID, chat.SenderAdmin, time.Millisecond); err != nil {
			t.Fatalf("admin typing: %v", err)
		}
		_, err = s.FillVisitor(ctx, r.ID, chat.NewRoom{Email: "x@example.com"})
		wantCode(t, err, chat.CodeForbidden)
		wantCode(t, s.DeleteRoom(ctx, r.ID, chat.SenderVisitor), chat.CodeForbidden)
		if room := mustGetRoom(t, s, r.ID); room.VisitorEmail != "" || !room.Blocked {
			t.Fatalf("after refused writes: got %+v", room)
		}
		// The admins may delete it; the block is still known.
		if err := s.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		if blocked, err := s.WasBlocked(ctx, r.ID); err != nil || !blocked {
			t.Fatalf("after the delete: got %v %v, want true nil", blocked, err)
		}

		// An unblock forgets the marker, and the IP block of the room.
		r2 := mustRoom(t, s, time.Now())
		if _, err := s.SetBlocked(ctx, r2.ID, true, until); err != nil {
			t.Fatal(err)
		}
		got, err = s.SetBlocked(ctx, r2.ID, false, time.Time{})
		if err != nil || got.Blocked || got.IPBlockedUntil != nil {
			t.Fatalf("unblock: got %+v %v", got, err)
		}
		if blocked, err := s.WasBlocked(ctx, r2.ID); err != nil || blocked {
			t.Fatalf("after an unblock: got %v %v, want false nil", blocked, err)
		}

		// Client keys.
		for _, key := range []string{"203.0.113.9", "2001:db8:1:2::/64"} {
			if err := s.BlockClient(ctx, key, time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if blocked, err := s.ClientBlocked(ctx, key); err != nil || !blocked {
				t.Fatalf("%s blocked: got %v %v", key, blocked, err)
			}
			if err := s.UnblockClient(ctx, key); err != nil {
				t.Fatal(err)
			}
			if blocked, err := s.ClientBlocked(ctx, key); err != nil || blocked {
				t.Fatalf("%s unblocked: got %v %v", key, blocked, err)
			}
		}
	})
}

func TestDeleteRoomLeavesNoKey(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
		r := mustRoom(t, s, time.Now())
		if _, _, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "hi", time.Now()), chat.AppendOptions{ClientID: "c1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddNote(ctx, chat.Note{ID: "n1", RoomID: r.ID, Author: "ana", Content: "private"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetRoomLabels(ctx, r.ID, []string{"l_aaaaaaaaaa"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Assign(ctx, r.ID, &chat.AgentRef{Username: "ana", DisplayName: "Ana"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetStatus(ctx, r.ID, chat.StatusPending, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// room, msgs, dedup, senders, notes, outbox; the partition's all,
		// unread, pending, snoozed and label indexes, its view sizes, its
		// placements hash and its logged events' numbers; and the search
		// index's.
		if err := s.CatchUpSearch(ctx); err != nil {
			t.Fatal(err)
		}
		var room, search []string
		for _, k := range roomKeys(t, c, prefix) {
			if strings.HasPrefix(k, prefix+"search:") || strings.HasSuffix(k, ":terms") {
				search = append(search, k)
			} else {
				room = append(room, k)
			}
		}
		if len(room) != 14 || !slices.Contains(search, s.SearchTermKey(r.ID, "hi")) || !slices.Contains(search, prefix+"room:{"+r.ID+"}:terms") {
			t.Fatalf("before delete: got keys %v and %v, want 14 and the search index's", room, search)
		}
		if err := s.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		// Only the room's tombstone is left, in its partition's placements.
		wantOnlyTombstone(t, c, prefix, r.ID)
		_, err := s.Room(ctx, r.ID)
		wantCode(t, err, chat.CodeRoomNotFound)
		wantCode(t, s.DeleteRoom(ctx, r.ID, chat.SenderAdmin), chat.CodeRoomNotFound)
	})
}

// TestRoomTTLBetweenRefreshes: a send soon after the last refresh of the
// room's TTL skips it, but a key it makes (the dedup hash of the first
// clientId) still expires with the room.
func TestRoomTTLBetweenRefreshes(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
		r := mustRoom(t, s, time.Now())
		mustSend(t, s, r.ID, chat.SenderVisitor, "first, without a clientId")
		if _, _, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "then with one", time.Now()), chat.AppendOptions{ClientID: "c1"}); err != nil {
			t.Fatal(err)
		}
		room := c.PTTL(ctx, prefix+"room:{"+r.ID+"}").Val()
		dedup := c.PTTL(ctx, prefix+"room:{"+r.ID+"}:dedup").Val()
		if room <= time.Hour-time.Minute || room > time.Hour+36*time.Second {
			t.Fatalf("room TTL %v, want the hour and at most its 36 s slack", room)
		}
		if dedup <= 0 || dedup > room {
			t.Fatalf("dedup TTL %v, want the room's (%v)", dedup, room)
		}
	})
}

func TestRoomTTL(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Second})
		r := mustRoom(t, s, time.Now())
		if _, _, err := s.Append(ctx, newMessage(r.ID, chat.SenderVisitor, "hi", time.Now()), chat.AppendOptions{ClientID: "c1"}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"room:{" + r.ID + "}", "room:{" + r.ID + "}:msgs", "room:{" + r.ID + "}:dedup", "room:{" + r.ID + "}:senders"} {
			// The TTL and its slack: 1% of it (send.lua).
			if ttl := c.PTTL(ctx, prefix+k).Val(); ttl <= 0 || ttl > time.Second+10*time.Millisecond {
				t.Fatalf("%s: got TTL %v, want within (0, 1.01s]", k, ttl)
			}
		}
		time.Sleep(600 * time.Millisecond)
		mustSend(t, s, r.ID, chat.SenderVisitor, "still here") // refreshes every key
		if ttl := c.PTTL(ctx, prefix+"room:{"+r.ID+"}:dedup").Val(); ttl < 700*time.Millisecond {
			t.Fatalf("after a write: got dedup TTL %v, want it refreshed to about 1s", ttl)
		}
		// The embedded server expires keys up to one clock tick early, so the
		// room may be gone a moment before its index entry is out of date:
		// wait until both are.
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := s.Room(ctx, r.ID)
			page, lerr := s.ListRooms(ctx, chat.RoomQuery{Limit: 10})
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(page.Rooms) > 0 && chat.ErrorCode(err) == chat.CodeRoomNotFound {
				t.Fatalf("got an expired room listed")
			}
			if chat.ErrorCode(err) == chat.CodeRoomNotFound && page.UnreadRooms == 0 && len(page.Rooms) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("5 s after its 1 s TTL: got room error %v, %d rooms listed, %d unread; want the room gone and unlisted",
					err, len(page.Rooms), page.UnreadRooms)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The search index is emptied of the room by the sweeper (which
		// runs every minute); its terms outlive the room for that.
		if left := roomKeys(t, c, prefix); !slices.Contains(left, prefix+"room:{"+r.ID+"}:terms") {
			t.Fatalf("got keys %v, want the room's terms kept for the sweeper", left)
		}
		if n, err := s.SweepSearch(ctx, time.Now().Add(time.Second), 10); err != nil || n != 1 {
			t.Fatalf("sweep: got %d, %v, want 1 room", n, err)
		}
		// The reconciler finds the room gone and leaves its tombstone.
		if _, err := s.ReconcileOnce(ctx); err != nil {
			t.Fatal(err)
		}
		wantOnlyTombstone(t, c, prefix, r.ID)
	})
}

// wantOnlyTombstone fails unless the only key under prefix is the
// placements hash of the room's partition, holding the room's tombstone.
func wantOnlyTombstone(t *testing.T, c redis.UniversalClient, prefix, roomID string) {
	t.Helper()
	place := prefix + "rooms:{" + redisstore.IndexTag(redisstore.PartitionOf(roomID)) + "}:place"
	// The partition's record of the room's logged events stays with the
	// tombstone (and is pruned with it).
	logged := prefix + "rooms:{" + redisstore.IndexTag(redisstore.PartitionOf(roomID)) + "}:logged"
	left := slices.DeleteFunc(roomKeys(t, c, prefix), func(k string) bool { return k == logged })
	if len(left) != 1 || left[0] != place {
		t.Fatalf("got keys %v, want every key of the room and its index entries gone but its tombstone in %s", left, place)
	}
	if v := c.HGet(context.Background(), place, roomID).Val(); !strings.HasPrefix(v, "D|") {
		t.Fatalf("%s of %s: %q, want its tombstone", place, roomID, v)
	}
}

func TestListRoomsPaging(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		base := time.Now().Truncate(time.Millisecond)
		type entry struct {
			id string
			at int64
		}
		var all []entry
		// 9 rooms share one millisecond, 4 have their own.
		for i := range 13 {
			at := base
			if i >= 9 {
				at = base.Add(time.Duration(i) * time.Millisecond)
			}
			r := mustRoom(t, s, at)
			all = append(all, entry{r.ID, at.UnixMilli()})
		}
		sort.Slice(all, func(i, j int) bool {
			if all[i].at != all[j].at {
				return all[i].at > all[j].at
			}
			return all[i].id > all[j].id
		})
		var want, got []string
		for _, e := range all {
			want = append(want, e.id)
		}
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("too many pages")
			}
			page, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 4, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rooms {
				got = append(got, r.ID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got order\n%v\nwant\n%v", got, want)
		}

		// The cursor room moves to the top between two pages: the next page
		// still starts right after where it was, skipping and repeating none.
		page1, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		moved := page1.Rooms[4].ID
		if _, _, err := s.Append(ctx, newMessage(moved, chat.SenderAdmin, "bump", base.Add(time.Hour)), chat.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		page2, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 5, Cursor: page1.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range page2.Rooms {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, want[5:10]) {
			t.Fatalf("after the cursor room moved: got %v, want %v", ids, want[5:10])
		}

		// Unread filter: only rooms with visitor messages not read by admins.
		for i, id := range []string{want[7], want[2]} {
			if _, _, err := s.Append(ctx, newMessage(id, chat.SenderVisitor, "hello", base.Add(time.Duration(2+i)*time.Hour)), chat.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		unread, err := s.ListRooms(ctx, chat.RoomQuery{Filter: chat.FilterUnread, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(unread.Rooms) != 1 || unread.Rooms[0].ID != want[2] || unread.UnreadRooms != 2 || unread.NextCursor == "" {
			t.Fatalf("unread page 1: got %v count %d, want [%s] count 2 and a cursor", unread.Rooms, unread.UnreadRooms, want[2])
		}
		unread, err = s.ListRooms(ctx, chat.RoomQuery{Filter: chat.FilterUnread, Limit: 1, Cursor: unread.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(unread.Rooms) != 1 || unread.Rooms[0].ID != want[7] || unread.NextCursor != "" {
			t.Fatalf("unread page 2: got %v cursor %q, want [%s] and no cursor", unread.Rooms, unread.NextCursor, want[7])
		}

		for _, bad := range []string{"!!!", "bm90LWEtY3Vyc29y"} {
			_, err = s.ListRooms(ctx, chat.RoomQuery{Limit: 5, Cursor: bad})
			wantCode(t, err, chat.CodeInvalid)
		}
	})
}

// withoutRaw is m without the stored JSON a read keeps (chat.Message.Raw),
// to compare it with a message built in Go.
func withoutRaw(m chat.Message) chat.Message {
	m.Raw = ""
	return m
}

// TestListTiesInOnePartition: many rooms of one partition updated in the
// same millisecond page in id order, each once, though the rooms already
// listed come first in a read after the cursor (the plain read's ties:
// the partition is then paged by list.lua).
func TestListTiesInOnePartition(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{RoomTTL: time.Hour})
		at := time.Now().Truncate(time.Millisecond)
		var want []string
		for len(want) < 30 {
			id := chat.NewRoomID()
			if redisstore.PartitionOf(id) != 3 {
				continue
			}
			if _, err := s.CreateRoom(ctx, chat.Room{ID: id, VisitorName: "Tie",
				CreatedAt: chat.Time{Time: at}, UpdatedAt: chat.Time{Time: at}}); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(want)))
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("too many pages; so far %v", got)
			}
			page, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 4, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rooms {
				got = append(got, r.ID)
			}
			if page.Counts.All != 30 {
				t.Fatalf("counts: %+v, want 30 rooms", page.Counts)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got order\n%v\nwant\n%v", got, want)
		}
	})
}

package redisstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// roomSnapshot is a room's keys as they stood (DUMP), to put them back as
// a failover that lost the writes since would (Redis replicates
// asynchronously: a promoted replica may lack a primary's last writes).
type roomSnapshot struct {
	c      redis.UniversalClient
	prefix string // of the room's keys
	dumps  map[string]string
	ttls   map[string]time.Duration
}

func snapshotRoom(t *testing.T, c redis.UniversalClient, prefix, roomID string) *roomSnapshot {
	t.Helper()
	ctx := context.Background()
	snap := &roomSnapshot{c: c, prefix: prefix + "room:{" + roomID + "}", dumps: map[string]string{}, ttls: map[string]time.Duration{}}
	for _, k := range keysWithPrefix(t, c, snap.prefix) {
		d, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		snap.dumps[k], snap.ttls[k] = d, max(c.PTTL(ctx, k).Val(), 0)
	}
	if len(snap.dumps) == 0 {
		t.Fatalf("no keys under %s", snap.prefix)
	}
	return snap
}

// restore puts the room back as it was: the writes since are lost.
func (snap *roomSnapshot) restore(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, k := range keysWithPrefix(t, snap.c, snap.prefix) {
		if _, ok := snap.dumps[k]; !ok {
			snap.c.Del(ctx, k)
		}
	}
	for k, d := range snap.dumps {
		if err := snap.c.RestoreReplace(ctx, k, snap.ttls[k], d).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEventsAfterRollback: a failover that loses a room's last writes
// (its room's slot rolled back, its partition's not) turns its event
// numbers back, and its next events reuse numbers the partition logged
// already. They are new events all the same: each is logged and published
// once, by the write's own follow-up, by the reconciler when that was
// lost, by a retried send, or by the next write's when it came first; and
// the room's next writes still move it in the room list.
func TestEventsAfterRollback(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		if strings.HasSuffix(t.Name(), "/embedded") {
			// Its DUMP holds strings only; and one embedded server has no
			// replica to fail over to.
			t.Skip("the embedded server cannot DUMP a room")
		}
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
		hub := startBridge(t, s)
		admin := subscribeAdmin(t, hub)
		defer admin.Close()
		r := mustRoom(t, s, time.Now())
		other := mustRoom(t, s, time.Now())
		logKey := s.LogKey(redisstore.PartitionOf(r.ID))
		logged := func() []string {
			t.Helper()
			entries, err := c.XRange(ctx, logKey, "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range entries {
				raw, _ := e.Values["e"].(string)
				if i := strings.Index(raw, `"content":"`); i >= 0 && strings.Contains(raw, `"roomId":"`+r.ID+`"`) && strings.Contains(raw, `"type":"message"`) {
					out = append(out, raw[i+11:i+13])
				}
			}
			return out
		}
		// streamed waits for the room's message content on the bridge.
		streamed := func(content string) {
			t.Helper()
			deadline := time.After(5 * time.Second)
			for {
				select {
				case ev := <-admin.Events():
					if ev.Type == chat.EventMessage && ev.RoomID == r.ID && ev.Message.Content == content {
						return
					}
				case <-deadline:
					t.Fatalf("message %s of the rolled-back room was not published within 5 s; log %v", content, logged())
				}
			}
		}
		first := func() string {
			t.Helper()
			page, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 10})
			if err != nil || len(page.Rooms) == 0 {
				t.Fatalf("list: %v, %v", page, err)
			}
			return page.Rooms[0].ID
		}
		lose := func(contents ...string) {
			t.Helper()
			snap := snapshotRoom(t, c, prefix, r.ID)
			for _, m := range contents {
				mustSend(t, s, r.ID, chat.SenderVisitor, m)
				streamed(m)
			}
			mustSend(t, s, other.ID, chat.SenderVisitor, "o"+contents[0])
			snap.restore(t)
			time.Sleep(5 * time.Millisecond) // the next write is later
		}

		mustSend(t, s, r.ID, chat.SenderVisitor, "m1")
		streamed("m1")
		// The follow-up of the write after the loss logs it.
		lose("x1", "x2")
		mustSend(t, s, r.ID, chat.SenderVisitor, "m2")
		streamed("m2")
		if id := first(); id != r.ID {
			t.Errorf("after the rollback and a new message, the list starts with %s; want the room that has it, %s", id, r.ID)
		}
		// Its follow-up lost too: the reconciler logs it.
		lose("x3")
		s.DropFollowUps(true)
		mustSend(t, s, r.ID, chat.SenderVisitor, "m3")
		s.DropFollowUps(false)
		if _, err := s.ReconcileOnce(ctx); err != nil {
			t.Fatal(err)
		}
		streamed("m3")
		// A send whose follow-up was lost, retried by its client.
		lose("x4", "x5")
		s.DropFollowUps(true)
		m := newMessage(r.ID, chat.SenderVisitor, "m4", time.Now())
		if _, _, err := s.Append(ctx, m, chat.AppendOptions{ClientID: "c4"}); err != nil {
			t.Fatal(err)
		}
		s.DropFollowUps(false)
		if _, stored, err := s.Append(ctx, m, chat.AppendOptions{ClientID: "c4"}); err != nil || stored {
			t.Fatalf("retry: stored %v, %v; want the dup", stored, err)
		}
		streamed("m4")
		mustSend(t, s, r.ID, chat.SenderVisitor, "m5")
		streamed("m5")
		// Two writes after the loss, the second's follow-up first (the
		// first's lost): the second, numbered one past what the partition
		// logged, does not follow the event logged there (its stamp before
		// is the first's), so both are logged, in order.
		lose("x6")
		s.DropFollowUps(true)
		mustSend(t, s, r.ID, chat.SenderVisitor, "m6")
		s.DropFollowUps(false)
		mustSend(t, s, r.ID, chat.SenderVisitor, "m7")
		streamed("m6")
		streamed("m7")
		want := []string{"m1", "x1", "x2", "m2", "x3", "m3", "x4", "x5", "m4", "m5", "x6", "m6", "m7"}
		if got := logged(); !slices.Equal(got, want) {
			t.Errorf("the partition's log: %v; want %v (each once, the lost ones included: they were published)", got, want)
		}
		if id := first(); id != r.ID {
			t.Errorf("at the end, the list starts with %s; want %s", id, r.ID)
		}
	})
}

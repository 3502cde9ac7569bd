package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// startBridge runs s.Run into a new hub until the test ends, and waits for
// the subscription.
func startBridge(t *testing.T, s *redisstore.Store) *chat.Hub {
	t.Helper()
	hub := chat.NewHub(64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, hub, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: got %v, want nil after ctx ends", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("run did not return after ctx ended")
		}
		hub.Close()
	})
	waitFor(t, "the bridge to subscribe", s.Subscribed)
	return hub
}

// resubscribed checks that the subscription open across a loss of the
// bridge was ended by it, before the bridge subscribed again (its stream
// resumes from the stored events), and returns a new one.
func resubscribed(t *testing.T, hub *chat.Hub, old *chat.Subscription) *chat.Subscription {
	t.Helper()
	select {
	case <-old.Done():
	default:
		t.Fatal("a subscription open across the bridge's loss is still open after it subscribed again; want it ended")
	}
	old.Close()
	return subscribeAdmin(t, hub)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func nextEvent(t *testing.T, sub *chat.Subscription) chat.Event {
	t.Helper()
	select {
	case ev := <-sub.Events():
		return ev
	case <-sub.Done():
		t.Fatalf("subscription ended")
	case <-time.After(5 * time.Second):
		t.Fatalf("no event within 5 s")
	}
	return chat.Event{}
}

func TestBridgeDelivers(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		hub := startBridge(t, s)
		admin := subscribeAdmin(t, hub)
		defer admin.Close()
		r := mustRoom(t, s, time.Now())
		if ev := nextEvent(t, admin); ev.Type != chat.EventRoom || ev.Room == nil || ev.Room.ID != r.ID ||
			ev.Room.VisitorName != "Jane" || !ev.Room.CreatedAt.Equal(r.CreatedAt.Time) {
			t.Fatalf("got %+v, want the new room's event", ev)
		}
		visitor := subscribeRoom(t, hub, r.ID)
		defer visitor.Close()

		m := mustSend(t, s, r.ID, chat.SenderVisitor, `say "hi" \ <there>`)
		for _, sub := range []*chat.Subscription{admin, visitor} {
			ev := nextEvent(t, sub)
			if ev.Type != chat.EventMessage || ev.RoomID != r.ID || ev.Message == nil {
				t.Fatalf("got %+v, want the message event of %+v", ev, m)
			}
			// The stored JSON comes along (the streams write it): it is the
			// message, and so is what was read from it.
			got := *ev.Message
			var fromRaw chat.Message
			if err := json.Unmarshal([]byte(got.Raw), &fromRaw); err != nil || !reflect.DeepEqual(fromRaw, withoutRaw(m)) || got.Raw != m.Raw {
				t.Fatalf("raw %q (%v), want the JSON of %+v", got.Raw, err, m)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("got %+v, want the message event of %+v", ev, m)
			}
			if ev.Room == nil || ev.Room.ID != r.ID || ev.Room.MessageCount != 1 || ev.Room.Unread != 1 ||
				ev.Room.VisitorName != "Jane" || ev.Room.LastMessage == nil || ev.Room.LastMessage.Content != m.Content {
				t.Fatalf("got room %+v, want the room after the send", ev.Room)
			}
		}

		// Typing: one event per side and window, for the other side; the
		// second call is dropped (the admins' next event is the reply below).
		for i, from := range []chat.Sender{chat.SenderVisitor, chat.SenderVisitor, chat.SenderAdmin} {
			published, err := s.Typing(ctx, r.ID, from, time.Minute)
			if err != nil || published != (i != 1) {
				t.Fatalf("typing %d (%s): got published=%v err=%v", i+1, from, published, err)
			}
		}
		if ev := nextEvent(t, admin); ev.Type != chat.EventTyping || ev.RoomID != r.ID || ev.Sender != chat.SenderVisitor {
			t.Fatalf("got %+v, want the visitor's typing event", ev)
		}
		if ev := nextEvent(t, visitor); ev.Type != chat.EventTyping || ev.RoomID != r.ID || ev.Sender != chat.SenderAdmin {
			t.Fatalf("got %+v, want the admin's typing event", ev)
		}
		if _, err := s.Typing(ctx, chat.NewRoomID(), chat.SenderVisitor, time.Minute); !errors.Is(err, chat.ErrRoomNotFound) {
			t.Fatalf("typing in a missing room: got %v, want ErrRoomNotFound", err)
		}

		// The writes that change a room publish its event in the same script.
		roomEvent := func(what string, ok func(chat.Room) bool) {
			t.Helper()
			if ev := nextEvent(t, admin); ev.Type != chat.EventRoom || ev.Room == nil || ev.Room.ID != r.ID || !ok(*ev.Room) {
				t.Fatalf("%s: got %+v (room %+v), want the room event", what, ev, ev.Room)
			}
		}
		mustSend(t, s, r.ID, chat.SenderAdmin, "hello Jane")
		if ev := nextEvent(t, admin); ev.Type != chat.EventMessage {
			t.Fatalf("got %+v, want the reply", ev)
		}
		if ev := nextEvent(t, visitor); ev.Type != chat.EventMessage {
			t.Fatalf("got %+v, want the reply", ev)
		}
		if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderAdmin, 0); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, visitor); ev.Type != chat.EventRead || ev.Sender != chat.SenderAdmin || ev.Seq != 2 {
			t.Fatalf("got %+v, want the admins' read up to 2", ev)
		}
		roomEvent("admin read", func(got chat.Room) bool { return got.Unread == 0 && got.AdminReadSeq == 2 })
		if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderVisitor, 2); err != nil {
			t.Fatal(err)
		}
		roomEvent("visitor read", func(got chat.Room) bool { return got.VisitorUnread == 0 && got.VisitorReadSeq == 2 })
		if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderVisitor, 2); err != nil { // moves nothing: no event
			t.Fatal(err)
		}
		if _, err := s.FillVisitor(ctx, r.ID, chat.NewRoom{Name: "Not Jane"}); err != nil { // fills nothing: no event
			t.Fatal(err)
		}
		if _, err := s.SetBlocked(ctx, r.ID, true, time.Time{}); err != nil {
			t.Fatal(err)
		}
		roomEvent("block", func(got chat.Room) bool { return got.Blocked })
		now := chat.Time{Time: time.Now()}
		anon, err := s.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, admin); ev.Type != chat.EventRoom || ev.RoomID != anon.ID {
			t.Fatalf("got %+v, want the anonymous room's event", ev)
		}
		if _, err := s.FillVisitor(ctx, anon.ID, chat.NewRoom{Email: "kim@example.com"}); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, admin); ev.Type != chat.EventRoom || ev.Room == nil || ev.Room.ID != anon.ID || ev.Room.VisitorEmail != "kim@example.com" {
			t.Fatalf("got %+v, want the room with the email filled in", ev)
		}

		if err := s.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []*chat.Subscription{admin, visitor} {
			if ev := nextEvent(t, sub); ev.Type != chat.EventRoomDeleted || ev.RoomID != r.ID {
				t.Fatalf("got %+v, want room.deleted", ev)
			}
		}
	})
}

func TestBridgeSurvivesRedisRestart(t *testing.T) {
	t.Parallel()
	real := redistest.StartReal(t)
	s, _ := mustStore(t, real.Addr(), redisstore.Options{})
	hub := startBridge(t, s)
	admin := subscribeAdmin(t, hub)
	defer func() { admin.Close() }()
	gen := s.Generation()

	real.Stop()
	waitFor(t, "the bridge to notice Redis is gone", func() bool { return !s.Subscribed() })
	_, err := s.Room(context.Background(), chat.NewRoomID())
	if !isUnavailable(err) {
		t.Fatalf("with Redis down: got %v, want store_unavailable", err)
	}
	real.Start()
	waitFor(t, "the bridge to subscribe again", s.Subscribed)
	if s.Generation() == gen {
		t.Fatalf("got the same generation %d after resubscribing, want a new one", gen)
	}
	admin = resubscribed(t, hub, admin)

	r := mustRoom(t, s, time.Now()) // the pool recovered by itself
	if ev := nextEvent(t, admin); ev.Type != chat.EventRoom || ev.RoomID != r.ID {
		t.Fatalf("got %+v, want the room created after the restart", ev)
	}
	m := mustSend(t, s, r.ID, chat.SenderVisitor, "after the restart")
	if ev := nextEvent(t, admin); ev.Type != chat.EventMessage || ev.Message == nil || ev.Message.Seq != m.Seq {
		t.Fatalf("got %+v, want the message sent after the restart", ev)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: dials are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	_ = l.Close()
	// A server that accepts and never answers: only timeouts end a command.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()

	// A refused dial provably ran nothing (store_unavailable); a command sent
	// and never answered may have run (store_timeout). The same through a
	// cluster client with that one seed, which must first load the slot map
	// from it: bounded by the same timeouts, with the same codes.
	for name, tt := range map[string]struct {
		addr string
		code chat.Code
	}{"refused": {refused, chat.CodeUnavailable}, "silent": {silent.Addr().String(), chat.CodeTimeout},
		"cluster refused": {"redis-cluster://" + refused, chat.CodeUnavailable},
		"cluster silent":  {"redis-cluster://" + silent.Addr().String(), chat.CodeTimeout}} {
		addr := tt.addr
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, _ := mustStore(t, addr, redisstore.Options{})
			calls := map[string]func() error{
				"ping": func() error { return s.Ping(ctx) },
				"room": func() error { _, err := s.Room(ctx, chat.NewRoomID()); return err },
				"append": func() error {
					_, _, err := s.Append(ctx, newMessage(chat.NewRoomID(), chat.SenderVisitor, "x", time.Now()), chat.AppendOptions{})
					return err
				},
				"list": func() error { _, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 5}); return err },
				"allow": func() error {
					_, _, err := s.Allow(ctx, time.Now(), chat.Window{Key: "k", Limit: chat.Limit{N: 1, Per: time.Second}})
					return err
				},
				"visit": func() error { _, err := s.RecordVisit(ctx, chat.NewVisit{Path: "/"}, time.Now()); return err },
			}
			for call, fn := range calls {
				start := time.Now()
				err := fn()
				elapsed := time.Since(start)
				if got := chat.ErrorCode(err); got != tt.code {
					t.Errorf("%s: got %v, want %s", call, err, tt.code)
				}
				// The client's timeouts are part of the contract (503 within
				// about 2 s), so this bound checks configuration, not speed.
				if elapsed > 2500*time.Millisecond {
					t.Errorf("%s: took %v, want the client's timeouts to fail it within about 2 s", call, elapsed)
				}
			}
		})
	}
}

// TestPublishKeepsOrder: the events one instance publishes from Go
// (presence, a visitor's info, the hours) reach the bridge in the order
// published.
// On a cluster PUBLISH is keyless, so go-redis would send each to a random
// node, which forwards it over the cluster bus to the node of the bridge's
// subscription: two events sent one after the other to two nodes could
// arrive swapped (a visitor left showing "offline" while an admin is
// online). They go to the channel's node, where the bridge subscribes.
func TestPublishKeepsOrder(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		hub := startBridge(t, s)
		admin := subscribeAdmin(t, hub)
		defer admin.Close()
		const n = 60 // within the hub's buffer (64)
		for i := range n {
			if err := s.Publish(ctx, chat.Event{Type: chat.EventRoomDeleted, RoomID: fmt.Sprintf("r_order%03d", i)}); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
		for i := range n {
			if ev := nextEvent(t, admin); ev.Type != chat.EventRoomDeleted || ev.RoomID != fmt.Sprintf("r_order%03d", i) {
				t.Fatalf("event %d: got %s %s, want room.deleted r_order%03d", i, ev.Type, ev.RoomID, i)
			}
		}
	})
}

// subscribeAdmin subscribes to the admin events and waits until the
// subscription hears them all (on Cluster the bridge subscribes to the
// partitions' shard channels on demand), as an admin stream does.
func subscribeAdmin(t *testing.T, hub *chat.Hub) *chat.Subscription {
	t.Helper()
	return ready(t, hub.SubscribeAdmin())
}

// subscribeRoom is subscribeAdmin for a visitor's room.
func subscribeRoom(t *testing.T, hub *chat.Hub, roomID string) *chat.Subscription {
	t.Helper()
	return ready(t, hub.SubscribeRoom(roomID))
}

func ready(t *testing.T, sub *chat.Subscription) *chat.Subscription {
	t.Helper()
	select {
	case <-sub.Ready():
	case <-time.After(15 * time.Second): // a failover's promotion may come first
		t.Fatal("the subscription is not ready within 15 s")
	}
	select {
	case <-sub.Done():
		t.Fatal("the subscription ended before it was ready")
	default:
	}
	return sub
}

package redisstore_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// Two instances claiming the same due set at once take each due room once,
// and nothing that is not due yet.
func TestClaimNotifyOnce(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		a, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		b, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		now := time.Now()
		var due []string
		for i := 0; i < 40; i++ {
			id := chat.NewRoomID()
			due = append(due, id)
			if err := a.ScheduleNotify(ctx, id, chat.NotifyAgents, now.Add(-time.Second), ""); err != nil {
				t.Fatal(err)
			}
		}
		later := chat.NewRoomID()
		if err := a.ScheduleNotify(ctx, later, chat.NotifyAgents, now.Add(time.Hour), ""); err != nil {
			t.Fatal(err)
		}
		// A second schedule does not move the first due time (batching).
		if err := a.ScheduleNotify(ctx, due[0], chat.NotifyAgents, now.Add(time.Hour), ""); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var got []string
		var wg sync.WaitGroup
		for _, s := range []*redisstore.Store{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ids, err := claimIDs(ctx, s, chat.NotifyAgents, now, 3, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ids) == 0 {
						return
					}
					mu.Lock()
					got = append(got, ids...)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		sort.Strings(got)
		sort.Strings(due)
		if len(got) != len(due) {
			t.Fatalf("claimed %d rooms, want %d", len(got), len(due))
		}
		for i := range due {
			if got[i] != due[i] {
				t.Fatalf("claimed %v, want %v", got, due)
			}
		}
		// An agent's reply cancels the agents' entry.
		if err := a.ScheduleNotify(ctx, later, chat.NotifyVisitor, now, chat.NotifyAgents); err != nil {
			t.Fatal(err)
		}
		if ids, _ := claimIDs(ctx, a, chat.NotifyAgents, now.Add(2*time.Hour), 10, time.Minute); len(ids) != 0 {
			t.Errorf("after the cancel: claimed %v, want none", ids)
		}
		if ids, _ := claimIDs(ctx, a, chat.NotifyVisitor, now, 10, time.Minute); len(ids) != 1 || ids[0] != later {
			t.Errorf("visitor due: claimed %v, want [%s]", ids, later)
		}
	})
}

// claimIDs is ClaimNotify's room ids.
func claimIDs(ctx context.Context, s *redisstore.Store, kind chat.NotifyKind, now time.Time, max int, lease time.Duration) ([]string, error) {
	claims, err := s.ClaimNotify(ctx, kind, now, max, lease)
	ids := make([]string, len(claims))
	for i, c := range claims {
		ids[i] = c.RoomID
	}
	return ids, err
}

// The notified mark only goes up and makes no hash for a deleted room.
func TestMarkNotified(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		r := mustRoom(t, s, time.Now())
		for _, seq := range []int64{3, 2} {
			if err := s.MarkNotified(ctx, r.ID, chat.NotifyAgents, seq); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.NotifiedSeq(ctx, r.ID, chat.NotifyAgents); err != nil || n != 3 {
			t.Fatalf("notified seq: got %d, %v; want 3", n, err)
		}
		if err := s.DeleteRoom(ctx, r.ID, chat.SenderAdmin); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkNotified(ctx, r.ID, chat.NotifyVisitor, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Room(ctx, r.ID); !errors.Is(err, chat.ErrRoomNotFound) {
			t.Fatalf("room after a mark on the deleted room: got %v, want room_not_found", err)
		}
	})
}

// An agent counts online until the last heartbeat that named them ends.
func TestAgentsOnline(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		now := time.Now()
		if err := s.AgentsHeartbeat(ctx, []string{"dana", "sam"}, now, now.Add(9*time.Second)); err != nil {
			t.Fatal(err)
		}
		// Another instance that has only dana, with an earlier end, does not
		// shorten her presence.
		if err := s.AgentsHeartbeat(ctx, []string{"dana"}, now, now.Add(3*time.Second)); err != nil {
			t.Fatal(err)
		}
		on, err := s.AgentsOnline(ctx, now.Add(5*time.Second))
		if err != nil || !on["dana"] || !on["sam"] {
			t.Fatalf("at +5s: got %v, %v; want dana and sam", on, err)
		}
		if on, _ := s.AgentsOnline(ctx, now.Add(10*time.Second)); len(on) != 0 {
			t.Fatalf("at +10s: got %v, want nobody", on)
		}
	})
}

// Unsubscribes are per visitor room and per agent; setting a preference
// lifts the agent's, and a profile change keeps the account's generation.
func TestUnsubscribeAndProfile(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		room := chat.NewRoomID()
		if err := s.AddAdmin(ctx, chat.Admin{Username: "dana", DisplayName: "Dana", PasswordHash: []byte("h")}); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Admin(ctx, "dana")
		if err := s.UnsubscribeVisitor(ctx, room, chat.UnsubscribeTTL); err != nil {
			t.Fatal(err)
		}
		if err := s.UnsubscribeAgent(ctx, "dana"); err != nil {
			t.Fatal(err)
		}
		if off, _ := s.Unsubscribed(ctx, chat.NewRoomID(), ""); off {
			t.Error("another room's visitor: unsubscribed, want not")
		}
		if off, _ := s.Unsubscribed(ctx, chat.NewRoomID(), "dana"); !off {
			t.Error("dana in another room: not unsubscribed, want unsubscribed (agents unsubscribe from all)")
		}
		p := chat.AdminProfile{DisplayName: "Dana S", Email: "dana@acme.example", Notify: chat.NotifyAlways}
		if err := s.SetAdminProfile(ctx, "dana", p); err != nil {
			t.Fatal(err)
		}
		if off, _ := s.Unsubscribed(ctx, room, "dana"); off {
			t.Error("after a preference was set: still unsubscribed")
		}
		if off, _ := s.Unsubscribed(ctx, room, ""); !off {
			t.Error("the visitor's unsubscribe went with the agent's")
		}
		after, _ := s.Admin(ctx, "dana")
		if after.Email != p.Email || after.Notify != p.Notify || after.DisplayName != p.DisplayName ||
			after.Generation != before.Generation || string(after.PasswordHash) != "h" {
			t.Fatalf("after SetAdminProfile: got %+v, want the profile with generation %d and the password kept", after, before.Generation)
		}
		if err := s.SetAdminProfile(ctx, "nobody", p); !errors.Is(err, chat.ErrAdminUnknown) {
			t.Fatalf("unknown admin: got %v, want ErrAdminUnknown", err)
		}
	})
}

// claimUntil claims kind's due rooms until one comes back or the deadline
// passes (a lease ends on the server's clock, which the embedded server
// moves in ticks).
func claimUntil(t *testing.T, s *redisstore.Store, kind chat.NotifyKind, lease time.Duration) []chat.NotifyClaim {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		claims, err := s.ClaimNotify(context.Background(), kind, time.Now(), 10, lease)
		if err != nil {
			t.Fatal(err)
		}
		if len(claims) > 0 || time.Now().After(deadline) {
			return claims
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A claim is a lease: while it is held no one else takes the room; one
// never acknowledged (its notifier crashed) is taken again by another
// instance after the lease, and the stale holder's late ack does not end
// the new claim; one acknowledged is not taken again.
func TestClaimNotifyLease(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		a, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		b, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		// Longer than the embedded server's clock lags (250 ms ticks), so
		// "during the lease" is.
		const lease = time.Second
		crashed := chat.NewRoomID()
		if err := a.ScheduleNotify(ctx, crashed, chat.NotifyAgents, time.Now().Add(-time.Second), ""); err != nil {
			t.Fatal(err)
		}
		first, err := a.ClaimNotify(ctx, chat.NotifyAgents, time.Now(), 10, lease)
		if err != nil || len(first) != 1 || first[0].RoomID != crashed {
			t.Fatalf("first claim: got %v, %v; want [%s]", first, err, crashed)
		}
		// a "crashes": it never acknowledges. While its lease lasts, b
		// gets nothing.
		if got, err := b.ClaimNotify(ctx, chat.NotifyAgents, time.Now(), 10, lease); err != nil || len(got) != 0 {
			t.Fatalf("claim during the lease: got %v, %v; want none", got, err)
		}
		again := claimUntil(t, b, chat.NotifyAgents, time.Minute)
		if len(again) != 1 || again[0].RoomID != crashed {
			t.Fatalf("claim after the lease: got %v; want [%s]", again, crashed)
		}
		if again[0].Token == first[0].Token {
			t.Fatalf("the second claim has the first one's token %s", first[0].Token)
		}
		if ok, err := a.AckNotify(ctx, chat.NotifyAgents, first[0]); err != nil || ok {
			t.Fatalf("stale ack: got %v, %v; want false", ok, err)
		}
		if got, _ := a.ClaimNotify(ctx, chat.NotifyAgents, time.Now(), 10, lease); len(got) != 0 {
			t.Fatalf("after the stale ack: claimed %v, want none (b holds it)", got)
		}
		if ok, err := b.AckNotify(ctx, chat.NotifyAgents, again[0]); err != nil || !ok {
			t.Fatalf("ack: got %v, %v; want true", ok, err)
		}

		// Acknowledged: not taken again, even long after its lease.
		done := chat.NewRoomID()
		if err := a.ScheduleNotify(ctx, done, chat.NotifyVisitor, time.Now().Add(-time.Second), ""); err != nil {
			t.Fatal(err)
		}
		const short = 300 * time.Millisecond
		got := claimUntil(t, a, chat.NotifyVisitor, short)
		if len(got) != 1 || got[0].RoomID != done {
			t.Fatalf("claim: got %v, want [%s]", got, done)
		}
		if ok, err := a.AckNotify(ctx, chat.NotifyVisitor, got[0]); err != nil || !ok {
			t.Fatalf("ack: got %v, %v; want true", ok, err)
		}
		time.Sleep(3 * short)
		for _, s := range []*redisstore.Store{a, b} {
			if got, err := s.ClaimNotify(ctx, chat.NotifyVisitor, time.Now().Add(time.Hour), 10, short); err != nil || len(got) != 0 {
				t.Fatalf("after the ack and the lease: claimed %v, %v; want none", got, err)
			}
		}
	})
}

// A visitor who writes again while the room's claim is held schedules a
// new due time; the claim's ack keeps it, and the room is not taken by a
// second claimer before that ack.
func TestClaimNotifyRescheduleSurvivesAck(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		a, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		b, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		now := time.Now()
		id := chat.NewRoomID()
		if err := a.ScheduleNotify(ctx, id, chat.NotifyAgents, now.Add(-time.Second), ""); err != nil {
			t.Fatal(err)
		}
		held, err := a.ClaimNotify(ctx, chat.NotifyAgents, now, 10, time.Minute)
		if err != nil || len(held) != 1 {
			t.Fatalf("claim: got %v, %v; want one", held, err)
		}
		// The visitor writes again: due in a second.
		if err := b.ScheduleNotify(ctx, id, chat.NotifyAgents, now.Add(time.Second), ""); err != nil {
			t.Fatal(err)
		}
		if got, err := b.ClaimNotify(ctx, chat.NotifyAgents, now.Add(2*time.Second), 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("claim while held: got %v, %v; want none", got, err)
		}
		if ok, err := a.AckNotify(ctx, chat.NotifyAgents, held[0]); err != nil || !ok {
			t.Fatalf("ack: got %v, %v; want true", ok, err)
		}
		if got, err := b.ClaimNotify(ctx, chat.NotifyAgents, now, 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("claim before the new due time: got %v, %v; want none", got, err)
		}
		got, err := b.ClaimNotify(ctx, chat.NotifyAgents, now.Add(2*time.Second), 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].RoomID != id {
			t.Fatalf("claim at the new due time: got %v, %v; want [%s]", got, err, id)
		}
	})
}

// Claimers racing while rooms are scheduled again and again never hold
// one room at the same time.
func TestClaimNotifyNeverHeldTwice(t *testing.T) {
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		var rooms []string
		for i := 0; i < 5; i++ {
			rooms = append(rooms, chat.NewRoomID())
		}
		var mu sync.Mutex
		holder := map[string]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			s, _ := mustStore(t, addr, redisstore.Options{Prefix: prefix})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 60; i++ {
					if err := s.ScheduleNotify(ctx, rooms[i%len(rooms)], chat.NotifyAgents, time.Now().Add(-time.Second), ""); err != nil {
						t.Error(err)
						return
					}
					claims, err := s.ClaimNotify(ctx, chat.NotifyAgents, time.Now(), 2, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, c := range claims {
						if h, ok := holder[c.RoomID]; ok {
							t.Errorf("claimer %d took %s, which claimer %d holds", w, c.RoomID, h)
						}
						holder[c.RoomID] = w
					}
					mu.Unlock()
					// While held, the visitor writes again: due now.
					for _, c := range claims {
						if err := s.ScheduleNotify(ctx, c.RoomID, chat.NotifyAgents, time.Now().Add(-time.Second), ""); err != nil {
							t.Error(err)
						}
					}
					mu.Lock()
					for _, c := range claims {
						delete(holder, c.RoomID) // released before the ack
					}
					mu.Unlock()
					for _, c := range claims {
						if ok, err := s.AckNotify(ctx, chat.NotifyAgents, c); err != nil || !ok {
							t.Errorf("ack %s: got %v, %v; want true", c.RoomID, ok, err)
						}
					}
				}
			}()
		}
		wg.Wait()
	})
}

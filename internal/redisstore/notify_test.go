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
					ids, err := s.ClaimNotify(ctx, chat.NotifyAgents, now, 3)
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
		if ids, _ := a.ClaimNotify(ctx, chat.NotifyAgents, now.Add(2*time.Hour), 10); len(ids) != 0 {
			t.Errorf("after the cancel: claimed %v, want none", ids)
		}
		if ids, _ := a.ClaimNotify(ctx, chat.NotifyVisitor, now, 10); len(ids) != 1 || ids[0] != later {
			t.Errorf("visitor due: claimed %v, want [%s]", ids, later)
		}
	})
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
		for _, who := range [][2]string{{room, ""}, {room, "dana"}} {
			if err := s.Unsubscribe(ctx, who[0], who[1]); err != nil {
				t.Fatal(err)
			}
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

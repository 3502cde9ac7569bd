package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// TestAgentsStore: roles are stored and read back, an account without a
// role field (from before roles) reads as an owner, SetAgent and
// RemoveAgent keep an owner (nothing changes when they refuse) while the
// CLI's RemoveAdmin may remove the last one, and every change reaches the
// admin subscribers and the admin log as agent.updated or agent.removed,
// with no password hash in them.
func TestAgentsStore(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, rdb := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		hub := startBridge(t, s)
		sub := subscribeAdmin(t, hub)
		defer sub.Close()

		if err := s.AddAdmin(ctx, chat.Admin{Username: "olga", DisplayName: "Olga", PasswordHash: []byte("hash-olga")}); err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, sub)
		if ev.Type != chat.EventAgentUpdated || ev.Data().Agent == nil || *ev.Data().Agent != (chat.Agent{Username: "olga", DisplayName: "Olga", Role: chat.RoleOwner}) || ev.LogID == "" {
			t.Fatalf("after AddAdmin: got %+v (agent %+v), want agent.updated of olga, an owner, logged", ev, ev.Data().Agent)
		}
		if err := s.AddAdmin(ctx, chat.Admin{Username: "ann", DisplayName: "Ann", Email: "ann@acme.example", Role: chat.RoleAgent, PasswordHash: []byte("hash-ann")}); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, sub)
		if a, _ := s.Admin(ctx, "ann"); a.Role != chat.RoleAgent || a.Email != "ann@acme.example" || a.IsOwner() {
			t.Fatalf("ann: got %+v, want an agent with her email", a)
		}
		// An account from before roles: no role field at all.
		if err := rdb.HDel(ctx, prefix+"{team}:admin:olga", "role").Err(); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Admin(ctx, "olga"); a.Role != chat.RoleOwner {
			t.Fatalf("olga without a role field: got role %q, want owner", a.Role)
		}

		// olga is the only owner: she stays one.
		agent := chat.RoleAgent
		if _, err := s.SetAgent(ctx, "olga", chat.AgentChange{Role: &agent}); !errors.Is(err, chat.ErrLastOwner) {
			t.Fatalf("demoting the last owner: got %v, want ErrLastOwner", err)
		}
		if err := s.RemoveAgent(ctx, "olga"); !errors.Is(err, chat.ErrLastOwner) {
			t.Fatalf("removing the last owner: got %v, want ErrLastOwner", err)
		}
		if a, err := s.Admin(ctx, "olga"); err != nil || a.Role != chat.RoleOwner {
			t.Fatalf("olga after the refusals: got %+v, %v; want her, an owner", a, err)
		}
		if _, err := s.SetAgent(ctx, "nobody", chat.AgentChange{Role: &agent}); !errors.Is(err, chat.ErrAdminUnknown) {
			t.Fatalf("SetAgent of nobody: got %v, want ErrAdminUnknown", err)
		}
		if err := s.RemoveAgent(ctx, "nobody"); !errors.Is(err, chat.ErrAdminUnknown) {
			t.Fatalf("RemoveAgent of nobody: got %v, want ErrAdminUnknown", err)
		}

		// ann becomes an owner (and gets a new name): then olga may step down.
		owner, name := chat.RoleOwner, "Ann B."
		a, err := s.SetAgent(ctx, "ann", chat.AgentChange{Role: &owner, DisplayName: &name})
		if err != nil || a.Role != chat.RoleOwner || a.DisplayName != "Ann B." || a.Email != "ann@acme.example" || string(a.PasswordHash) != "hash-ann" {
			t.Fatalf("promoting ann: got %+v, %v; want an owner named Ann B., email and password kept", a, err)
		}
		if ev := nextEvent(t, sub); ev.Type != chat.EventAgentUpdated || ev.Data().Agent == nil || ev.Data().Agent.Role != chat.RoleOwner || ev.Data().Agent.DisplayName != "Ann B." {
			t.Fatalf("after the promotion: got %+v", ev)
		}
		if _, err := s.SetAgent(ctx, "olga", chat.AgentChange{Role: &agent}); err != nil {
			t.Fatalf("demoting olga with ann an owner: %v", err)
		}
		nextEvent(t, sub)
		if err := s.RemoveAgent(ctx, "olga"); err != nil {
			t.Fatalf("removing olga, an agent: %v", err)
		}
		if ev := nextEvent(t, sub); ev.Type != chat.EventAgentRemoved || ev.Username != "olga" || ev.LogID == "" {
			t.Fatalf("after RemoveAgent: got %+v, want agent.removed of olga, logged", ev)
		}
		// The CLI may remove the last owner.
		if err := s.RemoveAdmin(ctx, "ann"); err != nil {
			t.Fatalf("RemoveAdmin of the last owner: %v", err)
		}
		if list, _ := s.Admins(ctx); len(list) != 0 {
			t.Fatalf("after removing everyone: got %+v", list)
		}

		// The log holds each change once (the refused ones not at all), as
		// it went out, and no password hash.
		entries, err := rdb.XRange(ctx, prefix+"adminlog:{team}", "-", "+").Result()
		if err != nil || len(entries) != 6 {
			t.Fatalf("team log: got %d entries, %v; want 6 (2 added, 2 changed, 2 removed)", len(entries), err)
		}
		after := make(chat.AdminVector, redisstore.AdminLogs)
		if !after.Advance(fmt.Sprintf("%d:%s", redisstore.TeamLog, entries[0].ID)) {
			t.Fatal("the vector does not take the team log's entry")
		}
		evs, ok, err := s.AdminEventsAfter(ctx, after.String(), 10)
		if err != nil || !ok || len(evs) != 5 || evs[0].Data().Agent == nil || evs[0].Data().Agent.Username != "ann" || evs[4].Type != chat.EventAgentRemoved || evs[4].Username != "ann" {
			t.Fatalf("replayed after the first: got %d events %+v, ok %v, %v", len(evs), evs, ok, err)
		}
		for _, e := range entries {
			if raw, _ := e.Values["e"].(string); strings.Contains(raw, "hash-") || strings.Contains(raw, "passwordHash") {
				t.Fatalf("admin log entry %s carries the password hash: %s", e.ID, raw)
			}
		}
	})
}

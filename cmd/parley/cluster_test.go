package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// openStream opens an SSE stream of app (with Last-Event-ID when lastID is
// set) and returns its events; the channel closes when the stream ends or
// ctx is done. It never drops an event: the reader waits for the test.
func openStream(tb testing.TB, ctx context.Context, app *testApp, path, token, lastID string) <-chan sseEvent {
	tb.Helper()
	events, status := dialStream(ctx, app, path, token, lastID)
	if status != 200 {
		tb.Fatalf("stream %s: got %d, want 200 (0: no answer)", path, status)
	}
	return events
}

// streamMessage is the part of a message event the cluster tests check.
type streamMessage struct {
	RoomID  string `json:"roomId"`
	Seq     int64  `json:"seq"`
	Sender  string `json:"sender"`
	Content string `json:"content"`
}

// nextMessages reads the stream until it has n message events (any other
// event is skipped, its id kept) and returns them with the last id seen.
func nextMessages(tb testing.TB, events <-chan sseEvent, n int, lastID string) ([]streamMessage, string) {
	tb.Helper()
	var got []streamMessage
	timeout := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case ev, ok := <-events:
			if !ok {
				tb.Fatalf("the stream ended after %d of %d messages", len(got), n)
			}
			if ev.ID != "" && ev.Event != "reset" {
				lastID = ev.ID
			}
			if ev.Event == "reset" {
				tb.Fatalf("the stream sent reset (%s): it could not resume", ev.Data)
			}
			if ev.Event != "message" {
				continue
			}
			var m streamMessage
			if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
				tb.Fatalf("message event %q: %v", ev.Data, err)
			}
			got = append(got, m)
		case <-timeout:
			tb.Fatalf("got %d of %d messages within 20 s", len(got), n)
		}
	}
	return got, lastID
}

// waitFor reads the stream until an event of that type comes.
func waitFor(tb testing.TB, events <-chan sseEvent, event string) sseEvent {
	tb.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				tb.Fatalf("the stream ended before %q", event)
			}
			if ev.Event == event {
				return ev
			}
		case <-timeout:
			tb.Fatalf("no %q within 20 s", event)
		}
	}
}

// TestTwoInstancesOnCluster: two Parley instances on one real Redis
// Cluster (3 primaries, 3 replicas) serve one site: visitors talk through
// one instance, the agent works from the other, and every message reaches
// the streams of both once, whichever shard holds its room; the room list
// merges the partitions of every shard; an admin stream that reconnects
// with its last id gets exactly what it missed.
func TestTwoInstancesOnCluster(t *testing.T) {
	if !redistest.ClusterInstalled() {
		t.Skip("redis-server and redis-cli are needed for a local cluster")
	}
	cl := redistest.StartCluster(t)
	env := map[string]string{"PARLEY_REDIS_URL": cl.URL()}
	a := startTestApp(t, env)
	b := startTestApp(t, env)
	admin := b.adminToken(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	streamCtx, cut := context.WithCancel(ctx)
	adminEvents := openStream(t, streamCtx, b, "/api/v1/admin/events", admin, "")
	waitFor(t, adminEvents, "ready")

	const rooms = 9
	type visitor struct{ id, token string }
	var vs []visitor
	shards := map[string]bool{}
	for i := range rooms {
		id, tok := a.newVisitor(t, fmt.Sprintf("Visitor %d", i))
		vs = append(vs, visitor{id, tok})
		p, err := cl.PrimaryFor(ctx, "parley:room:{"+id+"}")
		if err != nil {
			t.Fatal(err)
		}
		shards[p] = true
		body := map[string]string{"content": fmt.Sprintf("hello from %d", i), "clientId": fmt.Sprintf("c%d", i)}
		if st := a.call(t, "POST", "/api/v1/rooms/"+id+"/messages", tok, body, nil); st != 201 {
			t.Fatalf("visitor %d's send through instance A: got %d, want 201", i, st)
		}
		// The retry of the same send stores nothing more.
		if st := a.call(t, "POST", "/api/v1/rooms/"+id+"/messages", tok, body, nil); st != 200 {
			t.Fatalf("visitor %d's retry: got %d, want 200", i, st)
		}
	}
	if len(shards) < 2 {
		t.Fatalf("the %d rooms landed on %d shard(s); want them spread", rooms, len(shards))
	}
	got, lastID := nextMessages(t, adminEvents, rooms, "")
	seen := map[string]bool{}
	for _, m := range got {
		key := m.RoomID + "/" + m.Content
		if seen[key] || m.Seq != 1 || m.Sender != "visitor" {
			t.Fatalf("instance B's admin stream: %+v (seen before: %v); want each visitor's one message once", m, seen[key])
		}
		seen[key] = true
	}

	// The room list on B merges every shard's partitions.
	var list struct {
		Rooms []struct {
			ID     string
			Unread int
		}
	}
	if st := b.call(t, "GET", "/api/v1/admin/rooms?limit=50", admin, nil, &list); st != 200 {
		t.Fatalf("list: got %d", st)
	}
	listed := map[string]int{}
	for _, r := range list.Rooms {
		listed[r.ID] = r.Unread
	}
	for _, v := range vs {
		if u, ok := listed[v.id]; !ok || u != 1 {
			t.Fatalf("room %s on instance B's list: present %v, unread %d; want it, with 1 unread", v.id, ok, u)
		}
	}

	// The agent answers from B; the visitor's stream on A gets it.
	vctx, vcancel := context.WithCancel(ctx)
	defer vcancel()
	visitorEvents := openStream(t, vctx, a, "/api/v1/rooms/"+vs[0].id+"/events", vs[0].token, "1")
	if st := b.call(t, "POST", "/api/v1/admin/rooms/"+vs[0].id+"/messages", admin, map[string]string{"content": "How can I help?"}, nil); st != 201 {
		t.Fatalf("the agent's answer through B: got %d, want 201", st)
	}
	if m, _ := nextMessages(t, visitorEvents, 1, ""); m[0].Sender != "admin" || m[0].Content != "How can I help?" || m[0].Seq != 2 {
		t.Fatalf("the visitor's stream on A: %+v; want the agent's answer, seq 2", m[0])
	}
	if m, id := nextMessages(t, adminEvents, 1, lastID); m[0].Sender != "admin" {
		t.Fatalf("B's admin stream: %+v; want the agent's answer", m[0])
	} else {
		lastID = id
	}

	// B's admin stream goes away; visitors of every shard write meanwhile;
	// it comes back with its last id and gets exactly those messages.
	cut()
	for i, v := range vs {
		body := map[string]string{"content": fmt.Sprintf("while you were away %d", i)}
		if st := a.call(t, "POST", "/api/v1/rooms/"+v.id+"/messages", v.token, body, nil); st != 201 {
			t.Fatalf("send while the stream is away: got %d", st)
		}
	}
	resumed := openStream(t, ctx, b, "/api/v1/admin/events", admin, lastID)
	got, _ = nextMessages(t, resumed, rooms, lastID)
	seen = map[string]bool{}
	for _, m := range got {
		if !strings.HasPrefix(m.Content, "while you were away") || seen[m.RoomID] {
			t.Fatalf("the resumed stream: %+v; want each room's missed message once", m)
		}
		seen[m.RoomID] = true
	}
	// Nothing more: a live message comes next, not a repeat.
	if st := a.call(t, "POST", "/api/v1/rooms/"+vs[1].id+"/messages", vs[1].token, map[string]string{"content": "live again"}, nil); st != 201 {
		t.Fatalf("send: got %d", st)
	}
	if m, _ := nextMessages(t, resumed, 1, ""); m[0].Content != "live again" {
		t.Fatalf("after the replay: %+v; want the live message, nothing repeated", m[0])
	}
}

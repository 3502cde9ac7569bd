package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// visitorStream opens a room's stream and checks it is accepted.
func (e *env) visitorStream(roomID, token string, header map[string]string) *stream {
	e.t.Helper()
	s, r := openStream(e.t, e.url("/api/v1/rooms/"+roomID+"/events"), token, header)
	if s == nil {
		e.t.Fatalf("visitor stream: got %d %s", r.status, r.body)
	}
	return s
}

// adminStream opens the admin stream and reads its ready event.
func (e *env) adminStream(token string) *stream {
	e.t.Helper()
	s, r := openStream(e.t, e.url("/api/v1/admin/events"), token, nil)
	if s == nil {
		e.t.Fatalf("admin stream: got %d %s", r.status, r.body)
	}
	s.expect("ready")
	return s
}

// expectPresence reads a presence event and checks its value.
func expectPresence(t testing.TB, s *stream, online bool) {
	t.Helper()
	ev := s.expect("presence")
	if want := fmt.Sprintf(`{"adminsOnline":%v}`, online); ev.Data != want {
		t.Fatalf("got presence %s, want %s", ev.Data, want)
	}
}

// expectMessages reads n message events and returns their seqs, checking
// that each carries its seq as the event id.
func expectMessages(t testing.TB, s *stream, n int) []int64 {
	t.Helper()
	var seqs []int64
	for len(seqs) < n {
		ev := s.expect("message")
		m := message(t, ev)
		if ev.ID != strconv.FormatInt(m.Seq, 10) {
			t.Fatalf("got id %q for seq %d", ev.ID, m.Seq)
		}
		seqs = append(seqs, m.Seq)
	}
	return seqs
}

func wantSeqs(t testing.TB, got []int64, from, to int64) {
	t.Helper()
	if int64(len(got)) != to-from+1 {
		t.Fatalf("got seqs %v, want %d..%d", got, from, to)
	}
	for i, s := range got {
		if s != from+int64(i) {
			t.Fatalf("got seqs %v, want %d..%d", got, from, to)
		}
	}
}

// forEachStreamMode runs fn in a subtest per way of writing a stream: on the
// hijacked connection (the default) and through http.Flusher
// (PARLEY_STREAM_HIJACK=off); noHijack goes into envConfig.NoHijack.
func forEachStreamMode(t *testing.T, fn func(t *testing.T, noHijack bool)) {
	t.Helper()
	for _, m := range []struct {
		name     string
		noHijack bool
	}{{"hijack", false}, {"flusher", true}} {
		t.Run(m.name, func(t *testing.T) { fn(t, m.noHijack) })
	}
}

// mustShutdownStreams ends every stream as shutdown does, and fails unless
// they have all ended within 5 s.
func (e *env) mustShutdownStreams() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.api.Shutdown(ctx); err != nil {
		e.t.Fatalf("Shutdown: %v, want every stream ended", err)
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestVisitorStream(t *testing.T) {
	t.Parallel()
	forEachRedisCluster(t, func(t *testing.T, addr string) {
		forEachStreamMode(t, func(t *testing.T, noHijack bool) { testVisitorStream(t, addr, noHijack) })
	})
}

func testVisitorStream(t *testing.T, addr string, noHijack bool) {
	e := newEnv(t, addr, envConfig{PingInterval: 100 * time.Millisecond, NoHijack: noHijack})
	room, tok := e.mustRoom(nil)
	at := e.adminToken()

	s, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
	if s == nil {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	for h, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := r.header.Get(h); got != v {
			t.Fatalf("got %s %q, want %q", h, got, v)
		}
	}
	expectPresence(t, s, false)

	// The admin's reply, typing and read reach the visitor.
	reply := e.mustSend(room.ID, at, true, "Hello from support")
	ev := s.expect("message")
	if m := message(t, ev); m.ID != reply.ID || m.Sender != chat.SenderAdmin || m.Author != adminName || ev.ID != "1" {
		t.Fatalf("got %+v (id %s), want the reply", m, ev.ID)
	}
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/typing", token: at}), 204, "")
	if ev := s.expect("typing"); ev.Data != `{"sender":"admin"}` {
		t.Fatalf("got typing %s", ev.Data)
	}
	e.mustSend(room.ID, tok, false, "my own message")
	if m := message(t, s.expect("message")); m.Seq != 2 || m.Sender != chat.SenderVisitor {
		t.Fatalf("got %+v, want the visitor's own message", m)
	}
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/read", token: at}), 204, "")
	if ev := s.expect("read"); ev.Data != `{"sender":"admin","seq":2}` {
		t.Fatalf("got read %s", ev.Data)
	}
	// The visitor's own typing and reads are not echoed; nor is another
	// room's traffic.
	other, otherTok := e.mustRoom(nil)
	want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/typing", token: tok}), 204, "")
	want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: tok, body: `{"seq":1}`}), 204, "")
	e.mustSend(other.ID, otherTok, false, "elsewhere")
	e.mustSend(other.ID, at, true, "elsewhere too")
	s.quiet(300 * time.Millisecond)

	// Pings keep proxies happy.
	gotPing := false
	deadline := time.After(2 * time.Second)
	for !gotPing {
		select {
		case ev := <-s.events:
			gotPing = ev.Comment == "ping"
		case <-deadline:
			t.Fatalf("no ping comment")
		}
	}

	// Presence follows the admins' streams.
	as := e.adminStream(at)
	expectPresence(t, s, true)
	as.close()
	expectPresence(t, s, false)

	// Deleting the room ends the stream after room.deleted.
	want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), 204, "")
	if ev := s.expect("room.deleted"); ev.Data != `{"roomId":"`+room.ID+`"}` {
		t.Fatalf("got room.deleted %s", ev.Data)
	}
	s.expectEnd(5 * time.Second)
	// The deleted room's stream cannot be opened again.
	_, r = openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
	want(t, r, http.StatusNotFound, "room_not_found")
}

func TestVisitorStreamPresenceOnConnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{})
	e.adminStream(e.adminToken())
	waitFor(t, "an admin online", func() bool {
		ok, err := e.svc.AdminsOnline(context.Background())
		return err == nil && ok
	})
	room, tok := e.mustRoom(nil)
	expectPresence(t, e.visitorStream(room.ID, tok, nil), true)
}

func TestAdminStream(t *testing.T) {
	t.Parallel()
	forEachRedisCluster(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		at := e.adminToken()
		s := e.adminStream(at)

		room, tok := e.mustRoom(map[string]string{"name": "Jane"})
		ev := s.expect("room")
		var got chat.Room
		if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got.ID != room.ID || got.VisitorName != "Jane" {
			t.Fatalf("got room event %s (%v)", ev.Data, err)
		}

		sent := e.mustSend(room.ID, tok, false, "I need help")
		if m := message(t, s.expect("message")); m.ID != sent.ID || m.RoomID != room.ID {
			t.Fatalf("got message %+v, want %+v", m, sent)
		}
		ev = s.expect("room")
		if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got.ID != room.ID || got.Unread != 1 ||
			got.LastMessage == nil || got.LastMessage.Content != "I need help" || got.MessageCount != 1 {
			t.Fatalf("got room after send %s", ev.Data)
		}

		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/typing", token: tok}), 204, "")
		if ev := s.expect("typing"); ev.Data != `{"roomId":"`+room.ID+`","sender":"visitor"}` {
			t.Fatalf("got typing %s", ev.Data)
		}
		// The admins' own typing is not echoed to them.
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/typing", token: at}), 204, "")
		s.quiet(200 * time.Millisecond)

		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/block", token: at}), 204, "")
		ev = s.expect("room")
		if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || !got.Blocked {
			t.Fatalf("got room after block %s", ev.Data)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: tok, body: `{"seq":1}`}), 204, "")
		s.expect("room")

		// A reply from another admin tab shows as message then room.
		e.mustSend(room.ID, at, true, "answer")
		if m := message(t, s.expect("message")); m.Sender != chat.SenderAdmin {
			t.Fatalf("got %+v", m)
		}
		s.expect("room")

		// The room is blocked: its visitor may not erase it, the admins may.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), 204, "")
		if ev := s.expect("room.deleted"); ev.Data != `{"roomId":"`+room.ID+`"}` {
			t.Fatalf("got room.deleted %s", ev.Data)
		}

		// Logging out ends the stream at its next ping at the latest.
		e2 := newEnv(t, addr, envConfig{PingInterval: 100 * time.Millisecond})
		r := e2.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": adminUser, "password": adminPassword}})
		want(t, r, 200, "")
		session := decode[struct{ Token string }](t, r).Token
		s2 := e2.adminStream(session)
		want(t, e2.do(req{method: "POST", path: "/api/v1/admin/logout", token: session}), 204, "")
		s2.expectEnd(5 * time.Second)
	})
}

func TestStreamAuth(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		roomA, tokA := e.mustRoom(nil)
		_, tokB := e.mustRoom(nil)
		gone, goneTok := e.mustRoom(nil)
		want(t, e.do(req{method: "DELETE", path: "/api/v1/rooms/" + gone.ID, token: goneTok}), 204, "")
		at := e.adminToken()
		visitorURL := e.url("/api/v1/rooms/" + roomA.ID + "/events")
		cases := []struct {
			name, url, token string
			header           map[string]string
			status           int
			code             string
		}{
			{"other room's token", visitorURL, tokB, nil, 403, "forbidden"},
			{"no token", visitorURL, "", nil, 401, "unauthorized"},
			{"admin token on the visitor stream", visitorURL, at, nil, 401, "unauthorized"},
			{"tampered token", visitorURL, tamper(tokA), nil, 401, "unauthorized"},
			{"token in the query only", visitorURL + "?token=" + tokA, "", nil, 401, "unauthorized"},
			{"visitor token on the admin stream", e.url("/api/v1/admin/events"), tokA, nil, 401, "unauthorized"},
			{"no token on the admin stream", e.url("/api/v1/admin/events"), "", nil, 401, "unauthorized"},
			{"deleted room", e.url("/api/v1/rooms/" + gone.ID + "/events"), goneTok, nil, 404, "room_not_found"},
			{"bad Last-Event-ID", visitorURL, tokA, map[string]string{"Last-Event-ID": "abc"}, 400, "invalid_request"},
			{"negative Last-Event-ID", visitorURL, tokA, map[string]string{"Last-Event-ID": "-1"}, 400, "invalid_request"},
			{"bad after", visitorURL + "?after=x", tokA, nil, 400, "invalid_request"},
			{"negative after", visitorURL + "?after=-3", tokA, nil, 400, "invalid_request"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s, r := openStream(t, tc.url, tc.token, tc.header)
				if s != nil {
					t.Fatalf("got a stream, want %d", tc.status)
				}
				want(t, r, tc.status, tc.code)
			})
		}
	})
}

func TestStreamResume(t *testing.T) {
	t.Parallel()
	forEachRedisCluster(t, func(t *testing.T, addr string) {
		forEachStreamMode(t, func(t *testing.T, noHijack bool) { testStreamResume(t, addr, noHijack) })
	})
}

func testStreamResume(t *testing.T, addr string, noHijack bool) {
	e := newEnv(t, addr, envConfig{NoHijack: noHijack})
	room, tok := e.mustRoom(nil)
	at := e.adminToken()

	s := e.visitorStream(room.ID, tok, nil)
	expectPresence(t, s, false)
	e.mustSend(room.ID, at, true, "one")
	e.mustSend(room.ID, tok, false, "two")
	wantSeqs(t, expectMessages(t, s, 2), 1, 2)
	s.close()

	// Three messages while disconnected.
	for _, c := range []string{"three", "four", "five"} {
		e.mustSend(room.ID, at, true, c)
	}
	s = e.visitorStream(room.ID, tok, map[string]string{"Last-Event-ID": "2"})
	expectPresence(t, s, false)
	wantSeqs(t, expectMessages(t, s, 3), 3, 5)
	e.mustSend(room.ID, at, true, "six")
	wantSeqs(t, expectMessages(t, s, 1), 6, 6)
	s.quiet(200 * time.Millisecond)
	s.close()

	// ?after= works too; Last-Event-ID (a reconnect) wins over it.
	s = e.visitorStream(room.ID, tok, nil)
	expectPresence(t, s, false)
	wantSeqs(t, expectMessages(t, s, 6), 1, 6) // no resume point: everything stored
	s.close()
	s, _ = openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events?after=4"), tok, nil)
	expectPresence(t, s, false)
	wantSeqs(t, expectMessages(t, s, 2), 5, 6)
	s.close()
	s, _ = openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events?after=1"), tok, map[string]string{"Last-Event-ID": "5"})
	expectPresence(t, s, false)
	wantSeqs(t, expectMessages(t, s, 1), 6, 6)
	s.quiet(200 * time.Millisecond)
	s.close()

	// A resume point beyond the last message cannot hide later ones: the
	// client is told to reload (reset, with the room's last seq as id).
	s = e.visitorStream(room.ID, tok, map[string]string{"Last-Event-ID": "999"})
	expectPresence(t, s, false)
	if ev := s.expect("reset"); ev.ID != "6" {
		t.Fatalf("got reset id %q, want 6 (the room's last seq)", ev.ID)
	}
	e.mustSend(room.ID, at, true, "seven")
	wantSeqs(t, expectMessages(t, s, 1), 7, 7)
	s.close()

	// Replay pages through more than one store page, while sends go on.
	ctx := context.Background()
	for i := 0; i < 450; i++ {
		if _, _, err := e.svc.SendAdmin(ctx, room.ID, adminName, chat.NewMessage{Content: "bulk " + strconv.Itoa(i)}); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	s = e.visitorStream(room.ID, tok, map[string]string{"Last-Event-ID": "7"})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			if _, _, err := e.svc.SendAdmin(ctx, room.ID, adminName, chat.NewMessage{Content: "live " + strconv.Itoa(i)}); err != nil {
				t.Errorf("send: %v", err)
				return
			}
		}
	}()
	expectPresence(t, s, false)
	wantSeqs(t, expectMessages(t, s, 470), 8, 477)
	<-done
	s.quiet(200 * time.Millisecond)
}

// TestTwoInstances runs two Parley instances on one Redis: events cross
// between them in both directions.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	forEachRedisCluster(t, func(t *testing.T, addr string) {
		prefix, secret := uniquePrefix(), []byte("0123456789abcdef0123456789abcdef")
		a := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret})
		b := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret})
		at := b.adminToken()
		admin := b.adminStream(at)
		room, tok := a.mustRoom(nil)
		admin.expect("room") // created on A, seen on B
		waitFor(t, "B's admin to count as online", func() bool {
			ok, err := a.svc.AdminsOnline(context.Background())
			return err == nil && ok
		})
		visitor := a.visitorStream(room.ID, tok, nil)
		expectPresence(t, visitor, true) // the admin on B counts on A

		sent := a.mustSend(room.ID, tok, false, "hello from A")
		if m := message(t, admin.expect("message")); m.ID != sent.ID {
			t.Fatalf("B's admin got %+v, want %+v", m, sent)
		}
		admin.expect("room")
		wantSeqs(t, expectMessages(t, visitor, 1), 1, 1)

		reply := b.mustSend(room.ID, at, true, "hello from B")
		if m := message(t, visitor.expect("message")); m.ID != reply.ID || m.Seq != 2 {
			t.Fatalf("A's visitor got %+v, want %+v", m, reply)
		}
		admin.expect("message")
		admin.expect("room")
		want(t, b.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/typing", token: at}), 204, "")
		visitor.expect("typing")
		want(t, a.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/typing", token: tok}), 204, "")
		admin.expect("typing")
		// Deleted on B, ended on A.
		want(t, b.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), 204, "")
		visitor.expect("room.deleted")
		visitor.expectEnd(5 * time.Second)
	})
}

// TestStreamsDeliverEveryReply opens 50 visitor streams and sends 20 replies
// to each room, from several goroutines: every stream gets its 20 replies,
// once each, in seq order.
func TestStreamsDeliverEveryReply(t *testing.T) {
	t.Parallel()
	forEachRedisCluster(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		rooms, replies := 50, 20
		if strings.HasSuffix(t.Name(), "/embedded") && raceEnabled {
			// miniredis runs Lua an order of magnitude slower under -race;
			// the full size runs on redis-server.
			rooms = 10
		}
		type conv struct {
			id string
			s  *stream
		}
		convs := make([]conv, rooms)
		for i := range convs {
			room, tok := e.mustRoom(nil)
			convs[i] = conv{id: room.ID, s: e.visitorStream(room.ID, tok, nil)}
			expectPresence(t, convs[i].s, false)
		}
		at := e.adminToken()
		// However many streams are open, the instance holds one pub/sub
		// subscription: the bridge's.
		channel := e.prefix + "events"
		if n := redistest.Subscribers(t, e.addr, channel); n != 1 {
			t.Fatalf("subscribers of %s with %d streams open: got %d, want 1", channel, rooms, n)
		}
		// Four senders take the replies in round-robin order, so the
		// replies of one room are sent concurrently by different senders.
		jobs := make(chan string)
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range jobs {
					r := doWith(t, e.client, e.url("/api/v1/admin/rooms/"+id+"/messages"),
						req{method: "POST", token: at, body: map[string]string{"content": "a reply"}})
					if r.status != http.StatusCreated {
						t.Errorf("send: got %d %s", r.status, r.body)
					}
				}
			}()
		}
		for j := 0; j < replies; j++ {
			for _, c := range convs {
				jobs <- c.id
			}
		}
		close(jobs)
		wg.Wait()
		for _, c := range convs {
			wantSeqs(t, expectMessages(t, c.s, replies), 1, int64(replies))
		}
		for _, c := range convs {
			c.s.quiet(20 * time.Millisecond)
		}
	})
}

func TestStreamLimits(t *testing.T) {
	t.Parallel()
	forEachStreamMode(t, testStreamLimits)
}

func testStreamLimits(t *testing.T, noHijack bool) {
	e := newEnv(t, startEmbedded(t), envConfig{StreamsPerToken: 2, MaxStreams: 4, MaxAdminStreams: 2, NoHijack: noHijack})
	room, tok := e.mustRoom(nil)
	url := e.url("/api/v1/rooms/" + room.ID + "/events")
	s1 := e.visitorStream(room.ID, tok, nil)
	e.visitorStream(room.ID, tok, nil)
	_, r := openStream(t, url, tok, nil)
	want(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "stream") {
		t.Fatalf("got headers %v body %s, want Retry-After and a clear message", r.header, r.body)
	}
	// A fresh token of the same room shares the room's budget.
	rt := decode[roomToken](t, e.do(req{method: "POST", path: "/api/v1/rooms", token: tok}))
	_, r = openStream(t, url, rt.Token, nil)
	want(t, r, http.StatusTooManyRequests, "rate_limited")
	// Closing one frees its slot.
	s1.close()
	waitFor(t, "the slot to be released", func() bool {
		s, _ := openStream(t, url, tok, nil)
		return s != nil
	})
	// Admin streams have a cap of their own.
	at := e.adminToken()
	e.adminStream(at)
	e.adminStream(at)
	_, r = openStream(t, e.url("/api/v1/admin/events"), e.adminToken(), nil)
	want(t, r, http.StatusTooManyRequests, "rate_limited")
}

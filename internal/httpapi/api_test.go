package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

var (
	timePattern   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	roomIDPattern = regexp.MustCompile(`^r_[a-z2-7]{26}$`)
)

// TestEndpoints walks every endpoint's success path and checks the shapes of
// API.md.
func TestEndpoints(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})

		// Room creation: 201 with a room and a token.
		r := e.do(req{method: "POST", path: "/api/v1/rooms", body: map[string]string{
			"name": " Jane ", "email": "jane@example.com", "page": "https://example.com/pricing"}})
		want(t, r, http.StatusCreated, "")
		var raw struct{ Room map[string]any }
		if err := json.Unmarshal(r.body, &raw); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if v, ok := raw.Room["lastMessage"]; !ok || v != nil {
			t.Fatalf("got lastMessage %v (present %v), want null", v, ok)
		}
		for _, f := range []string{"createdAt", "updatedAt"} {
			if s, _ := raw.Room[f].(string); !timePattern.MatchString(s) {
				t.Fatalf("got %s %q, want RFC 3339 UTC with milliseconds", f, s)
			}
		}
		rt := decode[roomToken](t, r)
		room, token := rt.Room, rt.Token
		if !roomIDPattern.MatchString(room.ID) || token == "" {
			t.Fatalf("got room id %q token %q", room.ID, token)
		}
		if room.VisitorName != "Jane" || room.VisitorEmail != "jane@example.com" || room.Page != "https://example.com/pricing" ||
			room.MessageCount != 0 || room.Blocked {
			t.Fatalf("got room %+v", room)
		}
		if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
			t.Fatalf("got Content-Type %q", got)
		}

		// A returning visitor resumes: 200, same room, a fresh token.
		r = e.do(req{method: "POST", path: "/api/v1/rooms", token: token, body: map[string]string{}})
		want(t, r, http.StatusOK, "")
		if got := decode[roomToken](t, r); got.Room.ID != room.ID || got.Token == "" {
			t.Fatalf("resume: got room %q token %q, want room %q", got.Room.ID, got.Token, room.ID)
		}
		// An empty body is an empty object; a bad token starts afresh.
		r = e.do(req{method: "POST", path: "/api/v1/rooms", token: "garbage"})
		want(t, r, http.StatusCreated, "")
		if got := decode[roomToken](t, r); got.Room.ID == room.ID {
			t.Fatalf("a bad token resumed room %s", room.ID)
		}

		r = e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID, token: token})
		want(t, r, http.StatusOK, "")
		if got := decode[struct{ Room chat.Room }](t, r).Room; got.ID != room.ID {
			t.Fatalf("got room %q, want %q", got.ID, room.ID)
		}

		// Messages: 201, then 200 and the same message for a repeated clientId.
		path := "/api/v1/rooms/" + room.ID + "/messages"
		r = e.do(req{method: "POST", path: path, token: token, body: map[string]string{"content": "  Hello!  ", "clientId": "c-1"}})
		want(t, r, http.StatusCreated, "")
		m1 := decode[struct{ Message chat.Message }](t, r).Message
		if m1.Seq != 1 || m1.Sender != chat.SenderVisitor || m1.Author != "" || m1.Content != "Hello!" || m1.RoomID != room.ID || m1.ID == "" {
			t.Fatalf("got message %+v", m1)
		}
		if !strings.Contains(string(r.body), `"author":""`) {
			t.Fatalf("author missing from %s", r.body)
		}
		// The answer is the stored JSON (no second encoding): every field
		// of a message, nothing else, as JSON.
		var keys struct{ Message map[string]any }
		if err := json.Unmarshal(r.body, &keys); err != nil || len(keys.Message) != 7 || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("answer %s (%v), Content-Type %q", r.body, err, r.header.Get("Content-Type"))
		}
		for _, k := range []string{"id", "roomId", "seq", "sender", "author", "content", "createdAt"} {
			if _, ok := keys.Message[k]; !ok {
				t.Fatalf("%s missing from %s", k, r.body)
			}
		}
		r = e.do(req{method: "POST", path: path, token: token, body: map[string]string{"content": "Hello!", "clientId": "c-1"}})
		want(t, r, http.StatusOK, "")
		if got := decode[struct{ Message chat.Message }](t, r).Message; got.ID != m1.ID || got.Seq != 1 {
			t.Fatalf("repeat: got %+v, want the original %+v", got, m1)
		}
		if n := e.mustStoredRoom(room.ID).MessageCount; n != 1 {
			t.Fatalf("got %d stored messages after a repeat, want 1", n)
		}
		e.mustSend(room.ID, token, false, "second")

		type page struct {
			Messages []chat.Message `json:"messages"`
			HasMore  bool           `json:"hasMore"`
		}
		for _, tc := range []struct {
			query string
			seqs  []int64
			more  bool
		}{
			{"", []int64{1, 2}, false},
			{"?limit=1", []int64{1}, true},
			{"?after=1", []int64{2}, false},
			{"?after=2", []int64{}, false},
			{"?before=2", []int64{1}, false},
			{"?before=3&limit=1", []int64{2}, true},
		} {
			r = e.do(req{method: "GET", path: path + tc.query, token: token})
			want(t, r, http.StatusOK, "")
			if tc.query == "?after=2" && !strings.Contains(string(r.body), `"messages":[]`) {
				t.Fatalf("empty page: got %s, want \"messages\":[]", r.body)
			}
			p := decode[page](t, r)
			var seqs []int64
			for _, m := range p.Messages {
				seqs = append(seqs, m.Seq)
			}
			if len(seqs) != len(tc.seqs) || p.HasMore != tc.more {
				t.Fatalf("%s: got seqs %v more %v, want %v more %v", tc.query, seqs, p.HasMore, tc.seqs, tc.more)
			}
			for i := range seqs {
				if seqs[i] != tc.seqs[i] {
					t.Fatalf("%s: got seqs %v, want %v", tc.query, seqs, tc.seqs)
				}
			}
		}

		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/typing", token: token}), http.StatusNoContent, "")

		// Admin: login.
		r = e.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": adminUser, "password": adminPassword}})
		want(t, r, http.StatusOK, "")
		login := decode[struct {
			Token     string
			ExpiresAt string
			Admin     struct{ Username, DisplayName string }
		}](t, r)
		if login.Token == "" || !timePattern.MatchString(login.ExpiresAt) || login.Admin.Username != adminUser || login.Admin.DisplayName != adminName {
			t.Fatalf("got login %+v", login)
		}
		at := login.Token

		type roomPage struct {
			Rooms       []chat.Room `json:"rooms"`
			NextCursor  string      `json:"nextCursor"`
			UnreadRooms int64       `json:"unreadRooms"`
		}
		r = e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: at})
		want(t, r, http.StatusOK, "")
		rp := decode[roomPage](t, r)
		if len(rp.Rooms) != 2 || rp.Rooms[0].ID != room.ID || rp.NextCursor != "" || rp.UnreadRooms != 1 {
			t.Fatalf("got rooms page %+v", rp)
		}
		if rp.Rooms[0].Unread != 2 || rp.Rooms[0].LastMessage == nil || rp.Rooms[0].LastMessage.Content != "second" {
			t.Fatalf("got room summary %+v", rp.Rooms[0])
		}
		r = e.do(req{method: "GET", path: "/api/v1/admin/rooms?filter=unread", token: at})
		want(t, r, http.StatusOK, "")
		if rp := decode[roomPage](t, r); len(rp.Rooms) != 1 || rp.Rooms[0].ID != room.ID {
			t.Fatalf("unread filter: got %+v", rp)
		}
		r = e.do(req{method: "GET", path: "/api/v1/admin/rooms?limit=1", token: at})
		want(t, r, http.StatusOK, "")
		first := decode[roomPage](t, r)
		if len(first.Rooms) != 1 || first.NextCursor == "" {
			t.Fatalf("limit=1: got %+v", first)
		}
		r = e.do(req{method: "GET", path: "/api/v1/admin/rooms?limit=1&cursor=" + first.NextCursor, token: at})
		want(t, r, http.StatusOK, "")
		if second := decode[roomPage](t, r); len(second.Rooms) != 1 || second.Rooms[0].ID == first.Rooms[0].ID {
			t.Fatalf("cursor: got %+v after %+v", second, first)
		}

		// Opening a room marks it read.
		r = e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID, token: at})
		want(t, r, http.StatusOK, "")
		opened := decode[struct {
			Room     chat.Room
			Messages []chat.Message
		}](t, r)
		if opened.Room.ID != room.ID || opened.Room.Unread != 0 || len(opened.Messages) != 2 {
			t.Fatalf("open: got %+v", opened)
		}
		if n := e.mustStoredRoom(room.ID).Unread; n != 0 {
			t.Fatalf("got unread %d after open, want 0", n)
		}
		r = e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID + "/messages?after=1", token: at})
		want(t, r, http.StatusOK, "")
		if p := decode[page](t, r); len(p.Messages) != 1 || p.Messages[0].Seq != 2 {
			t.Fatalf("admin messages: got %+v", p)
		}

		// Reply: sender admin, author the display name.
		reply := e.mustSend(room.ID, at, true, "How can I help?")
		if reply.Sender != chat.SenderAdmin || reply.Author != adminName || reply.Seq != 3 {
			t.Fatalf("got reply %+v", reply)
		}
		if n := e.mustStoredRoom(room.ID).VisitorUnread; n != 1 {
			t.Fatalf("got visitorUnread %d, want 1", n)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: token, body: `{"seq": 3}`}), http.StatusNoContent, "")
		if n := e.mustStoredRoom(room.ID).VisitorUnread; n != 0 {
			t.Fatalf("got visitorUnread %d after read, want 0", n)
		}
		e.mustSend(room.ID, token, false, "thanks")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/read", token: at}), http.StatusNoContent, "")
		if n := e.mustStoredRoom(room.ID).Unread; n != 0 {
			t.Fatalf("got unread %d after admin read, want 0", n)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/typing", token: at}), http.StatusNoContent, "")

		// Block and unblock.
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/block", token: at}), http.StatusNoContent, "")
		if !e.mustStoredRoom(room.ID).Blocked {
			t.Fatalf("room not blocked")
		}
		r = e.do(req{method: "POST", path: path, token: token, body: map[string]string{"content": "let me in"}})
		want(t, r, http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID + "/block", token: at}), http.StatusNoContent, "")
		e.mustSend(room.ID, token, false, "back")

		// Visits.
		r = e.do(req{method: "POST", path: "/api/v1/visits", body: map[string]string{"path": "/blog/post"}, header: map[string]string{"User-Agent": "test"}})
		want(t, r, http.StatusOK, "")
		vc := decode[chat.VisitCount](t, r)
		if vc.Total != 1 || vc.Today != 1 || vc.VisitorsToday != 1 {
			t.Fatalf("got visits %+v", vc)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/visits"}), http.StatusOK, "") // path defaults to "/"
		r = e.do(req{method: "GET", path: "/api/v1/visits"})
		want(t, r, http.StatusOK, "")
		if vc := decode[chat.VisitCount](t, r); vc.Total != 2 || vc.Today != 2 {
			t.Fatalf("got visits %+v", vc)
		}
		r = e.do(req{method: "GET", path: "/api/v1/admin/visits?days=7", token: at})
		want(t, r, http.StatusOK, "")
		rep := decode[chat.VisitReport](t, r)
		if len(rep.Days) != 7 || rep.Total != 2 || len(rep.TopPages) != 2 || rep.Days[6].Views != 2 || rep.Days[6].Date != chat.DayKey(e.svc.Now()) {
			t.Fatalf("got report %+v", rep)
		}
		r = e.do(req{method: "GET", path: "/api/v1/admin/visits", token: at})
		want(t, r, http.StatusOK, "")
		if rep := decode[chat.VisitReport](t, r); len(rep.Days) != 30 {
			t.Fatalf("default days: got %d, want 30", len(rep.Days))
		}

		// Deleting: the admin's delete, then the visitor's own.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), http.StatusNoContent, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID, token: token}), http.StatusNotFound, "room_not_found")
		if _, err := e.storedRoom(room.ID); chat.ErrorCode(err) != chat.CodeRoomNotFound {
			t.Fatalf("got %v after delete, want room_not_found", err)
		}
		// Resuming with the deleted room's token starts afresh.
		r = e.do(req{method: "POST", path: "/api/v1/rooms", token: token})
		want(t, r, http.StatusCreated, "")
		fresh := decode[roomToken](t, r)
		if fresh.Room.ID == room.ID {
			t.Fatalf("resumed a deleted room")
		}
		want(t, e.do(req{method: "DELETE", path: "/api/v1/rooms/" + fresh.Room.ID, token: fresh.Token}), http.StatusNoContent, "")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/rooms/" + fresh.Room.ID, token: fresh.Token}), http.StatusNotFound, "room_not_found")

		// Logout: the token is refused from then on.
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/logout", token: at}), http.StatusNoContent, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: at}), http.StatusUnauthorized, "unauthorized")

		// Operations.
		for _, p := range []string{"/healthz", "/readyz"} {
			r = e.do(req{method: "GET", path: p})
			want(t, r, http.StatusOK, "")
			if string(r.body) != `{"status":"ok"}` {
				t.Fatalf("%s: got %s", p, r.body)
			}
		}
		if r := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken}); r.status != http.StatusOK || !strings.Contains(string(r.body), "parley_http_requests_total") {
			t.Fatalf("/metrics: got %d %.200s", r.status, r.body)
		}
		if id := r.header.Get("X-Request-ID"); id == "" {
			t.Fatalf("no X-Request-ID")
		}
	})
}

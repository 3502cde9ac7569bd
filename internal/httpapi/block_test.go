package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// from makes a request come from ip, through the trusted proxy of blockEnv.
func from(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

func blockEnv(t *testing.T, addr string) *env {
	return newEnv(t, addr, envConfig{TrustedProxies: []string{"127.0.0.1/32", "::1"}})
}

// wantBlocked checks the answer every refused write of a blocked visitor
// gets: 403 forbidden with the blocked message the widget recognises.
func wantBlocked(t *testing.T, r resp) {
	t.Helper()
	want(t, r, http.StatusForbidden, "forbidden")
	if got := r.errorMessage(); got != chat.ErrBlocked.Message {
		t.Fatalf("got message %q, want %q", got, chat.ErrBlocked.Message)
	}
}

// TestBlockBlocksTheVisitor blocks a room and tries every write its visitor
// has: each is refused with the blocked 403 and changes nothing (no stored
// change, no event on the admins' stream), while reads still work; and the
// token opens no new room, not even once the admins deleted the blocked one.
func TestBlockBlocksTheVisitor(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := blockEnv(t, addr)
		at := e.adminToken()
		room, token := e.mustRoom(nil)
		sent := e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: token,
			body: map[string]string{"content": "before the block", "clientId": "c-before"}})
		want(t, sent, http.StatusCreated, "")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/block", token: at}), http.StatusNoContent, "")
		before := e.mustStoredRoom(room.ID)
		rooms := e.roomCount()
		admin := e.adminStream(at).ignore("presence")

		base := "/api/v1/rooms/" + room.ID
		for name, r := range map[string]req{
			"send":                 {method: "POST", path: base + "/messages", body: map[string]string{"content": "let me in"}},
			"send a stored retry":  {method: "POST", path: base + "/messages", body: map[string]string{"content": "before the block", "clientId": "c-before"}},
			"type":                 {method: "POST", path: base + "/typing"},
			"set name and email":   {method: "POST", path: "/api/v1/rooms", body: map[string]string{"name": "Mallory", "email": "m@example.com"}},
			"resume for a token":   {method: "POST", path: "/api/v1/rooms"},
			"erase the room":       {method: "DELETE", path: base},
			"resume with the page": {method: "POST", path: "/api/v1/rooms", body: map[string]string{"page": "https://example.com/"}},
		} {
			t.Run(name, func(t *testing.T) {
				r.token = token
				wantBlocked(t, e.do(r))
				after := e.mustStoredRoom(room.ID)
				if after.MessageCount != before.MessageCount || after.VisitorName != "" || after.VisitorEmail != "" || after.Page != "" || !after.Blocked {
					t.Fatalf("got room %+v after a refused %s, want it unchanged", after, name)
				}
				if got := e.roomCount(); got != rooms {
					t.Fatalf("got %d rooms, want %d", got, rooms)
				}
			})
		}
		// The admins saw none of it: the next event is their own reply.
		e.mustSend(room.ID, at, true, "you are blocked")
		if ev := admin.expect("message"); message(t, ev).Content != "you are blocked" {
			t.Fatalf("got %s, want the admin's reply first", ev.Data)
		}

		// Reads of their own conversation still work.
		want(t, e.do(req{method: "GET", path: base, token: token}), http.StatusOK, "")
		r := e.do(req{method: "GET", path: base + "/messages", token: token})
		want(t, r, http.StatusOK, "")
		if msgs := decode[messagesBody](t, r).Messages; len(msgs) != 2 {
			t.Fatalf("got %d messages, want 2", len(msgs))
		}

		// Once the admins delete the room, the token still opens none.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), http.StatusNoContent, "")
		wantBlocked(t, e.do(req{method: "POST", path: "/api/v1/rooms", token: token}))
		if got := e.roomCount(); got != rooms-1 {
			t.Fatalf("after the delete: got %d rooms, want %d", got, rooms-1)
		}

		// An unblocked room's visitor resumes as before.
		other, otherToken := e.mustRoom(nil)
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + other.ID + "/block", token: at}), http.StatusNoContent, "")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + other.ID + "/block", token: at}), http.StatusNoContent, "")
		r = e.do(req{method: "POST", path: "/api/v1/rooms", token: otherToken, body: map[string]string{"name": "Kim"}})
		want(t, r, http.StatusOK, "")
		if got := decode[roomToken](t, r).Room; got.ID != other.ID || got.VisitorName != "Kim" {
			t.Fatalf("resume after unblock: got %+v", got)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + other.ID + "/typing", token: otherToken}), http.StatusNoContent, "")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/rooms/" + other.ID, token: otherToken}), http.StatusNoContent, "")
	})
}

type messagesBody struct {
	Messages []chat.Message `json:"messages"`
}

// TestBlockByIP blocks the address a room was opened from, for a while: that
// address (its whole IPv6 /64) opens no room, sends and types in none, even
// a room it opened before; other addresses are not touched; bad durations
// change nothing; the unblock lifts both blocks; the address never shows.
func TestBlockByIP(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := blockEnv(t, addr)
		at := e.adminToken()
		open := func(ip string) resp {
			return e.do(req{method: "POST", path: "/api/v1/rooms", header: from(ip)})
		}
		mustOpen := func(ip string) (chat.Room, string) {
			t.Helper()
			r := open(ip)
			want(t, r, http.StatusCreated, "")
			rt := decode[roomToken](t, r)
			return rt.Room, rt.Token
		}
		const ip = "2001:db8:1:2::1"
		room, token := mustOpen(ip)
		earlier, earlierToken := mustOpen("2001:db8:1:2::7") // same /64, not blocked itself
		blockPath := "/api/v1/admin/rooms/" + room.ID + "/block"

		for _, body := range []string{`{"ip": true, "for": "1s"}`, `{"ip": true, "for": "721h"}`, `{"ip": true, "for": "soon"}`, `{"for": "1h"}`, `{"ip": "yes"}`} {
			want(t, e.do(req{method: "POST", path: blockPath, token: at, body: body}), http.StatusBadRequest, "invalid_request")
			if e.mustStoredRoom(room.ID).Blocked {
				t.Fatalf("%s: the room was blocked", body)
			}
		}
		want(t, open(ip), http.StatusCreated, "") // not blocked yet

		want(t, e.do(req{method: "POST", path: blockPath, token: at, body: `{"ip": true, "for": "1h"}`}), http.StatusNoContent, "")
		got := e.mustStoredRoom(room.ID)
		if !got.Blocked || got.IPBlockedUntil == nil || time.Until(got.IPBlockedUntil.Time) < 59*time.Minute || time.Until(got.IPBlockedUntil.Time) > time.Hour {
			t.Fatalf("got room %+v, want blocked with the IP for an hour", got)
		}
		rooms := e.roomCount()
		wantBlocked(t, open(ip))
		wantBlocked(t, open("2001:db8:1:2:ffff::1"))
		if n := e.roomCount(); n != rooms {
			t.Fatalf("got %d rooms, want %d", n, rooms)
		}
		msgs := "/api/v1/rooms/" + earlier.ID + "/messages"
		wantBlocked(t, e.do(req{method: "POST", path: msgs, token: earlierToken, header: from(ip), body: map[string]string{"content": "hi"}}))
		wantBlocked(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + earlier.ID + "/typing", token: earlierToken, header: from(ip)}))
		if n := e.mustStoredRoom(earlier.ID).MessageCount; n != 0 {
			t.Fatalf("got %d messages, want 0", n)
		}
		// Other addresses are not blocked, the same room's visitor elsewhere
		// neither: the address is.
		want(t, open("2001:db8:1:3::1"), http.StatusCreated, "")
		want(t, open("203.0.113.5"), http.StatusCreated, "")
		want(t, e.do(req{method: "POST", path: msgs, token: earlierToken, header: from("203.0.113.5"), body: map[string]string{"content": "from elsewhere"}}), http.StatusCreated, "")
		e.mustSend(earlier.ID, earlierToken, false, "from the proxy itself")

		// The address is not in what anyone reads.
		for _, r := range []resp{
			e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID, token: token}),
			e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID, token: at}),
			e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: at}),
		} {
			want(t, r, http.StatusOK, "")
			if bytes.Contains(r.body, []byte("2001:db8")) {
				t.Fatalf("the client's address shows: %s", r.body)
			}
		}

		// The unblock lifts both.
		want(t, e.do(req{method: "DELETE", path: blockPath, token: at}), http.StatusNoContent, "")
		if got := e.mustStoredRoom(room.ID); got.Blocked || got.IPBlockedUntil != nil {
			t.Fatalf("after the unblock: got %+v", got)
		}
		want(t, open(ip), http.StatusCreated, "")
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: token, header: from(ip), body: map[string]string{"content": "back"}}), http.StatusCreated, "")
		want(t, e.do(req{method: "POST", path: msgs, token: earlierToken, header: from(ip), body: map[string]string{"content": "me too"}}), http.StatusCreated, "")

		// A room kept from before addresses were stored can only be blocked
		// without its address.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		now := chat.Time{Time: time.Now()}
		old, err := e.store.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		oldBlock := "/api/v1/admin/rooms/" + old.ID + "/block"
		want(t, e.do(req{method: "POST", path: oldBlock, token: at, body: `{"ip": true}`}), http.StatusBadRequest, "invalid_request")
		if e.mustStoredRoom(old.ID).Blocked {
			t.Fatal("a refused IP block blocked the room")
		}
		want(t, e.do(req{method: "POST", path: oldBlock, token: at}), http.StatusNoContent, "")
		want(t, e.do(req{method: "DELETE", path: oldBlock, token: at}), http.StatusNoContent, "")
	})
}

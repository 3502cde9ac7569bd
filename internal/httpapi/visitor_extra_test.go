package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// A returning visitor who gives details later (an email left while no admin
// was online) fills in what the room lacks, and never overwrites what it has.
func TestResumeFillsMissingDetails(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		admin := e.adminStream(e.adminToken())
		defer admin.close()
		room, token := e.mustRoom(map[string]string{"name": "Jane"})
		admin.expect("room")

		r := e.do(req{method: "POST", path: "/api/v1/rooms", token: token,
			body: map[string]string{"name": "Someone Else", "email": "jane@example.com"}})
		want(t, r, http.StatusOK, "")
		got := decode[roomToken](t, r).Room
		if got.ID != room.ID || got.VisitorName != "Jane" || got.VisitorEmail != "jane@example.com" {
			t.Fatalf("got %+v, want room %s with name Jane kept and the email filled in", got, room.ID)
		}
		if stored := e.mustStoredRoom(room.ID); stored.VisitorEmail != "jane@example.com" || stored.VisitorName != "Jane" {
			t.Errorf("stored: got %+v", stored)
		}
		if ev := admin.expect("room"); !containsAll(ev.Data, `"visitorEmail":"jane@example.com"`) {
			t.Errorf("admin room event: got %s, want the new email", ev.Data)
		}

		// A bad email on resume is a bad request and changes nothing.
		r = e.do(req{method: "POST", path: "/api/v1/rooms", token: token, body: map[string]string{"email": "nope"}})
		want(t, r, http.StatusBadRequest, "invalid_request")
		if stored := e.mustStoredRoom(room.ID); stored.VisitorEmail != "jane@example.com" {
			t.Errorf("after a bad resume: got email %q", stored.VisitorEmail)
		}
	})
}

// A client posting typing far more often than a person types is answered 204
// every time, but the admins' streams get one event per two seconds, and a
// read that moves no mark publishes nothing.
func TestTypingAndReadDoNotFlood(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		admin := e.adminStream(e.adminToken())
		defer admin.close()
		room, token := e.mustRoom(map[string]string{})
		admin.expect("room")
		for i := 0; i < 20; i++ {
			want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/typing", token: token}), 204, "")
		}
		if ev := admin.expect("typing"); !containsAll(ev.Data, room.ID, `"sender":"visitor"`) {
			t.Errorf("got typing %s", ev.Data)
		}
		for i := 0; i < 5; i++ {
			want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: token, body: map[string]int{"seq": 0}}), 204, "")
		}
		admin.quiet(500 * time.Millisecond)
	})
}

// Removing an admin (parley admin remove) ends their tokens at once.
func TestRemovedAdminTokenRefused(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		tok := e.adminToken()
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}), 200, "")
		if err := e.accounts.Remove(context.Background(), adminUser); err != nil {
			t.Fatal(err)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}), 401, "unauthorized")
	})
}

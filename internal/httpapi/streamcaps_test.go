package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestVisitorsCannotLockAdminsOut fills the visitor streams' cap: an admin
// stream still opens, from its own reserve, while the next visitor stream
// is refused.
func TestVisitorsCannotLockAdminsOut(t *testing.T) {
	t.Parallel()
	forEachStreamMode(t, func(t *testing.T, noHijack bool) {
		e := newEnv(t, startEmbedded(t), envConfig{MaxStreams: 3, MaxAdminStreams: 2, NoHijack: noHijack})
		for i := 0; i < 3; i++ {
			room, tok := e.mustRoom(nil)
			e.visitorStream(room.ID, tok, nil)
		}
		room, tok := e.mustRoom(nil)
		_, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
		want(t, r, http.StatusTooManyRequests, "rate_limited")

		admin := e.adminStream(e.adminToken()) // 200 and ready: the visitors took none of its places
		// The room events of the rooms made above may still be on their way
		// through pub/sub: what counts is that the message arrives.
		admin.ignore("room")
		e.mustSend(room.ID, tok, false, "still served")
		admin.expect("message")
		_, r = openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
		want(t, r, http.StatusTooManyRequests, "rate_limited")
	})
}

// TestRevocationEndsAdminStreams runs two instances on one Redis with admin
// streams on B: a logout, a new password and a removed account, each done
// through A, end the streams of that token or account on B within a second
// (not at their next ping, 20 s away), and leave another admin's stream
// open.
func TestRevocationEndsAdminStreams(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		prefix, secret := uniquePrefix(), []byte("0123456789abcdef0123456789abcdef")
		a := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret})
		b := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret})
		ctx := context.Background()
		for _, name := range []string{"bob", "carol", "dave"} {
			if err := a.accounts.Add(ctx, name, "", adminPassword); err != nil {
				t.Fatal(err)
			}
		}
		tokenOf := func(user string) string {
			t.Helper()
			r := a.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": user, "password": adminPassword}})
			want(t, r, http.StatusOK, "")
			return decode[struct{ Token string }](t, r).Token
		}
		bob := b.adminStream(tokenOf("bob"))
		room, tok := a.mustRoom(nil)
		bob.expect("room")

		cases := []struct {
			name, user string
			revoke     func(token string)
		}{
			{"logout", adminUser, func(token string) {
				want(t, a.do(req{method: "POST", path: "/api/v1/admin/logout", token: token}), http.StatusNoContent, "")
			}},
			{"new password", "carol", func(string) {
				if err := a.accounts.SetPassword(ctx, "carol", "a brand new password"); err != nil {
					t.Fatal(err)
				}
			}},
			{"account removed", "dave", func(string) {
				if err := a.accounts.Remove(ctx, "dave"); err != nil {
					t.Fatal(err)
				}
			}},
		}
		// One after the other (bob's stream is the whole test's).
		for _, c := range cases {
			t.Logf("%s of %s", c.name, c.user)
			token := tokenOf(c.user)
			s := b.adminStream(token)
			other := b.adminStream(tokenOf(c.user)) // the same admin's other session
			c.revoke(token)
			s.expectEnd(time.Second)
			if c.name == "account removed" {
				// The other consoles are told, to drop the agent from the team.
				if ev := bob.expect("agent.removed"); ev.Data != `{"username":"dave"}` {
					t.Fatalf("agent.removed: got %s, want dave", ev.Data)
				}
			}
			a.mustSend(room.ID, tok, false, "after "+c.name)
			if c.name == "logout" {
				// Only the token logged out: the admin's other session stays.
				other.expect("message")
			} else {
				other.expectEnd(time.Second)
			}
			if m := message(t, bob.expect("message")); m.Content != "after "+c.name {
				t.Fatalf("bob got %q, want %q", m.Content, "after "+c.name)
			}
			bob.expect("room")
		}
	})
}

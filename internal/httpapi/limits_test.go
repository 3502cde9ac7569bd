package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// wantLimited checks a 429 and its headers.
func wantLimited(t testing.TB, r resp, limit int) {
	t.Helper()
	want(t, r, http.StatusTooManyRequests, "rate_limited")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("got Retry-After %q, want whole seconds >= 1", r.header.Get("Retry-After"))
	}
	if got := r.header.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Fatalf("got X-RateLimit-Limit %q, want %d", got, limit)
	}
	if got := r.header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Fatalf("got X-RateLimit-Remaining %q, want 0", got)
	}
	reset, err := strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || reset < time.Now().Unix() {
		t.Fatalf("got X-RateLimit-Reset %q, want a Unix time in the future", r.header.Get("X-RateLimit-Reset"))
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	limits := chat.Limits{
		Rooms:    &chat.Limit{N: 2, Per: time.Hour},
		Messages: &chat.Limit{N: 3, Per: time.Minute},
		Login:    &chat.Limit{N: 2, Per: 15 * time.Minute},
		Visits:   &chat.Limit{N: 2, Per: time.Minute},
	}
	forEachRedis(t, func(t *testing.T, addr string) {
		t.Run("rooms per IP", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits})
			e.mustRoom(nil)
			e.mustRoom(nil)
			wantLimited(t, e.do(req{method: "POST", path: "/api/v1/rooms"}), 2)
			if n := e.roomCount(); n != 2 {
				t.Fatalf("got %d rooms, want 2", n)
			}
			// Without a trusted proxy, X-Forwarded-For changes nothing.
			r := e.do(req{method: "POST", path: "/api/v1/rooms", header: map[string]string{"X-Forwarded-For": "203.0.113.7"}})
			wantLimited(t, r, 2)
		})
		t.Run("messages per room", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits})
			room, tok := e.mustRoom(nil)
			send := func(body string) resp {
				return e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok, body: body})
			}
			want(t, send(`{"content":"hi 0","clientId":"c-0"}`), 201, "")
			for i := 1; i < 3; i++ {
				e.mustSend(room.ID, tok, false, "hi "+strconv.Itoa(i))
			}
			wantLimited(t, send(`{"content":"one more"}`), 3)
			wantLimited(t, send(`{"content":"one more","clientId":"c-new"}`), 3)
			// A retry of a stored send still gets its message back, at the limit.
			r := send(`{"content":"hi 0","clientId":"c-0"}`)
			want(t, r, 200, "")
			if m := decode[struct {
				Message chat.Message `json:"message"`
			}](t, r).Message; m.Seq != 1 || m.Content != "hi 0" {
				t.Fatalf("retry at the limit: got %+v, want the original (seq 1)", m)
			}
			if n := e.mustStoredRoom(room.ID).MessageCount; n != 3 {
				t.Fatalf("got %d messages, want 3", n)
			}
			// Admin replies are not limited.
			e.mustSend(room.ID, e.adminToken(), true, "admins are not limited")
		})
		t.Run("login per IP and username", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits})
			login := func(user, pw string) resp {
				return e.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": user, "password": pw}})
			}
			want(t, login(adminUser, "wrong 1"), 401, "unauthorized")
			want(t, login(" "+adminUser, "wrong 2"), 401, "unauthorized")
			// The right password no longer helps: the limit comes first.
			wantLimited(t, login(adminUser, adminPassword), 2)
			// Another username from the same IP has its own window...
			want(t, login("bob", "wrong"), 401, "unauthorized")
			want(t, login("bob", "wrong"), 401, "unauthorized")
			// ...but the IP as a whole gets three times the limit (here 6;
			// the refused attempt above is not counted), whatever the
			// usernames.
			want(t, login("carol", "wrong"), 401, "unauthorized")
			want(t, login("dave", "wrong"), 401, "unauthorized")
			r := login("erin", "wrong")
			want(t, r, 429, "rate_limited")
			if r.header.Get("X-RateLimit-Limit") != "6" {
				t.Errorf("per-IP login limit: got X-RateLimit-Limit %q, want 6", r.header.Get("X-RateLimit-Limit"))
			}
		})
		t.Run("visits per IP", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits})
			want(t, e.do(req{method: "POST", path: "/api/v1/visits", body: `{"path":"/"}`}), 200, "")
			want(t, e.do(req{method: "POST", path: "/api/v1/visits", body: `{"path":"/"}`}), 200, "")
			wantLimited(t, e.do(req{method: "POST", path: "/api/v1/visits", body: `{"path":"/"}`}), 2)
			r := e.do(req{method: "GET", path: "/api/v1/visits"})
			want(t, r, 200, "")
			if vc := decode[chat.VisitCount](t, r); vc.Total != 2 {
				t.Fatalf("got %d visits, want 2", vc.Total)
			}
		})
		t.Run("X-Forwarded-For from a trusted proxy", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits, TrustedProxies: []string{"127.0.0.1/32", "::1"}})
			xff := func(v string) map[string]string { return map[string]string{"X-Forwarded-For": v} }
			create := func(v string) resp { return e.do(req{method: "POST", path: "/api/v1/rooms", header: xff(v)}) }
			want(t, create("203.0.113.1"), 201, "")
			want(t, create("203.0.113.1"), 201, "")
			wantLimited(t, create("203.0.113.1"), 2)
			// Another client behind the proxy has its own window.
			want(t, create("203.0.113.2"), 201, "")
			// The right-most untrusted entry is the client: a forged entry to
			// its left changes nothing.
			wantLimited(t, create("198.51.100.9, 203.0.113.1"), 2)
			// Trusted proxies in the chain are skipped.
			wantLimited(t, create("203.0.113.1, 127.0.0.1"), 2)
			want(t, create("203.0.113.2"), 201, "")
			wantLimited(t, create("203.0.113.2"), 2)
			if !containsAll(e.logs.String(), `"client_ip":"203.0.113.2"`) {
				t.Fatalf("the access log does not show the forwarded client ip")
			}
		})
	})
}

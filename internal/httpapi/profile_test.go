package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

// GET/PATCH /api/v1/admin/me: the profile round-trips, a field left out is
// kept, bad input changes nothing, and the admin's token stays good (the
// password's generation is untouched).
func TestAdminMe(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		tok := e.adminToken()
		got := decode[chat.AdminProfile](t, e.do(req{method: "GET", path: "/api/v1/admin/me", token: tok}))
		if got.Username != adminUser || got.Email != "" || got.Notify != chat.NotifyOffline {
			t.Fatalf("GET /me before: got %+v, want %s, no email, offline", got, adminUser)
		}

		r := e.do(req{method: "PATCH", path: "/api/v1/admin/me", token: tok, body: map[string]string{"email": " dana@acme.example ", "notify": "always"}})
		want(t, r, http.StatusOK, "")
		r = e.do(req{method: "PATCH", path: "/api/v1/admin/me", token: tok, body: map[string]string{"displayName": "Dana"}})
		want(t, r, http.StatusOK, "")
		got = decode[chat.AdminProfile](t, e.do(req{method: "GET", path: "/api/v1/admin/me", token: tok}))
		if got.Email != "dana@acme.example" || got.Notify != chat.NotifyAlways || got.DisplayName != "Dana" {
			t.Fatalf("GET /me after: got %+v, want Dana <dana@acme.example> always", got)
		}

		for _, body := range []map[string]any{
			{"notify": "sometimes"},
			{"email": "not an address"},
			{"email": 42},
			{"displayName": "two\nlines", "notify": "never"},
		} {
			want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/me", token: tok, body: body}), http.StatusBadRequest, "invalid_request")
		}
		got = decode[chat.AdminProfile](t, e.do(req{method: "GET", path: "/api/v1/admin/me", token: tok}))
		if got.Email != "dana@acme.example" || got.Notify != chat.NotifyAlways || got.DisplayName != "Dana" {
			t.Fatalf("bad PATCHes changed the profile: got %+v", got)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/me"}), http.StatusUnauthorized, "unauthorized")
	})
}

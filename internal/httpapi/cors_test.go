package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{AllowedOrigins: []string{"https://shop.example.com", "http://localhost:*"}})
		room, tok := e.mustRoom(nil)
		at := e.adminToken()
		origin := func(o string) map[string]string { return map[string]string{"Origin": o} }
		preflight := func(o, method string) map[string]string {
			return map[string]string{"Origin": o, "Access-Control-Request-Method": method,
				"Access-Control-Request-Headers": "authorization, content-type"}
		}

		allowed := []string{"https://shop.example.com", "http://localhost:5173", "http://localhost"}
		refused := []string{"https://evil.example.com", "https://shop.example.com.evil.com", "http://localhost.evil.com:80",
			"https://localhost:5173", "http://localhost:5173x", "null"}

		visitorRoutes := []req{
			{method: "POST", path: "/api/v1/rooms"},
			{method: "GET", path: "/api/v1/rooms/" + room.ID, token: tok},
			{method: "GET", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok},
			{method: "GET", path: "/api/v1/visits"},
			{method: "POST", path: "/api/v1/visits", body: `{"path":"/"}`},
		}
		for _, o := range allowed {
			for _, r := range visitorRoutes {
				r.header = origin(o)
				got := e.do(r)
				if got.status >= 300 {
					t.Fatalf("%s %s from %s: got %d %s", r.method, r.path, o, got.status, got.body)
				}
				if acao := got.header.Get("Access-Control-Allow-Origin"); acao != o {
					t.Fatalf("%s %s from %s: got Access-Control-Allow-Origin %q", r.method, r.path, o, acao)
				}
				if got.header.Get("Access-Control-Allow-Credentials") != "" {
					t.Fatalf("credentials allowed")
				}
				if exp := got.header.Get("Access-Control-Expose-Headers"); !containsAll(exp, "Retry-After", "X-Ratelimit-Limit") {
					t.Fatalf("got Access-Control-Expose-Headers %q", exp)
				}
			}
			for _, p := range []string{"/api/v1/rooms", "/api/v1/rooms/" + room.ID + "/messages", "/api/v1/visits", "/api/v1/rooms/" + room.ID + "/events"} {
				got := e.do(req{method: "OPTIONS", path: p, header: preflight(o, "POST")})
				if got.status != http.StatusNoContent || got.header.Get("Access-Control-Allow-Origin") != o {
					t.Fatalf("preflight %s from %s: got %d, ACAO %q", p, o, got.status, got.header.Get("Access-Control-Allow-Origin"))
				}
				methods := got.header.Get("Access-Control-Allow-Methods")
				headers := strings.ToLower(got.header.Get("Access-Control-Allow-Headers"))
				if !containsAll(methods, "GET", "POST", "DELETE") || !containsAll(headers, "authorization", "content-type", "last-event-id") {
					t.Fatalf("preflight %s: got methods %q headers %q", p, methods, headers)
				}
			}
		}
		before := e.roomCount()
		for _, o := range refused {
			for _, r := range visitorRoutes {
				r.header = origin(o)
				got := e.do(r)
				want(t, got, http.StatusForbidden, "forbidden")
				if acao := got.header.Get("Access-Control-Allow-Origin"); acao != "" {
					t.Fatalf("%s from %s: got Access-Control-Allow-Origin %q", r.path, o, acao)
				}
			}
			got := e.do(req{method: "OPTIONS", path: "/api/v1/rooms", header: preflight(o, "POST")})
			if got.status < 400 || got.header.Get("Access-Control-Allow-Origin") != "" || got.header.Get("Access-Control-Allow-Methods") != "" {
				t.Fatalf("preflight from %s: got %d with %v", o, got.status, got.header)
			}
		}
		if after := e.roomCount(); after != before {
			t.Fatalf("requests from refused origins created %d rooms", after-before)
		}

		// The admin API never allows another origin, not even an allowed site.
		for _, o := range append(allowed, refused...) {
			got := e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: at, header: origin(o)})
			if got.header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("admin route from %s: got Access-Control-Allow-Origin", o)
			}
			for _, p := range []string{"/api/v1/admin/login", "/api/v1/admin/rooms", "/api/v1/admin/events"} {
				got = e.do(req{method: "OPTIONS", path: p, header: preflight(o, "POST")})
				if got.status < 400 || got.header.Get("Access-Control-Allow-Origin") != "" || got.header.Get("Access-Control-Allow-Methods") != "" {
					t.Fatalf("admin preflight %s from %s: got %d with %v", p, o, got.status, got.header)
				}
			}
		}

		// Same-origin requests (the widget frame) are not CORS requests.
		host := strings.TrimPrefix(e.srv.URL, "http://")
		want(t, e.do(req{method: "GET", path: "/api/v1/visits", header: origin("http://" + host)}), 200, "")
	})
}

package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
)

// edgeWidget is a widget and console small enough to read in a failure.
var (
	edgeWidget = fstest.MapFS{
		"loader.js":  {Data: []byte("(function(){'use strict';})();")},
		"frame.html": {Data: []byte("<!doctype html><title>chat panel</title>")},
		"frame.js":   {Data: []byte("console.log('frame');")},
		"frame.css":  {Data: []byte("body{margin:0}")},
		"demo.html":  {Data: []byte("<!doctype html><title>demo</title>")},
	}
	edgeAdmin = fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html><title>console</title>")},
		"app.js":     {Data: []byte("export const x = 1;")},
	}
)

func TestMetricsNeedTheToken(t *testing.T) {
	t.Parallel()
	addr := startEmbedded(t)
	e := newEnv(t, addr, envConfig{})
	for name, tok := range map[string]string{"no token": "", "wrong token": "test-metrics-token-0123456780", "prefix": "test-metrics"} {
		r := e.do(req{method: "GET", path: "/metrics", token: tok})
		want(t, r, http.StatusUnauthorized, "unauthorized")
		if strings.Contains(string(r.body), "parley_") {
			t.Fatalf("%s: the 401 carries metrics: %s", name, r.body)
		}
		if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="parley"` {
			t.Fatalf("%s: got WWW-Authenticate %q", name, got)
		}
	}
	// Admin tokens do not open the metrics either.
	want(t, e.do(req{method: "GET", path: "/metrics", token: e.adminToken()}), http.StatusUnauthorized, "unauthorized")
	r := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken})
	want(t, r, http.StatusOK, "")
	if !strings.Contains(string(r.body), "parley_http_requests_total") {
		t.Fatalf("got %.300s, want the metrics", r.body)
	}

	t.Run("no token configured", func(t *testing.T) {
		e := newEnv(t, addr, envConfig{NoMetricsToken: true})
		for _, tok := range []string{"", testMetricsToken, "anything"} {
			r := e.do(req{method: "GET", path: "/metrics", token: tok})
			want(t, r, http.StatusUnauthorized, "unauthorized")
			if got, wantMsg := r.errorMessage(), "missing or invalid metrics token"; got != wantMsg {
				t.Fatalf("got message %q, want %q", got, wantMsg)
			}
		}
	})
}

// TestSecurityHeaders walks a route of each kind: every answer carries the
// same nosniff and Permissions-Policy, the site-facing files the referrer
// policy a site's pages get, everything else none at all.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{Widget: edgeWidget, Admin: edgeAdmin,
		AllowedOrigins: []string{"https://shop.example.com"}})
	room, tok := e.mustRoom(nil)
	const site, api = "strict-origin-when-cross-origin", "no-referrer"
	tests := []struct {
		name     string
		r        req
		status   int
		referrer string
	}{
		{"health", req{method: "GET", path: "/healthz"}, 200, api},
		{"metrics", req{method: "GET", path: "/metrics", token: testMetricsToken}, 200, api},
		{"metrics refused", req{method: "GET", path: "/metrics"}, 401, api},
		{"visitor API", req{method: "GET", path: "/api/v1/rooms/" + room.ID, token: tok}, 200, api},
		{"visitor API, allowed origin", req{method: "GET", path: "/api/v1/visits", header: map[string]string{"Origin": "https://shop.example.com"}}, 200, api},
		{"visitor API, refused origin", req{method: "POST", path: "/api/v1/rooms", header: map[string]string{"Origin": "https://evil.example.com"}}, 403, api},
		{"admin API error", req{method: "GET", path: "/api/v1/admin/rooms"}, 401, api},
		{"unknown path", req{method: "GET", path: "/nope"}, 404, api},
		{"loader", req{method: "GET", path: "/widget.js"}, 200, site},
		{"frame", req{method: "GET", path: "/widget/frame.html?origin=" + url.QueryEscape("https://shop.example.com")}, 200, site},
		{"frame, unlisted origin", req{method: "GET", path: "/widget/frame.html?origin=" + url.QueryEscape("https://evil.example.com")}, 200, site},
		{"frame script", req{method: "GET", path: "/widget/frame.js"}, 200, site},
		{"frame style", req{method: "GET", path: "/widget/frame.css"}, 200, site},
		{"widget file missing", req{method: "GET", path: "/widget/nope.js"}, 404, site},
		{"demo page", req{method: "GET", path: "/"}, 200, site},
		{"demo page HEAD", req{method: "HEAD", path: "/"}, 200, site},
		{"console", req{method: "GET", path: "/admin/"}, 200, api},
		{"console module", req{method: "GET", path: "/admin/app.js"}, 200, api},
		{"console redirect", req{method: "GET", path: "/admin"}, 200, api}, // followed to /admin/
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.r)
			want(t, r, tt.status, "")
			checkSecurityHeaders(t, r.header, tt.referrer)
		})
	}
	t.Run("visitor stream", func(t *testing.T) {
		s, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
		if s == nil {
			t.Fatalf("stream: got %d %s", r.status, r.body)
		}
		defer s.close()
		checkSecurityHeaders(t, s.res.Header, api)
	})
	t.Run("visitor stream, not hijacked", func(t *testing.T) {
		e := newEnv(t, startEmbedded(t), envConfig{NoHijack: true})
		room, tok := e.mustRoom(nil)
		s, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
		if s == nil {
			t.Fatalf("stream: got %d %s", r.status, r.body)
		}
		defer s.close()
		checkSecurityHeaders(t, s.res.Header, api)
	})
	t.Run("console CSP kept", func(t *testing.T) {
		r := e.do(req{method: "GET", path: "/admin/"})
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("got CSP %q, want frame-ancestors 'none'", csp)
		}
	})
}

func checkSecurityHeaders(t *testing.T, h http.Header, referrer string) {
	t.Helper()
	for name, v := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        referrer,
	} {
		if got := h.Get(name); got != v {
			t.Errorf("got %s %q, want %q", name, got, v)
		}
	}
	pp := h.Get("Permissions-Policy")
	for _, f := range []string{"camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"} {
		if !strings.Contains(pp, f) {
			t.Errorf("got Permissions-Policy %q, want it to deny %s", pp, f)
		}
	}
}

// TestFrameOrigin: the frame is served only to the host origin it names,
// with exactly that origin in frame-ancestors; any other gets the page that
// says so, and the operator one warning per origin.
func TestFrameOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{Widget: edgeWidget,
		AllowedOrigins: []string{"https://shop.example.com", "http://127.0.0.1:*"}})
	const prefix = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; frame-ancestors "
	frame := func(origin string) resp {
		p := "/widget/frame.html"
		if origin != "" {
			p += "?origin=" + url.QueryEscape(origin) + "&color=%234f46e5"
		}
		return e.do(req{method: "GET", path: p})
	}
	served := map[string]string{
		"https://shop.example.com": "https://shop.example.com",
		"https://SHOP.example.com": "https://shop.example.com",
		"http://127.0.0.1:5173":    "http://127.0.0.1:5173",
		"":                         "'self'", // opened on its own
		e.srv.URL:                  "'self'", // Parley's own demo page
	}
	for origin, ancestors := range served {
		r := frame(origin)
		want(t, r, 200, "")
		if string(r.body) != "<!doctype html><title>chat panel</title>" {
			t.Fatalf("origin %q: got %q, want the panel", origin, r.body)
		}
		if got := r.header.Get("Content-Security-Policy"); got != prefix+ancestors {
			t.Fatalf("origin %q: got CSP %q, want %q", origin, got, prefix+ancestors)
		}
	}

	refused := []string{"https://www.shop.example.com", "http://localhost:5173", "https://shop.example.com; frame-ancestors *",
		"https://shop.example.com/path", "null", "javascript:alert(1)"}
	for _, origin := range refused {
		r := frame(origin)
		want(t, r, 200, "")
		body := string(r.body)
		if !strings.Contains(body, "This chat is not set up for this site") || strings.Contains(body, "chat panel") {
			t.Fatalf("origin %q: got %q, want the not-set-up page", origin, body)
		}
		if strings.Contains(body, "<script") {
			t.Fatalf("origin %q: the not-set-up page has a script", origin)
		}
		if got := r.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Fatalf("origin %q: got Content-Type %q", origin, got)
		}
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors *") || strings.Contains(csp, "script-src") {
			t.Fatalf("origin %q: got CSP %q", origin, csp)
		}
	}
	// Asked twice, warned once.
	frame("http://localhost:5173")
	logs := e.logs.String()
	if n := strings.Count(logs, `"origin":"http://localhost:5173"`); n != 1 {
		t.Fatalf("warnings for http://localhost:5173: got %d, want 1; logs %s", n, logs)
	}
	if !strings.Contains(logs, "PARLEY_ALLOWED_ORIGINS") || !strings.Contains(logs, `"allowed_origins":"https://shop.example.com,http://127.0.0.1:*"`) {
		t.Fatalf("the warning does not say what to set: %s", logs)
	}
	if n := strings.Count(logs, `"level":"WARN","msg":"refused a site`); n != len(refused) {
		t.Fatalf("warnings: got %d, want one per refused origin (%d); logs %s", n, len(refused), logs)
	}
}

// TestUnlistedOriginWarnsOnce: the API still refuses an unlisted origin, and
// the log says once which origin and which variable.
func TestUnlistedOriginWarnsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{AllowedOrigins: []string{"http://127.0.0.1:8000"}})
	for range 2 {
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms", header: map[string]string{"Origin": "http://localhost:8000"}}), http.StatusForbidden, "forbidden")
	}
	want(t, e.do(req{method: "GET", path: "/api/v1/visits", header: map[string]string{"Origin": "http://127.0.0.1:8000"}}), http.StatusOK, "")
	logs := e.logs.String()
	if n := strings.Count(logs, `"msg":"refused a site`); n != 1 {
		t.Fatalf("warnings: got %d, want 1; logs %s", n, logs)
	}
	if !containsAll(logs, `"origin":"http://localhost:8000"`, "PARLEY_ALLOWED_ORIGINS", `"allowed_origins":"http://127.0.0.1:8000"`) {
		t.Fatalf("the warning lacks the origin or the variable: %s", logs)
	}
}

package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
)

func TestStatic(t *testing.T) {
	t.Parallel()
	widget := fstest.MapFS{
		"loader.js":  {Data: []byte("(function(){'use strict';window.Parley=window.Parley||[];})();")},
		"frame.html": {Data: []byte("<!doctype html><title>chat</title>")},
		"frame.js":   {Data: []byte("console.log('frame');")},
		"frame.css":  {Data: []byte("body{margin:0}")},
		"demo.html":  {Data: []byte("<!doctype html><title>demo</title>")},
	}
	admin := fstest.MapFS{
		"index.html": {Data: []byte("<!doctype html><title>console</title>")},
		"app.js":     {Data: []byte("export const x = 1;")},
		"style.css":  {Data: []byte("body{}")},
		"lib/api.js": {Data: []byte("export const api = 1;")},
	}
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{Widget: widget, Admin: admin,
			AllowedOrigins: []string{"https://shop.example.com", "http://localhost:*"}})

		t.Run("loader", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/widget.js"})
			want(t, r, 200, "")
			// Served minified: the same program, fewer bytes.
			if src := widget["loader.js"].Data; !strings.Contains(string(r.body), "window.Parley=window.Parley||[]") || len(r.body) > len(src) {
				t.Fatalf("got %q, want %q minified", r.body, src)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
				t.Fatalf("got Content-Type %q", ct)
			}
			if cc := r.header.Get("Cache-Control"); cc != "public, max-age=300" {
				t.Fatalf("got Cache-Control %q", cc)
			}
			etag := r.header.Get("ETag")
			if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
				t.Fatalf("got ETag %q, want a strong content hash", etag)
			}
			r2 := e.do(req{method: "GET", path: "/widget.js", header: map[string]string{"If-None-Match": etag}})
			want(t, r2, http.StatusNotModified, "")
			if len(r2.body) != 0 {
				t.Fatalf("304 with a body")
			}
			want(t, e.do(req{method: "GET", path: "/widget.js", header: map[string]string{"If-None-Match": `"other"`}}), 200, "")
			if h := e.do(req{method: "HEAD", path: "/widget.js"}); h.status != 200 || h.header.Get("ETag") != etag {
				t.Fatalf("HEAD: got %d %q", h.status, h.header.Get("ETag"))
			}
		})

		t.Run("frame", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/widget/frame.html?origin=http%3A%2F%2Flocalhost%3A5173"})
			want(t, r, 200, "")
			csp := r.header.Get("Content-Security-Policy")
			wantCSP := "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; " +
				"frame-ancestors http://localhost:5173"
			if csp != wantCSP {
				t.Fatalf("got CSP %q, want %q", csp, wantCSP)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("got Content-Type %q", ct)
			}
			if r.header.Get("X-Frame-Options") != "" {
				t.Fatalf("the frame must be embeddable by the allowed sites")
			}
			for name, ct := range map[string]string{"frame.js": "text/javascript; charset=utf-8", "frame.css": "text/css; charset=utf-8"} {
				r := e.do(req{method: "GET", path: "/widget/" + name})
				want(t, r, 200, "")
				if got := r.header.Get("Content-Type"); got != ct {
					t.Fatalf("%s: got Content-Type %q, want %q", name, got, ct)
				}
			}
		})

		t.Run("demo", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/"})
			want(t, r, 200, "")
			if !strings.Contains(string(r.body), "demo") {
				t.Fatalf("got %q", r.body)
			}
		})

		t.Run("console", func(t *testing.T) {
			wantCSP := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
				"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
			for path, ct := range map[string]string{
				"/admin/": "text/html; charset=utf-8", "/admin/index.html": "text/html; charset=utf-8",
				"/admin/app.js": "text/javascript; charset=utf-8", "/admin/style.css": "text/css; charset=utf-8",
				"/admin/lib/api.js": "text/javascript; charset=utf-8", "/admin/missing.js": "application/json; charset=utf-8",
			} {
				r := e.do(req{method: "GET", path: path})
				if path == "/admin/missing.js" {
					want(t, r, 404, "not_found")
				} else {
					want(t, r, 200, "")
				}
				if got := r.header.Get("Content-Type"); got != ct {
					t.Fatalf("%s: got Content-Type %q, want %q", path, got, ct)
				}
				for h, v := range map[string]string{"Content-Security-Policy": wantCSP, "X-Frame-Options": "DENY",
					"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
					if got := r.header.Get(h); got != v {
						t.Fatalf("%s: got %s %q, want %q", path, h, got, v)
					}
				}
			}
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			r := doWith(t, noRedirect, e.url("/admin"), req{method: "GET", path: "/admin"})
			if r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/admin/" {
				t.Fatalf("/admin: got %d to %q", r.status, r.header.Get("Location"))
			}
		})

		t.Run("missing and traversal", func(t *testing.T) {
			for _, p := range []string{"/widget/missing.js", "/widget/", "/widget/..%2Floader.js", "/widget/../admin/index.html",
				"/admin/..%2F..%2Fetc%2Fpasswd", "/admin/lib", "/favicon.ico"} {
				want(t, e.do(req{method: "GET", path: p}), 404, "not_found")
			}
		})
	})

	t.Run("no files", func(t *testing.T) {
		e := newEnv(t, startEmbedded(t), envConfig{})
		for _, p := range []string{"/", "/widget.js", "/widget/frame.html", "/admin/", "/admin/app.js"} {
			want(t, e.do(req{method: "GET", path: p}), 404, "not_found")
		}
	})
}

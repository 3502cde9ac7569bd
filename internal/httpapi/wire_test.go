package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

// decodeBody undoes the Content-Encoding of an answer.
func decodeBody(t testing.TB, r resp) []byte {
	t.Helper()
	var rd io.Reader
	switch ce := r.header.Get("Content-Encoding"); ce {
	case "":
		return r.body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		rd = zr
	case "br":
		rd = brotli.NewReader(bytes.NewReader(r.body))
	default:
		t.Fatalf("got Content-Encoding %q", ce)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("decode %s body: %v", r.header.Get("Content-Encoding"), err)
	}
	return b
}

// plainClient sends exactly the headers a test sets: no Accept-Encoding of
// its own, no transparent gunzip.
var plainClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func TestStaticEncodings(t *testing.T) {
	t.Parallel()
	// Text that compresses, and a file too small to gain from it.
	big := []byte("export const words = [" + strings.Repeat(`"parley", "chat", "widget", `, 200) + "];\n")
	widget := fstest.MapFS{
		"loader.js":  {Data: []byte("(function(){'use strict';window.Parley=window.Parley||[];})();")},
		"frame.html": {Data: []byte("<!doctype html><title>chat</title>")},
		"frame.js":   {Data: big},
		"tiny.js":    {Data: []byte("1")},
		"logo.png":   {Data: bytes.Repeat([]byte{0}, 4096)},
	}
	e := newEnv(t, startEmbedded(t), envConfig{Widget: widget})
	get := func(method, accept string, header ...string) resp {
		t.Helper()
		h := map[string]string{}
		if accept != "-" {
			h["Accept-Encoding"] = accept
		}
		for i := 0; i+1 < len(header); i += 2 {
			h[header[i]] = header[i+1]
		}
		return doWith(t, plainClient, e.url("/widget/frame.js"), req{method: method, path: "/widget/frame.js", header: h})
	}
	identity := get("GET", "-")
	want(t, identity, 200, "")

	tests := []struct {
		accept, encoding string
	}{
		{"-", ""},
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0.5, gzip", "gzip"},
		{"br;q=0.8, gzip;q=0.8", "br"},
		{"GZIP;Q=0.9", "gzip"},
		{"br;q=0, gzip;q=0", ""},
		{"*", "br"},
		{"*;q=0.5, br;q=0", "gzip"},
		{"gzip;q=0.4, identity;q=0.5", ""},
		{"identity;q=0, gzip", "gzip"},
		{"deflate", ""},
		{"gzip;q=nonsense", ""},
	}
	etags := map[string]string{}
	for _, tt := range tests {
		t.Run("Accept-Encoding "+tt.accept, func(t *testing.T) {
			r := get("GET", tt.accept)
			want(t, r, 200, "")
			if got := r.header.Get("Content-Encoding"); got != tt.encoding {
				t.Fatalf("got Content-Encoding %q, want %q", got, tt.encoding)
			}
			if got := r.header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("got Vary %q, want Accept-Encoding", got)
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(r.body)) {
				t.Errorf("got Content-Length %q, want %d", got, len(r.body))
			}
			if got := decodeBody(t, r); !bytes.Equal(got, identity.body) {
				t.Fatalf("decoded body differs from the identity body")
			}
			if tt.encoding != "" && len(r.body) >= len(identity.body) {
				t.Errorf("%s: got %d bytes, identity is %d", tt.encoding, len(r.body), len(identity.body))
			}
			etag := r.header.Get("ETag")
			if prev, ok := etags[tt.encoding]; ok && prev != etag {
				t.Errorf("got ETag %q, want %q as before for %q", etag, prev, tt.encoding)
			}
			etags[tt.encoding] = etag

			// The encoding's own ETag revalidates; another's does not.
			nm := get("GET", tt.accept, "If-None-Match", etag)
			want(t, nm, http.StatusNotModified, "")
			if len(nm.body) != 0 || nm.header.Get("Content-Encoding") != "" {
				t.Errorf("304: got body %d bytes, Content-Encoding %q", len(nm.body), nm.header.Get("Content-Encoding"))
			}
			other := identity.header.Get("ETag")
			if tt.encoding == "" {
				other = etags["gzip"]
			}
			if other != "" {
				want(t, get("GET", tt.accept, "If-None-Match", other), 200, "")
			}

			h := get("HEAD", tt.accept)
			want(t, h, 200, "")
			for _, k := range []string{"Content-Encoding", "Content-Length", "ETag", "Vary", "Content-Type", "Cache-Control"} {
				if h.header.Get(k) != r.header.Get(k) {
					t.Errorf("HEAD: got %s %q, GET has %q", k, h.header.Get(k), r.header.Get(k))
				}
			}
			if len(h.body) != 0 {
				t.Errorf("HEAD: got a body of %d bytes", len(h.body))
			}
		})
	}
	if len(etags) != 3 || etags[""] == etags["gzip"] || etags["gzip"] == etags["br"] || etags[""] == etags["br"] {
		t.Errorf("got ETags %v, want one per encoding", etags)
	}

	t.Run("not worth it", func(t *testing.T) {
		for _, p := range []string{"/widget/tiny.js", "/widget/logo.png"} {
			r := doWith(t, plainClient, e.url(p), req{method: "GET", path: p, header: map[string]string{"Accept-Encoding": "br, gzip"}})
			want(t, r, 200, "")
			if ce := r.header.Get("Content-Encoding"); ce != "" {
				t.Errorf("%s: got Content-Encoding %q, want none", p, ce)
			}
		}
	})
}

// versionRef finds the versioned URL a page points at.
var versionRef = regexp.MustCompile(`"/v/([0-9a-f]+)/(widget|admin)/([^"]+)"`)

func TestVersionedURLs(t *testing.T) {
	t.Parallel()
	widget := fstest.MapFS{
		"loader.js": {Data: []byte("(function(){'use strict';window.Parley=window.Parley||[];})();")},
		"frame.html": {Data: []byte(`<!doctype html><html><head><link rel="stylesheet" href="frame.css">` +
			`<script type="module" src="frame.js"></script><script src="missing.js"></script></head><body></body></html>`)},
		"frame.js":  {Data: []byte("import { x } from './dom.js';\nconsole.log(x);\n")},
		"frame.css": {Data: []byte("body { margin: 0 }")},
		"dom.js":    {Data: []byte("export const x = 1;\n")},
		"demo.html": {Data: []byte("<!doctype html><title>demo</title>")},
	}
	admin := fstest.MapFS{
		"index.html": {Data: []byte(`<!doctype html><html><head><link rel="icon" href="favicon.svg"><script type="module" src="app.js"></script></head>` +
			`<body><a href="#/">Inbox</a></body></html>`)},
		"app.js":      {Data: []byte("import { x } from '../widget/dom.js';\nconsole.log(x);\n")},
		"favicon.svg": {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	}
	e := newEnv(t, startEmbedded(t), envConfig{Widget: widget, Admin: admin})

	frame := e.do(req{method: "GET", path: "/widget/frame.html"})
	want(t, frame, 200, "")
	if cc := frame.header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("frame.html: got Cache-Control %q, want no-cache", cc)
	}
	refs := versionRef.FindAllStringSubmatch(string(frame.body), -1)
	if len(refs) != 2 || refs[0][3] != "frame.css" || refs[1][3] != "frame.js" || refs[0][1] != refs[1][1] {
		t.Fatalf("frame.html: got versioned references %v in %s, want frame.css and frame.js under one version", refs, frame.body)
	}
	if !strings.Contains(string(frame.body), `src="missing.js"`) {
		t.Errorf("frame.html: a reference to a missing file was rewritten: %s", frame.body)
	}
	version := refs[0][1]

	index := e.do(req{method: "GET", path: "/admin/"})
	want(t, index, 200, "")
	if cc := index.header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("/admin/: got Cache-Control %q, want no-cache", cc)
	}
	got := []string{}
	for _, m := range versionRef.FindAllStringSubmatch(string(index.body), -1) {
		got = append(got, m[1]+" "+m[2]+"/"+m[3])
	}
	if w := []string{version + " admin/favicon.svg", version + " admin/app.js"}; fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("/admin/: got versioned references %v, want %v", got, w)
	}
	if !strings.Contains(string(index.body), `href="#/"`) {
		t.Errorf("/admin/: the fragment link changed: %s", index.body)
	}

	const immutable = "public, max-age=31536000, immutable"
	for _, tt := range []struct {
		path, same, cache string
		adminHeaders      bool
	}{
		{"/v/" + version + "/widget/frame.js", "/widget/frame.js", immutable, false},
		{"/v/" + version + "/widget/frame.css", "/widget/frame.css", immutable, false},
		{"/v/" + version + "/widget/dom.js", "/widget/dom.js", immutable, false},
		{"/v/" + version + "/widget/loader.js", "/widget.js", immutable, false},
		{"/v/" + version + "/admin/app.js", "/admin/app.js", immutable, true},
		{"/v/" + version + "/admin/favicon.svg", "/admin/favicon.svg", immutable, true},
		// Another build's URL: today's file, revalidated.
		{"/v/0123456789ab/widget/frame.js", "/widget/frame.js", "no-cache", false},
		{"/v/0123456789ab/admin/app.js", "/admin/app.js", "no-cache", true},
	} {
		r := e.do(req{method: "GET", path: tt.path})
		want(t, r, 200, "")
		if cc := r.header.Get("Cache-Control"); cc != tt.cache {
			t.Errorf("%s: got Cache-Control %q, want %q", tt.path, cc, tt.cache)
		}
		same := e.do(req{method: "GET", path: tt.same})
		if !bytes.Equal(r.body, same.body) || r.header.Get("ETag") != same.header.Get("ETag") {
			t.Errorf("%s: got other bytes or ETag than %s", tt.path, tt.same)
		}
		if csp := r.header.Get("Content-Security-Policy"); (csp != "") != tt.adminHeaders {
			t.Errorf("%s: got Content-Security-Policy %q", tt.path, csp)
		}
	}
	for _, p := range []string{
		"/v/" + version + "/widget/frame.html", "/v/" + version + "/widget/demo.html", "/v/" + version + "/admin/index.html",
		"/v/" + version + "/admin/", "/v/" + version + "/widget/missing.js", "/v/" + version + "/other/app.js",
		"/v/" + version + "/widget/..%2Fadmin%2Fapp.js", "/v/" + version,
	} {
		want(t, e.do(req{method: "GET", path: p}), 404, "not_found")
	}

	t.Run("a change of any file is a new version", func(t *testing.T) {
		changed := fstest.MapFS{}
		for k, v := range admin {
			changed[k] = v
		}
		changed["app.js"] = &fstest.MapFile{Data: []byte("import { x } from '../widget/dom.js';\nconsole.log(x + 1);\n")}
		e2 := newEnv(t, startEmbedded(t), envConfig{Widget: widget, Admin: changed})
		r := e2.do(req{method: "GET", path: "/widget/frame.html"})
		m := versionRef.FindStringSubmatch(string(r.body))
		if m == nil || m[1] == version {
			t.Fatalf("after a change of admin/app.js: got %v, want a version other than %s", m, version)
		}
		if bytes.Equal(r.body, frame.body) || r.header.Get("ETag") == frame.header.Get("ETag") {
			t.Errorf("frame.html: same bytes or ETag under a new version")
		}
	})
}

func TestJSONCompression(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{})
	admin := e.adminToken()
	for i := range 30 {
		e.mustRoom(map[string]string{"name": fmt.Sprintf("Visitor %d", i), "email": fmt.Sprintf("v%d@example.com", i)})
	}
	get := func(path, token, accept string) resp {
		t.Helper()
		h := map[string]string{}
		if accept != "" {
			h["Accept-Encoding"] = accept
		}
		return doWith(t, plainClient, e.url(path), req{method: "GET", path: path, token: token, header: h})
	}
	plain := get("/api/v1/admin/rooms", admin, "")
	want(t, plain, 200, "")
	if len(plain.body) < 1024 {
		t.Fatalf("room list: got %d bytes, the test needs over 1 KiB", len(plain.body))
	}
	for _, tt := range []struct{ accept, encoding string }{
		{"", ""}, {"gzip", "gzip"}, {"br, gzip", "br"}, {"br;q=0, gzip;q=0", ""},
	} {
		r := get("/api/v1/admin/rooms", admin, tt.accept)
		want(t, r, 200, "")
		if ce := r.header.Get("Content-Encoding"); ce != tt.encoding {
			t.Errorf("%q: got Content-Encoding %q, want %q", tt.accept, ce, tt.encoding)
		}
		if v := r.header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept-Encoding") {
			t.Errorf("%q: got Vary %v, want Accept-Encoding", tt.accept, v)
		}
		body := decodeBody(t, r)
		if !json.Valid(body) || !bytes.Equal(body, plain.body) {
			t.Errorf("%q: decoded body is not the plain one: %.80s", tt.accept, body)
		}
		if tt.encoding != "" && len(r.body)*2 > len(plain.body) {
			t.Errorf("%q: got %d bytes, plain is %d", tt.accept, len(r.body), len(plain.body))
		}
	}

	// A short answer, an error and the answers with a token stay plain.
	if r := get("/api/v1/admin/rooms?limit=1", admin, "br, gzip"); r.status != 200 || r.header.Get("Content-Encoding") != "" {
		t.Errorf("one room: got %d, Content-Encoding %q, want 200 and none", r.status, r.header.Get("Content-Encoding"))
	}
	if r := get("/api/v1/admin/rooms", "", "br, gzip"); r.status != 401 || r.header.Get("Content-Encoding") != "" {
		t.Errorf("no token: got %d, Content-Encoding %q, want 401 and none", r.status, r.header.Get("Content-Encoding"))
	}
	long := strings.Repeat("a long visitor name ", 20)[:80]
	create := doWith(t, plainClient, e.url("/api/v1/rooms"), req{method: "POST", path: "/api/v1/rooms",
		body: map[string]string{"name": long, "email": "long@example.com"}, header: map[string]string{"Accept-Encoding": "br, gzip"}})
	want(t, create, http.StatusCreated, "")
	if ce := create.header.Get("Content-Encoding"); ce != "" {
		t.Errorf("POST /api/v1/rooms: got Content-Encoding %q, want none", ce)
	}

	// The stream is never compressed.
	_, res := openStream(t, e.url("/api/v1/admin/events"), admin, map[string]string{"Accept-Encoding": "br, gzip"})
	if res.status != 200 || res.header.Get("Content-Encoding") != "" {
		t.Errorf("admin events: got %d, Content-Encoding %q, want 200 and none", res.status, res.header.Get("Content-Encoding"))
	}
}

package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/widget"
)

// TestCounterScript: /counter.js is the real widget/counter.js, served like
// the loader (minified, briefly cached with an ETag, the site's referrer
// policy), in a script tag's terms: no CORS header is needed and no cookie
// is set. Gzipped, it stays under the 1.5 KB the README promises.
func TestCounterScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{Widget: widget.Files, AllowedOrigins: []string{"https://shop.example.com"}})
	src, err := widget.Files.ReadFile("counter.js")
	if err != nil {
		t.Fatal(err)
	}

	r := e.do(req{method: "GET", path: "/counter.js", header: map[string]string{
		"Origin": "https://elsewhere.example.com", "Accept-Encoding": "identity"}})
	want(t, r, 200, "")
	if !strings.Contains(string(r.body), "/api/v1/visits") || len(r.body) >= len(src) {
		t.Fatalf("got %d bytes, want counter.js (%d bytes) minified", len(r.body), len(src))
	}
	for name, v := range map[string]string{
		"Content-Type":                "text/javascript; charset=utf-8",
		"Cache-Control":               "public, max-age=300",
		"Access-Control-Allow-Origin": "",
		"Set-Cookie":                  "",
	} {
		if got := r.header.Get(name); got != v {
			t.Errorf("got %s %q, want %q", name, got, v)
		}
	}
	checkSecurityHeaders(t, r.header, "strict-origin-when-cross-origin")

	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("got ETag %q, want a strong content hash", etag)
	}
	want(t, e.do(req{method: "GET", path: "/counter.js", header: map[string]string{"If-None-Match": etag, "Accept-Encoding": "identity"}}), http.StatusNotModified, "")
	if h := e.do(req{method: "HEAD", path: "/counter.js"}); h.status != 200 || h.header.Get("ETag") != etag {
		t.Errorf("HEAD: got %d %q, want 200 %q", h.status, h.header.Get("ETag"), etag)
	}

	gz := e.do(req{method: "GET", path: "/counter.js", header: map[string]string{"Accept-Encoding": "gzip"}})
	want(t, gz, 200, "")
	if ce := gz.header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("got Content-Encoding %q, want gzip", ce)
	}
	t.Logf("counter.js: %d bytes gzipped, %d minified, %d in the source", len(gz.body), len(r.body), len(src))
	if len(gz.body) > 1536 {
		t.Errorf("counter.js gzipped: got %d bytes, want at most 1536", len(gz.body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, r.body) {
		t.Errorf("gzipped body: decodes to %d bytes (%v), want the %d served plain", len(plain), err, len(r.body))
	}
}

// TestCounterRequest sends what counter.js sends: a POST whose JSON body is
// typed text/plain (a simple CORS request, so a keepalive fetch needs no
// preflight) with no visitor id. An allowed site reads the new counts; an
// unlisted one is refused and counts nothing.
func TestCounterRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{Widget: widget.Files, AllowedOrigins: []string{"https://shop.example.com"}})
	send := func(origin string) resp {
		return e.do(req{method: "POST", path: "/api/v1/visits", body: `{"path":"/blog/hello"}`,
			header: map[string]string{"Origin": origin, "Content-Type": "text/plain;charset=UTF-8"}})
	}
	var n struct{ Total, Today, VisitorsToday int64 }
	for i := 1; i <= 2; i++ {
		r := send("https://shop.example.com")
		want(t, r, 200, "")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://shop.example.com" {
			t.Fatalf("got Access-Control-Allow-Origin %q, want the site's origin", got)
		}
		if err := json.Unmarshal(r.body, &n); err != nil {
			t.Fatalf("decode %q: %v", r.body, err)
		}
		if n.Total != int64(i) || n.Today != int64(i) || n.VisitorsToday != 1 {
			t.Fatalf("view %d: got %+v, want total and today %d, one visitor", i, n, i)
		}
	}
	want(t, send("https://evil.example.com"), 403, "forbidden")
	r := e.do(req{method: "GET", path: "/api/v1/visits"})
	want(t, r, 200, "")
	if err := json.Unmarshal(r.body, &n); err != nil || n.Total != 2 {
		t.Errorf("after a refused site: got %+v (%v), want total 2", n, err)
	}
}

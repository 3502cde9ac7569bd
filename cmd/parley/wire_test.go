package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/parley-chat/parley/admin"
	"github.com/parley-chat/parley/widget"
)

// served is one file as a client received it.
type served struct {
	url     string
	wire    int    // body bytes received, encoded
	content []byte // decoded
	header  http.Header
}

// fetchServed GETs u with the given Accept-Encoding ("" for none) and
// decodes the body, counting what came over the wire.
func fetchServed(tb testing.TB, u, accept string) served {
	tb.Helper()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	hr, err := http.NewRequest("GET", u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if accept != "" {
		hr.Header.Set("Accept-Encoding", accept)
	}
	res, err := client.Do(hr)
	if err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: got %d, want 200", u, res.StatusCode)
	}
	s := served{url: u, wire: len(raw), content: raw, header: res.Header}
	var rd io.Reader
	switch ce := res.Header.Get("Content-Encoding"); ce {
	case "":
		return s
	case "br":
		rd = brotli.NewReader(bytes.NewReader(raw))
	case "gzip":
		if rd, err = gzip.NewReader(bytes.NewReader(raw)); err != nil {
			tb.Fatalf("GET %s: %v", u, err)
		}
	default:
		tb.Fatalf("GET %s: got Content-Encoding %q", u, ce)
	}
	if s.content, err = io.ReadAll(rd); err != nil {
		tb.Fatalf("GET %s: decode: %v", u, err)
	}
	return s
}

// servedRefs finds what a served page or module makes the browser fetch
// first: the src and href of a page, the static imports of a module, in
// either quote (the minifier picks its own). A dynamic import (code loaded
// on first use, such as the attachments') is not followed: see
// TestSizeOnTheWire's lazy budget.
var servedRefs = regexp.MustCompile(`(?:src|href)="([^"#:]+)"|(?:from|import)\s*["']([^"']+)["']`)

// crawl downloads start and everything it references on the same origin,
// the way a browser with an empty cache does.
func crawl(tb testing.TB, start, accept string) []served {
	tb.Helper()
	base, err := url.Parse(start)
	if err != nil {
		tb.Fatal(err)
	}
	var out []served
	seen := map[string]bool{}
	queue := []*url.URL{base}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if seen[u.String()] {
			continue
		}
		seen[u.String()] = true
		s := fetchServed(tb, u.String(), accept)
		out = append(out, s)
		for _, m := range servedRefs.FindAllSubmatch(s.content, -1) {
			ref, err := url.Parse(string(m[1]) + string(m[2]))
			if err != nil {
				tb.Fatalf("%s references %q: %v", u, m[0], err)
			}
			if r := u.ResolveReference(ref); r.Host == base.Host {
				queue = append(queue, r)
			}
		}
	}
	return out
}

// TestSizeOnTheWire keeps the widget light (README, performance budget), in
// the bytes the real server sends: the loader every page of a site
// downloads stays under 4 KB, the visitor counter a site may add under
// 1.5 KB, the panel a visitor downloads on the first click (frame.html and
// every file it pulls in) under 20 KB, with brotli and for a client that only
// speaks gzip.
func TestSizeOnTheWire(t *testing.T) {
	app := startTestApp(t, nil)
	for _, accept := range []string{"br, gzip", "gzip"} {
		t.Run(accept, func(t *testing.T) {
			loader := fetchServed(t, app.URL+"/widget.js", accept)
			t.Logf("loader: %d bytes on the wire (%d decoded)", loader.wire, len(loader.content))
			if loader.wire > 4096 {
				t.Errorf("loader: got %d bytes on the wire, want at most 4096", loader.wire)
			}
			counter := fetchServed(t, app.URL+"/counter.js", accept)
			t.Logf("counter: %d bytes on the wire (%d decoded)", counter.wire, len(counter.content))
			if counter.wire > 1536 {
				t.Errorf("counter: got %d bytes on the wire, want at most 1536", counter.wire)
			}

			panel := crawl(t, app.URL+"/widget/frame.html", accept)
			wire, decoded := 0, 0
			for _, s := range panel {
				wire += s.wire
				decoded += len(s.content)
				t.Logf("  %s: %d bytes (%s)", strings.TrimPrefix(s.url, app.URL), s.wire, s.header.Get("Content-Encoding"))
			}
			t.Logf("panel: %d files, %d bytes on the wire (%d decoded)", len(panel), wire, decoded)
			// A visitor in another language than English downloads one
			// catalogue more (the panel imports it by a computed name, which
			// the crawl cannot follow): the budget holds with the largest.
			largest, name := 0, ""
			catalogues, err := fs.Glob(widget.Files, "i18n/*.js")
			if err != nil || len(catalogues) < 10 {
				t.Fatalf("catalogues: got %v (%v), want at least 10", catalogues, err)
			}
			for _, c := range catalogues {
				s := fetchServed(t, app.URL+"/widget/"+c, accept)
				t.Logf("  %s: %d bytes", c, s.wire)
				if s.wire > largest {
					largest, name = s.wire, c
				}
			}
			t.Logf("largest catalogue: %s, %d bytes on the wire; panel with it: %d", name, largest, wire+largest)
			if wire+largest > 20480 {
				t.Errorf("panel with the %s catalogue: got %d bytes on the wire, want at most 20480", name, wire+largest)
			}
			// The attachments' code is loaded on first use (a file picked,
			// pasted or dropped, or a message with files): its own budget.
			lazy := 0
			for _, f := range []string{"attach.js", "attach.css"} {
				s := fetchServed(t, app.URL+"/widget/"+f, accept)
				t.Logf("  lazy %s: %d bytes", f, s.wire)
				lazy += s.wire
			}
			if lazy > 4096 {
				t.Errorf("attachments' lazy code: got %d bytes on the wire, want at most 4096", lazy)
			}
			// Every panel file but the page itself comes from a versioned,
			// immutable URL.
			for _, s := range panel[1:] {
				if !strings.Contains(s.url, "/v/") || s.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
					t.Errorf("%s: got Cache-Control %q, want a versioned, immutable URL", s.url, s.header.Get("Cache-Control"))
				}
			}

			console := crawl(t, app.URL+"/admin/", accept)
			wire, decoded = 0, 0
			shared := false
			for _, s := range console {
				wire += s.wire
				decoded += len(s.content)
				shared = shared || strings.Contains(s.url, "/widget/dom.js")
				t.Logf("  %s: %d bytes (%s)", strings.TrimPrefix(s.url, app.URL), s.wire, s.header.Get("Content-Encoding"))
			}
			t.Logf("console: %d files, %d bytes on the wire (%d decoded)", len(console), wire, decoded)
			if !shared {
				t.Errorf("console: the crawl never reached the shared widget/dom.js")
			}
			for _, s := range console[1:] {
				if !strings.Contains(s.url, "/v/") {
					t.Errorf("console: %s is not under the versioned URL", s.url)
				}
			}
		})
	}
}

// TestServedMinified checks that every script, style and page is served
// minified: a file the minifier cannot parse is served as it is (and the
// server logs a warning), which would quietly cost its bytes.
func TestServedMinified(t *testing.T) {
	app := startTestApp(t, nil)
	for _, tree := range []struct {
		fsys   fs.FS
		prefix string
	}{{widget.Files, "/widget/"}, {admin.Files, "/admin/"}} {
		err := fs.WalkDir(tree.fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch path.Ext(p) {
			case ".js", ".css", ".html":
			default:
				return nil
			}
			src, err := fs.ReadFile(tree.fsys, p)
			if err != nil {
				return err
			}
			s := fetchServed(t, app.URL+tree.prefix+p, "")
			if len(s.content) >= len(src) {
				t.Errorf("%s%s: got %d bytes served, %d in the source: not minified", tree.prefix, p, len(s.content), len(src))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

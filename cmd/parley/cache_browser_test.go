package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// requestCounter is a proxy in front of a test app that records the path
// of every request the browser sends, with its answer's status.
type requestCounter struct {
	mu   sync.Mutex
	seen []string
}

func (rc *requestCounter) take() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.seen
	rc.seen = nil
	return out
}

func startCounter(tb testing.TB, target string) (*requestCounter, string) {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	rc := &requestCounter{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(res *http.Response) error {
		rc.mu.Lock()
		rc.seen = append(rc.seen, res.Request.URL.Path+" "+res.Status[:3])
		rc.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(proxy)
	tb.Cleanup(srv.Close)
	return rc, srv.URL
}

// TestWidgetAndAdminFromCache loads the panel and the console twice in one
// browser: the first load fetches every file, under its versioned URL; the
// second asks only for the page (revalidated: 304) and takes every versioned
// file from the cache without a request.
func TestWidgetAndAdminFromCache(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	rc, base := startCounter(t, app.URL)

	for _, tt := range []struct {
		page, ready string
		files       int // versioned files the first load fetches, at least
	}{
		{"/widget/frame.html", `!!document.getElementById('panel')`, 10},
		{"/admin/", `!document.getElementById('login').hidden`, 20},
	} {
		t.Run(tt.page, func(t *testing.T) {
			load := func() []string {
				t.Helper()
				rc.take()
				mustDo(t, ctx, "open "+tt.page, chromedp.Navigate(base+tt.page))
				mustPoll(t, ctx, tt.page+" is up", tt.ready, 10*time.Second)
				mustDo(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
				return rc.take()
			}
			first := load()
			versioned := slices.DeleteFunc(slices.Clone(first), func(r string) bool { return !strings.HasPrefix(r, "/v/") })
			if len(versioned) < tt.files {
				t.Fatalf("first load: got %d versioned requests %v, want at least %d", len(versioned), first, tt.files)
			}
			second := load()
			for _, r := range second {
				if strings.HasPrefix(r, "/v/") {
					t.Errorf("second load: %s was requested again, want it from the cache", r)
				}
			}
			if !slices.Contains(second, tt.page+" 304") {
				t.Errorf("second load: got requests %v, want the page revalidated (%s 304)", second, tt.page)
			}
		})
	}
}

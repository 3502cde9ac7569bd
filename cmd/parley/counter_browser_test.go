package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// blogPage is a customer's page with the visitor counter: the tag in the
// head (async, so it may run before the spans below exist), the three
// counts in the text.
const blogPage = `<!doctype html>
<html lang="%s"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A small blog</title>
<script src="%s/counter.js" %s async></script>
<style>body{font:18px/1.6 system-ui,sans-serif;margin:48px auto;max-width:640px;color:#1f2937}
footer{margin-top:40px;padding-top:16px;border-top:1px solid #e5e7eb;color:#6b7280}
footer span{font-weight:700;color:#111827}</style></head>
<body><h1>A small blog</h1><p>Notes on baking bread at home: %s</p>
<footer><span data-parley-count="today">…</span> views today ·
<span data-parley-count="total">…</span> in all ·
<span data-parley-count="visitors">…</span> visitors today</footer>
</body></html>`

// counterSite serves blogPage on every path; the first segment picks the
// tag's attributes and the page's language.
func counterSite(parley *string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang, attrs := "en", `data-count="page"`
		switch strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0] {
		case "private":
			attrs = `data-count="page" data-respect-dnt`
		case "app":
			attrs = `data-count="page" data-spa`
		case "show": // shows the counts only, in Egyptian Arabic digits
			lang, attrs = "ar-EG", ""
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, blogPage, lang, *parley, attrs, r.URL.Path)
	}))
}

// shownCounts is what the page's three counter elements say.
const shownCounts = `[...document.querySelectorAll('[data-parley-count]')].map((e) => e.textContent).join(' ')`

// TestVisitorCounterOnASite: a site's pages with the counter tag count each
// page load once and show today's views, all views and today's visitors;
// the same browser is one visitor; nothing lands in cookies or storage, on
// the site's origin or on Parley's; with data-respect-dnt and Global
// Privacy Control on nothing is counted (the counts still show); with
// data-spa a pushState to a new path counts once more, a change of query
// or the same path does not; a page that only shows the counts formats
// them for its language.
func TestVisitorCounterOnASite(t *testing.T) {
	ctx := newBrowser(t)
	var parley string
	site := counterSite(&parley)
	defer site.Close()
	app := startTestApp(t, map[string]string{"PARLEY_ALLOWED_ORIGINS": site.URL})
	parley = app.URL
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	posts := func() int { return len(log.requestsMatching("POST " + app.URL + "/api/v1/visits")) }
	reads := func() int { return len(log.requestsMatching("GET " + app.URL + "/api/v1/visits")) }
	shows := func(t *testing.T, step, want string) {
		t.Helper()
		js := fmt.Sprintf(`%s === %q`, shownCounts, want)
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](shownCounts))
			t.Fatalf("%s: the page shows %q, want %q (%v)", step, got, want, err)
		}
	}
	serverTotal := func(t *testing.T, want int64) {
		t.Helper()
		var n struct{ Total, Today, VisitorsToday int64 }
		if st := app.call(t, "GET", "/api/v1/visits", "", nil, &n); st != 200 || n.Total != want || n.Today != want || n.VisitorsToday != 1 {
			t.Errorf("server's counter: got %d %+v, want total and today %d, one visitor", st, n, want)
		}
	}

	t.Run("two page views and a reload", func(t *testing.T) {
		mustDo(t, ctx, "open the first post", chromedp.Navigate(site.URL+"/blog/first"))
		shows(t, "the first view", "1 1 1")
		mustDo(t, ctx, "open the second post", chromedp.Navigate(site.URL+"/blog/second"))
		shows(t, "the second view", "2 2 1")
		mustDo(t, ctx, "reload", chromedp.Reload())
		shows(t, "the reload", "3 3 1")
		screenshot(t, ctx, "counter-blog.png")
		if n := posts(); n != 3 {
			t.Errorf("counting requests: got %d, want 3 (one per page load)", n)
		}
		serverTotal(t, 3)
	})

	t.Run("nothing stored on the device", func(t *testing.T) {
		const stored = `[document.cookie, localStorage.length, sessionStorage.length].join('|')`
		if got := mustEval[string](t, ctx, stored); got != "|0|0" {
			t.Errorf("site's cookie|localStorage|sessionStorage: got %q, want %q", got, "|0|0")
		}
		mustDo(t, ctx, "open Parley's origin", chromedp.Navigate(app.URL+"/healthz"))
		if got := mustEval[string](t, ctx, stored); got != "|0|0" {
			t.Errorf("Parley's cookie|localStorage|sessionStorage: got %q, want %q", got, "|0|0")
		}
		cookies, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
		if err != nil {
			t.Fatalf("cookies: %v", err)
		}
		if len(cookies.Cookies) != 0 {
			t.Errorf("browser cookies: got %d (first %q), want none", len(cookies.Cookies), cookies.Cookies[0].Name)
		}
	})

	t.Run("Global Privacy Control with data-respect-dnt", func(t *testing.T) {
		gpc, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });`})
		if err != nil {
			t.Fatalf("turn GPC on: %v", err)
		}
		before, readsBefore := posts(), reads()
		mustDo(t, ctx, "open a page that respects GPC", chromedp.Navigate(site.URL+"/private/post"))
		if !mustEval[bool](t, ctx, `navigator.globalPrivacyControl === true`) {
			t.Fatal("GPC is not on in the page")
		}
		shows(t, "the counts, not counted", "3 3 1")
		if n := posts() - before; n != 0 {
			t.Errorf("counting requests with GPC on: got %d, want 0", n)
		}
		if n := reads() - readsBefore; n != 1 {
			t.Errorf("reads of the counter with GPC on: got %d, want 1 (to show the counts)", n)
		}
		serverTotal(t, 3)
		// The owner's choice: a page without data-respect-dnt counts anyway.
		mustDo(t, ctx, "open a page that does not ask", chromedp.Navigate(site.URL+"/blog/third"))
		shows(t, "counted without data-respect-dnt", "4 4 1")
		if _, err := chromedp.Call(ctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams(gpc)); err != nil {
			t.Fatalf("turn GPC off: %v", err)
		}
	})

	t.Run("single-page app with data-spa", func(t *testing.T) {
		mustDo(t, ctx, "open the app", chromedp.Navigate(site.URL+"/app/home"))
		shows(t, "the app's first view", "5 5 1")
		before := posts()
		mustDo(t, ctx, "pushState to a new path", chromedp.Evaluate[chromedp.Void](`history.pushState({}, '', '/app/pricing')`))
		shows(t, "the navigation counted", "6 6 1")
		mustDo(t, ctx, "the same path with a query, and a replaceState of it", chromedp.Evaluate[chromedp.Void](
			`history.pushState({}, '', '/app/pricing?plan=pro'); history.replaceState({ plan: 'pro' }, '', '/app/pricing?plan=pro')`))
		mustDo(t, ctx, "back to the same path", chromedp.Evaluate[chromedp.Void](`history.back()`))
		mustPoll(t, ctx, "the first popstate", `location.search === ''`, 2*time.Second)
		// Back once more, to a path not counted last: once it shows, every
		// request before it has been answered.
		mustDo(t, ctx, "back to the app's home", chromedp.Evaluate[chromedp.Void](`history.back()`))
		shows(t, "the popstate to /app/home counted", "7 7 1")
		if n := posts() - before; n != 2 {
			t.Errorf("counting requests for the navigations: got %d, want 2 (/app/pricing, back to /app/home)", n)
		}
		serverTotal(t, 7)
	})

	t.Run("display only, in the page's language", func(t *testing.T) {
		before, readsBefore := posts(), reads()
		mustDo(t, ctx, "open a page that only shows", chromedp.Navigate(site.URL+"/show/stats"))
		shows(t, "the counts in Arabic digits", "٧ ٧ ١")
		if n := posts() - before; n != 0 {
			t.Errorf("counting requests from a page without data-count: got %d, want 0", n)
		}
		if n := reads() - readsBefore; n != 1 {
			t.Errorf("reads of the counter: got %d, want 1", n)
		}
		serverTotal(t, 7)
	})
	// Opening /healthz on Parley's origin (to look at its storage) may make
	// the browser ask for a favicon Parley does not have there.
	log.checkClean(t, provoked{path: "/favicon.ico", text: "status of 404"})
}

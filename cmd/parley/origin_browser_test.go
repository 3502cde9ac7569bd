package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// plainPage is a customer's page with the widget on it.
const plainPage = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Shop</title></head>
<body><h1>A shop</h1>
<script src="%s/widget.js" async></script>
</body></html>`

// TestWidgetUnlistedOrigin: a site opened under a name that is not in
// PARLEY_ALLOWED_ORIGINS (localhost, while 127.0.0.1 is listed: the same
// server under two names) shows the visitor a sentence in the panel instead
// of a broken frame, and makes no API call.
func TestWidgetUnlistedOrigin(t *testing.T) {
	ctx := newBrowser(t)
	var parley string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, plainPage, parley)
	}))
	defer site.Close()
	app := startTestApp(t, map[string]string{"PARLEY_ALLOWED_ORIGINS": site.URL})
	parley = app.URL
	_, port, _ := net.SplitHostPort(site.Listener.Addr().String())
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	loadWidgetPage(t, ctx, "http://localhost:"+port+"/pricing")
	clickBubble(t, ctx)
	mustPoll(t, ctx, "the panel opens", `!!W().querySelector('.o') && !!W().querySelector('iframe')`, 5*time.Second)

	// The frame is another site's (127.0.0.1, not localhost): it runs in a
	// target of its own, which the test attaches to.
	text := frameText(t, ctx, "/widget/frame.html?", "#unlisted")
	if text != "This chat is not set up for this site" {
		t.Errorf("panel text: got %q, want the not-set-up sentence", text)
	}
	mustPoll(t, ctx, "the panel has faded in", `getComputedStyle(W().querySelector('.p')).opacity === '1'`, 2*time.Second)
	screenshot(t, ctx, "widget-unlisted-origin.png")
	if got := log.requestsMatching(app.URL + "/api/"); len(got) != 0 {
		t.Errorf("API calls from an unlisted site: got %v, want none", got)
	}
	log.checkClean(t)
}

// frameText waits for the cross-site frame whose URL contains urlPart to show
// sel, and returns its text.
func frameText(tb testing.TB, ctx context.Context, urlPart, sel string) string {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			tb.Fatalf("targets: %v", err)
		}
		for _, ti := range targets {
			if ti.Type != "iframe" || !strings.Contains(ti.URL, urlPart) {
				continue
			}
			// Cancelling a context attached to a frame closes the page: it
			// ends with the test, after the page's own steps.
			fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
			tb.Cleanup(cancel)
			v, err := chromedp.Run(fctx, chromedp.Poll[string](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && e.textContent; })()`, sel),
				chromedp.WithPollingTimeout(5*time.Second)))
			if err != nil {
				tb.Fatalf("frame %s: %s: %v", ti.URL, sel, err)
			}
			return v
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no frame at %s among %d targets", urlPart, len(targets))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// leftPage is a site that puts the widget on the left of the page.
const leftPage = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Left</title></head>
<body><h1>A site with the chat on the left</h1>
<script src="%s/widget.js" data-position="left" async></script>
</body></html>`

// TestWidgetOnTheHostPage covers what the host page and the visitor see of
// the widget beyond a plain conversation: the page's JavaScript API opens
// and closes the panel and hears the replies; markup in a message is shown
// as text on both sides; on a phone the panel covers the screen with a 16px
// composer (no zoom on focus); messages forged to the frame from another
// origin or window are ignored; and data-position="left" moves the bubble
// and the panel to the left.
func TestWidgetOnTheHostPage(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	loadWidgetPage(t, ctx, app.URL+"/")
	mustDo(t, ctx, "listen to messages", chromedp.Evaluate[chromedp.Void](`window.heard = []; Parley('on', 'message', (m) => heard.push(m.sender + ':' + m.content))`))
	const panelShown = `!!W().querySelector('.o') && getComputedStyle(W().querySelector('.p')).visibility === 'visible'`
	const panelHidden = `!W().querySelector('.o') && getComputedStyle(W().querySelector('.p')).visibility === 'hidden'`

	t.Run("the page's API opens and closes the panel", func(t *testing.T) {
		// The demo page's "Talk to sales" link calls Parley('open').
		mustDo(t, ctx, "click Talk to sales", chromedp.Click(chromedp.CSS("#talk")))
		mustPoll(t, ctx, "the panel opens with the focus in the composer", panelShown+` && !!F() && F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
		mustDo(t, ctx, "Parley('close')", chromedp.Evaluate[chromedp.Void](`Parley('close')`))
		mustPoll(t, ctx, "the panel closes", panelHidden+` && W().querySelector('button').getAttribute('aria-expanded') === 'false'`, 2*time.Second)
		mustDo(t, ctx, "Parley('toggle')", chromedp.Evaluate[chromedp.Void](`Parley('toggle')`))
		mustPoll(t, ctx, "the panel opens again", panelShown+` && F().activeElement && F().activeElement.id === 'input'`, 2*time.Second)
	})

	var roomID string
	t.Run("markup shows as text", func(t *testing.T) {
		const markup = `<img src=x onerror=alert(1)> <b>bold</b>`
		typeAndSend(t, ctx, markup)
		mustPoll(t, ctx, "the visitor's message", fmt.Sprintf(`texts('.msg.me:not(.pending):not(.failed) .text').includes(%q)`, markup), 5*time.Second)
		roomID = theOnlyRoom(t, app, admin)
		adminSays(t, app, admin, roomID, markup)
		mustPoll(t, ctx, "the admin's message", fmt.Sprintf(`texts('.msg.them .text').includes(%q)`, markup), 5*time.Second)
		if n := mustEval[int](t, ctx, `F().querySelectorAll('#list img, #list b').length`); n != 0 {
			t.Errorf("elements made from message text: got %d, want 0", n)
		}
		if n := storedCopies(t, app, admin, roomID, markup); n != 2 {
			t.Errorf("stored copies of the markup, as sent: got %d, want 2", n)
		}
		mustPoll(t, ctx, "the page hears the reply", fmt.Sprintf(`heard.includes(%q)`, "admin:"+markup), 2*time.Second)
	})

	t.Run("phone layout", func(t *testing.T) {
		mustDo(t, ctx, "narrow", chromedp.EmulateViewport(390, 700))
		defer chromedp.Run(ctx, chromedp.EmulateViewport(1280, 800)) // for the next step, should this one fail
		// The viewport the panel covers is the page's client area: a desktop
		// scroll bar is not part of it (a phone's overlays the page).
		mustPoll(t, ctx, "the panel covers the screen",
			`(() => { const r = W().querySelector('.p').getBoundingClientRect(); return r.x === 0 && r.y === 0 && r.width === document.documentElement.clientWidth && r.height === document.documentElement.clientHeight; })()`, 2*time.Second)
		mustPoll(t, ctx, "a 16px composer", `getComputedStyle(F().getElementById('input')).fontSize === '16px'`, 2*time.Second)
		if got := mustEval[string](t, ctx, `getComputedStyle(W().querySelector('.b')).display`); got != "none" {
			t.Errorf("bubble display over the full-screen panel: got %q, want none", got)
		}
		screenshot(t, ctx, "widget-phone.png")
		mustDo(t, ctx, "wide again", chromedp.EmulateViewport(1280, 800))
		mustPoll(t, ctx, "a floating panel", `W().querySelector('.p').getBoundingClientRect().width === 384 && getComputedStyle(F().getElementById('input')).fontSize === '14px'`, 2*time.Second)
	})

	t.Run("forged messages to the frame are ignored", func(t *testing.T) {
		// The frame takes orders only from its parent window at the host
		// page's origin. An identify message is dispatched synchronously, so
		// its effect (or none) is visible at once.
		forge := func(origin, source string) string {
			return fmt.Sprintf(`(() => { F().defaultView.dispatchEvent(new MessageEvent('message', {
				data: { parley: 1, type: 'identify', name: 'Mallory', email: 'mallory@example.com' }, origin: %s, source: %s }));
				return F().getElementById('intro-name').value; })()`, origin, source)
		}
		if got := mustEval[string](t, ctx, forge(`'http://evil.example'`, `window`)); got != "" {
			t.Errorf("name after an identify from another origin: got %q, want none", got)
		}
		if got := mustEval[string](t, ctx, forge(`location.origin`, `F().defaultView`)); got != "" {
			t.Errorf("name after an identify from another window: got %q, want none", got)
		}
		// The same message from the parent at the right origin is taken: the
		// two above were refused for their origin and source, not their form.
		if got := mustEval[string](t, ctx, forge(`location.origin`, `window`)); got != "Mallory" {
			t.Errorf("name after an identify from the page: got %q, want Mallory", got)
		}
	})

	t.Run("data-position left", func(t *testing.T) {
		site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, leftPage, app.URL)
		}))
		defer site.Close()
		loadWidgetPage(t, ctx, site.URL+"/")
		if got := mustEval[[]float64](t, ctx, `(() => { const r = W().querySelector('.b').getBoundingClientRect(); return [r.left, innerWidth - r.right]; })()`); got[0] != 20 || got[1] < 1000 {
			t.Errorf("bubble's distance to the left and right edges: got %v, want 20 and the rest of the page", got)
		}
		clickBubble(t, ctx)
		mustPoll(t, ctx, "the panel opens on the left", panelShown+` && W().querySelector('.p').getBoundingClientRect().left === 20`, 5*time.Second)
	})
	log.checkClean(t)
}

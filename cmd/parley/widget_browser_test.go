package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The widget's DOM, as the tests reach it: the loader's (open) shadow root
// and, on the demo page where the frame has the page's origin, the frame's
// document.
const widgetJS = `const W = () => document.querySelector('parley-widget').shadowRoot;
const F = () => { const f = W() && W().querySelector('iframe'); return f && f.contentDocument; };
const texts = (sel) => F() ? [...F().querySelectorAll(sel)].map((e) => e.textContent) : [];
`

// browserLog records what a tab did: every request it sent and every console
// error or uncaught exception.
type browserLog struct {
	mu       sync.Mutex
	requests []string
	errors   []string
}

// watchBrowser starts recording ctx's tab; it must run before the first
// navigation.
func watchBrowser(ctx context.Context) *browserLog {
	l := &browserLog{}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	console := chromedp.Console(ctx)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.requests = append(l.requests, ev.Request.Method+" "+ev.Request.URL)
			l.mu.Unlock()
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" || m.Type == "assert" {
				l.mu.Lock()
				l.errors = append(l.errors, m.String())
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// requestsMatching returns the recorded requests whose "METHOD URL" contains s.
func (l *browserLog) requestsMatching(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.requests {
		if strings.Contains(r, s) {
			out = append(out, r)
		}
	}
	return out
}

// checkNoErrors fails the test for every console error the tab logged.
func (l *browserLog) checkNoErrors(tb testing.TB) {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errors {
		tb.Errorf("console error: %s", e)
	}
}

// mustDo runs browser steps or fails the test, naming the step.
func mustDo(tb testing.TB, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.Fatalf("%s: %v", step, err)
	}
}

// mustPoll waits until the JavaScript expression (with widgetJS in scope) is
// truthy, or fails the test after timeout.
func mustPoll(tb testing.TB, ctx context.Context, step, expr string, timeout time.Duration) {
	tb.Helper()
	js := "(() => {" + widgetJS + "return " + expr + ";})()"
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(25*time.Millisecond))); err != nil {
		tb.Fatalf("%s: %s still false after %v: %v", step, expr, timeout, err)
	}
}

// mustEval evaluates a JavaScript expression (with widgetJS in scope).
func mustEval[T any](tb testing.TB, ctx context.Context, expr string) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T]("(() => {"+widgetJS+"return "+expr+";})()"))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// clickBubble clicks the widget's button the way a visitor does (a real
// mouse event, so the browser counts it as a user gesture).
func clickBubble(tb testing.TB, ctx context.Context) {
	tb.Helper()
	xy := mustEval[[]float64](tb, ctx, `(() => { const r = W().querySelector('button').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	mustDo(tb, ctx, "click the bubble", chromedp.MouseClickXY(xy[0], xy[1]))
}

// typeAndSend types into whatever has the keyboard focus and presses Enter.
// Enter goes as rawKeyDown and keyUp with no char event: a browser sends no
// char for a keydown the page cancelled, but a char event sent through the
// protocol would type a new line anyway.
func typeAndSend(tb testing.TB, ctx context.Context, text string) {
	tb.Helper()
	enter := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	mustDo(tb, ctx, "type "+text, chromedp.KeyEvent(text), enter)
}

// adminRoom is the part of the admin's room view the tests look at.
type adminRoom struct {
	Room struct {
		ID            string
		VisitorName   string
		VisitorEmail  string
		Page          string
		VisitorUnread int64
	}
	Messages []struct {
		Seq     int64
		Sender  string
		Content string
	}
}

// onlyRoom returns the id of the one room the app has.
func onlyRoom(tb testing.TB, app *testApp, admin string) string {
	tb.Helper()
	var list struct{ Rooms []struct{ ID string } }
	if st := app.call(tb, "GET", "/api/v1/admin/rooms", admin, nil, &list); st != 200 {
		tb.Fatalf("list rooms: got %d, want 200", st)
	}
	if len(list.Rooms) != 1 {
		tb.Fatalf("rooms: got %d, want 1", len(list.Rooms))
	}
	return list.Rooms[0].ID
}

// openRoom reads a room as the admin console does.
func openRoom(tb testing.TB, app *testApp, admin, id string) adminRoom {
	tb.Helper()
	var r adminRoom
	if st := app.call(tb, "GET", "/api/v1/admin/rooms/"+id, admin, nil, &r); st != 200 {
		tb.Fatalf("open room: got %d, want 200", st)
	}
	return r
}

// adminName returns the display name of the test admin.
func adminName(tb testing.TB, app *testApp) string {
	tb.Helper()
	var out struct{ Admin struct{ DisplayName string } }
	if st := app.call(tb, "POST", "/api/v1/admin/login", "", map[string]string{"username": app.AdminUser, "password": app.AdminPassword}, &out); st != 200 {
		tb.Fatalf("login: got %d, want 200", st)
	}
	return out.Admin.DisplayName
}

// adminSays sends an admin reply through the API.
func adminSays(tb testing.TB, app *testApp, admin, roomID, text string) {
	tb.Helper()
	if st := app.call(tb, "POST", "/api/v1/admin/rooms/"+roomID+"/messages", admin, map[string]string{"content": text}, nil); st != 201 {
		tb.Fatalf("admin reply: got %d, want 201", st)
	}
}

// TestWidgetOnDemoPage drives the widget on the demo page the way a visitor
// does: nothing happens before the click; a message is sent and stored; an
// admin reply shows up live; a reload restores the history; a reply while
// the panel is closed raises the badge; Esc closes the panel and gives the
// focus back to the bubble; and the console stays clean.
func TestWidgetOnDemoPage(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	mustDo(t, ctx, "load the demo page", chromedp.Navigate(app.URL+"/"))
	mustPoll(t, ctx, "the bubble", `!!W() && !!W().querySelector('button')`, 5*time.Second)
	mustDo(t, ctx, "settle", chromedp.Sleep(500*time.Millisecond))

	// Before the click: no frame, no API call but the demo page's own visitor
	// counter, nothing stored.
	for _, r := range log.requestsMatching("/api/") {
		if r != "POST "+app.URL+"/api/v1/visits" {
			t.Errorf("request before the click: %s", r)
		}
	}
	if got := log.requestsMatching("/widget/"); len(got) > 0 {
		t.Errorf("frame requests before the click: %v", got)
	}
	if got := mustEval[string](t, ctx, `[document.cookie, localStorage.length, sessionStorage.length, !!W().querySelector('iframe')].join(',')`); got != ",0,0,false" {
		t.Errorf("cookie, localStorage, sessionStorage, iframe before the click: got %q, want %q", got, ",0,0,false")
	}

	// Open, and the keyboard focus is in the composer.
	clickBubble(t, ctx)
	mustPoll(t, ctx, "focus in the composer", `!!F() && F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	if got := mustEval[string](t, ctx, `W().querySelector('button').getAttribute('aria-expanded')`); got != "true" {
		t.Errorf("aria-expanded after opening: got %q, want true", got)
	}

	const hello = "Hello from the browser test"
	typeAndSend(t, ctx, hello)
	mustPoll(t, ctx, "the message is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('`+hello+`')`, 5*time.Second)
	if got := mustEval[string](t, ctx, `F().getElementById('input').value`); got != "" {
		t.Errorf("composer after sending: got %q, want it empty", got)
	}
	roomID := onlyRoom(t, app, admin)
	if r := openRoom(t, app, admin, roomID); len(r.Messages) != 1 || r.Messages[0].Content != hello || r.Messages[0].Sender != "visitor" {
		t.Fatalf("stored messages: got %+v, want one visitor message %q", r.Messages, hello)
	}

	// An admin reply shows up live.
	const reply = "Hi! Admin here, how can I help?"
	sent := time.Now()
	adminSays(t, app, admin, roomID, reply)
	mustPoll(t, ctx, "the admin reply shows", `texts('.msg.them .text').includes('`+reply+`')`, 2*time.Second)
	t.Logf("admin reply shown %v after the send", time.Since(sent).Round(time.Millisecond))
	mustDo(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := artifactPath(t, "widget-panel.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the open panel: %s", path)
	if got, want := mustEval[string](t, ctx, `texts('.msg.them .who').pop()`), adminName(t, app); got != want {
		t.Errorf("name on the admin's reply: got %q, want %q", got, want)
	}

	// A reload restores the conversation (the panel was open, so it reopens).
	mustDo(t, ctx, "reload", chromedp.Reload())
	mustPoll(t, ctx, "history after reload",
		`texts('.msg.me .text').includes('`+hello+`') && texts('.msg.them .text').includes('`+reply+`')`, 10*time.Second)
	mustPoll(t, ctx, "the stream is connected", `/online|offline/.test(F().getElementById('status').className)`, 5*time.Second)

	// Closed panel: a reply raises the badge.
	clickBubble(t, ctx)
	mustPoll(t, ctx, "the panel closes", `!W().querySelector('.o')`, 2*time.Second)
	adminSays(t, app, admin, roomID, "Are you still there?")
	mustPoll(t, ctx, "the badge shows 1", `W().querySelector('.n').hidden === false && W().querySelector('.n').textContent === '1'`, 5*time.Second)
	if r := openRoom(t, app, admin, roomID); r.Room.VisitorUnread != 1 {
		t.Errorf("visitorUnread with the panel closed: got %d, want 1", r.Room.VisitorUnread)
	}

	// Opening reads it; Esc closes and returns the focus to the bubble.
	clickBubble(t, ctx)
	mustPoll(t, ctx, "focus in the composer again", `F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	mustPoll(t, ctx, "the badge is gone", `W().querySelector('.n').hidden === true`, 2*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for openRoom(t, app, admin, roomID).Room.VisitorUnread != 0 {
		if time.Now().After(deadline) {
			t.Fatal("visitorUnread after opening the panel: still not 0 after 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustDo(t, ctx, "press Esc", chromedp.KeyEvent(kb.Escape))
	mustPoll(t, ctx, "Esc closes the panel", `!W().querySelector('.o')`, 2*time.Second)
	mustPoll(t, ctx, "focus back on the bubble", `document.activeElement === document.querySelector('parley-widget') && W().activeElement === W().querySelector('button')`, 2*time.Second)

	log.checkNoErrors(t)
}

// crossOriginPage is a site on another origin than Parley's, with the
// widget on it, that records what the widget's JavaScript API reports.
const crossOriginPage = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Another site</title></head>
<body><h1>Another site</h1>
<script>
window.got = []; window.unread = 0;
window.Parley = window.Parley || function () { (window.Parley.q = window.Parley.q || []).push(arguments); };
Parley('on', 'message', function (m) { got.push(m.sender + ':' + m.content); });
Parley('on', 'unread', function (n) { window.unread = n; });
Parley('identify', { name: 'Casey', email: 'casey@example.com' });
</script>
<script src="%s/widget.js" data-title="Other Site" data-color="#0f766e" async></script>
</body></html>`

// TestWidgetCrossOrigin runs the widget on a page of another origin, as on a
// customer's site: the frame talks to the page only by postMessage (which
// both sides check), calls queued before the loader ran are kept, the page's
// JavaScript API reports messages and unread counts, and forged messages are
// ignored.
func TestWidgetCrossOrigin(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, crossOriginPage, app.URL)
	}))
	defer site.Close()
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	mustDo(t, ctx, "load the site", chromedp.Navigate(site.URL+"/pricing"))
	mustPoll(t, ctx, "the bubble", `!!W() && !!W().querySelector('button')`, 5*time.Second)
	if got := log.requestsMatching(app.URL + "/"); len(got) != 1 {
		t.Errorf("requests to Parley before the click: got %v, want only the loader", got)
	}

	clickBubble(t, ctx)
	// The frame is cross-origin: the page cannot look inside it, so this goes
	// through what the page can see: the keyboard lands in the composer and
	// the frame reports the sent message back.
	mustPoll(t, ctx, "the frame is ready", `W().querySelector('iframe') && document.activeElement === document.querySelector('parley-widget') && W().activeElement === W().querySelector('iframe')`, 5*time.Second)
	mustDo(t, ctx, "let the frame load", chromedp.Sleep(700*time.Millisecond))
	typeAndSend(t, ctx, "Cross-origin hello")
	mustPoll(t, ctx, "the page hears the message", `got.includes('visitor:Cross-origin hello')`, 5*time.Second)

	roomID := onlyRoom(t, app, admin)
	r := openRoom(t, app, admin, roomID)
	if r.Room.VisitorName != "Casey" || r.Room.VisitorEmail != "casey@example.com" {
		t.Errorf("identify: got name %q email %q, want Casey casey@example.com", r.Room.VisitorName, r.Room.VisitorEmail)
	}
	if want := site.URL + "/pricing"; r.Room.Page != want {
		t.Errorf("page: got %q, want %q", r.Room.Page, want)
	}

	mustDo(t, ctx, "press Esc", chromedp.KeyEvent(kb.Escape))
	mustPoll(t, ctx, "Esc closes the panel", `!W().querySelector('.o') && W().activeElement === W().querySelector('button')`, 2*time.Second)

	// Forged messages from the page itself are ignored by the loader.
	mustDo(t, ctx, "forge", chromedp.Evaluate[chromedp.Void](`window.postMessage({ parley: 1, type: 'unread', count: 7 }, '*')`))
	mustDo(t, ctx, "settle", chromedp.Sleep(200*time.Millisecond))
	if got := mustEval[bool](t, ctx, `W().querySelector('.n').hidden`); !got {
		t.Error("a forged unread message raised the badge")
	}

	adminSays(t, app, admin, roomID, "Reply for the closed panel")
	mustPoll(t, ctx, "unread reaches the page", `window.unread === 1 && W().querySelector('.n').textContent === '1' && got.includes('admin:Reply for the closed panel')`, 5*time.Second)
	if got := mustEval[string](t, ctx, `document.cookie + ',' + localStorage.length`); got != ",0" {
		t.Errorf("host page cookie and localStorage: got %q, want none", got)
	}
	log.checkNoErrors(t)
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
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
const texts = (sel) => F() ? [...F().querySelectorAll('#list ' + sel)].map((e) => e.textContent) : [];
`

// browserLog records what a tab did: every request it sent and every console
// error or uncaught exception.
type browserLog struct {
	mu       sync.Mutex
	requests []string
	errors   []chromedp.ConsoleMessage
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
				l.errors = append(l.errors, m)
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

// provoked is a failed load that a test causes on purpose: the browser logs
// it as an error, but the page handled it. Its empty fields match anything.
type provoked struct {
	path string // part of the URL
	text string // part of the message, e.g. "status of 401"
}

// checkClean fails the test for every console error the tab logged but the
// provoked ones.
func (l *browserLog) checkClean(tb testing.TB, allowed ...provoked) {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, m := range l.errors {
		if strings.HasPrefix(m.Text, "Failed to load resource") {
			for _, a := range allowed {
				if strings.Contains(m.URL, a.path) && strings.Contains(m.Text, a.text) {
					continue next
				}
			}
		}
		tb.Errorf("console %s (%s:%d)", m, m.URL, m.Line)
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
	err := retryStale(func() error {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
			chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(25*time.Millisecond)))
		return err
	})
	if err != nil {
		tb.Fatalf("%s: %s still false after %v: %v", step, expr, timeout, err)
	}
}

// retryStale runs a step that only reads the page again when Chromium
// answered that the page's JavaScript context it named is gone: a page that
// had just navigated (or a frame just replaced) when the step was sent. It is
// the harness's race with the page, not something a visitor sees; any other
// error is returned at once.
func retryStale(step func() error) error {
	var err error
	for range 5 {
		if err = step(); err == nil || !strings.Contains(err.Error(), "Cannot find context with specified id") {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// loadWidgetPage opens a page with the widget on it and waits for the bubble.
func loadWidgetPage(tb testing.TB, ctx context.Context, url string) {
	tb.Helper()
	mustDo(tb, ctx, "load "+url, chromedp.Navigate(url))
	mustPoll(tb, ctx, "the bubble", `!!W() && !!W().querySelector('button')`, 5*time.Second)
}

// mustEval evaluates a JavaScript expression (with widgetJS in scope).
func mustEval[T any](tb testing.TB, ctx context.Context, expr string) T {
	tb.Helper()
	var v T
	err := retryStale(func() (err error) {
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T]("(() => {"+widgetJS+"return "+expr+";})()"))
		return err
	})
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

// clickInFrame clicks an element of the (same-origin) frame with the mouse.
func clickInFrame(tb testing.TB, ctx context.Context, sel string) {
	tb.Helper()
	xy := mustEval[[]float64](tb, ctx, `(() => { const f = W().querySelector('iframe').getBoundingClientRect(); const r = F().querySelector('`+sel+`').getBoundingClientRect(); return [f.x + r.x + r.width / 2, f.y + r.y + r.height / 2]; })()`)
	mustDo(tb, ctx, "click "+sel, chromedp.MouseClickXY(xy[0], xy[1]))
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

// theOnlyRoom returns the id of the one room the app has.
// startConversation opens the panel on the page at pageURL, sends text as
// the visitor's first message, waits until it is stored and returns the
// room it made.
func startConversation(tb testing.TB, ctx context.Context, app *testApp, admin, pageURL, text string) string {
	tb.Helper()
	loadWidgetPage(tb, ctx, pageURL)
	clickBubble(tb, ctx)
	mustPoll(tb, ctx, "focus in the composer", `!!F() && F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	typeAndSend(tb, ctx, text)
	mustPoll(tb, ctx, text+" is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes(`+strconv.Quote(text)+`)`, 5*time.Second)
	return theOnlyRoom(tb, app, admin)
}

func theOnlyRoom(tb testing.TB, app *testApp, admin string) string {
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

// adminOpenRoom reads a room as the admin console does.
func adminOpenRoom(tb testing.TB, app *testApp, admin, id string) adminRoom {
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

	loadWidgetPage(t, ctx, app.URL+"/")
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
	roomID := theOnlyRoom(t, app, admin)
	if r := adminOpenRoom(t, app, admin, roomID); len(r.Messages) != 1 || r.Messages[0].Content != hello || r.Messages[0].Sender != "visitor" {
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
	if r := adminOpenRoom(t, app, admin, roomID); r.Room.VisitorUnread != 1 {
		t.Errorf("visitorUnread with the panel closed: got %d, want 1", r.Room.VisitorUnread)
	}

	// Opening reads it; Esc closes and returns the focus to the bubble.
	clickBubble(t, ctx)
	mustPoll(t, ctx, "focus in the composer again", `F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	mustPoll(t, ctx, "the badge is gone", `W().querySelector('.n').hidden === true`, 2*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for adminOpenRoom(t, app, admin, roomID).Room.VisitorUnread != 0 {
		if time.Now().After(deadline) {
			t.Fatal("visitorUnread after opening the panel: still not 0 after 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustDo(t, ctx, "press Esc", chromedp.KeyEvent(kb.Escape))
	mustPoll(t, ctx, "Esc closes the panel", `!W().querySelector('.o')`, 2*time.Second)
	mustPoll(t, ctx, "focus back on the bubble", `document.activeElement === document.querySelector('parley-widget') && W().activeElement === W().querySelector('button')`, 2*time.Second)

	log.checkClean(t)
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

	loadWidgetPage(t, ctx, site.URL+"/pricing")
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

	roomID := theOnlyRoom(t, app, admin)
	r := adminOpenRoom(t, app, admin, roomID)
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
	log.checkClean(t)
}

// cutProxy is a TCP proxy in front of the app that can cut every open
// connection at once, as a network blip does, and notes the request lines
// and Last-Event-ID headers that go through it.
type cutProxy struct {
	URL    string
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	lines  []string
}

// startCutProxy listens on a free 127.0.0.1 port and forwards to target
// (host:port); it stops with the test.
func startCutProxy(tb testing.TB, target string) *cutProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &cutProxy{URL: "http://" + ln.Addr().String(), ln: ln, target: target, conns: make(map[net.Conn]bool)}
	go p.serve()
	tb.Cleanup(func() {
		ln.Close()
		p.cutAll()
	})
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go p.pipe(up, c, true)
		go p.pipe(c, up, false)
	}
}

// pipe copies src to dst until either side closes; the requests going up
// are scanned for their request lines and Last-Event-ID headers.
func (p *cutProxy) pipe(dst, src net.Conn, up bool) {
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if up {
				p.note(string(buf[:n]))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *cutProxy) note(chunk string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range strings.Split(chunk, "\r\n") {
		for _, prefix := range []string{"GET ", "POST ", "DELETE ", "Last-Event-Id:", "Last-Event-ID:"} {
			if strings.HasPrefix(line, prefix) {
				p.lines = append(p.lines, line)
			}
		}
	}
}

// seen reports whether a noted line contains s.
func (p *cutProxy) seen(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(strings.ToLower(l), strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// count returns how many noted lines start with s.
func (p *cutProxy) count(s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if strings.HasPrefix(l, s) {
			n++
		}
	}
	return n
}

// cutAll closes every open connection, both ways.
func (p *cutProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// interceptSends answers the page's message sends (POST …/messages) with fn,
// through the Fetch domain, until the returned func is called.
func interceptSends(tb testing.TB, ctx context.Context, stage fetch.RequestStage, fn func(ev fetch.EventRequestPaused) any) (stop func()) {
	tb.Helper()
	ictx, cancel := context.WithCancel(ctx)
	paused := chromedp.Events(ictx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/api/v1/rooms/*/messages", RequestStage: stage},
	}}); err != nil {
		tb.Fatalf("fetch.enable: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range paused {
			if err != nil {
				return
			}
			var reply any = fetch.ContinueRequestParams{RequestID: ev.RequestID}
			if ev.Request.Method == http.MethodPost {
				reply = fn(ev)
			}
			switch r := reply.(type) {
			case fetch.ContinueRequestParams:
				_, err = chromedp.Call(ctx, fetch.ContinueRequest, r)
			case fetch.FailRequestParams:
				_, err = chromedp.Call(ctx, fetch.FailRequest, r)
			case fetch.FulfillRequestParams:
				_, err = chromedp.Call(ctx, fetch.FulfillRequest, r)
			}
			if err != nil && ictx.Err() == nil {
				tb.Errorf("answer a paused request: %v", err)
			}
		}
	}()
	return func() {
		if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
			tb.Errorf("fetch.disable: %v", err)
		}
		cancel()
		<-done
	}
}

// storedCopies returns how many stored messages of the room have content text.
func storedCopies(tb testing.TB, app *testApp, admin, roomID, text string) int {
	tb.Helper()
	var out struct{ Messages []struct{ Content string } }
	if st := app.call(tb, "GET", "/api/v1/admin/rooms/"+roomID+"/messages?limit=200", admin, nil, &out); st != 200 {
		tb.Fatalf("messages: got %d, want 200", st)
	}
	n := 0
	for _, m := range out.Messages {
		if m.Content == text {
			n++
		}
	}
	return n
}

// TestWidgetRecovers breaks the network under the widget: a cut stream
// resumes from the last seq with nothing lost or doubled; a send whose answer
// is lost is retried with its clientId and stored once; a 503 keeps the text
// in a failed bubble that Retry delivers; a 429 tells the visitor to slow
// down.
func TestWidgetRecovers(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, map[string]string{"PARLEY_RATE_LIMITS": "messages=8/m"})
	admin := app.adminToken(t)
	proxy := startCutProxy(t, strings.TrimPrefix(app.URL, "http://"))
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	roomID := startConversation(t, ctx, app, admin, proxy.URL+"/", "one")
	mustPoll(t, ctx, "the stream is up", `/online|offline/.test(F().getElementById('status').className)`, 5*time.Second)

	t.Run("cut stream resumes", func(t *testing.T) {
		proxy.cutAll()
		adminSays(t, app, admin, roomID, "sent while the stream was down")
		mustPoll(t, ctx, "the missed message arrives", `texts('.msg.them .text').includes('sent while the stream was down')`, 10*time.Second)
		mustDo(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
		if n := mustEval[int](t, ctx, `texts('.msg .text').filter((s) => s === 'sent while the stream was down').length`); n != 1 {
			t.Errorf("the missed message is shown %d times, want 1", n)
		}
		if !proxy.seen("Last-Event-ID: 1") {
			t.Errorf("no reconnect with Last-Event-ID: 1; requests seen: %v", proxy.lines)
		}
	})

	t.Run("lost answer is retried once", func(t *testing.T) {
		var mu sync.Mutex
		dropped := 0
		stop := interceptSends(t, ctx, fetch.RequestStageResponse, func(ev fetch.EventRequestPaused) any {
			mu.Lock()
			defer mu.Unlock()
			if dropped == 0 {
				dropped++
				return fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset}
			}
			return fetch.ContinueRequestParams{RequestID: ev.RequestID}
		})
		posts := proxy.count("POST /api/v1/rooms/" + roomID + "/messages ")
		typeAndSend(t, ctx, "two")
		mustPoll(t, ctx, "two is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('two')`, 10*time.Second)
		// The outbox (kept in the frame's localStorage, the page's origin
		// here) empties only when a send is acknowledged.
		mustPoll(t, ctx, "the retry is acknowledged", `JSON.parse(localStorage.getItem('parley:' + location.origin)).outbox.length === 0`, 10*time.Second)
		stop()
		if got := proxy.count("POST /api/v1/rooms/"+roomID+"/messages ") - posts; got != 2 {
			t.Errorf("sends of the message: got %d, want 2 (the lost one and its retry)", got)
		}
		mu.Lock()
		if dropped != 1 {
			t.Errorf("dropped answers: got %d, want 1", dropped)
		}
		mu.Unlock()
		if n := storedCopies(t, app, admin, roomID, "two"); n != 1 {
			t.Errorf("stored copies of a retried message: got %d, want 1", n)
		}
		if n := mustEval[int](t, ctx, `texts('.msg .text').filter((s) => s === 'two').length`); n != 1 {
			t.Errorf("shown copies of a retried message: got %d, want 1", n)
		}
	})

	t.Run("503 keeps the text", func(t *testing.T) {
		stop := interceptSends(t, ctx, fetch.RequestStageRequest, func(ev fetch.EventRequestPaused) any {
			return fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: 503,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}},
				Body:            []byte(`{"error":{"code":"store_unavailable","message":"store unavailable"}}`),
			}
		})
		typeAndSend(t, ctx, "three")
		mustPoll(t, ctx, "the failed bubble", `texts('.msg.failed .text').includes('three')`, 5*time.Second)
		if got := mustEval[string](t, ctx, `F().getElementById('notice').textContent`); !strings.Contains(got, "unavailable") || !strings.Contains(got, "kept") {
			t.Errorf("notice on 503: got %q, want it to say the chat is unavailable and the text kept", got)
		}
		stop()
		if n := storedCopies(t, app, admin, roomID, "three"); n != 0 {
			t.Errorf("stored copies of a refused message: got %d, want 0", n)
		}
		mustDo(t, ctx, "retry", chromedp.Evaluate[chromedp.Void](`(() => {`+widgetJS+`F().querySelector('.msg.failed .link-btn').click(); })()`))
		mustPoll(t, ctx, "three is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('three') && !F().querySelector('.msg.failed')`, 10*time.Second)
		if n := storedCopies(t, app, admin, roomID, "three"); n != 1 {
			t.Errorf("stored copies after Retry: got %d, want 1", n)
		}
	})

	// The notice names the wait, in seconds or minutes.
	waitInNotice := regexp.MustCompile(`\b\d+ (s|min|seconds?)\b`)
	t.Run("429 says slow down", func(t *testing.T) {
		for i := 0; i < 10 && !mustEval[bool](t, ctx, `!!F().querySelector('.msg.failed')`); i++ {
			typeAndSend(t, ctx, fmt.Sprintf("flood %d", i))
			mustPoll(t, ctx, "the send settles", `!F().querySelector('.msg.pending')`, 5*time.Second)
		}
		if got := mustEval[string](t, ctx, `F().getElementById('notice').textContent`); !strings.Contains(got, "Slow down") || !waitInNotice.MatchString(got) {
			t.Errorf("notice on 429: got %q, want Slow down with the wait", got)
		}
		if got := mustEval[int](t, ctx, `F().querySelectorAll('.msg.failed').length`); got != 1 {
			t.Errorf("failed bubbles after a 429: got %d, want 1", got)
		}
	})

	// The network errors above are on purpose; anything else is not.
	log.checkClean(t, provoked{})
}

// readEvents reads an event stream (the admin one, or a room's with its
// visitor token) into a channel of "event data" strings until ctx ends.
func readEvents(tb testing.TB, ctx context.Context, app *testApp, path, token string) <-chan string {
	tb.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", app.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("events %s: %v", path, err)
	}
	if res.StatusCode != 200 {
		tb.Fatalf("events %s: got %d, want 200", path, res.StatusCode)
	}
	out := make(chan string, 64)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				select {
				case out <- event + " " + v:
				default:
				}
			}
		}
	}()
	return out
}

// TestWidgetHistoryTypingDelete covers the rest of a conversation's life:
// older history loads on scroll up, typing shows both ways, and the visitor
// erases the conversation after an in-panel confirmation.
func TestWidgetHistoryTypingDelete(t *testing.T) {
	ctx := newBrowser(t)
	// Email on: only then does the away notice ask for an email.
	app, _, _ := startMailUIApp(t)
	admin := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	roomID := startConversation(t, ctx, app, admin, app.URL+"/", "first")
	// No admin has the console open: the panel says so and, email being on,
	// asks for an email.
	mustPoll(t, ctx, "away", `F().getElementById('status').classList.contains('offline') && !F().getElementById('away').hidden && !F().getElementById('away-row').hidden`, 5*time.Second)
	mustDo(t, ctx, "leave an email", chromedp.Evaluate[chromedp.Void](`(() => {`+widgetJS+`F().getElementById('away-email').value = 'later@example.com'; F().getElementById('away').requestSubmit(); })()`))
	mustPoll(t, ctx, "the email is kept", `F().getElementById('away-row').hidden && F().getElementById('away-text').textContent.includes('later@example.com')`, 5*time.Second)
	// Resuming with the email fills in the room's empty email: the admins
	// see it on the room, and no extra message is needed.
	roomEmail := func() string {
		var list struct {
			Rooms []struct{ VisitorEmail string }
		}
		app.call(t, "GET", "/api/v1/admin/rooms", admin, nil, &list)
		if len(list.Rooms) != 1 {
			return ""
		}
		return list.Rooms[0].VisitorEmail
	}
	for deadline := time.Now().Add(5 * time.Second); roomEmail() != "later@example.com"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("room email: got %q, want later@example.com", roomEmail())
		}
	}
	if mustEval[bool](t, ctx, `texts('.msg .text').some((s) => s.includes('later@example.com'))`) {
		t.Error("the email was also sent as a message")
	}

	t.Run("older history on scroll up", func(t *testing.T) {
		for i := 1; i <= 75; i++ {
			adminSays(t, app, admin, roomID, fmt.Sprintf("history %02d", i))
		}
		mustDo(t, ctx, "reload", chromedp.Reload())
		mustPoll(t, ctx, "the latest page", `texts('.msg .text').includes('history 75') && !F().getElementById('older').hidden`, 10*time.Second)
		if n := mustEval[int](t, ctx, `texts('.msg .text').length`); n != 30 {
			t.Errorf("messages after a reload: got %d, want the latest 30", n)
		}
		if !mustEval[bool](t, ctx, `F().getElementById('greeting').hidden`) {
			t.Error("the greeting shows above a partial history")
		}
		for _, want := range []int{60, 76} {
			mustDo(t, ctx, "scroll up", chromedp.Evaluate[chromedp.Void](`(() => {`+widgetJS+`F().getElementById('scroll').scrollTop = 0; })()`))
			mustPoll(t, ctx, "older messages", fmt.Sprintf(`texts('.msg .text').length === %d && F().getElementById('scroll').scrollTop > 0`, want), 5*time.Second)
		}
		if got := mustEval[string](t, ctx, `texts('.msg .text').slice(0, 3).join('|')`); got != "first|history 01|history 02" {
			t.Errorf("oldest messages: got %q, want first, history 01, history 02", got)
		}
		if !mustEval[bool](t, ctx, `!F().getElementById('greeting').hidden && F().getElementById('older').hidden`) {
			t.Error("the greeting should show, and the older button hide, once the whole history is loaded")
		}
	})

	t.Run("typing both ways", func(t *testing.T) {
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		events := readEvents(t, sctx, app, "/api/v1/admin/events", admin)
		// An admin watching the stream is online.
		mustPoll(t, ctx, "online", `F().getElementById('status').classList.contains('online') && F().getElementById('away').hidden`, 10*time.Second)
		clickInFrame(t, ctx, "#input")
		mustDo(t, ctx, "type", chromedp.KeyEvent("typing a question"))
		deadline := time.After(5 * time.Second)
	wait:
		for {
			select {
			case ev := <-events:
				if strings.HasPrefix(ev, "typing ") && strings.Contains(ev, roomID) {
					break wait
				}
			case <-deadline:
				t.Fatal("no typing event on the admin stream within 5s")
			}
		}
		if st := app.call(t, "POST", "/api/v1/admin/rooms/"+roomID+"/typing", admin, nil, nil); st != 204 {
			t.Fatalf("admin typing: got %d, want 204", st)
		}
		mustPoll(t, ctx, "the admin is typing", `!F().getElementById('typing').hidden`, 2*time.Second)
	})

	t.Run("delete the conversation", func(t *testing.T) {
		mustDo(t, ctx, "ask", chromedp.Evaluate[chromedp.Void](`(() => {`+widgetJS+`F().getElementById('delete').click(); })()`))
		mustPoll(t, ctx, "the confirmation", `!F().getElementById('confirm').hidden && F().activeElement.id === 'confirm-cancel'`, 2*time.Second)
		mustDo(t, ctx, "Esc cancels", chromedp.KeyEvent(kb.Escape))
		mustPoll(t, ctx, "cancelled", `F().getElementById('confirm').hidden && !!W().querySelector('.o')`, 2*time.Second)
		if st := app.call(t, "GET", "/api/v1/admin/rooms/"+roomID, admin, nil, nil); st != 200 {
			t.Fatalf("room after cancelling: got %d, want 200", st)
		}
		mustDo(t, ctx, "ask again", chromedp.Evaluate[chromedp.Void](`(() => {`+widgetJS+`F().getElementById('delete').click(); })()`))
		mustPoll(t, ctx, "the confirmation", `!F().getElementById('confirm').hidden`, 2*time.Second)
		mustDo(t, ctx, "confirm", chromedp.Evaluate[chromedp.Void](`(() => {`+widgetJS+`F().getElementById('confirm-ok').click(); })()`))
		mustPoll(t, ctx, "a fresh start", `texts('.msg .text').length === 0 && !F().getElementById('intro').hidden && !F().getElementById('greeting').hidden`, 5*time.Second)
		if st := app.call(t, "GET", "/api/v1/admin/rooms/"+roomID, admin, nil, nil); st != 404 {
			t.Errorf("room after the visitor deleted it: got %d, want 404", st)
		}
		if got := mustEval[string](t, ctx, `String(localStorage.getItem('parley:' + location.origin))`); got != "null" {
			t.Errorf("stored session after deleting: got %s, want none", got)
		}
	})
	log.checkClean(t)
}

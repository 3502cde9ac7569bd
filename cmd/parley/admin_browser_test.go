package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// cspRecorder is run in the page before its own scripts: it keeps every
// Content-Security-Policy violation where the test can read it.
const cspRecorder = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});`

// pressKey sends one key as rawKeyDown and keyUp, without the char event that
// would type into whatever has the focus next.
func pressKey(key, code string, vk int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: key, Code: code, WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk,
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// failAdminStream answers every request for the admin event stream with a
// 503 until the returned func is called.
func failAdminStream(tb testing.TB, ctx context.Context) (stop func()) {
	tb.Helper()
	ictx, cancel := context.WithCancel(ctx)
	paused := chromedp.Events(ictx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/api/v1/admin/events*", RequestStage: fetch.RequestStageRequest},
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
			_, err = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: 503,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}},
				Body:            []byte(`{"error":{"code":"store_unavailable","message":"store unavailable"}}`),
			})
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

// screenshot saves the viewport as a PNG artifact and logs where.
func screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	path := artifactPath(tb, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("screenshot: %s", path)
}

// visitorSays sends a visitor message through the API.
func visitorSays(tb testing.TB, app *testApp, token, roomID, text string) {
	tb.Helper()
	if st := app.call(tb, "POST", "/api/v1/rooms/"+roomID+"/messages", token, map[string]string{"content": text}, nil); st != 201 {
		tb.Fatalf("visitor message: got %d, want 201", st)
	}
}

// TestAdminConsole drives the console the way a site's admin does: a wrong
// password is refused; a room a visitor opens appears live with its badge;
// opening it clears the badge and tells the visitor; a reply reaches the
// visitor once; typing shows; a dropped stream says so, reconnects and misses
// nothing; delete asks first and removes the room; the visitors page draws
// 30 days; a token revoked elsewhere returns to the login form; and neither
// the console nor the CSP reports an error.
func TestAdminConsole(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	me := adminName(t, app)
	// Through a proxy that can cut the connections, for the reconnect step.
	proxy := startCutProxy(t, strings.TrimPrefix(app.URL, "http://"))
	console := watchBrowser(ctx)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatalf("add csp recorder: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()

	mustDo(t, ctx, "open the console", chromedp.Navigate(proxy.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))

	t.Run("wrong password", func(t *testing.T) {
		mustDo(t, ctx, "log in wrongly",
			chromedp.SendKeys(chromedp.CSS("#username"), app.AdminUser),
			chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
			chromedp.Click(chromedp.CSS("#login-submit")))
		mustPoll(t, ctx, "the error", `!document.getElementById('login-error').hidden`, 5*time.Second)
		if got := mustEval[string](t, ctx, `document.getElementById('login-error').textContent`); !strings.Contains(got, "Wrong username or password") {
			t.Errorf("login error: got %q, want it to say wrong username or password", got)
		}
		if mustEval[bool](t, ctx, `!!sessionStorage.getItem('parley.admin.session') || !document.getElementById('app').hidden`) {
			t.Error("a wrong password opened the console")
		}
	})

	mustDo(t, ctx, "log in",
		chromedp.Clear(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), app.AdminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")))
	mustPoll(t, ctx, "the stream is live", `document.getElementById('status').dataset.state === 'live'`, 10*time.Second)
	mustPoll(t, ctx, "the empty inbox", `document.getElementById('rooms-empty').textContent.includes('No conversations yet')`, 5*time.Second)

	roomID, visitor := app.newVisitor(t, "Ada Lovelace")
	row := fmt.Sprintf(`document.querySelector('#rooms a.room[data-id=%q]')`, roomID)

	t.Run("new room appears live with its badge", func(t *testing.T) {
		mustPoll(t, ctx, "the room at the top", `document.querySelector('#rooms li:first-child a.room')?.dataset.id === `+fmt.Sprintf("%q", roomID), 5*time.Second)
		visitorSays(t, app, visitor, roomID, "Hello, is anyone there?")
		mustPoll(t, ctx, "the unread badge", row+`?.querySelector('.badge')?.textContent === '1'`, 5*time.Second)
		mustPoll(t, ctx, "the preview", row+`?.querySelector('.room-preview')?.textContent === 'Hello, is anyone there?'`, 5*time.Second)
		mustPoll(t, ctx, "the count in the title", `document.title.startsWith('(1) ')`, 5*time.Second)
	})

	t.Run("opening clears the badge", func(t *testing.T) {
		mustDo(t, ctx, "open the room", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, roomID))))
		mustPoll(t, ctx, "the message", `[...document.querySelectorAll('#thread-msgs .msg-visitor .bubble')].some((b) => b.textContent === 'Hello, is anyone there?')`, 5*time.Second)
		mustPoll(t, ctx, "no badge", `!`+row+`.querySelector('.badge') && !document.title.startsWith('(')`, 5*time.Second)
		if got := mustEval[string](t, ctx, `document.querySelector('#details .details-head h3').textContent`); got != "Ada Lovelace" {
			t.Errorf("details name: got %q, want %q", got, "Ada Lovelace")
		}
		var v struct{ Room struct{ AdminReadSeq int64 } }
		if st := app.call(t, "GET", "/api/v1/rooms/"+roomID, visitor, nil, &v); st != 200 || v.Room.AdminReadSeq != 1 {
			t.Errorf("visitor's view of the read mark: status %d, adminReadSeq %d, want 200 and 1", st, v.Room.AdminReadSeq)
		}
	})

	t.Run("typing shows", func(t *testing.T) {
		if st := app.call(t, "POST", "/api/v1/rooms/"+roomID+"/typing", visitor, nil, nil); st != 204 {
			t.Fatalf("visitor typing: got %d, want 204", st)
		}
		mustPoll(t, ctx, "typing in the thread and the list", `!document.getElementById('thread-typing').hidden && !!`+row+`.querySelector('.typing')`, 5*time.Second)
	})

	t.Run("reply reaches the visitor once", func(t *testing.T) {
		mustDo(t, ctx, "focus the reply box", chromedp.Focus(chromedp.CSS("#reply")))
		typeAndSend(t, ctx, "Hi Ada, how can I help?")
		mustPoll(t, ctx, "the reply", `[...document.querySelectorAll('#thread-msgs .msg-admin .bubble')].some((b) => b.textContent === 'Hi Ada, how can I help?') && !document.querySelector('#thread-pending .msg')`, 5*time.Second)
		if got := mustEval[string](t, ctx, `document.querySelector('#thread-msgs .msg-admin .msg-author').textContent`); got != me {
			t.Errorf("reply labelled %q, want the admin's name %q", got, me)
		}
		var out struct {
			Messages []struct{ Sender, Author, Content string }
		}
		if st := app.call(t, "GET", "/api/v1/rooms/"+roomID+"/messages", visitor, nil, &out); st != 200 {
			t.Fatalf("visitor messages: got %d, want 200", st)
		}
		n := 0
		for _, m := range out.Messages {
			if m.Content == "Hi Ada, how can I help?" && m.Sender == "admin" && m.Author == me {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the visitor has the reply %d times, want 1 (messages %+v)", n, out.Messages)
		}
		if v := mustEval[string](t, ctx, `document.getElementById('reply').value`); v != "" {
			t.Errorf("reply box after sending: got %q, want empty", v)
		}
	})

	t.Run("an open room reads new messages", func(t *testing.T) {
		visitorSays(t, app, visitor, roomID, "I have a <b>question</b> about pricing.")
		mustPoll(t, ctx, "the message, as text", `[...document.querySelectorAll('#thread-msgs .bubble')].some((b) => b.textContent === 'I have a <b>question</b> about pricing.')`, 5*time.Second)
		if mustEval[bool](t, ctx, `!!document.querySelector('#thread-msgs b, #rooms b')`) {
			t.Error("message text was rendered as HTML")
		}
		waitUnread(t, app, admin, roomID, 0)
	})

	t.Run("stream reconnects and misses nothing", func(t *testing.T) {
		// The console resumes with Last-Event-ID: the server replays what it
		// missed, and it reloads neither the list nor the thread.
		lists := len(console.requestsMatching("/api/v1/admin/rooms?"))
		pages := len(console.requestsMatching("/messages?after="))
		stop := failAdminStream(t, ctx)
		proxy.cutAll()
		mustPoll(t, ctx, "reconnecting is shown", `document.getElementById('status').textContent.includes('reconnecting…')`, 10*time.Second)
		visitorSays(t, app, visitor, roomID, "Sent while you were away")
		stop()
		mustPoll(t, ctx, "live again", `document.getElementById('status').dataset.state === 'live'`, 40*time.Second)
		mustPoll(t, ctx, "the missed message", `[...document.querySelectorAll('#thread-msgs .bubble')].some((b) => b.textContent === 'Sent while you were away')`, 10*time.Second)
		mustDo(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
		if got := mustEval[string](t, ctx, `[...document.querySelectorAll('#thread-msgs .msg')].map((m) => m.dataset.seq).join(',')`); got != "1,2,3,4" {
			t.Errorf("messages shown by seq: got %s, want 1,2,3,4 (each once)", got)
		}
		mustPoll(t, ctx, "the list preview", row+`?.querySelector('.room-preview')?.textContent === 'Sent while you were away'`, 5*time.Second)
		waitUnread(t, app, admin, roomID, 0)
		if l, p := len(console.requestsMatching("/api/v1/admin/rooms?")), len(console.requestsMatching("/messages?after=")); l != lists || p != pages {
			t.Errorf("after a resumed reconnect: got %d room list and %d message page requests more, want none", l-lists, p-pages)
		}
	})

	// Two more conversations, so the keyboard, the search and the filter have
	// rows to go through, and the screenshot shows a working inbox. The
	// list, newest first: the nonprofit question, Grace, this room.
	var grace, nonprofit string
	for _, v := range []struct{ name, text string }{
		{"Grace Hopper", "Can I export my conversations as CSV?"},
		{"", "Do you have a free plan for nonprofits?"},
	} {
		id, token := app.newVisitor(t, v.name)
		visitorSays(t, app, token, id, v.text)
		mustPoll(t, ctx, "the new room", fmt.Sprintf(`!!document.querySelector('#rooms a.room[data-id=%q] .badge')`, id), 5*time.Second)
		if v.name != "" {
			grace = id
		} else {
			nonprofit = id
		}
	}

	t.Run("keyboard", func(t *testing.T) {
		mustDo(t, ctx, "Esc", pressKey("Escape", "Escape", 27))
		mustPoll(t, ctx, "back to the list, on this room", fmt.Sprintf(`location.hash === '#/' && document.getElementById('conv').hidden && document.activeElement?.dataset.id === %q`, roomID), 5*time.Second)
		// Up twice (k, then the arrow), down once (j): Grace's room.
		mustDo(t, ctx, "k, up, j, Enter", chromedp.KeyEvent("k"), pressKey("ArrowUp", "ArrowUp", 38), chromedp.KeyEvent("j"), pressKey("Enter", "Enter", 13))
		mustPoll(t, ctx, "Grace's room opened with Enter", fmt.Sprintf(`location.hash === '#/r/%s' && !document.getElementById('conv').hidden`, grace), 5*time.Second)
		mustDo(t, ctx, "Esc, down, Enter", pressKey("Escape", "Escape", 27), pressKey("ArrowDown", "ArrowDown", 40), pressKey("Enter", "Enter", 13))
		mustPoll(t, ctx, "this room again", fmt.Sprintf(`location.hash === '#/r/%s' && !document.getElementById('conv').hidden`, roomID), 5*time.Second)
		mustPoll(t, ctx, "loaded", `document.querySelectorAll('#thread-msgs .msg').length === 4`, 5*time.Second)
	})

	t.Run("search and filter", func(t *testing.T) {
		const shown = `[...document.querySelectorAll('#rooms a.room')].filter((a) => a.offsetParent !== null).map((a) => a.dataset.id).join(',')`
		search := func(q string) chromedp.Action[chromedp.Void] {
			return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById('search'); s.value = %q; s.dispatchEvent(new Event('input')); })()`, q))
		}
		all := nonprofit + "," + grace + "," + roomID
		mustDo(t, ctx, "search by name", search("grace"))
		mustPoll(t, ctx, "only Grace", fmt.Sprintf(`%s === %q`, shown, grace), 5*time.Second)
		mustDo(t, ctx, "search the last message", search("NONPROFITS"))
		mustPoll(t, ctx, "only the nonprofit question", fmt.Sprintf(`%s === %q`, shown, nonprofit), 5*time.Second)
		mustDo(t, ctx, "clear", search(""))
		mustPoll(t, ctx, "every room", fmt.Sprintf(`%s === %q`, shown, all), 5*time.Second)
		// Grace's room and this one were read when opened; the open one stays
		// in the list while it is open.
		mustDo(t, ctx, "unread", chromedp.Click(chromedp.CSS(`#filters [data-filter="unread"]`)))
		mustPoll(t, ctx, "the unread room and the open one", fmt.Sprintf(`%s === %q`, shown, nonprofit+","+roomID), 5*time.Second)
		mustDo(t, ctx, "all", chromedp.Click(chromedp.CSS(`#filters [data-filter="all"]`)))
		mustPoll(t, ctx, "every room again", fmt.Sprintf(`%s === %q`, shown, all), 5*time.Second)
	})

	screenshot(t, ctx, "admin-inbox.png")

	t.Run("block and unblock", func(t *testing.T) {
		block := chromedp.Click(chromedp.CSS(`#details [data-action="block"]`))
		mustDo(t, ctx, "block", block)
		// The dialog offers the IP block, with a duration.
		mustPoll(t, ctx, "the block dialog", `document.getElementById('confirm-block')?.open`, 5*time.Second)
		screenshot(t, ctx, "admin-block-dialog.png")
		mustDo(t, ctx, "block the IP for 7 days too",
			chromedp.Click(chromedp.CSS(`#confirm-block input[name="ip"]`)),
			chromedp.SetValue(chromedp.CSS(`#confirm-block select[name="for"]`), "168h"),
			chromedp.Click(chromedp.CSS(`#confirm-block [value="block"]`)))
		mustPoll(t, ctx, "the blocked banner, with the IP block", `!document.getElementById('conv-banner').hidden && document.getElementById('conv-banner').textContent.includes('IP address is blocked until') && document.querySelector('#details [data-action="block"]').textContent.includes('Unblock')`, 5*time.Second)
		if st := app.call(t, "POST", "/api/v1/rooms/"+roomID+"/messages", visitor, map[string]string{"content": "still there?"}, nil); st != 403 {
			t.Errorf("a blocked visitor's send: got %d, want 403", st)
		}
		if st := app.call(t, "POST", "/api/v1/rooms", "", nil, nil); st != 403 {
			t.Errorf("a new room from the blocked address: got %d, want 403", st)
		}
		if got := adminOpenRoom(t, app, admin, roomID); got.Room.ID == "" {
			t.Fatal("the room is gone")
		}
		var open struct {
			Room struct{ IPBlockedUntil time.Time }
		}
		app.call(t, "GET", "/api/v1/admin/rooms/"+roomID, admin, nil, &open)
		if d := time.Until(open.Room.IPBlockedUntil); d < 167*time.Hour || d > 168*time.Hour {
			t.Errorf("IP block: ends in %v, want 7 days", d)
		}
		mustDo(t, ctx, "unblock", block)
		mustPoll(t, ctx, "no banner", `document.getElementById('conv-banner').hidden && document.querySelector('#details [data-action="block"]').textContent.includes('Block visitor')`, 5*time.Second)
		visitorSays(t, app, visitor, roomID, "Thanks, all clear now.")
		mustPoll(t, ctx, "the visitor's message", `document.querySelectorAll('#thread-msgs .msg').length === 5`, 5*time.Second)
		waitUnread(t, app, admin, roomID, 0) // read as it arrives: the room is open
	})

	t.Run("delete asks, then removes", func(t *testing.T) {
		mustDo(t, ctx, "delete", chromedp.Click(chromedp.CSS(`#details [data-action="delete"]`)))
		mustPoll(t, ctx, "the dialog", `document.getElementById('confirm-delete').open`, 5*time.Second)
		if got := mustEval[string](t, ctx, `document.getElementById('confirm-delete').textContent`); !strings.Contains(got, "cannot be undone") {
			t.Errorf("dialog text: got %q, want it to say it cannot be undone", got)
		}
		mustDo(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`#confirm-delete button[value="delete"]`)))
		mustPoll(t, ctx, "the room is gone", `!`+row+` && !document.getElementById('conv-empty').hidden && location.hash === '#/'`, 5*time.Second)
		if st := app.call(t, "GET", "/api/v1/rooms/"+roomID, visitor, nil, nil); st != 404 {
			t.Errorf("visitor reads the deleted room: got %d, want 404", st)
		}
	})

	t.Run("a room deleted elsewhere disappears", func(t *testing.T) {
		id, _ := app.newVisitor(t, "Alan Turing")
		sel := fmt.Sprintf(`document.querySelector('#rooms a.room[data-id=%q]')`, id)
		mustPoll(t, ctx, "the room", "!!"+sel, 5*time.Second)
		if st := app.call(t, "DELETE", "/api/v1/admin/rooms/"+id, admin, nil, nil); st != 204 {
			t.Fatalf("delete: got %d, want 204", st)
		}
		mustPoll(t, ctx, "gone", "!"+sel, 5*time.Second)
	})

	t.Run("visitors page", func(t *testing.T) {
		for _, p := range []string{"/", "/pricing", "/pricing", "/docs"} {
			if st := app.call(t, "POST", "/api/v1/visits", "", map[string]string{"path": p}, nil); st != 200 {
				t.Fatalf("visit: got %d, want 200", st)
			}
		}
		mustDo(t, ctx, "open the visitors page", chromedp.Click(chromedp.CSS("#nav-visits")))
		mustPoll(t, ctx, "the chart", `document.querySelectorAll('#visits-root svg.chart g.day').length === 30`, 5*time.Second)
		if got := mustEval[string](t, ctx, `document.querySelector('.top-pages li .path').textContent`); got != "/pricing" {
			t.Errorf("top page: got %q, want /pricing", got)
		}
		if got := mustEval[string](t, ctx, `document.querySelector('.stats .stat .stat-value').textContent`); got != "4" {
			t.Errorf("views today: got %q, want 4", got)
		}
		screenshot(t, ctx, "admin-visitors.png")
		mustDo(t, ctx, "back to the inbox", chromedp.Click(chromedp.CSS("#nav-inbox")))
	})

	t.Run("phone layout", func(t *testing.T) {
		id, token := app.newVisitor(t, "")
		visitorSays(t, app, token, id, "Hi from my phone")
		mustDo(t, ctx, "narrow", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		mustPoll(t, ctx, "one column", `getComputedStyle(document.getElementById('conv-pane')).display === 'none'`, 5*time.Second)
		mustDo(t, ctx, "open", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, id))))
		mustPoll(t, ctx, "the conversation alone", `getComputedStyle(document.querySelector('.rooms-pane')).display === 'none' && document.querySelectorAll('#thread-msgs .msg').length === 1`, 5*time.Second)
		screenshot(t, ctx, "admin-phone.png")
		mustDo(t, ctx, "wide again", chromedp.EmulateViewport(1280, 800), pressKey("Escape", "Escape", 27))
	})

	t.Run("revoked token returns to login", func(t *testing.T) {
		token := mustEval[string](t, ctx, `JSON.parse(sessionStorage.getItem('parley.admin.session')).token`)
		if st := app.call(t, "POST", "/api/v1/admin/logout", token, nil, nil); st != 204 {
			t.Fatalf("logout: got %d, want 204", st)
		}
		// Any request now is refused; the stream, ended by the revocation,
		// may have brought the console back to its login already (then the
		// filters have no layout to click, and the click does nothing).
		mustEval[bool](t, ctx, `(document.querySelector('#filters [data-filter="unread"]').click(), true)`)
		mustPoll(t, ctx, "the login form", `!document.getElementById('login').hidden && document.getElementById('app').hidden`, 5*time.Second)
		if got := mustEval[string](t, ctx, `document.getElementById('login-note').textContent`); !strings.Contains(got, "session has ended") {
			t.Errorf("login note: got %q, want it to say the session has ended", got)
		}
		if mustEval[bool](t, ctx, `!!sessionStorage.getItem('parley.admin.session')`) {
			t.Error("the revoked token is still stored")
		}
	})

	t.Run("sign out revokes the token", func(t *testing.T) {
		mustDo(t, ctx, "log in again",
			chromedp.SendKeys(chromedp.CSS("#password"), app.AdminPassword),
			chromedp.Click(chromedp.CSS("#login-submit")))
		mustPoll(t, ctx, "the stream is live", `document.getElementById('status').dataset.state === 'live'`, 10*time.Second)
		token := mustEval[string](t, ctx, `JSON.parse(sessionStorage.getItem('parley.admin.session')).token`)
		mustDo(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#logout")))
		mustPoll(t, ctx, "the login form", `!document.getElementById('login').hidden && document.getElementById('login-note').textContent.includes('signed out')`, 5*time.Second)
		if st := app.call(t, "GET", "/api/v1/admin/rooms", token, nil, nil); st != 401 {
			t.Errorf("the signed-out token lists rooms: got %d, want 401", st)
		}
	})

	if v := mustEval[[]string](t, ctx, `window.__csp`); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
	console.checkClean(t,
		provoked{"/api/v1/admin/login", "status of 401"},  // the wrong password
		provoked{"/api/v1/admin/rooms", "status of 401"},  // the revoked token
		provoked{"/api/v1/admin/counts", "status of 401"}, // the revoked token, if a count refresh was due
		provoked{"/api/v1/admin/events", "status of 401"}, // the revoked token, if the stream was reconnecting
		provoked{"/api/v1/admin/events", "status of 503"}, // the refused stream
		provoked{"/api/v1/admin/events", "net::ERR_"},     // the cut stream
	)
}

// waitUnread waits until the admins' unread count of a room is want, as the
// API reports it.
func waitUnread(tb testing.TB, app *testApp, admin, roomID string, want int64) {
	tb.Helper()
	var got int64 = -1
	for range 50 {
		var out struct {
			Rooms []struct {
				ID     string
				Unread int64
			}
		}
		if st := app.call(tb, "GET", "/api/v1/admin/rooms", admin, nil, &out); st != 200 {
			tb.Fatalf("list rooms: got %d, want 200", st)
		}
		for _, r := range out.Rooms {
			if r.ID == roomID {
				got = r.Unread
			}
		}
		if got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Errorf("unread of %s: got %d, want %d", roomID, got, want)
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// attentionStub runs in the console before its own scripts. It stands in
// for the browser's notifications (permission "default" until asked, then
// granted) and keeps each one shown; it counts the oscillators of the beep;
// and it lets the test hide the tab (window.__vis) without really doing so.
const attentionStub = `window.__notes = []; window.__beeps = 0; window.__vis = 'visible';
window.Notification = class { constructor(title, o) { window.__notes.push(title + ': ' + o.body); } close() {} };
Notification.permission = 'default';
Notification.requestPermission = () => { Notification.permission = 'granted'; return Promise.resolve('granted'); };
Object.defineProperty(document, 'visibilityState', { get: () => window.__vis, configurable: true });
const __osc = BaseAudioContext.prototype.createOscillator;
BaseAudioContext.prototype.createOscillator = function () { window.__beeps++; return __osc.call(this); };`

// waitEvent waits for an "event data" string from events that contains
// every one of parts, or fails the test after timeout.
func waitEvent(tb testing.TB, events <-chan string, timeout time.Duration, parts ...string) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				tb.Fatalf("the stream ended before an event with %q", parts)
			}
			all := true
			for _, p := range parts {
				all = all && strings.Contains(ev, p)
			}
			if all {
				return
			}
		case <-deadline:
			tb.Fatalf("no event with %q within %v", parts, timeout)
		}
	}
}

// clickButton clicks the button of the visitor details whose text contains label.
func clickButton(label string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll('#details button')].find((b) => b.textContent.includes(%q)).click()`, label))
}

// TestAdminLongConversation works through a busy inbox and a long
// conversation: the room list pages in as it scrolls, without duplicates;
// the visitor details show who the visitor is, where they started and the
// live message count; the transcript, copied and downloaded, holds every
// message, loaded or not; older history loads on scroll up; the admin's
// typing reaches the visitor; and desktop notifications and the beep come
// only once the admin opted in, and stop when they opt out.
func TestAdminLongConversation(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	console := watchBrowser(ctx)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder + attentionStub}); err != nil {
		t.Fatalf("add init script: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	// More rooms than one page of the list (50), then Ada's, the newest,
	// with more messages than one page of the thread (50).
	const others, messages = 60, 120
	for i := range others {
		app.newVisitor(t, fmt.Sprintf("Visitor %02d", i))
	}
	const pageURL = "https://shop.example.com/pricing?plan=pro"
	var ada struct {
		Room  struct{ ID string }
		Token string
	}
	if st := app.call(t, "POST", "/api/v1/rooms", "", map[string]string{"name": "Ada Lovelace", "email": "ada@example.com", "page": pageURL}, &ada); st != 201 {
		t.Fatalf("create Ada's room: got %d, want 201", st)
	}
	roomID, visitor := ada.Room.ID, ada.Token
	for i := 1; i <= messages; i++ {
		if i%2 == 1 {
			visitorSays(t, app, visitor, roomID, fmt.Sprintf("message %03d", i))
		} else {
			adminSays(t, app, admin, roomID, fmt.Sprintf("message %03d", i))
		}
	}

	mustDo(t, ctx, "open the console", chromedp.Navigate(app.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	mustDo(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS("#username"), app.AdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), app.AdminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")))
	mustPoll(t, ctx, "the stream is live", `document.getElementById('status').dataset.state === 'live'`, 10*time.Second)

	t.Run("the room list pages in on scroll", func(t *testing.T) {
		const rows = `[...document.querySelectorAll('#rooms a.room')].map((a) => a.dataset.id)`
		mustPoll(t, ctx, "the first page", rows+`.length === 50`, 5*time.Second)
		if got := mustEval[string](t, ctx, rows+`[0]`); got != roomID {
			t.Errorf("first row: got %s, want Ada's room %s", got, roomID)
		}
		mustDo(t, ctx, "scroll to the end", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('rooms-scroll'); s.scrollTop = s.scrollHeight; })()`))
		mustPoll(t, ctx, "the next page", fmt.Sprintf(`%s.length === %d`, rows, others+1), 5*time.Second)
		var all struct{ Rooms []struct{ ID string } }
		if st := app.call(t, "GET", "/api/v1/admin/rooms?limit=200", admin, nil, &all); st != 200 {
			t.Fatalf("list rooms: got %d, want 200", st)
		}
		var want []string
		for _, r := range all.Rooms {
			want = append(want, r.ID)
		}
		// In the API's order, rooms made in the same millisecond included.
		if got := mustEval[[]string](t, ctx, rows); !slices.Equal(got, want) {
			t.Errorf("rows after scrolling: got %v, want every room once, in the API's order: %v", got, want)
		}
		mustDo(t, ctx, "back to the top", chromedp.Evaluate[chromedp.Void](`document.getElementById('rooms-scroll').scrollTop = 0`))
	})

	mustDo(t, ctx, "open Ada's room", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, roomID))))
	mustPoll(t, ctx, "the latest page", `document.querySelectorAll('#thread-msgs .msg').length === 50 && [...document.querySelectorAll('#thread-msgs .msg .bubble')].pop().textContent === 'message 120'`, 5*time.Second)

	t.Run("visitor details", func(t *testing.T) {
		// Each row of the details, as "label: text".
		const rows = `[...document.querySelectorAll('#details .detail')].map((d) => d.querySelector('dt').textContent + ': ' + d.querySelector('dd').textContent)`
		mustPoll(t, ctx, "the count", rows+fmt.Sprintf(`.includes('Messages: %d')`, messages), 5*time.Second)
		got := map[string]string{}
		for _, r := range mustEval[[]string](t, ctx, rows) {
			label, text, _ := strings.Cut(r, ": ")
			got[label] = text
		}
		for label, want := range map[string]string{"Started on": "shop.example.com/pricing", "Messages": fmt.Sprint(messages), "Conversation": roomID} {
			if got[label] != want {
				t.Errorf("details %s: got %q, want %q", label, got[label], want)
			}
		}
		if first := got["First seen"]; !strings.Contains(first, fmt.Sprint(time.Now().Year())) {
			t.Errorf("details First seen: got %q, want the date the room was opened", first)
		}
		if got := mustEval[string](t, ctx, `document.querySelector('#details .detail a').href`); got != pageURL {
			t.Errorf("link to the page: got %q, want %q", got, pageURL)
		}
		if got := mustEval[string](t, ctx, `(() => { const a = document.querySelector('#details .details-head a'); return a.textContent + ' ' + a.href; })()`); got != "ada@example.com mailto:ada@example.com" {
			t.Errorf("email: got %q, want ada@example.com linked with mailto:", got)
		}
		visitorSays(t, app, visitor, roomID, "message 121")
		mustPoll(t, ctx, "the count follows", rows+fmt.Sprintf(`.includes('Messages: %d')`, messages+1), 5*time.Second)
	})

	// The transcript is every stored message, though the thread has loaded
	// only the latest page: the header, then each message in order.
	me := adminName(t, app)
	checkTranscript := func(t *testing.T, text string) {
		t.Helper()
		for _, want := range []string{"Conversation with Ada Lovelace <ada@example.com>\n", " on " + pageURL + "\n", "Conversation id: " + roomID + "\n", "] Ada Lovelace:\n    message 001\n", "] " + me + " (team):\n    message 002\n"} {
			if !strings.Contains(text, want) {
				t.Errorf("transcript: no %q in\n%s", want, text)
			}
		}
		at := 0
		for i := 1; i <= messages+1; i++ {
			next := strings.Index(text[at:], fmt.Sprintf("    message %03d\n", i))
			if next < 0 {
				t.Fatalf("transcript: message %03d missing or out of order in\n%s", i, text)
			}
			at += next + 1
		}
	}

	var copied string
	t.Run("copy transcript", func(t *testing.T) {
		mustDo(t, ctx, "stub the clipboard", chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = (text) => { window.__copied = text; return Promise.resolve(); }`))
		mustDo(t, ctx, "copy", clickButton("Copy transcript"))
		mustPoll(t, ctx, "the toast", `[...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent === 'Transcript copied to the clipboard.')`, 5*time.Second)
		copied = mustEval[string](t, ctx, `window.__copied`)
		checkTranscript(t, copied)
	})

	t.Run("download transcript", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
			t.Fatalf("set download behavior: %v", err)
		}
		mustDo(t, ctx, "download", clickButton("Download .txt"))
		var files []string
		for deadline := time.Now().Add(5 * time.Second); len(files) == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				entries, _ := os.ReadDir(dir)
				t.Fatalf("no parley-ada-lovelace-*.txt downloaded within 5s; the folder has %v", entries)
			}
			files, _ = filepath.Glob(filepath.Join(dir, "parley-ada-lovelace-*.txt"))
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		checkTranscript(t, string(data))
		if copied != "" && string(data) != copied {
			t.Errorf("the download differs from the copied transcript:\n%s\n---\n%s", data, copied)
		}
	})

	t.Run("older history on scroll up", func(t *testing.T) {
		const seqs = `[...document.querySelectorAll('#thread-msgs .msg')].map((m) => +m.dataset.seq)`
		for _, want := range []int{101, 121} {
			mustDo(t, ctx, "scroll up", chromedp.Evaluate[chromedp.Void](`document.getElementById('thread').scrollTop = 0`))
			mustPoll(t, ctx, "an older page, the view kept in place", fmt.Sprintf(`%s.length === %d && !document.querySelector('#thread-top .spinner') && document.getElementById('thread').scrollTop > 0`, seqs, want), 5*time.Second)
		}
		got := mustEval[[]int](t, ctx, seqs)
		for i, s := range got {
			if s != i+1 {
				t.Fatalf("messages by seq: got %v, want 1 to %d, each once", got, messages+1)
			}
		}
		if got := mustEval[string](t, ctx, `document.getElementById('thread-top').textContent`); !strings.Contains(got, "Start of the conversation") || !strings.Contains(got, "on /pricing") {
			t.Errorf("top of the thread: got %q, want the start of the conversation, on /pricing", got)
		}
	})

	t.Run("typing reaches the visitor", func(t *testing.T) {
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		// From after the last message: a replay of the history could crowd
		// the typing event out of the channel.
		events := readEvents(t, sctx, app, fmt.Sprintf("/api/v1/rooms/%s/events?after=%d", roomID, messages+1), visitor)
		mustDo(t, ctx, "type a reply", chromedp.Focus(chromedp.CSS("#reply")), chromedp.KeyEvent("Let me check"))
		waitEvent(t, events, 5*time.Second, "typing ", `"sender":"admin"`)
		mustDo(t, ctx, "clear the reply box", chromedp.Evaluate[chromedp.Void](`document.getElementById('reply').value = ''`))
	})

	t.Run("notifications only when opted in", func(t *testing.T) {
		// The tab is hidden from here on.
		mustDo(t, ctx, "hide the tab", chromedp.Evaluate[chromedp.Void](`window.__vis = 'hidden'`))
		arrives := func(text string) {
			t.Helper()
			visitorSays(t, app, visitor, roomID, text)
			mustPoll(t, ctx, "the message", fmt.Sprintf(`[...document.querySelectorAll('#thread-msgs .msg .bubble')].pop().textContent === %q`, text), 5*time.Second)
		}
		attention := func() string {
			return mustEval[string](t, ctx, `window.__notes.join('|') + ' beeps:' + window.__beeps`)
		}

		if got := mustEval[string](t, ctx, `document.getElementById('notify-label').textContent`); got != "Enable notifications" {
			t.Errorf("button before opting in: got %q, want Enable notifications", got)
		}
		arrives("before opting in")
		if got := attention(); got != " beeps:0" {
			t.Errorf("notifications and beeps before opting in: got %q, want none", got)
		}

		mustDo(t, ctx, "opt in", chromedp.Click(chromedp.CSS("#notify")))
		mustPoll(t, ctx, "on", `document.getElementById('notify-label').textContent === 'Notifications on' && document.getElementById('notify').getAttribute('aria-pressed') === 'true'`, 5*time.Second)
		arrives("after opting in")
		if got := attention(); got != "Ada Lovelace: after opting in beeps:2" {
			t.Errorf("notifications and beeps after opting in: got %q, want one notification and one beep (two tones)", got)
		}

		mustDo(t, ctx, "opt out", chromedp.Click(chromedp.CSS("#notify")))
		mustPoll(t, ctx, "off", `document.getElementById('notify-label').textContent === 'Enable notifications'`, 5*time.Second)
		arrives("after opting out")
		if got := attention(); got != "Ada Lovelace: after opting in beeps:2" {
			t.Errorf("notifications and beeps after opting out: got %q, want nothing new", got)
		}
		mustDo(t, ctx, "show the tab", chromedp.Evaluate[chromedp.Void](`window.__vis = 'visible'`))
	})

	if v := mustEval[[]string](t, ctx, `window.__csp`); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
	console.checkClean(t)
}

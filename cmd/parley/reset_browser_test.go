package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// consoleTexts is the text of every message of the console's open thread.
const consoleTexts = `[...document.querySelectorAll('#thread-msgs .msg .bubble')].map((b) => b.textContent).join('|')`

// widgetTexts is the text of every message the widget panel shows.
const widgetTexts = `texts('.msg .text').join('|')`

// adminSaysRetrying is adminSays while Redis may still be coming back.
func adminSaysRetrying(tb testing.TB, app *testApp, admin, roomID, text string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for app.call(tb, "POST", "/api/v1/admin/rooms/"+roomID+"/messages", admin, map[string]string{"content": text}, nil) != 201 {
		if time.Now().After(deadline) {
			tb.Fatalf("admin reply %q: not stored within 10 s", text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReloadOnRollback restarts the real redis-server under Parley from an
// older dump while the widget and the console are open: the messages sent
// after the dump are lost and new ones take their seqs. Both must show the
// conversation as stored, the lost messages gone and the new ones there,
// none hidden.
func TestReloadOnRollback(t *testing.T) {
	ctx := newBrowser(t)
	real := redistest.StartRealIn(t, t.TempDir())
	app := startTestApp(t, map[string]string{"PARLEY_REDIS_URL": "redis://" + real.Addr()})
	admin := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	roomID := startConversation(t, ctx, app, admin, app.URL+"/", "one")
	adminSays(t, app, admin, roomID, "two")
	mustPoll(t, ctx, "the reply", widgetTexts+` === 'one|two'`, 5*time.Second)

	// The console, in a second tab, with the room open.
	actx, acancel := chromedp.NewContext(ctx)
	defer acancel()
	mustDo(t, actx, "open the console", chromedp.Navigate(app.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), app.AdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), app.AdminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")))
	mustPoll(t, actx, "the console's stream", `document.getElementById('status').dataset.state === 'live'`, 10*time.Second)
	mustDo(t, actx, "open the room", chromedp.Evaluate[chromedp.Void](`location.hash = '#/r/`+roomID+`'`))
	mustPoll(t, actx, "the thread", consoleTexts+` === 'one|two'`, 5*time.Second)

	old := real.Snapshot()
	adminSays(t, app, admin, roomID, "lost three")
	adminSays(t, app, admin, roomID, "lost four")
	mustPoll(t, ctx, "the widget shows them", widgetTexts+` === 'one|two|lost three|lost four'`, 5*time.Second)
	mustPoll(t, actx, "the console shows them", consoleTexts+` === 'one|two|lost three|lost four'`, 5*time.Second)

	// Redis comes back with the dump of two messages; three new ones take
	// seqs 3 to 5, two of which the clients hold with other messages.
	real.RestartFrom(old)
	for _, text := range []string{"new three", "new four", "new five"} {
		adminSaysRetrying(t, app, admin, roomID, text)
	}
	const want = "one|two|new three|new four|new five"
	mustPoll(t, ctx, "the widget reloads", widgetTexts+` === '`+want+`'`, 20*time.Second)
	mustPoll(t, actx, "the console reloads", consoleTexts+` === '`+want+`'`, 20*time.Second)
	if got := mustEval[string](t, ctx, widgetTexts); strings.Contains(got, "lost") {
		t.Errorf("widget: got %q, want the lost messages gone", got)
	}
	log.checkClean(t, provoked{"/events", "503"}, provoked{"/messages", "503"}, provoked{"/rooms", "503"})
}

// TestStoresSeeStaleSeqs: the widget's store and the console's message
// store notice a message whose seq they hold under another id (a live
// message after a rollback), so their callers reload.
func TestStoresSeeStaleSeqs(t *testing.T) {
	app := startTestApp(t, nil)
	ctx := newBrowser(t)
	mustDo(t, ctx, "load a page of Parley's origin", chromedp.Navigate(app.URL+"/widget/ids.js"))
	const js = `(async () => {
  const { state, storeMessages } = await import('/widget/store.js');
  const { MessageStore } = await import('/admin/messages.js');
  const m = (seq, id) => ({ id, seq, roomId: 'r', sender: 'admin', author: 'A', content: id, createdAt: '' });
  const out = [];
  storeMessages([m(1, 'A'), m(2, 'B')]);
  storeMessages([m(2, 'B')]);
  out.push('widget same id: ' + state.stale);
  storeMessages([m(2, 'C')]);
  out.push('widget other id: ' + state.stale + ', kept ' + state.msgs.get(2).id);
  const s = new MessageStore();
  s.addNew([m(1, 'A'), m(2, 'B')]);
  s.addNew([m(2, 'B'), m(3, 'D')]);
  out.push('console same id: ' + s.stale);
  s.addNew([m(3, 'E')]);
  out.push('console other id: ' + s.stale);
  s.clear();
  out.push('console cleared: ' + s.stale);
  return out.join('; ');
})()`
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	const want = "widget same id: false; widget other id: true, kept B; console same id: false; console other id: true; console cleared: false"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

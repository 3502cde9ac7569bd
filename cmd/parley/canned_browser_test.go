package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// addCannedAPI adds a canned reply through the API and returns its id.
func addCannedAPI(tb testing.TB, app *testApp, admin, shortcut, body string) string {
	tb.Helper()
	var out struct{ Canned struct{ ID string } }
	if st := app.call(tb, "POST", "/api/v1/admin/canned", admin, map[string]string{"shortcut": shortcut, "body": body}, &out); st != 201 {
		tb.Fatalf("add canned /%s: got %d, want 201", shortcut, st)
	}
	return out.Canned.ID
}

// slashOptions is the popup's options as the agent reads them: shortcut,
// then preview, the selected one marked with "*".
const slashOptions = `[...document.querySelectorAll('#slash-list [role=option]')].map((o) =>
  (o.getAttribute('aria-selected') === 'true' ? '*' : '') + o.querySelector('.slash-shortcut').textContent)`

// formReady: the canned reply form is empty and its button enabled (the
// stream's event can list a new canned reply before the POST answers).
const formReady = `document.getElementById('canned-shortcut').value === '' && !document.querySelector('.canned-form button[type=submit]').disabled`

// TestCannedReplyInConsole: an agent types "/" and part of a shortcut in
// the reply box, picks a canned reply with the arrow keys and Enter, and the
// box holds its body with the visitor's and the agent's names filled in;
// Enter then sends it and the visitor's widget shows it. A canned reply added
// meanwhile by someone else is offered at once, Escape closes the popup
// without leaving the conversation, and the Canned replies page adds, edits
// and deletes, live.
func TestCannedReplyInConsole(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	me := adminName(t, app)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	addCannedAPI(t, app, admin, "welcome", "Hi {{visitor.name}}, I'm {{agent.name}}. How can I help?")
	addCannedAPI(t, app, admin, "wave", "Hello {{unknown.thing}}!")
	loginConsole(t, ctx, app)

	// The visitor, in a tab of their own, gives a name and says hello.
	vctx, vcancel := chromedp.NewContext(ctx)
	defer vcancel()
	vlog := watchBrowser(vctx)
	loadWidgetPage(t, vctx, app.URL+"/")
	mustDo(t, vctx, "identify", chromedp.Evaluate[chromedp.Void](`Parley('identify', { name: 'Dana Scully' })`))
	clickBubble(t, vctx)
	mustPoll(t, vctx, "focus in the composer", `!!F() && F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	typeAndSend(t, vctx, "Hello, anyone there?")
	mustPoll(t, vctx, "the hello is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('Hello, anyone there?')`, 5*time.Second)
	roomID := theOnlyRoom(t, app, admin)
	if r := adminOpenRoom(t, app, admin, roomID); r.Room.VisitorName != "Dana Scully" {
		t.Fatalf("visitor name: got %q, want Dana Scully", r.Room.VisitorName)
	}

	room := fmt.Sprintf(`#rooms a.room[data-id=%q]`, roomID)
	mustPoll(t, ctx, "the room is listed", `!!document.querySelector('`+room+`')`, 10*time.Second)
	mustDo(t, ctx, "open the room", chromedp.Click(chromedp.CSS(room)))
	mustPoll(t, ctx, "the room is open", `location.hash === '#/r/`+roomID+`' && !document.getElementById('conv').hidden`, 5*time.Second)
	mustDo(t, ctx, "focus the reply box", chromedp.Focus(chromedp.CSS("#reply")))

	// Added by a teammate while the console is open: it arrives live (the
	// popup below offers it).
	addCannedAPI(t, app, admin, "refund", "Refunds take 5 days.")

	mustDo(t, ctx, "type /", chromedp.KeyEvent("/"))
	mustPoll(t, ctx, "the popup lists every canned reply", `JSON.stringify(`+slashOptions+`.map((s) => s.replace('*', ''))) === '["/refund","/wave","/welcome"]'`, 5*time.Second)
	if !mustEval[bool](t, ctx, `(() => { const r = document.getElementById('reply'); const a = document.getElementById(r.getAttribute('aria-activedescendant') || '-');
	  return r.getAttribute('aria-expanded') === 'true' && !!a && a.getAttribute('aria-selected') === 'true' && document.querySelectorAll('#slash-list [aria-selected=true]').length === 1; })()`) {
		t.Errorf("combobox state: want expanded, with aria-activedescendant naming the one selected option")
	}
	mustDo(t, ctx, "type w", chromedp.KeyEvent("w"))
	mustPoll(t, ctx, "the popup narrows to /w…", `JSON.stringify(`+slashOptions+`) === '["*/wave","/welcome"]'`, 5*time.Second)
	mustDo(t, ctx, "move down", pressKey("ArrowDown", "ArrowDown", 40))
	mustPoll(t, ctx, "/welcome is selected", `JSON.stringify(`+slashOptions+`) === '["/wave","*/welcome"]' && document.getElementById('reply').getAttribute('aria-activedescendant') === 'slash-opt-1'`, 2*time.Second)
	if got := mustEval[string](t, ctx, `document.querySelector('#slash-opt-1 .slash-preview').textContent`); got != "Hi Dana Scully, I'm "+me+". How can I help?" {
		t.Errorf("preview: got %q, want the body filled in", got)
	}
	screenshot(t, ctx, "canned-popup.png")

	mustDo(t, ctx, "pick it", pressKey("Enter", "Enter", 13))
	want := "Hi Dana Scully, I'm " + me + ". How can I help?"
	mustPoll(t, ctx, "the reply box holds the body", `document.getElementById('reply').value === `+strconv.Quote(want)+` && document.getElementById('slash-list').hidden`, 2*time.Second)
	if n := mustEval[int](t, ctx, `document.querySelectorAll('#thread-pending .msg').length + document.querySelectorAll('#thread-msgs .msg-admin').length`); n != 0 {
		t.Fatalf("picking a canned reply sent something: %d admin messages", n)
	}

	mustDo(t, ctx, "send it", pressKey("Enter", "Enter", 13))
	mustPoll(t, vctx, "the visitor sees it", `texts('.msg.them .text').includes(`+strconv.Quote(want)+`)`, 10*time.Second)
	mustPoll(t, ctx, "the reply box is empty", `document.getElementById('reply').value === ''`, 2*time.Second)

	// Escape closes the popup and nothing else; an unknown placeholder
	// stays as typed; a click inserts.
	mustDo(t, ctx, "type /wa", chromedp.KeyEvent("/wa"))
	mustPoll(t, ctx, "the popup opens", `JSON.stringify(`+slashOptions+`) === '["*/wave"]'`, 2*time.Second)
	mustDo(t, ctx, "Escape", pressKey("Escape", "Escape", 27))
	mustPoll(t, ctx, "the popup is closed", `document.getElementById('slash-list').hidden && document.getElementById('reply').getAttribute('aria-expanded') === 'false'`, 2*time.Second)
	if got := mustEval[string](t, ctx, `location.hash + ' ' + document.getElementById('reply').value`); got != "#/r/"+roomID+" /wa" {
		t.Errorf("after Escape: got %q, want the conversation still open with /wa typed", got)
	}
	mustDo(t, ctx, "type v: the popup opens again", chromedp.KeyEvent("v"))
	mustPoll(t, ctx, "the popup reopens", `JSON.stringify(`+slashOptions+`) === '["*/wave"]'`, 2*time.Second)
	mustDo(t, ctx, "click it", chromedp.Click(chromedp.CSS("#slash-opt-0")))
	mustPoll(t, ctx, "the click inserts", `document.getElementById('reply').value === 'Hello {{unknown.thing}}!' && document.activeElement.id === 'reply'`, 2*time.Second)
	// Mid-word "/" is not a shortcut.
	mustDo(t, ctx, "type a/b", chromedp.KeyEvent(" and/or"))
	mustDo(t, ctx, "settle", chromedp.Sleep(150*time.Millisecond))
	if mustEval[bool](t, ctx, `!document.getElementById('slash-list').hidden`) {
		t.Error("a / inside a word opened the popup")
	}

	// The management page.
	mustDo(t, ctx, "open Canned replies", chromedp.Click(chromedp.CSS("#nav-canned")))
	mustPoll(t, ctx, "the page lists them", `[...document.querySelectorAll('#canned-list .canned-shortcut')].map((e) => e.textContent).join(' ') === '/refund /wave /welcome'`, 5*time.Second)
	mustDo(t, ctx, "add one",
		chromedp.SendKeys(chromedp.CSS("#canned-shortcut"), "Thanks"),
		chromedp.SendKeys(chromedp.CSS("#canned-body"), "Thank you, {{visitor.name}}!"),
		chromedp.Click(chromedp.CSS(".canned-form button[type=submit]")))
	mustPoll(t, ctx, "it is listed", `[...document.querySelectorAll('#canned-list .canned-shortcut')].map((e) => e.textContent).join(' ') === '/refund /thanks /wave /welcome'`, 5*time.Second)
	mustPoll(t, ctx, "the form is ready again", formReady, 5*time.Second)
	mustDo(t, ctx, "a duplicate",
		chromedp.SendKeys(chromedp.CSS("#canned-shortcut"), "wave"),
		chromedp.SendKeys(chromedp.CSS("#canned-body"), "again"),
		chromedp.Click(chromedp.CSS(".canned-form button[type=submit]")))
	mustPoll(t, ctx, "the duplicate is refused", `!document.querySelector('.canned-form .form-error').hidden && document.querySelector('.canned-form .form-error').textContent.includes('/wave')`, 5*time.Second)
	mustDo(t, ctx, "clear the form", chromedp.Evaluate[chromedp.Void](`document.querySelector('.canned-form').reset()`))

	mustDo(t, ctx, "edit /refund", chromedp.Click(chromedp.CSS(`#canned-list button[aria-label="Edit /refund"]`)))
	mustPoll(t, ctx, "the form holds it", `document.getElementById('canned-body').value === 'Refunds take 5 days.'`, 2*time.Second)
	mustDo(t, ctx, "change it",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('canned-body').select()`),
		chromedp.SendKeys(chromedp.CSS("#canned-body"), "Refunds take 3 days."),
		chromedp.Click(chromedp.CSS(".canned-form button[type=submit]")))
	mustPoll(t, ctx, "the change is listed", `[...document.querySelectorAll('#canned-list .canned-body')].map((e) => e.textContent).includes('Refunds take 3 days.')`, 5*time.Second)
	mustPoll(t, ctx, "the form is ready again", formReady+` && document.getElementById('canned-form-title').textContent === 'New canned reply'`, 5*time.Second)

	mustDo(t, ctx, "delete /wave", chromedp.Click(chromedp.CSS(`#canned-list button[aria-label="Delete /wave"]`)))
	mustPoll(t, ctx, "it asks first", `document.getElementById('confirm-canned').open && document.querySelector('#confirm-canned [data-shortcut]').textContent === '/wave'`, 2*time.Second)
	mustDo(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`#confirm-canned button[value=delete]`)))
	mustPoll(t, ctx, "it is gone", `[...document.querySelectorAll('#canned-list .canned-shortcut')].map((e) => e.textContent).join(' ') === '/refund /thanks /welcome'`, 5*time.Second)

	// A teammate's delete shows at once.
	var list struct {
		Canned []struct{ ID, Shortcut, Body string }
	}
	if st := app.call(t, "GET", "/api/v1/admin/canned", admin, nil, &list); st != 200 {
		t.Fatalf("list: got %d", st)
	}
	var got []string
	for _, c := range list.Canned {
		got = append(got, c.Shortcut+"="+c.Body)
		if c.Shortcut == "welcome" {
			if st := app.call(t, "DELETE", "/api/v1/admin/canned/"+c.ID, admin, nil, nil); st != 204 {
				t.Fatalf("delete /welcome: got %d", st)
			}
		}
	}
	if want := "refund=Refunds take 3 days. thanks=Thank you, {{visitor.name}}! welcome=Hi {{visitor.name}}, I'm {{agent.name}}. How can I help?"; strings.Join(got, " ") != want {
		t.Errorf("stored: got %q, want %q", strings.Join(got, " "), want)
	}
	mustPoll(t, ctx, "the teammate's delete shows", `[...document.querySelectorAll('#canned-list .canned-shortcut')].map((e) => e.textContent).join(' ') === '/refund /thanks'`, 5*time.Second)
	screenshot(t, ctx, "canned-page.png")

	log.checkClean(t, provoked{path: "/api/v1/admin/canned", text: "409"})
	vlog.checkClean(t)
}

// cannedUnitJS checks the console's placeholder filling and the "/" query
// it reads before the caret; it returns one line per difference.
const cannedUnitJS = `(async () => {
  const { expand } = await import('/admin/canned.js');
  const { slashQuery } = await import('/admin/slash.js');
  const diffs = [];
  const v = { visitorName: 'Dana', visitorEmail: 'dana@acme.example', agentName: 'Priya' };
  for (const [body, values, want] of [
    ['Hi {{visitor.name}}, I am {{agent.name}}.', v, 'Hi Dana, I am Priya.'],
    ['Hi {{visitor.name}},', {}, 'Hi there,'],
    ['Hi {{ visitor.name }}!', v, 'Hi Dana!'],
    ['Mail {{visitor.email}}.', v, 'Mail dana@acme.example.'],
    ['Mail {{visitor.email}}.', {}, 'Mail .'],
    ['{{order.id}} and {{visitor}} and {visitor.name}', v, '{{order.id}} and {{visitor}} and {visitor.name}'],
    ['{{visitor.name}} {{visitor.name}}', { visitorName: '$&' }, '$& $&'],
  ]) {
    const got = expand(body, values);
    if (got !== want) diffs.push('expand(' + JSON.stringify(body) + '): got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
  }
  for (const [text, caret, want] of [
    ['/', 1, '0:'],
    ['/wel', 4, '0:wel'],
    ['Hello /re', 9, '6:re'],
    ['line\n/re', 8, '5:re'],
    ['and/or', 6, 'none'],
    ['/re more', 8, 'none'],
    ['/re more', 3, '0:re'],
    ['http://x', 8, 'none'],
  ]) {
    const q = slashQuery(text, caret);
    const got = q ? q.start + ':' + q.query : 'none';
    if (got !== want) diffs.push('slashQuery(' + JSON.stringify(text) + ', ' + caret + '): got ' + got + ', want ' + want);
  }
  return diffs;
})()`

// TestCannedPlaceholders: the console fills in the placeholders it knows,
// "there" for a visitor without a name, and leaves any other as typed; a
// "/" opens the popup only at the start of the box or after white space.
func TestCannedPlaceholders(t *testing.T) {
	app := startTestApp(t, nil)
	ctx := newBrowser(t)
	log := watchBrowser(ctx)
	mustDo(t, ctx, "load a page of Parley's origin", chromedp.Navigate(app.URL+"/admin/canned.js"))
	diffs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](cannedUnitJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("canned.js: %v", err)
	}
	for _, d := range diffs {
		t.Error(d)
	}
	log.checkClean(t, provoked{path: "/favicon.ico", text: "404"})
}

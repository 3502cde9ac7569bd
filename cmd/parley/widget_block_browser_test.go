package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// closedShown is true when the panel says the conversation was closed, in
// its notice and in the composer, which takes no more text.
const closedShown = `!F().getElementById('notice').hidden && F().getElementById('notice').textContent === 'This conversation was closed.' &&
F().getElementById('input').disabled && F().getElementById('input').placeholder === 'This conversation was closed.'`

// TestWidgetBlocked is a visitor being blocked: as they type again (the
// typing call is refused) the panel says the conversation was closed and the
// composer turns off, their text unsent; a reload shows the history,
// still closed, and opens no new room; and once the admin blocks their
// address too, a fresh browser (storage cleared) cannot start a new
// conversation either.
func TestWidgetBlocked(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	roomID := startConversation(t, ctx, app, admin, app.URL+"/", "hello")
	if mustEval[bool](t, ctx, closedShown) {
		t.Fatal("the panel says closed before any block")
	}

	if st := app.call(t, "POST", "/api/v1/admin/rooms/"+roomID+"/block", admin, nil, nil); st != 204 {
		t.Fatalf("block: got %d, want 204", st)
	}
	typeAndSend(t, ctx, "still there?")
	mustPoll(t, ctx, "the closed notice", closedShown, 5*time.Second)
	screenshot(t, ctx, "widget-closed.png")
	if mustEval[string](t, ctx, `F().getElementById('input').value`) != "" {
		t.Error("the disabled composer still holds text over its notice")
	}
	if got := adminOpenRoom(t, app, admin, roomID); len(got.Messages) != 1 {
		t.Fatalf("got %d stored messages, want only hello", len(got.Messages))
	}

	mustDo(t, ctx, "reload", chromedp.Reload())
	loadWidgetPage(t, ctx, app.URL+"/")
	clickBubble(t, ctx)
	mustPoll(t, ctx, "closed after a reload, with the history", closedShown+` && texts('.msg .text').includes('hello')`, 10*time.Second)
	theOnlyRoom(t, app, admin) // no new room

	// Block the address too: a browser with nothing saved is refused as well
	// (its first send asks for a room, which is refused).
	if st := app.call(t, "POST", "/api/v1/admin/rooms/"+roomID+"/block", admin, map[string]any{"ip": true, "for": "1h"}, nil); st != 204 {
		t.Fatalf("IP block: got %d, want 204", st)
	}
	mustDo(t, ctx, "forget the conversation", chromedp.Evaluate[chromedp.Void](`(() => { `+widgetJS+` F().defaultView.localStorage.clear(); })()`), chromedp.Reload())
	loadWidgetPage(t, ctx, app.URL+"/")
	clickBubble(t, ctx)
	mustPoll(t, ctx, "a fresh panel", `!!F() && F().activeElement && F().activeElement.id === 'input' && !texts('.msg .text').includes('hello')`, 5*time.Second)
	typeAndSend(t, ctx, "new me")
	mustPoll(t, ctx, "closed for the new browser", closedShown, 5*time.Second)
	theOnlyRoom(t, app, admin)
	log.checkClean(t, provoked{path: "/api/v1/rooms", text: "403"})
}

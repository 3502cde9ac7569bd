package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley/internal/auth"
)

const testIdentitySecret = "site-and-parley-share-this-secret-42"

// identifyOn calls Parley('identify', arg) on the page, arg a JS object.
func identifyOn(tb testing.TB, ctx context.Context, arg string) {
	tb.Helper()
	mustDo(tb, ctx, "identify "+arg, chromedp.Evaluate[chromedp.Void](`Parley('identify', `+arg+`)`))
}

// TestWidgetVerifiedIdentity: a user of the site signed in on two browsers
// (two devices: nothing shared) has one conversation, seen and written from
// both; the console marks it verified with the site's user id. The same id
// without a signature is someone else, and a logout forgets the
// conversation on that device.
func TestWidgetVerifiedIdentity(t *testing.T) {
	browser := newBrowser(t)
	app := startTestApp(t, map[string]string{"PARLEY_IDENTITY_SECRET": testIdentitySecret})
	admin := app.adminToken(t)
	sig := auth.NewIdentities([]byte(testIdentitySecret)).Signature("user-42")
	ada := fmt.Sprintf(`{id: 'user-42', name: 'Ada Lovelace', email: 'ada@example.com', signature: %q}`, sig)

	ctxA, cancelA := context.WithTimeout(browser, 90*time.Second)
	defer cancelA()
	if err := chromedp.Do(ctxA); err != nil { // start the browser
		t.Fatal(err)
	}
	tabB, cancelB := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelB()
	ctxB, cancelB2 := context.WithTimeout(tabB, 90*time.Second)
	defer cancelB2()
	logA, logB := watchBrowser(ctxA), watchBrowser(ctxB)

	// The laptop: signed in, writes first.
	loadWidgetPage(t, ctxA, app.URL+"/")
	identifyOn(t, ctxA, ada)
	clickBubble(t, ctxA)
	mustPoll(t, ctxA, "focus in the composer", `!!F() && F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	typeAndSend(t, ctxA, "hello from my laptop")
	mustPoll(t, ctxA, "sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('hello from my laptop')`, 5*time.Second)
	roomID := theOnlyRoom(t, app, admin)

	// The phone: another browser, nothing stored, the same signed user.
	loadWidgetPage(t, ctxB, app.URL+"/")
	identifyOn(t, ctxB, ada)
	clickBubble(t, ctxB)
	mustPoll(t, ctxB, "the laptop's message on the phone", `texts('.msg .text').includes('hello from my laptop')`, 10*time.Second)
	mustPoll(t, ctxB, "focus in the composer", `F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	typeAndSend(t, ctxB, "and from my phone")
	mustPoll(t, ctxA, "the phone's message on the laptop, live", `texts('.msg .text').includes('and from my phone')`, 10*time.Second)
	if id := theOnlyRoom(t, app, admin); id != roomID {
		t.Fatalf("the phone's room: %s, want %s", id, roomID)
	}
	r := adminOpenRoom(t, app, admin, roomID)
	if r.Room.VisitorName != "Ada Lovelace" || r.Room.VisitorEmail != "ada@example.com" || len(r.Messages) != 2 {
		t.Errorf("the room: %+v, want Ada Lovelace <ada@example.com> with 2 messages", r)
	}

	// A reload on the phone keeps the conversation.
	mustDo(t, ctxB, "reload the phone", chromedp.Reload())
	mustPoll(t, ctxB, "the bubble", `!!W() && !!W().querySelector('button')`, 5*time.Second)
	identifyOn(t, ctxB, ada)
	clickBubble(t, ctxB)
	mustPoll(t, ctxB, "history after a reload", `texts('.msg .text').includes('and from my phone')`, 10*time.Second)

	// Logout on the phone: its panel forgets the conversation; the same id
	// claimed without a signature gets a conversation of its own.
	identifyOn(t, ctxB, `null`)
	mustPoll(t, ctxB, "logged out: no messages", `texts('.msg .text').length === 0`, 5*time.Second)
	identifyOn(t, ctxB, `{id: 'user-42', name: 'Mallory'}`)
	mustDo(t, ctxB, "focus the composer", chromedp.Evaluate[chromedp.Void](`(() => {`+widgetJS+`F().getElementById('input').focus(); })()`))
	typeAndSend(t, ctxB, "I am user-42, honest")
	mustPoll(t, ctxB, "sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('I am user-42, honest')`, 5*time.Second)
	if mustEval[bool](t, ctxB, `texts('.msg .text').includes('hello from my laptop')`) {
		t.Fatal("the unsigned claim sees the verified user's conversation")
	}
	var list struct {
		Rooms []struct {
			ID          string
			Verified    bool
			UserID      string
			VisitorName string
		}
	}
	app.call(t, "GET", "/api/v1/admin/rooms", admin, nil, &list)
	if len(list.Rooms) != 2 {
		t.Fatalf("rooms: got %+v, want the verified one and the claim's", list.Rooms)
	}
	claimID := ""
	for _, rm := range list.Rooms {
		if rm.ID == roomID && (!rm.Verified || rm.UserID != "user-42") {
			t.Errorf("the verified room in the list: %+v", rm)
		}
		if rm.ID != roomID {
			claimID = rm.ID
			if rm.Verified || rm.UserID != "user-42" || rm.VisitorName != "Mallory" {
				t.Errorf("the claim's room: %+v, want unverified user-42, Mallory (nothing of Ada's left in the form)", rm)
			}
		}
	}
	if r := adminOpenRoom(t, app, admin, roomID); len(r.Messages) != 2 || r.Room.VisitorName != "Ada Lovelace" {
		t.Errorf("the verified room after the claim: %+v", r)
	}

	// The console: a Verified badge on the row and in the header, the
	// site's user id in the details; the claim's room shows it unverified.
	loginConsole(t, ctxA, app)
	row := func(id string) string { return fmt.Sprintf(`#rooms a.room[data-id=%q]`, id) }
	mustPoll(t, ctxA, "the verified row", `!!document.querySelector('`+row(roomID)+` .tag-verified')`, 10*time.Second)
	if mustEval[bool](t, ctxA, `!!document.querySelector('`+row(claimID)+` .tag-verified')`) {
		t.Error("the unsigned claim's row shows Verified")
	}
	mustDo(t, ctxA, "open the verified room", chromedp.Click(chromedp.CSS(row(roomID))))
	mustPoll(t, ctxA, "the header's badge", `!!document.querySelector('#conv-header .tag-verified:not([hidden])')`, 10*time.Second)
	mustPoll(t, ctxA, "the user id in the details", `[...document.querySelectorAll('#details code')].some((e) => e.textContent === 'user-42')`, 10*time.Second)
	screenshot(t, ctxA, "identity-console")
	mustDo(t, ctxA, "open the claim's room", chromedp.Click(chromedp.CSS(row(claimID))))
	mustPoll(t, ctxA, "unverified in the details", `document.getElementById('details').textContent.includes('Unverified') && document.getElementById('details').textContent.includes('user-42')`, 10*time.Second)
	if mustEval[bool](t, ctxA, `!!document.querySelector('#conv-header .tag-verified:not([hidden])')`) {
		t.Error("the claim's header shows Verified")
	}

	logA.checkClean(t)
	logB.checkClean(t)
}

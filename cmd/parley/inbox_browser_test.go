package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// addAgent has the owner create an agent with a chosen password.
func addAgent(tb testing.TB, app *testApp, owner, username, displayName, password string) {
	tb.Helper()
	body := map[string]string{"username": username, "displayName": displayName, "password": password, "role": "agent"}
	if st := app.call(tb, "POST", "/api/v1/admin/agents", owner, body, nil); st != 201 {
		tb.Fatalf("add agent %s: got %d, want 201", username, st)
	}
}

// loginAs signs the console in as username in ctx.
func loginAs(tb testing.TB, ctx context.Context, app *testApp, username, password string) {
	tb.Helper()
	mustDo(tb, ctx, "open the console as "+username, chromedp.Navigate(app.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")))
	mustPoll(tb, ctx, username+"'s stream is live", `document.getElementById('status').dataset.state === 'live'`, 10*time.Second)
}

// TestTeamInboxTwoAgents drives two agents in two browser contexts on one
// conversation: each sees the other viewing and typing; one takes the
// conversation, the other's reply asks first; a label, a private note and
// the status reach the other console live; the label filter and the views
// narrow the list.
func TestTeamInboxTwoAgents(t *testing.T) {
	browser := newBrowser(t)
	app := startTestApp(t, nil)
	owner := app.adminToken(t)
	addAgent(t, app, owner, "priya", "Priya Raman", "priya-password-1")
	roomID, vtok := app.newVisitor(t, "Jane")
	visitorSays(t, app, vtok, roomID, "I was charged twice")
	other, _ := app.newVisitor(t, "Omar")

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

	loginConsole(t, ctxA, app)
	loginAs(t, ctxB, app, "priya", "priya-password-1")
	row := func(id string) string { return fmt.Sprintf(`#rooms a.room[data-id=%q]`, id) }
	openRoom := func(ctx context.Context, who string) {
		mustPoll(t, ctx, who+" sees the room", `!!document.querySelector('`+row(roomID)+`')`, 10*time.Second)
		mustDo(t, ctx, who+" opens the room", chromedp.Click(chromedp.CSS(row(roomID))))
		mustPoll(t, ctx, who+" has the thread", `document.querySelectorAll('#thread-msgs .msg').length === 1`, 10*time.Second)
	}
	// The owner defines a label on the Labels page; the agent sees it live,
	// read-only.
	mustDo(t, ctxA, "the labels page", chromedp.Navigate(app.URL+"/admin/#/labels"))
	mustDo(t, ctxA, "define Billing", chromedp.WaitVisible(chromedp.CSS(`.label-form input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`.label-form input[name=name]`), "Billing"),
		chromedp.Click(chromedp.CSS(`.label-form button[type=submit]`)))
	mustPoll(t, ctxA, "Billing listed", `document.querySelector('.label-list .label-chip')?.textContent === 'Billing'`, 10*time.Second)
	mustDo(t, ctxB, "priya's labels page", chromedp.Navigate(app.URL+"/admin/#/labels"))
	mustPoll(t, ctxB, "priya sees Billing, read-only", `document.querySelector('.label-list .label-chip')?.textContent === 'Billing' && !document.querySelector('.label-form')`, 10*time.Second)
	screenshot(t, ctxA, "inbox-labels-page.png")
	var labels struct {
		Labels []struct{ ID, Name string }
	}
	if st := app.call(t, "GET", "/api/v1/admin/labels", owner, nil, &labels); st != 200 || len(labels.Labels) != 1 {
		t.Fatalf("labels: %d %+v", st, labels)
	}
	label := labels.Labels[0]
	mustDo(t, ctxA, "back to the inbox", chromedp.Navigate(app.URL+"/admin/#/"))
	mustDo(t, ctxB, "back to the inbox", chromedp.Navigate(app.URL+"/admin/#/"))

	openRoom(ctxA, "admin")
	openRoom(ctxB, "priya")

	// Each sees the other.
	mustPoll(t, ctxA, "admin sees Priya viewing", `document.querySelector('#conv-tools .activity').textContent === 'Priya Raman is viewing'`, 15*time.Second)
	mustDo(t, ctxB, "priya types", chromedp.SendKeys(chromedp.CSS("#reply"), "Let me check"))
	mustPoll(t, ctxA, "admin sees Priya typing", `document.querySelector('#conv-tools .activity').textContent === 'Priya Raman is typing…'`, 10*time.Second)

	// The admin takes it; Priya's console shows it at once.
	mustDo(t, ctxA, "assign to me", chromedp.Click(chromedp.CSS(`#conv-tools [data-action=assign-me]`)))
	mustPoll(t, ctxA, "assigned to the admin", `document.getElementById('assignee').value === 'admin'`, 10*time.Second)
	mustPoll(t, ctxB, "priya sees the assignee", `document.getElementById('assignee').value === 'admin'`, 10*time.Second)
	mustPoll(t, ctxB, "the unassigned count drops", `document.querySelector('[data-count=unassigned]').textContent === '1'`, 10*time.Second)

	// Priya's reply to the admin's conversation asks first.
	mustDo(t, ctxB, "priya sends", chromedp.Click(chromedp.CSS("#composer .send")))
	mustPoll(t, ctxB, "the confirmation", `document.getElementById('confirm-reply').open && document.querySelector('#confirm-reply [data-name]').textContent !== ''`, 5*time.Second)
	screenshot(t, ctxB, "inbox-confirm-reply.png")
	mustDo(t, ctxB, "send anyway", chromedp.Click(chromedp.CSS(`#confirm-reply button[value=send]`)))
	mustPoll(t, ctxA, "admin sees Priya's reply", `[...document.querySelectorAll('#thread-msgs .msg-admin .bubble')].some((b) => b.textContent === 'Let me check')`, 10*time.Second)

	// A label from one console shows on the other's row; the filter narrows.
	mustDo(t, ctxA, "open the label picker", chromedp.Click(chromedp.CSS(`#conv-tools .label-picker summary`)))
	mustDo(t, ctxA, "tick Billing", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#conv-tools .label-menu input[value=%q]`, label.ID))))
	mustPoll(t, ctxB, "priya sees the label on the row", `document.querySelector('`+row(roomID)+` .label-chip')?.textContent === 'Billing'`, 10*time.Second)
	mustDo(t, ctxB, "filter by Billing", chromedp.SetValue(chromedp.CSS("#label-filter"), label.ID),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('label-filter').dispatchEvent(new Event('change'))`))
	const shown = `[...document.querySelectorAll('#rooms a.room')].filter((a) => a.offsetParent !== null).map((a) => a.dataset.id).join(',')`
	mustPoll(t, ctxB, "only the labelled room", fmt.Sprintf(`%s === %q`, shown, roomID), 10*time.Second)

	// A private note: the other agent sees it, styled apart; the visitor never.
	mustDo(t, ctxA, "note mode", chromedp.Click(chromedp.CSS(`#composer [data-mode=note]`)),
		chromedp.SendKeys(chromedp.CSS("#reply"), "Refund approved by finance"),
		chromedp.Click(chromedp.CSS("#composer .send")))
	mustPoll(t, ctxB, "priya sees the note", `document.querySelector('#thread-msgs .note .note-body')?.textContent === 'Refund approved by finance'`, 10*time.Second)
	var msgs struct {
		Messages []struct{ Content string }
	}
	app.call(t, "GET", "/api/v1/rooms/"+roomID+"/messages", vtok, nil, &msgs)
	for _, m := range msgs.Messages {
		if strings.Contains(m.Content, "Refund approved") {
			t.Fatalf("the visitor got the note: %+v", msgs)
		}
	}

	// Resolved on one console, in the other's Resolved view.
	mustDo(t, ctxA, "resolve", chromedp.Click(chromedp.CSS(`#conv-tools [data-action=resolve]`)))
	mustPoll(t, ctxB, "priya sees it resolved", `document.querySelector('#conv-tools .status-tag').textContent === 'Resolved'`, 10*time.Second)
	mustDo(t, ctxB, "the resolved view", chromedp.Click(chromedp.CSS(`#filters [data-filter=resolved]`)))
	mustPoll(t, ctxB, "only the resolved room", fmt.Sprintf(`%s === %q`, shown, roomID), 10*time.Second)
	mustDo(t, ctxB, "the open view", chromedp.Click(chromedp.CSS(`#filters [data-filter=open]`)))
	mustPoll(t, ctxB, "the other room is open", fmt.Sprintf(`%s.split(',').includes(%q)`, shown, other), 10*time.Second)
	screenshot(t, ctxA, "inbox-admin.png")
	screenshot(t, ctxB, "inbox-priya.png")
	logA.checkClean(t)
	logB.checkClean(t)
}
